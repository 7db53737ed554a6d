"""BATCH_MATMUL against tflite-micro on generated models."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.lower import lower
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.quantize import CalibrationData, quantize
from tinygen.quantize.float_exec import execute

from ..bitexact import assert_bit_exact
from ..helpers import QEMU_BOARDS, verify_on_board
from ..quant_models import FloatBuilder, inputs_for, run_tflm
from .test_elementwise import drain, feed

SETTINGS = settings(max_examples=10, deadline=None, derandomize=True)


def _quant(rng, dtype: str) -> dict:
    """Per-tensor parameters; int16 is symmetric. The dtype rides along for feed() and drain()."""
    if dtype == "int16":
        return {"dtype": "int16", "scale": float(10 ** rng.uniform(-4, -2)), "zero_point": 0}
    return {"dtype": "int8", "scale": float(10 ** rng.uniform(-3, 0)), "zero_point": int(rng.integers(-128, 128))}


def _output_quant(rng, dtype: str, ql: dict, qr: dict, depth: int) -> dict:
    """An output grid that holds most sums of `depth` products of uniform random operands: their mean
    at the zero point, their standard deviation over about a sixth of the range (a third to 3 times)."""
    info = np.iinfo(dtype)
    variance = (info.max - info.min + 1) ** 2 / 12
    mean_l, mean_r = -0.5 - ql["zero_point"], -0.5 - qr["zero_point"]
    std = np.sqrt(depth * variance * (variance + mean_l**2 + mean_r**2))
    step = std / ((info.max - info.min) / 6) * 10 ** rng.uniform(-0.5, 0.5)
    zero_point = 0 if dtype == "int16" else int(np.clip(round(-depth * mean_l * mean_r / step), info.min, info.max))
    return {"dtype": dtype, "scale": float(ql["scale"] * qr["scale"] * step), "zero_point": zero_point}


def _stored(shape, transposed: bool):
    return (*shape[:-2], shape[-1], shape[-2]) if transposed else tuple(shape)


def matmul_model(lhs_shape, rhs_shape, adj_x=False, adj_y=False, constant="none", dtype="int8", seed=0, **overrides):
    """lhs [.., rows, depth] x rhs [.., depth, cols], each stored transposed where adj_x / adj_y say;
    constant: "none", "lhs" or "rhs". The output scale keeps typical sums inside the output's range."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    ql, qr = overrides.get("lhs_quant", _quant(rng, dtype)), overrides.get("rhs_quant", _quant(rng, dtype))
    qo = overrides.get("out_quant") or _output_quant(rng, dtype, ql, qr, lhs_shape[-1])
    info = np.iinfo(dtype)
    inputs = []

    def operand(name, shape, transposed, quant):
        shape = _stored(shape, transposed)
        if constant == name:
            return g.const(rng.integers(info.min, info.max, shape, endpoint=True), **quant)
        model_input, t = feed(g, shape, quant)
        inputs.append(model_input)
        return t

    lhs = operand("lhs", lhs_shape, adj_x, ql)
    rhs = operand("rhs", rhs_shape, adj_y, qr)
    out_shape = overrides.get("out_shape")
    if out_shape is None:
        out_shape = (*np.broadcast_shapes(lhs_shape[:-2], rhs_shape[:-2]), lhs_shape[-2], rhs_shape[-1])
    y = g.tensor(out_shape, **qo)
    g.op("BATCH_MATMUL", [lhs, rhs], [y], adj_x=adj_x, adj_y=adj_y)
    return g.build(inputs, [drain(g, y, qo)])


@st.composite
def operand_shapes(draw, max_batch_rank=3):
    """lhs [.., rows, depth] and rhs [.., depth, cols] whose batch dimensions broadcast: each keeps
    or drops (to 1) every batch dimension of the output and may omit leading ones."""
    batch_rank = draw(st.integers(0, max_batch_rank))
    batch = draw(st.lists(st.integers(1, 3), min_size=batch_rank, max_size=batch_rank))
    rows, depth, cols = draw(st.integers(1, 6)), draw(st.integers(1, 12)), draw(st.integers(1, 6))
    shapes = []
    for matrix in ((rows, depth), (depth, cols)):
        kept = draw(st.lists(st.booleans(), min_size=batch_rank, max_size=batch_rank))
        dims = [d if k else 1 for d, k in zip(batch, kept)]
        shapes.append((*dims[draw(st.integers(0, batch_rank)) :], *matrix))
    return shapes


