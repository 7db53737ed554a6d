"""LOGISTIC and TANH against tflite-micro: every int8 input at chosen scales, and generated models."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.lower import lower
from tinygen.errors import TinygenError

from ..bitexact import assert_bit_exact

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)
OUTPUT_QUANT = {"LOGISTIC": {"scale": 1 / 256, "zero_point": -128}, "TANH": {"scale": 1 / 128, "zero_point": 0}}
ALL_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 16, 16)

# 2^-28 is the smallest scale tflite-micro handles (frexp shift 0); from 16 on (shift >= 32)
# every input saturates; the rest spread the curve from nearly flat to nearly a step.
SCALES = [2.0**-28, 3.1e-7, 1e-3, 0.0123, 0.0625, 0.1, 0.37, 1.01, 3.3, 16.5, 1000.5]


def _model(kind: str, shape, scale: float, zero_point: int):
    g = GraphBuilder()
    x = g.tensor(shape, scale=scale, zero_point=zero_point)
    y = g.tensor(shape, **OUTPUT_QUANT[kind])
    g.op(kind, [x], [y])
    return g.build([x], [y])


@pytest.mark.parametrize("kind", ["LOGISTIC", "TANH"])
def test_every_input(kind):
    # One model per scale, each fed all 256 int8 values, with a zero point that moves the curve.
    rng = np.random.default_rng(len(kind))
    for scale in SCALES:
        graph = _model(kind, ALL_INT8.shape, scale, int(rng.integers(-128, 128)))
        assert_bit_exact(graph, inputs=[[ALL_INT8]])


@SETTINGS
@given(
    kind=st.sampled_from(["LOGISTIC", "TANH"]),
    seed=st.integers(0, 2**31),
    shape=st.lists(st.integers(1, 9), min_size=1, max_size=4).map(lambda s: (1, *s)),
)
def test_generated(kind, seed, shape):
    rng = np.random.default_rng(seed)
    assert_bit_exact(_model(kind, shape, float(10 ** rng.uniform(-3, 0.5)), int(rng.integers(-128, 128))))


@pytest.mark.parametrize(
    "kind, scale, zero_point",
    [("LOGISTIC", 1 / 256, 0), ("LOGISTIC", 1 / 128, -128), ("TANH", 1 / 128, 10), ("TANH", 0.5, 0)],
)
def test_output_off_the_kernel_grid_is_refused(kind, scale, zero_point):
    g = GraphBuilder()
    x = g.tensor((1, 4), scale=0.1, zero_point=0)
    y = g.tensor((1, 4), scale=scale, zero_point=zero_point)
    g.op(kind, [x], [y])
    with pytest.raises(TinygenError, match=f"op 0 \\({kind}\\): output quantization"):
        lower(g.build([x], [y]))
