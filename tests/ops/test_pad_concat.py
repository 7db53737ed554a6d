"""PAD, PADV2 and CONCATENATION (pure copies) against tflite-micro, on generated models."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.lower import lower
from tinygen.errors import TinygenError

from ..bitexact import assert_bit_exact
from ..gen import activation_quant
from .test_elementwise import drain, feed

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)


def _shape(draw, rank: int) -> tuple[int, ...]:
    return tuple(draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank)))


@st.composite
def pad_cases(draw):
    rank = draw(st.integers(1, 5))
    return {
        "kind": draw(st.sampled_from(["PAD", "PADV2"])),
        "seed": draw(st.integers(0, 2**31)),
        "shape": _shape(draw, rank),
        "paddings": draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=rank, max_size=rank)),
        # PAD does not check the params: with different ones it copies raw and pads with the output zero point.
        "same_quant": draw(st.booleans()),
        "with_values": draw(st.booleans()),  # without constant_values, both pad with the output zero point
    }


def _pad_model(kind, seed, shape, paddings, same_quant, with_values):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    qx = activation_quant(rng)
    qy = qx if same_quant else activation_quant(rng)
    model_input, x = feed(g, shape, qx)
    pads = g.const(np.array(paddings, dtype=np.int32), "int32")
    inputs = [x, pads]
    if with_values:  # PAD takes it too: tflite-micro runs PAD and PADV2 with one kernel
        inputs.append(g.const(rng.integers(-128, 128, (1,)), "int8", **qy))
    y = g.tensor(tuple(d + a + b for d, (a, b) in zip(shape, paddings)), **qy)
    g.op(kind, inputs, [y])
    return g.build([model_input], [drain(g, y, qy)])


@SETTINGS
@given(case=pad_cases())
def test_pad(case):
    assert_bit_exact(_pad_model(**case))


def test_pad_with_a_pad_value():
    assert_bit_exact(_pad_model("PAD", 3, (2, 3), [(1, 2), (0, 1)], same_quant=True, with_values=True))


@st.composite
def concat_cases(draw):
    rank = draw(st.integers(1, 6))
    axis = draw(st.integers(-rank, rank - 1))
    base = _shape(draw, rank)
    count = draw(st.integers(2, 10))
    sizes = draw(st.lists(st.integers(1, 4), min_size=count, max_size=count))
    shapes = [base[: axis % rank] + (n,) + base[axis % rank + 1 :] for n in sizes]
    return {
        "seed": draw(st.integers(0, 2**31)),
        "shapes": shapes,
        "axis": axis,
        "constants": draw(st.lists(st.booleans(), min_size=count, max_size=count)),
    }


def _concat_model(seed, shapes, axis, constants, input_quants=None, activation="NONE"):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    q = input_quants[0] if input_quants else activation_quant(rng)  # the output's, and by default every input's
    model_inputs, parts = [], []
    for i, (shape, constant) in enumerate(zip(shapes, constants)):
        qi = input_quants[i] if input_quants else q
        if constant:
            parts.append(g.const(rng.integers(-128, 128, shape), "int8", **qi))
        else:
            model_input, x = feed(g, shape, qi)
            model_inputs.append(model_input)
            parts.append(x)
    out_shape = list(shapes[0])
    out_shape[axis] = sum(s[axis] for s in shapes)
    y = g.tensor(tuple(out_shape), **q)
    g.op("CONCATENATION", parts, [y], axis=axis, fused_activation_function=activation)
    return g.build(model_inputs, [drain(g, y, q)])


@SETTINGS
@given(case=concat_cases())
def test_concatenation(case):
    if all(case["constants"]):
        case["constants"][0] = False  # the model needs an input
    assert_bit_exact(_concat_model(**case))


def test_concatenation_rejects_rescaling():
    quants = [{"scale": 0.1, "zero_point": 0}, {"scale": 0.2, "zero_point": 0}]
    graph = _concat_model(0, [(1, 2), (1, 3)], 1, [False, False], input_quants=quants)
    with pytest.raises(TinygenError, match=r"op 0 \(CONCATENATION\): input t1 quantization"):
        lower(graph)


def test_concatenation_rejects_activation():
    graph = _concat_model(0, [(1, 2), (1, 3)], 1, [False, False], activation="RELU")
    with pytest.raises(TinygenError, match=r"op 0 \(CONCATENATION\): a fused activation"):
        lower(graph)


def test_pad_rejects_negative_paddings():
    g = GraphBuilder()
    x = g.tensor((1, 4), scale=0.1, zero_point=0)
    pads = g.const(np.array([[0, 0], [-1, 1]], dtype=np.int32), "int32")
    y = g.tensor((1, 4), scale=0.1, zero_point=0)
    g.op("PAD", [x, pads], [y])
    with pytest.raises(TinygenError, match=r"op 0 \(PAD\): negative paddings"):
        lower(g.build([x], [y]))


@pytest.mark.parametrize("dtype", ["int32", "float32"])
def test_concatenation_of_plain_numbers(dtype):
    """int32 and float32 inputs (constants among them) copied as they are: no quantization to share."""
    rng = np.random.default_rng(1)
    g = GraphBuilder()
    x = g.tensor((1, 3, 4), dtype)
    head = g.const(rng.integers(-(2**31), 2**31, (1, 2, 4)), dtype)
    y = g.tensor((1, 7, 4), dtype)
    g.op("CONCATENATION", [head, x, head], [y], axis=1, fused_activation_function="NONE")
    values = [rng.integers(-(2**31), 2**31, (1, 3, 4)).astype(dtype) for _ in range(3)]
    assert_bit_exact(g.build([x], [y]), inputs=[[v] for v in values])


def test_concatenation_refuses_mixed_types():
    g = GraphBuilder()
    a, b, y = g.tensor((1, 2), "int32"), g.tensor((1, 2), "int16"), g.tensor((1, 4), "int32")
    g.op("CONCATENATION", [a, b], [y], axis=1, fused_activation_function="NONE")
    with pytest.raises(TinygenError, match=r"op 0 \(CONCATENATION\): input t1 is int16 and the output int32"):
        lower(g.build([a, b], [y]))
