"""The int16 variants: 16x8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, int16 ADD, MUL, PAD and
PADV2, against tflite-micro on generated models and on tflite-micro's own seanet integration models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tflite
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.lower import lower
from tinygen.compiler.pipeline import compile_model, load_model
from tinygen.device.host import HostTarget
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.ir import Quant
from tinygen.ops import op_def
from tinygen.quantize import CalibrationData, quantize
from tinygen.quantize.float_exec import execute
from tinygen.verify import random_samples, verify

from ..bitexact import assert_bit_exact
from ..gen import activation, weights, window_options
from ..helpers import QEMU_BOARDS, verify_on_board
from ..quant_models import WINDOW, FloatBuilder, inputs_for, run_tflm
from .test_elementwise import broadcast_shapes, drain, feed

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True)
CORPUS = Path(__file__).parent.parent / "corpus" / "tflite-micro"
SEANET = sorted(p.name for kind in ("conv", "add", "pad") for p in CORPUS.glob(f"seanet_{kind}[0-9]*.tflite"))
INT32 = tflite.TensorType.INT32


def int16_quant(rng: np.random.Generator, scale: float | None = None, zero_point: int = 0) -> dict:
    """An int16 activation: symmetric (zero point 0) unless asked, scale over three decades."""
    scale = float(10 ** rng.uniform(-5, -2)) if scale is None else scale
    return {"dtype": "int16", "scale": scale, "zero_point": zero_point}


def bias16(g: GraphBuilder, rng: np.random.Generator, channels: int, dtype: str, x: int, w: int) -> int:
    """A 16x8 bias (int64 or int32) at input scale x weight scale."""
    scale = (np.asarray(g.tensors[w].quant.scale) * g.tensors[x].quant.scale[0]).tolist()
    return g.const(rng.integers(-(2**22), 2**22, channels), dtype, scale=scale, zero_point=0)


def sum_scale(g: GraphBuilder, x: int, w: int, taps: int) -> float:
    """An output scale at which a layer's typical sums fill about a third of the int16 range: random
    int16 inputs (about 18000 in magnitude) times int8 weights (about 70), over `taps` products."""
    typical = 18000 * 70 * np.sqrt(taps) * g.tensors[x].quant.scale[0] * float(np.mean(g.tensors[w].quant.scale))
    return float(typical / 10000)


def test_seanet_corpus_is_complete():
    assert len(SEANET) == 58  # 22 CONV_2D, 17 ADD, 19 PAD


@pytest.mark.parametrize("name", SEANET)
def test_seanet_model_bit_exact(name, tmp_path):
    """tflite-micro's integration-test models (int16 CONV_2D with int64 bias, ADD, PAD), as shipped."""
    model = load_model(CORPUS / name)
    compiled = compile_model(model)
    assert all(kernel.endswith("_s16") for kernel in compiled.lowered.kernels)
    target = HostTarget.build(compiled, tmp_path)
    result = verify(target, compiled, random_samples(model.graph, 3, seed=len(name)))
    assert result.bit_exact, result.summary()


# --- 16x8 convolution ----------------------------------------------------------------------------


