"""TRANSPOSE_CONV (int8 and 16x8) against tflite-micro, on generated models."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.lower import lower
from tinygen.compiler.validate import validate
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.quantize import CalibrationData, quantize
from tinygen.quantize.float_exec import execute

from ..bitexact import assert_bit_exact
from ..gen import activation, activation_quant, bias, weights
from ..helpers import QEMU_BOARDS, verify_on_board
from ..quant_models import FloatBuilder, inputs_for, run_tflm

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)


def natural_size(padding: str, in_size: int, kernel: int, stride: int, slack: int) -> int:
    """An output size whose convolution (same padding, kernel, stride) has in_size outputs: the
    largest for SAME less slack, the smallest for VALID plus slack (slack < stride)."""
    if padding == "SAME":
        return in_size * stride - slack
    return (in_size - 1) * stride + kernel + slack


def transpose_conv(
    g: GraphBuilder,
    rng: np.random.Generator,
    x: int,
    out_shape,
    kernel,
    stride,
    padding: str,
    bias_dtype: str | None = "int32",
    per_channel: bool = True,
    dtype: str = "int8",
    act: str | None = None,
    output_shape: int | None = None,
) -> int:
    """A TRANSPOSE_CONV from x to a new tensor of out_shape (output_shape: that tensor, else a constant)."""
    in_c, out_c = g.tensors[x].shape[3], out_shape[3]
    w = weights(g, rng, (out_c, *kernel, in_c), axis=0, per_channel=per_channel)
    quant = activation_quant(rng) if dtype == "int8" else {"scale": float(10 ** rng.uniform(-4, -2)), "zero_point": 0}
    y = g.tensor(out_shape, dtype, **quant)
    inputs = [g.const(np.array(out_shape), "int32") if output_shape is None else output_shape, w, x]
    if bias_dtype == "int32":
        inputs.append(bias(g, rng, out_c, x, w))
    elif bias_dtype is not None:  # 16x8: int64 or int16
        inputs.append(g.const(rng.integers(-30000, 30000, out_c), bias_dtype, scale=1.0, zero_point=0))
    g.op(
        "TRANSPOSE_CONV",
        inputs,
        [y],
        padding=padding,
        stride_h=stride[0],
        stride_w=stride[1],
        fused_activation_function=act or activation(rng),
    )
    return y


def single_model(seed, in_hw, in_c, out_c, kernel, stride, padding, slack, dtype="int8", **options):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    quant = activation_quant(rng) if dtype == "int8" else {"scale": float(10 ** rng.uniform(-4, -2)), "zero_point": 0}
    x = g.tensor((1, *in_hw, in_c), dtype, **quant)
    out_hw = [natural_size(padding, in_hw[a], kernel[a], stride[a], min(slack[a], stride[a] - 1)) for a in range(2)]
    y = transpose_conv(g, rng, x, (1, *out_hw, out_c), kernel, stride, padding, dtype=dtype, **options)
    return g.build([x], [y])


window = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**31),
        "in_hw": st.tuples(st.integers(1, 6), st.integers(1, 6)),
        "in_c": st.integers(1, 9),
        "out_c": st.integers(1, 7),
        "kernel": st.tuples(st.integers(1, 5), st.integers(1, 5)),
        "stride": st.tuples(st.integers(1, 3), st.integers(1, 3)),
        "padding": st.sampled_from(["SAME", "VALID"]),
        "slack": st.tuples(st.integers(0, 2), st.integers(0, 2)),
    }
)


@SETTINGS
@given(case=window, bias_dtype=st.sampled_from(["int32", None]), per_channel=st.booleans())
def test_int8(case, bias_dtype, per_channel):
    assert_bit_exact(single_model(**case, bias_dtype=bias_dtype, per_channel=per_channel))


@settings(max_examples=8, deadline=None, derandomize=True)
@given(case=window, bias_dtype=st.sampled_from(["int64", "int16", None]))
def test_16x8(case, bias_dtype):
    assert_bit_exact(single_model(**case, dtype="int16", bias_dtype=bias_dtype))


@pytest.mark.parametrize("out_hw", [(1, 1), (2, 9), (9, 3)])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_any_output_size(padding, out_hw):
    # tflite-micro takes any output size and drops the products that fall outside it.
    rng = np.random.default_rng(3)
    g = GraphBuilder()
    x = g.tensor((1, 3, 3, 4), **activation_quant(rng))
    y = transpose_conv(g, rng, x, (1, *out_hw, 5), (3, 2), (2, 2), padding)
    assert_bit_exact(g.build([x], [y]))


def test_output_shape_as_model_input():
    # tflite-micro never reads output_shape: it may be anything, here a model input (as in its seanet tests).
    rng = np.random.default_rng(5)
    g = GraphBuilder()
    x, shape = g.tensor((1, 2, 3, 4), **activation_quant(rng)), g.tensor((4,), "int32")
    y = transpose_conv(g, rng, x, (1, 4, 6, 3), (2, 2), (2, 2), "SAME", output_shape=shape)
    assert_bit_exact(g.build([shape, x], [y]))


def _refusal_model(**change):
    """A valid int8 model with one thing changed."""
    rng = np.random.default_rng(0)
    g = GraphBuilder()
    dtype = change.get("dtype", "int8")
    x = g.tensor((1, 3, 3, 4), dtype, scale=0.05, zero_point=change.get("input_zero_point", 0))
    y = g.tensor(change.get("out_shape", (1, 6, 6, 2)), change.get("out_dtype", dtype), scale=0.1, zero_point=0)
    w_shape = change.get("w_shape", (2, 3, 3, 4))
    w = g.const(
        rng.integers(-127, 128, w_shape),
        "int8",
        scale=[0.01] * w_shape[change.get("w_axis", 0)],
        zero_point=change.get("w_zero_point", 0),
        axis=change.get("w_axis", 0),
    )
    shape = g.const(np.array(change.get("output_shape", (1, 6, 6, 2))), change.get("output_shape_dtype", "int32"))
    b = g.const(np.zeros(2), change.get("bias_dtype", "int32"), scale=1.0, zero_point=0)
    options = {"padding": "SAME", "stride_h": 2, "stride_w": 2, "fused_activation_function": "NONE"}
    g.op("TRANSPOSE_CONV", [shape, w, x, b], [y], **{**options, **change.get("options", {})})
    return g.build([x], [y])


@pytest.mark.parametrize(
    "change, message",
    [
        ({"output_shape": (1, 6, 5, 2)}, r"output_shape \[1, 6, 5, 2\] disagrees with the output tensor's shape"),
        ({"output_shape_dtype": "int64"}, "output_shape must be an int32 vector of 4"),
        ({"w_shape": (2, 3, 3, 3)}, "weights have 3 input channels, the input 4"),
        ({"w_shape": (3, 3, 3, 4), "w_axis": 0}, "weights have 3 output channels, the output 2"),
        ({"w_shape": (2, 3, 3, 4), "w_axis": 3}, "per-channel weights must have 2 scales along axis 0"),
        ({"w_zero_point": 1}, "weights need zero point 0"),
        ({"bias_dtype": "int64"}, "bias must be a constant int32 vector of 2"),
        ({"options": {"stride_w": 0}}, "has a stride below 1"),
        ({"options": {"fused_activation_function": "TANH"}}, "fused activation TANH is not supported"),
        ({"out_dtype": "int16"}, "input is int8 but output is int16"),
        ({"dtype": "float32"}, "works on float32 tensors.*quantize it first"),
        ({"dtype": "int16", "bias_dtype": "int64", "input_zero_point": 3}, "int16 input and output need zero point 0"),
        ({"dtype": "int16"}, "a 16x8 bias must be a constant int64 \\(or int16\\) vector of 2"),
    ],
)
def test_refusals(change, message):
    with pytest.raises(TinygenError, match=r"op 0 \(TRANSPOSE_CONV\):? " + message):
        lower(_refusal_model(**change))


def test_missing_input_refused():
    graph = _refusal_model()
    graph.ops[0].inputs = (-1, *graph.ops[0].inputs[1:])
    with pytest.raises(TinygenError, match=r"op 0 \(TRANSPOSE_CONV\) has no input 0 \(param\), which it needs"):
        validate(graph)


def test_16x8_multiplier_too_large_refused():
    rng = np.random.default_rng(0)
    g = GraphBuilder()
    x = g.tensor((1, 2, 2, 1), "int16", scale=1.0, zero_point=0)
    w = g.const(rng.integers(-127, 128, (1, 1, 1, 1)), "int8", scale=1.0, zero_point=0)
    y = g.tensor((1, 2, 2, 1), "int16", scale=1e-3, zero_point=0)
    options = {"padding": "VALID", "stride_h": 1, "stride_w": 1, "fused_activation_function": "NONE"}
    g.op("TRANSPOSE_CONV", [g.const(np.array([1, 2, 2, 1]), "int32"), w, x], [y], **options)
    with pytest.raises(TinygenError, match=r"op 0 \(TRANSPOSE_CONV\): input scale x weight scale / output scale"):
        lower(g.build([x], [y]))


def _upsampler() -> "GraphBuilder":
    """Two int8 transpose convolutions: stride 2 SAME with bias, then 3x3 VALID without (channels a multiple
    of 4 and not, so the DSP dot products run with and without a tail)."""
    rng = np.random.default_rng(11)
    g = GraphBuilder()
    x = g.tensor((1, 3, 4, 8), **activation_quant(rng))
    h = transpose_conv(g, rng, x, (1, 6, 8, 5), (3, 3), (2, 2), "SAME", act="RELU")
    y = transpose_conv(g, rng, h, (1, 8, 10, 3), (3, 3), (1, 1), "VALID", bias_dtype=None, act="NONE")
    return g.build([x], [y])


def test_upsampler():
    assert_bit_exact(_upsampler())


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_on_board(qemu_ready, board_id, tmp_path):
    result = verify_on_board(_upsampler(), board_id, tmp_path)
    assert result.bit_exact, result.summary()


def _float_decoder():
    """Float: transpose conv (stride 2 SAME, bias, RELU) -> transpose conv (VALID, no bias)."""
    b = FloatBuilder(4)
    x, h, y = b.act(1, 4, 4, 3), b.act(1, 8, 8, 6), b.act(1, 10, 10, 2)
    b.op(
        "TRANSPOSE_CONV",
        [b.ints([1, 8, 8, 6]), b.weights(6, 3, 3, 3), x, b.weights(6, std=0.1)],
        [h],
        padding="SAME",
        stride_h=2,
        stride_w=2,
        fused_activation_function="RELU",
    )
    b.op(
        "TRANSPOSE_CONV",
        [b.ints([1, 10, 10, 2]), b.weights(2, 3, 3, 6), h],
        [y],
        padding="VALID",
        stride_h=1,
        stride_w=1,
        fused_activation_function="NONE",
    )
    return b.build([x], [y])


def test_quantized_float_model():
    graph = _float_decoder()
    x = inputs_for(graph, 4)
    want = run_tflm(write_tflite(graph), graph, x)
    got = execute(graph, [x])[graph.outputs[0]].reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    result = quantize(graph, CalibrationData(inputs_for(graph, 32)))
    assert_bit_exact(result.graph)