@SETTINGS
@given(
    shapes=operand_shapes(),
    adj_x=st.booleans(),
    adj_y=st.booleans(),
    constant=st.sampled_from(["none", "lhs", "rhs"]),
    seed=st.integers(0, 2**31),
)
def test_int8(shapes, adj_x, adj_y, constant, seed):
    lhs_shape, rhs_shape = shapes
    assert_bit_exact(matmul_model(lhs_shape, rhs_shape, adj_x, adj_y, constant, seed=seed), samples=6)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(
    shapes=operand_shapes(max_batch_rank=2),
    adj_x=st.booleans(),
    adj_y=st.booleans(),
    constant=st.sampled_from(["none", "rhs"]),
    seed=st.integers(0, 2**31),
)
def test_int16(shapes, adj_x, adj_y, constant, seed):
    lhs_shape, rhs_shape = shapes
    assert_bit_exact(matmul_model(lhs_shape, rhs_shape, adj_x, adj_y, constant, "int16", seed), samples=6)


@pytest.mark.parametrize(
    "scales, total",
    [
        ((0.12620843946933746, 0.0014869787264615297, 0.535370945930481), 1943),  # 86.4998: 86, not 87
        ((0.027485238388180733, 0.0031362457666546106, 0.010161424055695534), 71),  # 76.4922: 77, not 76
    ],
)
def test_scales_multiply_in_double(scales, total):
    # tflite-micro's source multiplies lhs scale and rhs scale in float32, but the interpreter
    # computes the multiplier as from their double product: these sums (127 x total) round
    # differently with the multiplier from the float32 product.
    g = GraphBuilder()
    x = g.tensor((1, 1, 16), scale=scales[0], zero_point=0)
    w = g.const(np.full((16, 1), 127), "int8", scale=scales[1], zero_point=0)
    y = g.tensor((1, 1, 1), scale=scales[2], zero_point=0)
    g.op("BATCH_MATMUL", [x, w], [y], adj_x=False, adj_y=False)
    full, rest = divmod(total, 127)
    lhs = np.array([127] * full + [rest] + [0] * (15 - full), np.int8).reshape(1, 1, 16)
    assert_bit_exact(g.build([x], [y]), inputs=[[lhs]])


def _refused(match, *args, **kwargs):
    with pytest.raises(TinygenError, match=r"op \d+ \(BATCH_MATMUL\).*" + match):
        lower(matmul_model(*args, **kwargs))


@pytest.mark.parametrize("lhs_shape", [(4,), (1, 1, 1, 1, 2, 4)], ids=["rank1", "rank6"])
def test_rank_out_of_range_refused(lhs_shape):
    g = GraphBuilder()
    lhs, rhs, y = (g.tensor(shape, scale=0.1) for shape in (lhs_shape, (4, 3), (*lhs_shape[:-1], 3)))
    g.op("BATCH_MATMUL", [lhs, rhs], [y], adj_x=False, adj_y=False)
    with pytest.raises(TinygenError, match=r"op 0 \(BATCH_MATMUL\): tensor t0 has rank \d; 2 to 5 work"):
        lower(g.build([lhs, rhs], [y]))


def test_depth_mismatch_refused():
    _refused(r"differ in depth: 4 vs 5", (2, 4), (5, 3), out_shape=(2, 3))


def test_batch_not_broadcasting_refused():
    _refused(
        r"batch dimensions of \(1, 2, 2, 4\) and \(1, 3, 4, 3\) do not broadcast",
        (1, 2, 2, 4),
        (1, 3, 4, 3),
        out_shape=(1, 2, 2, 3),
    )


def test_output_shape_refused():
    _refused(r"output shape \(1, 3, 2\) is not \(1, 2, 3\)", (1, 2, 4), (1, 4, 3), out_shape=(1, 3, 2))


def test_int16_zero_point_refused():
    _refused(
        r"must have zero point 0",
        (2, 4),
        (4, 3),
        dtype="int16",
        rhs_quant={"dtype": "int16", "scale": 0.01, "zero_point": 3},
    )


def test_mixed_types_refused():
    _refused(
        r"is int8; both inputs and the output must be int16",
        (2, 4),
        (4, 3),
        dtype="int16",
        rhs_quant={"dtype": "int8", "scale": 0.01, "zero_point": 3},
    )