def _conv_model(kind, seed, in_hw, channels, out_c, kernel, stride, dilation, padding, bias_kind):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    x = g.tensor((1, *in_hw, channels), **int16_quant(rng))
    if kind == "CONV_2D":
        w = weights(g, rng, (out_c, *kernel, channels), axis=0, per_channel=bool(rng.integers(2)))
        options = window_options(padding, stride, dilation, activation(rng))
        options["quantized_bias_type"] = INT32 if bias_kind == "none-int32" else 0
    else:
        w = weights(g, rng, (1, *kernel, out_c), axis=3, per_channel=bool(rng.integers(2)))
        options = {**window_options(padding, stride, dilation, activation(rng)), "depth_multiplier": out_c // channels}
    taps = kernel[0] * kernel[1] * (channels if kind == "CONV_2D" else 1)
    out_hw = [
        (n + s - 1) // s if padding == "SAME" else (n - (k - 1) * dilation - 1 + s) // s
        for n, k, s in zip(in_hw, kernel, (stride, stride))
    ]
    # Output scales a decade either side of sum_scale: some outputs saturate, most do not.
    y = g.tensor((1, *out_hw, out_c), **int16_quant(rng, sum_scale(g, x, w, taps) * 10 ** rng.uniform(-1, 1)))
    inputs = [x, w]
    if bias_kind in ("int64", "int32"):
        inputs.append(bias16(g, rng, out_c, bias_kind, x, w))
    g.op(kind, inputs, [y], **options)
    return g.build([x], [y])


@st.composite
def windows(draw):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = draw(st.integers(1, 2))
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    low = [(k - 1) * dilation + 1 if padding == "VALID" else 1 for k in kernel]
    in_hw = tuple(draw(st.integers(lo, lo + 6)) for lo in low)
    return in_hw, kernel, draw(st.integers(1, 3)), dilation, padding


BIAS_KINDS = st.sampled_from(["int64", "int32", "none", "none-int32"])  # none-int32: no bias, int32 asked for


@SETTINGS
@given(
    seed=st.integers(0, 2**31),
    window=windows(),
    channels=st.integers(1, 5),
    out_c=st.integers(1, 6),
    bias_kind=BIAS_KINDS,
)
def test_conv_s16(seed, window, channels, out_c, bias_kind):
    in_hw, kernel, stride, dilation, padding = window
    graph = _conv_model("CONV_2D", seed, in_hw, channels, out_c, kernel, stride, dilation, padding, bias_kind)
    assert lower(graph).kernels == ["tg_conv_s16_acc32" if bias_kind.endswith("int32") else "tg_conv_s16"]
    assert_bit_exact(graph, samples=4)


@SETTINGS
@given(seed=st.integers(0, 2**31), window=windows(), channels=st.integers(1, 5), multiplier=st.integers(1, 3))
def test_depthwise_s16(seed, window, channels, multiplier):
    in_hw, kernel, stride, dilation, padding = window
    out_c = channels * multiplier
    graph = _conv_model("DEPTHWISE_CONV_2D", seed, in_hw, channels, out_c, kernel, stride, dilation, padding, "int64")
    assert lower(graph).kernels == ["tg_depthwise_s16"]
    assert_bit_exact(graph, samples=4)


def test_s16_layers_never_run_in_place():
    """The in-place variants are int8 kernels: a 16x8 layer whose shapes would allow one keeps its own."""
    for kind, channels in (("CONV_2D", 4), ("DEPTHWISE_CONV_2D", 4)):
        graph = _conv_model(kind, 3, (5, 5), channels, 4, (3, 3), 1, 1, "SAME", "int64")
        (layer,) = lower(graph).layers
        assert op_def(kind).variants(layer) == ()


# --- 16x8 fully connected ------------------------------------------------------------------------


@SETTINGS
@given(
    seed=st.integers(0, 2**31),
    in_shape=st.sampled_from([(1, 7), (1, 16), (1, 3, 5), (1, 2, 2, 9)]),
    units=st.integers(1, 9),
    per_channel=st.booleans(),
    bias_kind=BIAS_KINDS,
)
def test_fully_connected_s16(seed, in_shape, units, per_channel, bias_kind):
    rng = np.random.default_rng(seed)
    input_zero_point = int(rng.choice([0, -300, 4000]))  # FULLY_CONNECTED applies zero points, int16 too
    g = GraphBuilder()
    depth = in_shape[-1]
    x = g.tensor(in_shape, **int16_quant(rng, zero_point=input_zero_point))
    w = weights(g, rng, (units, depth), axis=0, per_channel=per_channel)
    if not per_channel:  # the per-tensor kernel applies a weight zero point too
        g.tensors[w].quant = Quant(g.tensors[w].quant.scale, (int(rng.choice([0, 9])),))
    out_scale = sum_scale(g, x, w, depth) * 10 ** rng.uniform(-1, 1)
    y = g.tensor((int(np.prod(in_shape)) // depth, units), **int16_quant(rng, out_scale))
    inputs = [x, w] + ([bias16(g, rng, units, bias_kind, x, w)] if bias_kind in ("int64", "int32") else [])
    g.op(
        "FULLY_CONNECTED",
        inputs,
        [y],
        fused_activation_function=activation(rng),
        keep_num_dims=False,
        quantized_bias_type=INT32 if bias_kind == "none-int32" else 0,
    )
    graph = g.build([x], [y])
    narrow = bias_kind.endswith("int32")
    assert lower(graph).kernels == ["tg_fully_connected_s16_acc32" if narrow else "tg_fully_connected_s16"]
    assert_bit_exact(graph, samples=4)


def test_fully_connected_s16_per_tensor_multiplier_from_double_scales():
    """tflite-micro's source multiplies per-tensor input and weight scales in float32, but the
    interpreter's multipliers are those of the double product (as per channel). These scales give
    multipliers 80 apart in 2^31, and the int32 sums of an int32 bias keep all 31 bits."""
    rng = np.random.default_rng(1)
    g = GraphBuilder()
    x = g.tensor((1, 256), "int16", scale=0.00012096990394638851, zero_point=0)
    w = g.const(rng.integers(-127, 128, (64, 256)), "int8", scale=0.01821961998939514, zero_point=0)
    bias = g.const(rng.integers(-2000, 2000, 64), "int32", scale=0.00012096990394638851 * 0.01821961998939514)
    y = g.tensor((1, 64), "int16", scale=0.0028238738887012005, zero_point=0)
    g.op("FULLY_CONNECTED", [x, w, bias], [y], fused_activation_function="NONE", keep_num_dims=False)
    assert_bit_exact(g.build([x], [y]), samples=64, sanitize=False)


# --- int16 ADD, MUL ------------------------------------------------------------------------------


@SETTINGS
@given(
    kind=st.sampled_from(["ADD", "MUL"]), seed=st.integers(0, 2**31), shapes=broadcast_shapes(), const2=st.booleans()
)
def test_add_mul_s16(kind, seed, shapes, const2):
    out_shape, shape1, shape2 = shapes
    rng = np.random.default_rng(seed)
    # ADD takes any zero points; MUL only 0.
    zero_points = rng.integers(-500, 500, 3) if kind == "ADD" else np.zeros(3, dtype=int)
    q1, q2 = (int16_quant(rng, zero_point=int(z)) for z in zero_points[:2])
    if kind == "ADD":  # the output scale must keep the sum's multiplier below 1
        out_scale = max(q1["scale"], q2["scale"]) * 10 ** rng.uniform(-2, 0.5)
    else:
        out_scale = q1["scale"] * q2["scale"] * 32768 * 10 ** rng.uniform(-1, 1)
    qo = int16_quant(rng, out_scale, int(zero_points[2]))
    g = GraphBuilder()
    in1, a = feed(g, shape1, q1)
    inputs = [in1]
    if const2:
        b = g.const(rng.integers(-32768, 32768, shape2), **q2)
    else:
        in2, b = feed(g, shape2, q2)
        inputs.append(in2)
    y = g.tensor(out_shape, **qo)
    g.op(kind, [a, b], [y], fused_activation_function=activation(rng))
    graph = g.build(inputs, [drain(g, y, qo)])
    assert f"tg_{kind.lower()}_s16" in lower(graph).kernels
    assert_bit_exact(graph, samples=4)


@pytest.mark.parametrize("kind", ["ADD", "MUL"])
def test_add_mul_s16_rank7_alternating_broadcast(kind):
    rng = np.random.default_rng(2)
    q = int16_quant(rng, 1e-3)
    qo = int16_quant(rng, 1e-3 if kind == "ADD" else 3e-2)
    g = GraphBuilder()
    in1, a = feed(g, (1, 2, 1, 2, 1, 2, 1), q)
    in2, b = feed(g, (2, 1, 2, 1, 2, 1, 2), q)
    y = g.tensor((2,) * 7, **qo)
    g.op(kind, [a, b], [y], fused_activation_function="NONE")
    assert_bit_exact(g.build([in1, in2], [drain(g, y, qo)]), samples=4)


# --- int16 PAD, PADV2 ----------------------------------------------------------------------------


@SETTINGS
@given(
    kind=st.sampled_from(["PAD", "PADV2"]),
    seed=st.integers(0, 2**31),
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=4),
)
def test_pad_s16(kind, seed, shape):
    rng = np.random.default_rng(seed)
    shape = [1, *shape[1:]]  # model inputs have batch 1
    paddings = rng.integers(0, 3, (len(shape), 2))
    paddings[0] = 0
    # PADV2 pads with its constant's raw value, so any zero point works; PAD pads with 0.
    q = int16_quant(rng, zero_point=int(rng.integers(-100, 100)) if kind == "PADV2" else 0)
    g = GraphBuilder()
    x = g.tensor(shape, **q)
    y = g.tensor(tuple(int(d) for d in np.add(shape, paddings.sum(axis=1))), **q)
    inputs = [x, g.const(paddings, "int32")]
    if kind == "PADV2":
        inputs.append(g.const(rng.integers(-32768, 32768, (1,)), **q))
    g.op(kind, inputs, [y])
    graph = g.build([x], [y])
    assert lower(graph).kernels == ["tg_pad_s16"]
    assert_bit_exact(graph, samples=4)


# --- refusals ------------------------------------------------------------------------------------


def _conv_graph(bias_dtype="int64", kind="CONV_2D", zero_point=0, output_scale=1e-2, bias_scale=None):
    rng = np.random.default_rng(0)
    g = GraphBuilder()
    x = g.tensor((1, 4, 4, 2), **int16_quant(rng, 1e-3, zero_point))
    if kind == "FULLY_CONNECTED":
        w = weights(g, rng, (3, 32), axis=0, per_channel=False)
        y = g.tensor((1, 3), **int16_quant(rng, output_scale))
        options = {"fused_activation_function": "NONE", "keep_num_dims": False}
    elif kind == "CONV_2D":
        w = weights(g, rng, (3, 3, 3, 2), axis=0)
        y = g.tensor((1, 4, 4, 3), **int16_quant(rng, output_scale))
        options = window_options()
    else:
        w = weights(g, rng, (1, 3, 3, 2), axis=3)
        y = g.tensor((1, 4, 4, 2), **int16_quant(rng, output_scale))
        options = {**window_options(), "depth_multiplier": 1}
    channels = g.tensors[y].shape[-1]
    bias = g.const(np.zeros(channels), bias_dtype, scale=bias_scale or 1.0, zero_point=0)
    g.op(kind, [x, w, bias], [y], **options)
    return g.build([x], [y])


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_conv_s16_bias_must_be_int64_or_int32(dtype):
    with pytest.raises(TinygenError, match=r"op 0 \(CONV_2D\): a 16x8 bias must be a constant int64 or int32"):
        lower(_conv_graph(dtype))


def test_depthwise_s16_bias_must_be_int64():
    # tflite-micro reads a 16x8 depthwise bias as int64 whatever its type.
    with pytest.raises(TinygenError, match=r"op 0 \(DEPTHWISE_CONV_2D\): a 16x8 bias must be a constant int64 vector"):
        lower(_conv_graph("int32", "DEPTHWISE_CONV_2D"))


@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_conv_s16_zero_point_must_be_0(kind):
    with pytest.raises(TinygenError, match=rf"op 0 \({kind}\): int16 tensor t0 has zero point 7, not 0"):
        lower(_conv_graph(kind=kind, zero_point=7))


def test_conv_s16_factor_beyond_the_64_bit_requantization():
    with pytest.raises(TinygenError, match=r"op 0 \(CONV_2D\): input scale x weight scale / output scale reaches 128"):
        lower(_conv_graph(output_scale=1e-9))


def test_fully_connected_s16_bias_scale_checked():
    with pytest.raises(TinygenError, match=r"op 0 \(FULLY_CONNECTED\): bias scale 1 is too far"):
        lower(_conv_graph(kind="FULLY_CONNECTED", bias_scale=1.0))


@pytest.mark.parametrize("kind", ["ADD", "MUL", "CONV_2D"])
def test_mixed_int8_int16_refused(kind):
    g = GraphBuilder()
    a = g.tensor((1, 4, 4, 2), "int16", scale=1e-3, zero_point=0)
    y = g.tensor((1, 4, 4, 2), "int8", scale=1e-2, zero_point=0)
    if kind == "CONV_2D":
        w = g.const(np.ones((2, 1, 1, 2)), "int8", scale=[1e-2, 1e-2], zero_point=0)
        b = g.const(np.zeros(2), "int64", scale=1.0, zero_point=0)
        g.op(kind, [a, w, b], [y], **window_options())
        inputs = [a]
    else:
        b = g.tensor((1, 4, 4, 2), "int16", scale=1e-3, zero_point=0)
        g.op(kind, [a, b], [y], fused_activation_function="NONE")
        inputs = [a, b]
    with pytest.raises(TinygenError, match=rf"op 0 \({kind}\): tensor t\d is int8 where the others are int16"):
        lower(g.build(inputs, [y]))


def test_mul_s16_zero_point_must_be_0():
    g = GraphBuilder()
    a, b = (g.tensor((1, 8), "int16", scale=1e-3, zero_point=z) for z in (0, 3))
    y = g.tensor((1, 8), "int16", scale=1e-3, zero_point=0)
    g.op("MUL", [a, b], [y], fused_activation_function="NONE")
    with pytest.raises(TinygenError, match=r"op 0 \(MUL\): int16 tensor t1 has zero point 3, not 0"):
        lower(g.build([a, b], [y]))


def test_pad_s16_zero_point_must_be_0():
    # tflite-micro pads int16 with a raw 0, which is not the real 0 under another zero point.
    g = GraphBuilder()
    x = g.tensor((1, 3), "int16", scale=1e-3, zero_point=5)
    y = g.tensor((1, 5), "int16", scale=1e-3, zero_point=5)
    g.op("PAD", [x, g.const(np.array([[0, 0], [1, 1]]), "int32")], [y])
    with pytest.raises(TinygenError, match=r"op 0 \(PAD\): int16 tensor t1 has zero point 5, not 0"):
        lower(g.build([x], [y]))


# --- on the emulated boards ----------------------------------------------------------------------


def _all_ops_model():
    """PAD -> CONV_2D -> DEPTHWISE_CONV_2D -> ADD (residual) -> MUL -> FULLY_CONNECTED, all int16, with
    output scales that keep most values off the clamp."""
    rng = np.random.default_rng(11)
    g = GraphBuilder()
    q = int16_quant(rng, 1e-3)
    x, p = g.tensor((1, 4, 4, 2), **q), g.tensor((1, 6, 6, 2), **q)
    g.op("PAD", [x, g.const(np.array([[0, 0], [1, 1], [1, 1], [0, 0]]), "int32")], [p])
    w = weights(g, rng, (4, 3, 3, 2), axis=0)
    c = g.tensor((1, 4, 4, 4), **int16_quant(rng, sum_scale(g, p, w, 18)))
    g.op("CONV_2D", [p, w, bias16(g, rng, 4, "int64", p, w)], [c], **window_options("VALID", activation="RELU"))
    w = weights(g, rng, (1, 3, 3, 4), axis=3)
    d = g.tensor((1, 4, 4, 4), **int16_quant(rng, sum_scale(g, c, w, 9)))
    g.op("DEPTHWISE_CONV_2D", [c, w, bias16(g, rng, 4, "int64", c, w)], [d], **window_options(), depth_multiplier=1)
    s = g.tensor((1, 4, 4, 4), **int16_quant(rng, 2 * max(g.tensors[c].quant.scale[0], g.tensors[d].quant.scale[0])))
    g.op("ADD", [c, d], [s], fused_activation_function="NONE")
    k = g.const(rng.integers(-32768, 32768, (4,)), **int16_quant(rng, 1e-4))
    m = g.tensor((1, 4, 4, 4), **int16_quant(rng, g.tensors[s].quant.scale[0] * 1e-4 * 8000))
    g.op("MUL", [s, k], [m], fused_activation_function="NONE")
    w = weights(g, rng, (5, 64), axis=0, per_channel=False)
    f = g.tensor((1, 5), **int16_quant(rng, sum_scale(g, m, w, 64)))
    g.op("FULLY_CONNECTED", [m, w, bias16(g, rng, 5, "int32", m, w)], [f], fused_activation_function="NONE")
    return g.build([x], [f])


def test_all_ops_model_on_host():
    assert_bit_exact(_all_ops_model(), samples=8)


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_all_ops_model_on_board(board_id, qemu_ready, tmp_path):
    result = verify_on_board(_all_ops_model(), board_id, tmp_path)
    assert result.bit_exact, result.summary()


@pytest.mark.parametrize(
    ("name", "board_id"),
    [
        ("seanet_conv4.tflite", QEMU_BOARDS[0]),
        ("seanet_add3.tflite", QEMU_BOARDS[1]),
        ("seanet_pad5.tflite", QEMU_BOARDS[-1]),
    ],
)
def test_seanet_model_on_board(name, board_id, qemu_ready, tmp_path):
    result = verify_on_board(load_model(CORPUS / name).graph, board_id, tmp_path)
    assert result.bit_exact, result.summary()


# --- the quantizer (int8) through these ops ------------------------------------------------------


def _float_graph():
    """PAD -> CONV_2D -> DEPTHWISE_CONV_2D -> ADD -> MUL by a constant -> FULLY_CONNECTED, in float."""
    b = FloatBuilder(4)
    x, p, c, d, s, m, h, y = (
        b.act(*shape)
        for shape in (
            (1, 5, 5, 2),
            (1, 7, 7, 2),
            (1, 5, 5, 4),
            (1, 5, 5, 4),
            (1, 5, 5, 4),
            (1, 5, 5, 4),
            (1, 100),
            (1, 3),
        )
    )
    b.op("PAD", [x, b.ints([[0, 0], [1, 1], [1, 1], [0, 0]])], [p])
    b.op(
        "CONV_2D",
        [p, b.weights(4, 3, 3, 2), b.weights(4, std=0.1)],
        [c],
        padding="VALID",
        stride_w=1,
        stride_h=1,
        fused_activation_function="RELU",
        **WINDOW,
    )
    b.op(
        "DEPTHWISE_CONV_2D",
        [c, b.weights(1, 3, 3, 4), b.weights(4, std=0.1)],
        [d],
        padding="SAME",
        stride_w=1,
        stride_h=1,
        depth_multiplier=1,
        fused_activation_function="NONE",
        **WINDOW,
    )
    b.op("ADD", [c, d], [s], fused_activation_function="NONE")
    b.op("MUL", [s, b.weights(1, 1, 1, 4, std=0.5)], [m], fused_activation_function="NONE")
    b.op("RESHAPE", [m, b.ints([1, 100])], [h])
    b.op(
        "FULLY_CONNECTED",
        [h, b.weights(3, 100, std=0.1), b.weights(3)],
        [y],
        fused_activation_function="NONE",
        keep_num_dims=False,
    )
    return b.build([x], [y])


def test_quantized_graph_bit_exact_and_float_executor_agrees():
    graph = _float_graph()
    result = quantize(graph, CalibrationData(inputs_for(graph, 32)))
    assert_bit_exact(result.graph, samples=4)
    x = inputs_for(graph, 4, seed=3)
    want = run_tflm(write_tflite(graph), graph, x)
    got = execute(graph, [x])[graph.outputs[0]].reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
