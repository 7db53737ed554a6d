"""CAST against tflite-micro: every pair of its types on edge values (saturation, truncation, NaN,
wrapping, bools), constant folding and the refusals."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.fold import fold_constants
from tinygen.compiler.lower import lower
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.ir import NUMPY_DTYPES, Graph
from tinygen.ops import op_def
from tinygen.ops.cast import CAST_TYPES, SAME_BYTES, UNDEFINED
from tinygen.reference import Reference

from ..bitexact import assert_bit_exact
from ..gen import activation_quant

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True)
shapes = st.lists(st.integers(1, 5), min_size=1, max_size=4).map(lambda dims: (1, *dims))

# Floats around every saturation bound and truncation step of the integer types, and the non-finite ones.
EDGE_FLOATS = np.array(
    [0.0, -0.0, 0.5, -0.5, 0.99999994, -0.99999994, 1.5, -1.5, 127.0, 127.9, 128.0, -128.0, -128.9, -129.0]
    + [32767.0, 32767.5, 32768.0, -32768.0, -32768.5, -32769.0, 2147483520.0, 2147483648.0, -2147483648.0]
    + [-2147483904.0, 1e20, -1e20, 1e-30, np.inf, -np.inf, np.nan],
    np.float32,
)


def values_for(rng: np.random.Generator, dtype: str, shape) -> np.ndarray:
    size = int(np.prod(shape))
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype == "float32":
        magnitudes = 10 ** rng.uniform(-2, 10, size)
        values = (np.sign(rng.standard_normal(size)) * magnitudes).astype(np.float32)
        picks = rng.integers(0, EDGE_FLOATS.size, size)
        return np.where(rng.random(size) < 0.5, EDGE_FLOATS[picks], values).reshape(shape)
    info = np.iinfo(NUMPY_DTYPES[dtype])
    values = rng.integers(info.min, info.max, size, endpoint=True, dtype=np.int64)
    small = rng.integers(-300, 300, size)  # where narrowing keeps or just wraps the value
    return np.where(rng.random(size) < 0.5, small, values).clip(info.min, info.max).astype(dtype).reshape(shape)


def every_cast(seed: int, shape) -> tuple[Graph, list[list[np.ndarray]]]:
    """One input per type, one output per (input, output) pair tflite-micro defines, and two samples."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    inputs = {t: g.tensor(shape, t) for t in CAST_TYPES}
    outputs = []
    for a in CAST_TYPES:
        for b in CAST_TYPES:
            if (a, b) in UNDEFINED:
                continue
            outputs.append(g.tensor(shape, b))
            g.op("CAST", [inputs[a]], [outputs[-1]], in_data_type=a, out_data_type=b)
    samples = [[values_for(rng, t, shape) for t in CAST_TYPES] for _ in range(2)]
    return g.build(list(inputs.values()), outputs), samples


@pytest.mark.filterwarnings("ignore:invalid value encountered in subtract")  # inf - inf in the max difference
@SETTINGS
@given(seed=st.integers(0, 2**31), shape=shapes)
def test_every_cast(seed, shape):
    graph, samples = every_cast(seed, shape)
    # Same type, bool to int8, int32 to uint32 and back run nothing: the output is the input's bytes.
    assert sum(layer.kernel is None for layer in lower(graph).layers) == len(SAME_BYTES) == len(CAST_TYPES) + 3
    assert_bit_exact(graph, inputs=samples)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31))
def test_folding_computes_what_tflite_micro_does(seed):
    graph, samples = every_cast(seed, (1, 64))
    reference = Reference(write_tflite(graph), graph)
    for sample in samples:
        for op, want in zip(graph.ops, reference.run(sample)):
            x = graph.tensor(op.inputs[0])
            constant = dataclasses.replace(x, data=sample[graph.inputs.index(x.index)])
            (folded,) = op_def("CAST").fold(op, [constant])
            got = folded(graph.tensor(op.outputs[0]))
            assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), op


def test_constant_casts_fold_away():
    """int32 and float constants cast to int8 reach an ADD as computed constants."""
    rng = np.random.default_rng(2)
    g = GraphBuilder()
    x = g.tensor((1, 32), **activation_quant(rng))
    outputs = []
    for data, dtype in ((rng.integers(-400, 400, (1, 32)), "int32"), (values_for(rng, "float32", (1, 32)), "float32")):
        cast = g.tensor((1, 32), **activation_quant(rng))
        g.op("CAST", [g.const(data, dtype)], [cast], in_data_type=dtype, out_data_type="int8")
        outputs.append(g.tensor((1, 32), **activation_quant(rng)))
        g.op("ADD", [x, cast], [outputs[-1]], fused_activation_function="NONE")
    graph = g.build([x], outputs)
    assert {op.kind for op in fold_constants(graph).ops} == {"ADD"}
    assert_bit_exact(graph)


@pytest.mark.parametrize(
    "x, y, shape, message",
    [
        ("uint8", "int8", (1, 4), "tensor t0 is uint8; tflite-micro's CAST converts between int8, int16"),
        ("float32", "uint8", (1, 4), "tensor t1 is uint8"),
        ("int64", "int32", (1, 4), "tensor t0 is int64"),
        ("float32", "uint32", (1, 4), "casts float32 to uint32, which C\\+\\+ leaves undefined"),
        ("int8", "int32", (1, 2, 2), r"input shape \(1, 4\) and output shape \(1, 2, 2\) differ"),
    ],
)
def test_refusals(x, y, shape, message):
    g = GraphBuilder()
    a, b = g.tensor((1, 4), x), g.tensor(shape, y)
    g.op("CAST", [a], [b], in_data_type=x, out_data_type=y)
    with pytest.raises(TinygenError, match=rf"op 0 \(CAST\): {message}"):
        lower(g.build([a], [b]))
