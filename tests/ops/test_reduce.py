"""REDUCE_MAX, REDUCE_MIN, SUM, ARG_MAX, ARG_MIN and L2_NORMALIZATION against tflite-micro."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.inplace import apply_in_place
from tinygen.compiler.lower import lower
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.quantize import CalibrationData, quantize
from tinygen.quantize.float_exec import execute

from ..bitexact import assert_bit_exact
from ..gen import activation_quant
from ..helpers import QEMU_BOARDS, verify_on_board
from ..quant_models import FloatBuilder, inputs_for, run_tflm

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True)
L2_OUTPUT = {"scale": 1 / 128, "zero_point": 0}


def _reduced_shape(shape, axes, keep_dims: bool) -> tuple[int, ...]:
    reduced = {a % len(shape) for a in axes}
    if keep_dims:
        return tuple(1 if i in reduced else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in reduced)


def _reduce_model(kind, shape, axes, keep_dims, in_quant, out_quant, out_shape=None):
    g = GraphBuilder()
    x = g.tensor(shape, **in_quant)
    y = g.tensor(out_shape or _reduced_shape(shape, axes, keep_dims), **out_quant)
    g.op(kind, [x, g.const(np.array(axes, dtype=np.int32), "int32")], [y], keep_dims=keep_dims)
    return g.build([x], [y])


def _arg_model(kind, shape, axis, dtype="int8", out_dtype="int32"):
    g = GraphBuilder()
    x = g.tensor(shape, dtype, **({"scale": 0.05, "zero_point": -3} if dtype == "int8" else {}))
    y = g.tensor(_reduced_shape(shape, [axis], False), out_dtype)
    g.op(kind, [x, g.const(np.array([axis], dtype=np.int32), "int32")], [y], output_type=out_dtype)
    return g.build([x], [y])


def _l2_model(shape, in_quant, out_quant=L2_OUTPUT, activation="NONE"):
    g = GraphBuilder()
    x, y = g.tensor(shape, **in_quant), g.tensor(shape, **out_quant)
    g.op("L2_NORMALIZATION", [x], [y], fused_activation_function=activation)
    return g.build([x], [y])


@st.composite
def shapes_and_axes(draw, max_rank=5):
    """A batch-1 shape and a non-empty list of its axes, some negative, maybe one repeated."""
    rank = draw(st.integers(1, max_rank))
    shape = (1, *draw(st.lists(st.integers(1, 6), min_size=rank - 1, max_size=rank - 1)))
    chosen = draw(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True))
    axes = [a - rank if draw(st.booleans()) else a for a in chosen]
    if draw(st.booleans()):
        axes.append(axes[0])
    return shape, axes


@SETTINGS
@given(kind=st.sampled_from(["REDUCE_MAX", "REDUCE_MIN"]), seed=st.integers(0, 2**31), case=shapes_and_axes())
def test_max_min(kind, seed, case):
    shape, axes = case
    rng = np.random.default_rng(seed)
    quant = activation_quant(rng)
    assert_bit_exact(_reduce_model(kind, shape, axes, bool(rng.integers(2)), quant, quant))


@SETTINGS
@given(seed=st.integers(0, 2**31), case=shapes_and_axes(), keep_dims=st.booleans())
def test_sum(seed, case, keep_dims):
    shape, axes = case
    rng = np.random.default_rng(seed)
    in_quant = activation_quant(rng)
    count = int(np.prod([shape[a] for a in {a % len(shape) for a in axes}]))
    # Around the scale a sum of `count` values needs, over two decades (so some outputs saturate)
    out_scale = in_quant["scale"] * np.sqrt(count) * 10 ** rng.uniform(-1, 1)
    out_quant = {"scale": float(out_scale), "zero_point": int(rng.integers(-128, 128))}
    assert_bit_exact(_reduce_model("SUM", shape, axes, keep_dims, in_quant, out_quant))


def test_sum_with_a_scale_ratio_above_one():
    # The multiplier's shift is positive: the sums are shifted left before the high multiply.
    quant = {"scale": 0.5, "zero_point": -7}
    assert_bit_exact(_reduce_model("SUM", (1, 3, 8), [1], False, quant, {"scale": 0.03, "zero_point": 20}))


@SETTINGS
@given(
    kind=st.sampled_from(["ARG_MAX", "ARG_MIN"]),
    dtype=st.sampled_from(["int8", "float32"]),
    case=shapes_and_axes(),
)
def test_arg_min_max(kind, dtype, case):
    shape, axes = case
    assert_bit_exact(_arg_model(kind, shape, axes[0], dtype))


@pytest.mark.parametrize("kind", ["ARG_MAX", "ARG_MIN"])
def test_arg_ties_go_to_the_first_index(kind):
    graph = _arg_model(kind, (1, 5, 6), 1)
    rng = np.random.default_rng(3)
    # Each column holds few distinct values, so most extremes appear more than once.
    samples = [[rng.choice(np.array([-128, 0, 127], np.int8), (1, 5, 6))] for _ in range(6)]
    samples.append([np.full((1, 5, 6), 9, np.int8)])
    assert_bit_exact(graph, inputs=samples)


@SETTINGS
@given(
    seed=st.integers(0, 2**31),
    shape=st.lists(st.integers(1, 12), min_size=0, max_size=3).map(lambda dims: (1, *dims)),
)
def test_l2_normalization(seed, shape):
    assert_bit_exact(_l2_model(shape, activation_quant(np.random.default_rng(seed))))


def test_l2_normalization_small_and_large_sums():
    """Rows at the zero point (a sum of 0, counted as 1), sums of 1 and 2, and rows whose sum of
    squares reaches 2^29 and more (the inverse square root divides them by 4 first)."""
    quant = {"scale": 0.1, "zero_point": -128}
    small = np.full((1, 4, 3), -128, np.int8)
    small[0, 1, 0] = -127
    small[0, 2, :2] = -127
    small[0, 3, 2] = -126
    assert_bit_exact(_l2_model((1, 4, 3), quant), inputs=[[small]])
    depth = 12000  # 12000 * 255^2 is above 2^29 and below 2^31
    wide = [[np.full((1, depth), 127, np.int8)], [np.random.default_rng(0).integers(-128, 128, (1, depth), np.int8)]]
    assert_bit_exact(_l2_model((1, depth), quant), inputs=wide)


def test_l2_normalization_in_place():
    # The second op writes its output over the first one's, which dies there.
    g = GraphBuilder()
    x, h, y = (
        g.tensor((1, 3, 7), scale=0.2, zero_point=5),
        g.tensor((1, 3, 7), **L2_OUTPUT),
        g.tensor((1, 3, 7), **L2_OUTPUT),
    )
    g.op("L2_NORMALIZATION", [x], [h], fused_activation_function="NONE")
    g.op("L2_NORMALIZATION", [h], [y], fused_activation_function="NONE")
    graph = g.build([x], [y])
    assert apply_in_place(lower(graph)).layers[1].in_place
    assert_bit_exact(graph)


@pytest.mark.parametrize(
    "graph, message",
    [
        (
            _reduce_model("REDUCE_MAX", (1, 4), [1], False, {"scale": 0.1, "zero_point": 0}, L2_OUTPUT),
            r"op 0 \(REDUCE_MAX\): output quantization .* must equal the input's",
        ),
        (
            _reduce_model("REDUCE_MIN", (1, 4, 2), [3], False, L2_OUTPUT, L2_OUTPUT, out_shape=(1, 4)),
            r"op 0 \(REDUCE_MIN\): axes \[3\] are out of range for a rank-3 input",
        ),
        (
            _reduce_model("SUM", (1, 4, 2), [1], True, L2_OUTPUT, L2_OUTPUT, out_shape=(1, 2)),
            r"op 0 \(SUM\): output shape \(1, 2\) should be \(1, 1, 2\)",
        ),
        (
            _reduce_model("SUM", (1, 2, 2, 2, 2, 2), [1, 3, 5], True, L2_OUTPUT, L2_OUTPUT),
            r"op 0 \(SUM\): reducing axes \[1, 3, 5\] .* at most two contiguous runs",
        ),
        (
            _reduce_model("SUM", (1, 4096, 4096), [1, 2], False, L2_OUTPUT, L2_OUTPUT),
            r"op 0 \(SUM\): the sum is over 16777216 elements; at most 8388608",
        ),
        (
            _reduce_model("SUM", (1, 4), [1], False, {"scale": 1.0, "zero_point": 0}, {"scale": 1e-9, "zero_point": 0}),
            r"op 0 \(SUM\): rescaling by .* overflows the int32 arithmetic",
        ),
        (
            _arg_model("ARG_MAX", (1, 3, 4), 2, out_dtype="int64"),
            r"op 0 \(ARG_MAX\): output .* is int64; tflite-micro writes int32 indices only",
        ),
        (
            _arg_model("ARG_MIN", (1, 3, 4), -4),
            r"op 0 \(ARG_MIN\): axis -4 is out of range for a rank-3 input",
        ),
        (
            _arg_model("ARG_MIN", (1, 3, 4), 1, dtype="int16"),
            r"op 0 \(ARG_MIN\): input .* is int16; int8 and float32 are supported",
        ),
        (
            _l2_model((1, 4), {"scale": 0.1, "zero_point": 0}, {"scale": 0.05, "zero_point": 0}),
            r"op 0 \(L2_NORMALIZATION\): output quantization must be scale 1/128, zero point 0",
        ),
        (
            _l2_model((1, 4), {"scale": 0.1, "zero_point": 0}, activation="RELU"),
            r"op 0 \(L2_NORMALIZATION\): fused activation RELU is not supported",
        ),
        (
            _l2_model((1, 2, 2, 2, 2), {"scale": 0.1, "zero_point": 0}),
            r"op 0 \(L2_NORMALIZATION\): input rank 5 is not between 1 and 4",
        ),
        (
            _l2_model((1, 40000), {"scale": 0.1, "zero_point": -128}),
            r"op 0 \(L2_NORMALIZATION\): rows of 40000 elements overflow the int32 sum of squares",
        ),
    ],
)
def test_refusals(graph, message):
    with pytest.raises(TinygenError, match=message):
        lower(graph)


def test_axes_must_be_constant():
    g = GraphBuilder()
    x, axes = g.tensor((1, 4), **L2_OUTPUT), g.tensor((1,), "int32")
    y = g.tensor((1,), **L2_OUTPUT)
    g.op("REDUCE_MAX", [x, axes], [y], keep_dims=False)
    with pytest.raises(TinygenError, match=r"op 0 \(REDUCE_MAX\): the axes must be a constant int32 tensor"):
        lower(g.build([x, axes], [y]))


def test_float_reduction_asks_for_quantization():
    g = GraphBuilder()
    x, y = g.tensor((1, 4), "float32"), g.tensor((1,), "float32")
    g.op("SUM", [x, g.const(np.array([1], np.int32), "int32")], [y], keep_dims=False)
    with pytest.raises(TinygenError, match=r"op 0 \(SUM\) works on float32 tensors; .* quantize it first"):
        lower(g.build([x], [y]))


def test_arg_takes_one_axis():
    g = GraphBuilder()
    x, y = g.tensor((1, 3, 4), **L2_OUTPUT), g.tensor((1, 3), "int32")
    g.op("ARG_MAX", [x, g.const(np.array([1, 2], dtype=np.int32), "int32")], [y], output_type="int32")
    with pytest.raises(TinygenError, match=r"op 0 \(ARG_MAX\): the axis must be a constant int32 tensor of one"):
        lower(g.build([x], [y]))


def _combined_model():
    """L2_NORMALIZATION -> REDUCE_MAX -> REDUCE_MIN, and SUM -> ARG_MAX, on one input."""
    g = GraphBuilder()
    x = g.tensor((1, 4, 5, 8), scale=0.04, zero_point=-9)
    normalized = g.tensor((1, 4, 5, 8), **L2_OUTPUT)
    g.op("L2_NORMALIZATION", [x], [normalized], fused_activation_function="NONE")
    peak, low = g.tensor((1, 4, 8), **L2_OUTPUT), g.tensor((1, 4, 1), **L2_OUTPUT)
    g.op("REDUCE_MAX", [normalized, g.const(np.array([2], np.int32), "int32")], [peak], keep_dims=False)
    g.op("REDUCE_MIN", [peak, g.const(np.array([-1], np.int32), "int32")], [low], keep_dims=True)
    total, index = g.tensor((1, 8), scale=0.05, zero_point=4), g.tensor((1,), "int32")
    g.op("SUM", [normalized, g.const(np.array([1, 2], np.int32), "int32")], [total], keep_dims=False)
    g.op("ARG_MAX", [total, g.const(np.array([1], np.int32), "int32")], [index], output_type="int32")
    return g.build([x], [low, index])


def test_combined_model_on_the_host():
    assert_bit_exact(_combined_model())


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_combined_model_on_board(qemu_ready, board_id, tmp_path):
    result = verify_on_board(_combined_model(), board_id, tmp_path)
    assert result.bit_exact, result.summary()


def _float_graph():
    """L2_NORMALIZATION -> REDUCE_MAX over H, REDUCE_MIN over W, SUM over C (float32)."""
    b = FloatBuilder(4)
    x, normalized, peak, low, y = b.act(1, 5, 6, 4), b.act(1, 5, 6, 4), b.act(1, 6, 4), b.act(1, 4), b.act(1, 1)
    b.op("L2_NORMALIZATION", [x], [normalized], fused_activation_function="NONE")
    b.op("REDUCE_MAX", [normalized, b.ints([1])], [peak], keep_dims=False)
    b.op("REDUCE_MIN", [peak, b.ints([-2])], [low], keep_dims=False)
    b.op("SUM", [low, b.ints([1])], [y], keep_dims=True)
    return b.build([x], [y])


def test_quantized_float_graph():
    graph = _float_graph()
    result = quantize(graph, CalibrationData(inputs_for(graph, 32)))
    assert_bit_exact(result.graph)
    x = inputs_for(graph, 6, seed=1)
    want = run_tflm(write_tflite(graph), graph, x)
    got = execute(graph, [x])[graph.outputs[0]].reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("kind", ["ARG_MAX", "ARG_MIN"])
def test_float_arg_reference_matches_tflite_micro(kind):
    graph = _arg_model(kind, (1, 3, 7), -1, dtype="float32")
    x = inputs_for(graph, 6, seed=2)
    want = run_tflm(write_tflite(graph), graph, x)
    np.testing.assert_array_equal(execute(graph, [x])[graph.outputs[0]].reshape(want.shape), want)
