"""ADD and MUL, with broadcasting, against tflite-micro on generated models."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.lower import lower
from tinygen.errors import TinygenError

from ..bitexact import assert_bit_exact
from ..gen import activation, activation_quant

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)


def _io_shape_ok(shape) -> bool:
    # Model inputs have batch 1 and at most 6 dimensions (TG_MAX_DIMS).
    return len(shape) <= 6 and (len(shape) < 2 or shape[0] == 1)


def feed(g: GraphBuilder, shape, quant: dict) -> tuple[int, int]:
    """(model input, tensor of `shape`); a shape a model input cannot have arrives through a RESHAPE."""
    if _io_shape_ok(shape):
        t = g.tensor(shape, **quant)
        return t, t
    flat = g.tensor((1, int(np.prod(shape))), **quant)
    t = g.tensor(shape, **quant)
    g.op("RESHAPE", [flat], [t])
    return flat, t


def drain(g: GraphBuilder, t: int, quant: dict) -> int:
    """A model output holding tensor t (flattened by a RESHAPE when t's shape cannot be an output)."""
    shape = g.tensors[t].shape
    if _io_shape_ok(shape):
        return t
    flat = g.tensor((1, int(np.prod(shape))), **quant)
    g.op("RESHAPE", [t], [flat])
    return flat


def _binary_model(kind, seed, out_shape, shape1, shape2, const2=False):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    q1, q2, qo = activation_quant(rng), activation_quant(rng), activation_quant(rng)
    in1, a = feed(g, shape1, q1)
    inputs = [in1]
    if const2:
        b = g.const(rng.integers(-128, 128, shape2), "int8", **q2)
    else:
        in2, b = feed(g, shape2, q2)
        inputs.append(in2)
    y = g.tensor(out_shape, **qo)
    g.op(kind, [a, b], [y], fused_activation_function=activation(rng))
    return g.build(inputs, [drain(g, y, qo)])


@st.composite
def broadcast_shapes(draw, max_rank=6):
    """An output shape and two input shapes that broadcast to it: each input keeps or drops
    (to 1) every dimension and may omit leading ones."""
    rank = draw(st.integers(1, max_rank))
    out = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    shapes = []
    for _ in range(2):
        kept = draw(st.lists(st.booleans(), min_size=rank, max_size=rank))
        shape = [d if k else 1 for d, k in zip(out, kept)]
        shapes.append(tuple(shape[draw(st.integers(0, rank - 1)) :]))
    return tuple(np.broadcast_shapes(*shapes)), shapes[0], shapes[1]


@SETTINGS
@given(
    kind=st.sampled_from(["ADD", "MUL"]), seed=st.integers(0, 2**31), shapes=broadcast_shapes(), const2=st.booleans()
)
def test_broadcast(kind, seed, shapes, const2):
    out_shape, shape1, shape2 = shapes
    assert_bit_exact(_binary_model(kind, seed, out_shape, shape1, shape2, const2))


@pytest.mark.parametrize("kind", ["ADD", "MUL"])
def test_same_shape(kind):
    assert_bit_exact(_binary_model(kind, 5, (1, 4, 5, 6), (1, 4, 5, 6), (1, 4, 5, 6)))


@pytest.mark.parametrize("kind", ["ADD", "MUL"])
def test_rank7_alternating_broadcast(kind):
    # The highest rank tflite-micro broadcasts correctly, with nothing to merge.
    assert_bit_exact(_binary_model(kind, 9, (2,) * 7, (1, 2, 1, 2, 1, 2, 1), (2, 1, 2, 1, 2, 1, 2)))


def test_rank8_broadcast_rejected():
    graph = _binary_model("ADD", 1, (2,) * 8, (1,) * 7 + (2,), (2,) * 8)
    with pytest.raises(TinygenError, match=r"op \d+ \(ADD\): broadcasting at rank 8"):
        lower(graph)


def test_add_output_scale_too_small_rejected():
    g = GraphBuilder()
    a, b = g.tensor((1, 4), scale=1.0, zero_point=0), g.tensor((1, 4), scale=1.0, zero_point=0)
    y = g.tensor((1, 4), scale=1e-7, zero_point=0)
    g.op("ADD", [a, b], [y], fused_activation_function="NONE")
    with pytest.raises(TinygenError, match=r"op 0 \(ADD\): output scale .* too small"):
        lower(g.build([a, b], [y]))
