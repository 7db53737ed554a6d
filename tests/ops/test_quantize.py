"""QUANTIZE and DEQUANTIZE against tflite-micro: every type pair it computes (over every 8-bit value),
float midpoints, constant folding, the refusals, the quantizer's float I/O, and the common uint8-I/O
model on the host and on the emulated boards."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.fold import fold_constants
from tinygen.compiler.inplace import apply_in_place
from tinygen.compiler.lower import lower
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.ir import NUMPY_DTYPES, Graph
from tinygen.ops import op_def
from tinygen.ops.quantize import DEQUANTIZE_INPUTS, QUANTIZE_PAIRS
from tinygen.quantize import CalibrationData, quantize
from tinygen.quantize.float_exec import execute
from tinygen.reference import Reference
from tinygen.verify import random_samples

from ..bitexact import assert_bit_exact
from ..gen import activation_quant, bias, weights, window_options
from ..helpers import QEMU_BOARDS, verify_on_board
from ..quant_models import FloatBuilder, inputs_for, run_tflm

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True)
SHAPES = [(256,), (1, 256), (1, 16, 16), (1, 4, 8, 8), (1, 2, 4, 4, 8)]  # 256 elements each
# Scales per type as converters choose them: int16 and int32 tensors hold finer grids.
SCALE_DECADES = {"int8": (-3, 0), "uint8": (-3, 0), "int16": (-5, -2), "int32": (-7, -3)}


def quant_for(rng: np.random.Generator, dtype: str) -> dict:
    """Random per-tensor parameters with the zero point in the type's range (int32: near 0)."""
    info = np.iinfo(NUMPY_DTYPES[dtype])
    low, high = (-1000, 1000) if dtype == "int32" else (info.min, info.max)
    return {"scale": float(10 ** rng.uniform(*SCALE_DECADES[dtype])), "zero_point": int(rng.integers(low, high + 1))}


def values_for(rng: np.random.Generator, dtype: str, shape) -> np.ndarray:
    """Every value of an 8-bit type; wider integers spread over every magnitude, with the extremes."""
    size = int(np.prod(shape))
    if dtype == "float32":
        return rng.uniform(-300, 300, shape).astype(np.float32)
    info = np.iinfo(NUMPY_DTYPES[dtype])
    if info.bits == 8:
        return np.arange(info.min, info.max + 1).astype(dtype).reshape(shape)
    magnitudes = 10 ** rng.uniform(0, np.log10(float(info.max)), size)
    values = np.clip(np.sign(rng.standard_normal(size)) * magnitudes, info.min, info.max).astype(np.int64)
    values[:3] = [info.min, info.max, 0]
    return values.astype(dtype).reshape(shape)


