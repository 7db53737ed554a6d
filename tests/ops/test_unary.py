"""ABS, LEAKY_RELU, HARD_SWISH, ELU and RSQRT against tflite-micro: every int8 input at chosen
quantizations, generated models, each refusal, the emulated boards and the quantizer."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.lower import lower
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_reader import parse_tflite
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.quantize import CalibrationData, quantize
from tinygen.quantize.float_exec import execute

from ..bitexact import assert_bit_exact
from ..gen import activation_quant
from ..helpers import QEMU_BOARDS, verify_on_board
from ..quant_models import FloatBuilder, inputs_for, run_tflm

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True)
KINDS = ["ABS", "LEAKY_RELU", "HARD_SWISH", "ELU", "RSQRT"]
ALL_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 16, 16)


def _model(kind: str, cases, shape=ALL_INT8.shape):
    """One input -> op -> output branch per case ((input scale, zero point), (output scale, zero point),
    options), side by side in one model."""
    g = GraphBuilder()
    inputs, outputs = [], []
    for (in_scale, in_zero), (out_scale, out_zero), options in cases:
        x = g.tensor(shape, scale=in_scale, zero_point=in_zero)
        y = g.tensor(shape, scale=out_scale, zero_point=out_zero)
        g.op(kind, [x], [y], **options)
        inputs.append(x)
        outputs.append(y)
    return g.build(inputs, outputs)


# Each model is fed all 256 int8 values on every branch.
EVERY_INPUT = {
    "ABS": [
        ((0.1, 3), (0.1, -128), {}),  # equal scales: tflite-micro's path without a rescale
        ((0.02, -20), (0.05, -100), {}),
        ((0.3, 127), (0.001, 0), {}),  # saturates
        ((0.004, -128), (0.5, 100), {}),
    ],
    "LEAKY_RELU": [
        ((0.1, 3), (0.07, 10), {"alpha": 0.2}),
        ((0.02, -20), (0.05, -100), {"alpha": -1.5}),  # a negative alpha: the branch is negated
        ((0.02, 5), (0.05, 0), {}),  # no alpha: the schema's 0
        ((0.5, -100), (0.01, 60), {"alpha": 3.0}),
        ((0.01, 100), (0.02, -7), {"alpha": 1e-4}),
    ],
    "HARD_SWISH": [
        ((0.5, 0), (0.5 / 127, -20), {}),  # output multiplier exponent 0, the largest allowed
        ((0.01, 11), (0.01 * 500, 5), {}),  # output exponent -15, the smallest allowed
        ((100.0, -3), (60.0, -50), {}),  # relu-ish multiplier shifted left (by 14)
        ((0.05, 3), (0.04, -50), {}),
        ((0.004, -20), (0.005, -100), {}),  # relu-ish multiplier shifted right
        ((2.5e-7, 40), (2.5e-7, 0), {}),  # relu-ish exponent -15, the smallest allowed
    ],
    "ELU": [
        ((0.05, 3), (0.04, 50), {}),
        ((0.004, -20), (0.005, -100), {}),
        ((0.2, 100), (0.01, 127), {}),
        ((1e-3, -128), (0.3, -128), {}),
    ],
    "RSQRT": [
        ((0.05, -128), (0.04, -128), {}),
        ((0.004, -128), (0.5, -100), {}),
        ((1.0, -128), (3000.0, 3), {}),  # shift 31 to the right, the most allowed
        ((1e-6, -128), (1e-3, 0), {}),  # saturates
    ],
}


@pytest.mark.parametrize("kind", KINDS)
def test_every_input(kind):
    graph = _model(kind, EVERY_INPUT[kind])
    assert_bit_exact(graph, inputs=[[ALL_INT8] * len(graph.inputs)])


def _random_case(kind: str, rng: np.random.Generator):
    x = activation_quant(rng)
    if kind == "RSQRT":
        x["zero_point"] = -128
    y = activation_quant(rng)
    if kind == "HARD_SWISH":  # within the ratios tflite-micro accepts (see the refusals below)
        y["scale"] = x["scale"] * float(10 ** rng.uniform(-2, 2.5))
    options = {"alpha": float(rng.uniform(-2, 2))} if kind == "LEAKY_RELU" else {}
    return (x["scale"], x["zero_point"]), (y["scale"], y["zero_point"]), options


@SETTINGS
@given(seed=st.integers(0, 2**31), shape=st.lists(st.integers(1, 9), min_size=1, max_size=4).map(lambda s: (1, *s)))
def test_generated(seed, shape):
    # every op in each model, each on its own input with its own parameters
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    inputs, outputs = [], []
    for kind in KINDS:
        (in_scale, in_zero), (out_scale, out_zero), options = _random_case(kind, rng)
        inputs.append(g.tensor(shape, scale=in_scale, zero_point=in_zero))
        outputs.append(g.tensor(shape, scale=out_scale, zero_point=out_zero))
        g.op(kind, [inputs[-1]], [outputs[-1]], **options)
    assert_bit_exact(g.build(inputs, outputs))


def _refused(kind, input_quant, output_quant, match, options=None, shapes=((1, 8), (1, 8))):
    g = GraphBuilder()
    x = g.tensor(shapes[0], scale=input_quant[0], zero_point=input_quant[1])
    y = g.tensor(shapes[1], scale=output_quant[0], zero_point=output_quant[1])
    g.op(kind, [x], [y], **(options or {}))
    with pytest.raises(TinygenError, match=rf"op 0 \({kind}\): {match}"):
        lower(g.build([x], [y]))


def test_rsqrt_input_zero_point_other_than_minus_128_is_refused():
    # tflite-micro fails Invoke on every input below the zero point
    _refused("RSQRT", (0.05, -100), (0.05, 0), "input zero point is -100; it must be -128")


def test_rsqrt_output_scale_too_large_is_refused():
    # 1 / (2 * 5000) < 2^-12: tflite-micro's last rescale would shift right by 33
    _refused("RSQRT", (4.0, -128), (5000.0, 3), "output scale 5000.0 is too large")


def test_hard_swish_output_scale_too_small_is_refused():
    # input scale / 128 / output scale >= 1: tflite-micro's Prepare fails
    _refused("HARD_SWISH", (1.0, 0), (1 / 200, 0), "output scale .* is too small")


def test_hard_swish_output_scale_too_large_is_refused():
    # exponent -16: tflite-micro's int16 rounding shift returns +-1 for every value
    _refused("HARD_SWISH", (0.01, 0), (0.01 * 600, 5), "output scale .* is too large")


def test_hard_swish_input_scale_too_small_is_refused():
    _refused("HARD_SWISH", (1e-7, 0), (1e-7, 0), "input scale .* is too small")


def test_elu_table_overflowing_int32_is_refused():
    # 100 * 127 / 1e-6 does not fit int32: tflite-micro's conversion to int32 is undefined
    _refused("ELU", (100.0, 0), (1e-6, 0), "output scale .* is too small .* overflows int32")


def test_leaky_relu_alpha_too_large_is_refused():
    _refused("LEAKY_RELU", (1.0, 0), (1.0, 0), "rescaling by .*alpha.* overflows", options={"alpha": 1e10})


def test_shapes_must_match():
    shapes = ((1, 8), (1, 4, 2))
    _refused("ABS", (0.1, 0), (0.1, 0), r"input shape \(1, 8\) and output shape \(1, 4, 2\) differ", shapes=shapes)


@pytest.mark.parametrize("kind", ["NEG", "EXP", "LOG", "SQRT"])
def test_float_only_ops_have_no_int8_kernel(kind):
    # tflite-micro has float32 kernels only for these (docs/numerics/unary.md): tinygen compiles them
    # only inside a float island (tests/ops/test_islands.py), never as an int8 kernel of their own.
    _refused(kind, (0.1, 0), (0.1, 0), f"tflite-micro runs {kind} in float32 only")


def _chain() -> object:
    """LEAKY_RELU -> HARD_SWISH -> ELU -> ABS -> RSQRT on one small tensor."""
    g = GraphBuilder()
    quants = [(0.05, 0), (0.04, -20), (0.03, -60), (0.03, -30), (0.02, -128), (0.1, -128)]
    tensors = [g.tensor((1, 3, 5, 4), scale=s, zero_point=z) for s, z in quants]
    for kind, a, b, options in zip(
        ["LEAKY_RELU", "HARD_SWISH", "ELU", "ABS", "RSQRT"], tensors, tensors[1:], [{"alpha": 0.3}, {}, {}, {}, {}]
    ):
        g.op(kind, [a], [b], **options)
    return g.build([tensors[0]], [tensors[-1]])


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_on_board(qemu_ready, board_id, tmp_path):
    assert verify_on_board(_chain(), board_id, tmp_path).bit_exact


def test_quantized_float_graph():
    b = FloatBuilder(4)
    x, h1, h2, h3, h4, h5, y = (b.act(1, 4, 4, 3) for _ in range(7))
    b.op("LEAKY_RELU", [x], [h1], alpha=0.2)
    b.op("HARD_SWISH", [h1], [h2])
    b.op("ELU", [h2], [h3])
    b.op("ABS", [h3], [h4])
    # RSQRT reads 1 + |x|: positive, so its input's range starts at 0 (zero point -128)
    b.op("ADD", [h4, b.const(np.ones((1, 1, 1, 3), np.float32), "float32")], [h5], fused_activation_function="NONE")
    b.op("RSQRT", [h5], [y])
    graph = parse_tflite(write_tflite(b.build([x], [y])))

    samples = inputs_for(graph, 6)
    want = run_tflm(write_tflite(graph), graph, samples)
    got = execute(graph, [samples])[graph.outputs[0]].reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    result = quantize(graph, CalibrationData(inputs_for(graph, 32)))
    assert {op.kind for op in result.graph.ops} >= {"LEAKY_RELU", "HARD_SWISH", "ELU", "ABS", "RSQRT"}
    assert_bit_exact(result.graph)
