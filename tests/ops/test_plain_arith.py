"""ADD, MUL, DIV, MINIMUM and MAXIMUM on plain numbers against tflite-micro: int32 ADD and MUL
(wrapping, MUL's fused activation, ADD ignoring it as tflite-micro does) and every float32 form,
with broadcasting, on values that reach the edges (overflow to infinity, NaN, -0.0, subnormals)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.lower import lower
from tinygen.errors import TinygenError

from ..bitexact import assert_bit_exact

SETTINGS = settings(max_examples=10, deadline=None, derandomize=True)
ACTIVATIONS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]
EDGES = np.array(
    [0.0, -0.0, 1.0, -1.0, 0.5, 6.0, 6.5, -6.5, 3.4e38, -3.4e38, 1e-45, -1e-45, 1.2e-38, np.inf, -np.inf, np.nan],
    np.float32,
)

# Output shapes and the input shapes broadcast to them, up to rank 4.
broadcasts = st.sampled_from(
    [
        ((1, 12), (1, 12), (1, 12)),
        ((1, 3, 4), (4,), (1, 3, 4)),
        ((1, 3, 1), (1, 1, 5), (1, 3, 5)),
        ((1, 2, 3, 4), (1, 2, 1, 4), (1, 2, 3, 4)),
        ((40,), (), (40,)),
    ]
)


def floats(rng, shape) -> np.ndarray:
    size = int(np.prod(shape))
    values = (np.sign(rng.standard_normal(size)) * 10 ** rng.uniform(-40, 38, size)).astype(np.float32)
    return np.where(rng.random(size) < 0.3, EDGES[rng.integers(0, EDGES.size, size)], values).reshape(shape)


def int32s(rng, shape) -> np.ndarray:
    wide = rng.integers(-(2**31), 2**31, shape, dtype=np.int64)
    return np.where(rng.random(shape) < 0.5, rng.integers(-50, 50, shape), wide).astype(np.int32)


def model(kind: str, dtype: str, shapes, activation: str | None):
    g = GraphBuilder()
    a, b = (g.tensor(shape, dtype) for shape in shapes[:2])
    y = g.tensor(shapes[2], dtype)
    options = {} if activation is None else {"fused_activation_function": activation}
    g.op(kind, [a, b], [y], **options)
    return g.build([a, b], [y])


@pytest.mark.filterwarnings("ignore:invalid value encountered in subtract")  # inf - inf in the max difference
@SETTINGS
@given(
    kind=st.sampled_from(["ADD", "MUL", "DIV", "MINIMUM", "MAXIMUM"]),
    shapes=broadcasts,
    activation=st.sampled_from(ACTIVATIONS),
    seed=st.integers(0, 2**31),
)
def test_float32(kind, shapes, activation, seed):
    rng = np.random.default_rng(seed)
    graph = model(kind, "float32", shapes, None if kind in ("MINIMUM", "MAXIMUM") else activation)
    assert_bit_exact(graph, inputs=[[floats(rng, shapes[0]), floats(rng, shapes[1])] for _ in range(4)])


@SETTINGS
@given(
    kind=st.sampled_from(["ADD", "MUL"]),
    shapes=broadcasts,
    activation=st.sampled_from(ACTIVATIONS),
    seed=st.integers(0, 2**31),
)
def test_int32(kind, shapes, activation, seed):
    rng = np.random.default_rng(seed)
    graph = model(kind, "int32", shapes, activation)
    assert_bit_exact(graph, inputs=[[int32s(rng, shapes[0]), int32s(rng, shapes[1])] for _ in range(4)])


def test_a_float_activation_tinygen_does_not_know_is_refused():
    graph = model("MUL", "float32", ((1, 4), (1, 4), (1, 4)), "TANH")
    with pytest.raises(TinygenError, match=r"op 0 \(MUL\): fused activation TANH is not supported"):
        lower(graph)


def test_mixed_types_are_refused():
    g = GraphBuilder()
    a, b, y = g.tensor((4,), "float32"), g.tensor((4,), "int32"), g.tensor((4,), "float32")
    g.op("ADD", [a, b], [y], fused_activation_function="NONE")
    with pytest.raises(TinygenError, match=r"op 0 \(ADD\): inputs of float32 and int32"):
        lower(g.build([a, b], [y]))