def test_per_channel_refused():
    _refused(
        r"needs per-tensor quantization",
        (2, 4),
        (4, 3),
        constant="rhs",
        rhs_quant={"dtype": "int8", "scale": [0.1, 0.2, 0.3], "zero_point": 0, "axis": 1},
        out_quant={"scale": 0.5, "zero_point": 0},
    )


def test_float_refused():
    float32 = {"dtype": "float32"}
    _refused(
        r"works on float32 tensors; .*quantize it first",
        (2, 4),
        (4, 3),
        lhs_quant=float32,
        rhs_quant=float32,
        out_quant=float32,
    )


def test_output_scale_too_small_refused():
    _refused(r"rescaling by .* overflows", (2, 4), (4, 3), out_quant={"scale": 1e-16, "zero_point": 0})


def test_int16_large_rescale():
    # An exponent of 8 to 14 (rescaling by 128 to 2^14): above what the source asserts, computed exactly.
    rng = np.random.default_rng(4)
    g = GraphBuilder()
    x = g.tensor((1, 3, 4), "int16", scale=0.01, zero_point=0)
    w = g.const(rng.integers(-2, 3, (4, 5)), "int16", scale=0.01, zero_point=0)
    y = g.tensor((1, 3, 5), "int16", scale=1e-4 / 1999, zero_point=0)  # |sum| <= 16: fits
    g.op("BATCH_MATMUL", [x, w], [y], adj_x=False, adj_y=False)
    samples = [[rng.integers(-2, 3, (1, 3, 4)).astype(np.int16)] for _ in range(4)]
    assert_bit_exact(g.build([x], [y]), inputs=samples)


def test_int16_rescale_too_large_refused():
    int16 = {"dtype": "int16", "scale": 0.01, "zero_point": 0}
    _refused(
        r"int16 rescaling by .* is 2\^14 or more",
        (2, 4),
        (4, 3),
        dtype="int16",
        lhs_quant=int16,
        rhs_quant=int16,
        out_quant={**int16, "scale": 1e-9},
    )


def float_matmuls(seed: int = 0):
    """x @ W (constant), then h @ h^T (adj_y) and that product^T @ h (adj_x: a strided read)."""
    b = FloatBuilder(seed)
    x, h1, h2, y = b.act(1, 4, 6), b.act(1, 4, 5), b.act(1, 4, 4), b.act(1, 4, 5)
    b.op("BATCH_MATMUL", [x, b.weights(6, 5, std=0.5)], [h1], adj_x=False, adj_y=False)
    b.op("BATCH_MATMUL", [h1, h1], [h2], adj_x=False, adj_y=True)
    b.op("BATCH_MATMUL", [h2, h1], [y], adj_x=True, adj_y=False)
    return b.build([x], [y])


def test_quantized_matmuls_are_bit_exact_and_the_float_executor_agrees():
    graph = float_matmuls()
    x = inputs_for(graph, 32)
    want = run_tflm(write_tflite(graph), graph, x)
    got = execute(graph, [x])[graph.outputs[0]]
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-5, atol=1e-6)
    result = quantize(graph, CalibrationData(x))
    assert_bit_exact(result.graph)


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_on_board(qemu_ready, board_id, tmp_path):
    # x @ w (a constant rhs: contiguous depth, the dot-product path, DSP on M4/M7/M33), h @ h^T
    # (adj_y: contiguous too), then square @ h (an untransposed activation rhs: the strided path).
    rng = np.random.default_rng(3)
    g = GraphBuilder()
    x = g.tensor((1, 3, 9), scale=0.05, zero_point=4)
    h = g.tensor((1, 3, 5), scale=0.4, zero_point=-3)
    square = g.tensor((1, 3, 3), scale=14, zero_point=0)
    y = g.tensor((1, 3, 5), scale=400, zero_point=7)
    w = g.const(rng.integers(-128, 128, (9, 5)), "int8", scale=0.02, zero_point=-6)
    g.op("BATCH_MATMUL", [x, w], [h], adj_x=False, adj_y=False)
    g.op("BATCH_MATMUL", [h, h], [square], adj_x=False, adj_y=True)
    g.op("BATCH_MATMUL", [square, h], [y], adj_x=False, adj_y=False)
    assert verify_on_board(g.build([x], [y]), board_id, tmp_path).bit_exact