def every_conversion(seed: int, shape) -> tuple[Graph, list[np.ndarray]]:
    """One input per type and one output per conversion tflite-micro computes, with a sample for it."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    types = ("float32", "int8", "uint8", "int16", "int32")
    inputs = {t: g.tensor(shape, t, **({} if t == "float32" else quant_for(rng, t))) for t in types}
    outputs = []
    for a, b in QUANTIZE_PAIRS:
        outputs.append(g.tensor(shape, b, **quant_for(rng, b)))
        g.op("QUANTIZE", [inputs[a]], [outputs[-1]])
    for a in DEQUANTIZE_INPUTS:
        outputs.append(g.tensor(shape, "float32"))
        g.op("DEQUANTIZE", [inputs[a]], [outputs[-1]])
    for t in ("int8", "int16"):
        # Back to the type at twice the scale: every odd q - zero point lands exactly on a .5 tie
        # of the float division, which must round away from zero.
        real = g.tensor(shape, "float32")
        g.op("DEQUANTIZE", [inputs[t]], [real])
        outputs.append(g.tensor(shape, t, **{**quant_for(rng, t), "scale": 2 * g.tensors[inputs[t]].quant.scale[0]}))
        g.op("QUANTIZE", [real], [outputs[-1]])
    for t in ("int8", "int16"):  # twice rescaled: the second requantize runs over its dying input
        middle = g.tensor(shape, t, **quant_for(rng, t))
        g.op("QUANTIZE", [inputs[t]], [middle])
        outputs.append(g.tensor(shape, t, **quant_for(rng, t)))
        g.op("QUANTIZE", [middle], [outputs[-1]])
    return g.build(list(inputs.values()), outputs), [values_for(rng, t, shape) for t in types]


@SETTINGS
@given(seed=st.integers(0, 2**31), shape=st.sampled_from(SHAPES))
def test_every_conversion(seed, shape):
    graph, sample = every_conversion(seed, shape)
    assert sum(layer.in_place for layer in apply_in_place(lower(graph)).layers) >= 2  # the chains at least
    assert_bit_exact(graph, inputs=[sample, *random_samples(graph, 2, seed)])


@settings(max_examples=12, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31))
def test_folding_computes_what_tflite_micro_does(seed):
    """Each conversion folded as a constant gives the bytes tflite-micro computes at run time."""
    graph, sample = every_conversion(seed, (1, 256))
    reference = Reference(write_tflite(graph), graph)
    outputs = dict(zip(graph.outputs, reference.run(sample)))
    for op in graph.ops:
        if op.inputs[0] not in graph.inputs or op.outputs[0] not in outputs:
            continue  # the tie chains' first halves
        x, want = graph.tensor(op.inputs[0]), outputs[op.outputs[0]]
        constant = dataclasses.replace(x, data=sample[graph.inputs.index(x.index)])
        (folded,) = op_def(op.kind).fold(op, [constant])
        got = folded(graph.tensor(op.outputs[0]))
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), op


def _ties(scale: float, steps: int) -> np.ndarray:
    """Floats at, just below and just above the quantization midpoints (k + 0.5) * scale."""
    mid = ((np.arange(-steps, steps) + 0.5) * np.float32(scale)).astype(np.float32)
    return np.concatenate([mid, np.nextafter(mid, np.float32(-np.inf)), np.nextafter(mid, np.float32(np.inf))])


MIDPOINT_GRIDS = [(2.0**-5, 0), (2.0**-7, -128), (0.0123, 17), (0.37, -60)]  # (scale, zero point)


def test_quantize_float_midpoints():
    """To int8 on each grid, and to int16 on a grid 300 times finer: at, just below and just above ties."""
    g = GraphBuilder()
    inputs, outputs, ties = [], [], []
    for scale, zero_point in MIDPOINT_GRIDS:
        for dtype, values, quant in (
            ("int8", _ties(scale, 140), {"scale": scale, "zero_point": zero_point}),
            ("int16", _ties(scale / 300, 33000)[::50], {"scale": scale / 300, "zero_point": zero_point * 200}),
        ):
            inputs.append(g.tensor((1, values.size), "float32"))
            outputs.append(g.tensor((1, values.size), dtype, **quant))
            g.op("QUANTIZE", [inputs[-1]], [outputs[-1]])
            ties.append(values.reshape(1, -1))
    graph = g.build(inputs, outputs)
    assert_bit_exact(graph, inputs=[ties, *random_samples(graph, 3, 0)])  # random: over the quantized range


def test_constant_conversions_fold_away():
    """Constants behind QUANTIZE and DEQUANTIZE (chained, too) reach the ADDs as computed int8 constants."""
    rng = np.random.default_rng(3)
    g = GraphBuilder()
    x = g.tensor((1, 64), **activation_quant(rng))
    constants = [
        g.const(rng.uniform(-2, 2, (1, 64)).astype(np.float32), "float32"),
        g.const(rng.integers(0, 256, (1, 64)), "uint8", scale=0.01, zero_point=120),
        g.const(rng.integers(-32768, 32768, (1, 64)), "int16", scale=1e-4, zero_point=0),
        g.const(rng.integers(-2000, 2000, (1, 64)), "int32", scale=1e-3, zero_point=3),
    ]
    dequantized = g.tensor((1, 64), "float32")  # int8 -> float -> int8
    g.op("DEQUANTIZE", [g.const(rng.integers(-128, 128, (1, 64)), "int8", scale=0.02, zero_point=-4)], [dequantized])
    outputs = []
    for c in [*constants, dequantized]:
        q = g.tensor((1, 64), **activation_quant(rng))
        g.op("QUANTIZE", [c], [q])
        outputs.append(g.tensor((1, 64), **activation_quant(rng)))
        g.op("ADD", [x, q], [outputs[-1]], fused_activation_function="NONE")
    graph = g.build([x], outputs)
    assert {op.kind for op in fold_constants(graph).ops} == {"ADD"}
    assert_bit_exact(graph)


def _conversion(kind, x: dict, y: dict, shape=(1, 8), y_shape=None):
    g = GraphBuilder()
    a = g.tensor(shape, **x)
    b = g.tensor(y_shape or shape, **y)
    g.op(kind, [a], [b])
    return g.build([a], [b])


INT8 = {"dtype": "int8", "scale": 0.1, "zero_point": 0}


@pytest.mark.parametrize(
    "kind, x, y, message",
    [
        ("QUANTIZE", {"dtype": "float32"}, {**INT8, "dtype": "uint8"}, "converts float32 to uint8; tflite-micro's"),
        ("QUANTIZE", {**INT8, "dtype": "uint8"}, {**INT8, "dtype": "int16"}, "converts uint8 to int16"),
        ("QUANTIZE", INT8, {"dtype": "float32"}, "converts int8 to float32"),
        ("QUANTIZE", {"dtype": "float32"}, {"dtype": "int8"}, "t1 needs per-tensor quantization"),
        ("QUANTIZE", {"dtype": "float32"}, {**INT8, "scale": [0.1, 0.2], "axis": 1}, "per-tensor quantization"),
        ("QUANTIZE", {"dtype": "int8"}, INT8, "t0 needs per-tensor quantization"),
        ("QUANTIZE", {"dtype": "float32"}, {**INT8, "scale": 0.0}, "t1 has scale 0.0; it must be positive"),
        ("QUANTIZE", {**INT8, "dtype": "uint8", "zero_point": -1}, INT8, "zero point -1, outside the uint8 range"),
        ("QUANTIZE", INT8, {**INT8, "scale": 1e-10}, "overflows the int32 arithmetic"),
        ("DEQUANTIZE", {**INT8, "dtype": "int32"}, {"dtype": "float32"}, "converts int32 to float32"),
        ("DEQUANTIZE", INT8, {**INT8, "dtype": "int16"}, "converts int8 to int16"),
        # tflite-micro would dequantize every channel with the first channel's scale.
        ("DEQUANTIZE", {**INT8, "scale": [0.1, 0.2], "axis": 1}, {"dtype": "float32"}, "per-tensor"),
    ],
)
def test_refusals(kind, x, y, message):
    with pytest.raises(TinygenError, match=rf"op 0 \({kind}\): .*{message}"):
        lower(_conversion(kind, x, y, shape=(1, 2)))


def test_shape_mismatch_refused():
    with pytest.raises(TinygenError, match=r"op 0 \(QUANTIZE\): input shape \(1, 8\) and output shape \(1, 4, 2\)"):
        lower(_conversion("QUANTIZE", INT8, INT8, y_shape=(1, 4, 2)))


def test_folding_refuses_what_lowering_refuses():
    g = GraphBuilder()
    w = g.const(np.ones((2, 4)), "int8", scale=[0.1, 0.2], zero_point=[0, 0], axis=0)
    f, y = g.tensor((2, 4), "float32"), g.tensor((2, 4), **INT8)
    g.op("DEQUANTIZE", [w], [f])
    g.op("QUANTIZE", [f], [y])
    out = g.tensor((2, 4), **INT8)
    g.op("ADD", [y, y], [out], fused_activation_function="NONE")
    with pytest.raises(TinygenError, match=r"op 0 \(DEQUANTIZE\): tensor t0 needs per-tensor quantization"):
        fold_constants(g.build([], [out]))


def uint8_model() -> Graph:
    """The usual edges of a converted model: uint8 in, a zero-point shift to int8, an int8 conv, and
    back to uint8; beside it an int16 input dequantized and cast to int8 (saturating) and to int32."""
    rng = np.random.default_rng(11)
    g = GraphBuilder()
    u8_in = g.tensor((1, 6, 6, 3), "uint8", scale=0.02, zero_point=128)
    s8_in = g.tensor((1, 6, 6, 3), scale=0.02, zero_point=0)
    g.op("QUANTIZE", [u8_in], [s8_in])
    conv = g.tensor((1, 6, 6, 4), scale=0.05, zero_point=-10)
    w = weights(g, rng, (4, 3, 3, 3), axis=0)
    g.op("CONV_2D", [s8_in, w, bias(g, rng, 4, s8_in, w)], [conv], **window_options(activation="RELU"))
    u8_out = g.tensor((1, 6, 6, 4), "uint8", scale=0.05, zero_point=118)
    g.op("QUANTIZE", [conv], [u8_out])
    wide = g.tensor((1, 6, 6, 4), "int16", scale=1e-3, zero_point=0)  # int8 -> int16 -> float
    g.op("QUANTIZE", [conv], [wide])
    s16_in = g.tensor((1, 40), "int16", scale=0.01, zero_point=-7)
    real, wide_real = g.tensor((1, 40), "float32"), g.tensor((1, 6, 6, 4), "float32")
    g.op("DEQUANTIZE", [s16_in], [real])
    g.op("DEQUANTIZE", [wide], [wide_real])
    saturated, truncated = g.tensor((1, 40), "int8"), g.tensor((1, 40), "int32")
    g.op("CAST", [real], [saturated], in_data_type="float32", out_data_type="int8")
    g.op("CAST", [real], [truncated], in_data_type="float32", out_data_type="int32")
    return g.build([u8_in, s16_in], [u8_out, wide_real, saturated, truncated])


def test_uint8_model_io_on_host():
    assert_bit_exact(uint8_model())


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_uint8_model_io_on_boards(qemu_ready, board_id, tmp_path):
    result = verify_on_board(uint8_model(), board_id, tmp_path)
    assert result.bit_exact, result.summary()


def _float_add(seed: int) -> Graph:
    b = FloatBuilder(seed)
    x, y = b.act(1, 4, 4, 3), b.act(1, 4, 4, 3)
    b.op("ADD", [x, b.weights(1, 1, 1, 3)], [y], fused_activation_function="RELU")
    return b.build([x], [y])


def test_quantizer_float_io_edges_are_bit_exact():
    graph = _float_add(4)
    result = quantize(graph, CalibrationData(inputs_for(graph, 32)), float_io=True)
    kinds = [op.kind for op in result.graph.ops]
    assert kinds[0] == "QUANTIZE" and kinds[-1] == "DEQUANTIZE"
    assert_bit_exact(result.graph)


def test_float_executor_matches_tflite_micro():
    """float -> int16 -> float, times int8 weights dequantized, cast to int32 and back: the executor's
    float references of QUANTIZE, DEQUANTIZE and CAST against tflite-micro running the graph."""
    b = FloatBuilder(5)
    x, q, real, scaled, ints, y = (
        b.act(1, 4, 8),
        b.tensor((1, 4, 8), "int16", scale=2e-4, zero_point=3),
        b.act(1, 4, 8),
        b.act(1, 4, 8),
        b.tensor((1, 4, 8), "int32"),
        b.act(1, 4, 8),
    )
    w, w_real = b.const(b.rng.integers(-127, 128, (1, 4, 8)), "int8", scale=0.3, zero_point=0), b.act(1, 4, 8)
    b.op("QUANTIZE", [x], [q])
    b.op("DEQUANTIZE", [q], [real])
    b.op("DEQUANTIZE", [w], [w_real])
    b.op("MUL", [real, w_real], [scaled], fused_activation_function="NONE")
    b.op("CAST", [scaled], [ints], in_data_type="float32", out_data_type="int32")
    b.op("CAST", [ints], [y], in_data_type="int32", out_data_type="float32")
    graph = b.build([x], [y])
    inputs = inputs_for(graph, 6) * 3
    want = run_tflm(write_tflite(graph), graph, inputs)
    got = execute(graph, [inputs])[graph.outputs[0]].reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert np.abs(want).max() > 5  # the casts truncate values beyond the first few integers
