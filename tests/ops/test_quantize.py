"""QUANTIZE (float -> int8, int8 -> int8) and DEQUANTIZE against tflite-micro, over every int8 value."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder

from ..bitexact import assert_bit_exact
from ..gen import activation_quant

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)
ALL_INT8 = [[np.arange(-128, 128, dtype=np.int8).reshape(1, 256)]]


@SETTINGS
@given(seed=st.integers(0, 2**31))
def test_requantize_every_value(seed):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    x = g.tensor((1, 256), **activation_quant(rng))
    y = g.tensor((1, 256), **activation_quant(rng))
    g.op("QUANTIZE", [x], [y])
    assert_bit_exact(g.build([x], [y]), inputs=ALL_INT8)


@SETTINGS
@given(seed=st.integers(0, 2**31), halve=st.booleans())
def test_dequantize_then_quantize(seed, halve):
    # With the output scale twice the input's, every odd (q - zero point) lands exactly on
    # a .5 tie of the float division, which must round away from zero.
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    qx = activation_quant(rng)
    x = g.tensor((1, 256), **qx)
    f = g.tensor((1, 256), "float32")
    qy = {"scale": 2 * qx["scale"], "zero_point": int(rng.integers(-128, 128))} if halve else activation_quant(rng)
    y = g.tensor((1, 256), **qy)
    g.op("DEQUANTIZE", [x], [f])
    g.op("QUANTIZE", [f], [y])
    assert_bit_exact(g.build([x], [y]), inputs=ALL_INT8)


def _ties(scale: float) -> np.ndarray:
    """Floats at, just below and just above every quantization midpoint (k + 0.5) * scale."""
    mid = ((np.arange(-140, 140) + 0.5) * np.float32(scale)).astype(np.float32)
    return np.concatenate([mid, np.nextafter(mid, np.float32(-np.inf)), np.nextafter(mid, np.float32(np.inf))])


@pytest.mark.parametrize("scale, zero_point", [(2.0**-5, 0), (2.0**-7, -128), (0.0123, 17), (0.37, -60)])
def test_quantize_float_midpoints(scale, zero_point):
    values = _ties(scale)
    g = GraphBuilder()
    x = g.tensor((1, values.size), "float32")
    y = g.tensor((1, values.size), scale=scale, zero_point=zero_point)
    g.op("QUANTIZE", [x], [y])
    graph = g.build([x], [y])
    assert_bit_exact(graph, inputs=[[values.reshape(1, -1)]])
    assert_bit_exact(graph)  # random floats over the quantized range


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dequantize_every_value(seed):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    x = g.tensor((1, 256), **activation_quant(rng))
    y = g.tensor((1, 256), "float32")
    g.op("DEQUANTIZE", [x], [y])
    assert_bit_exact(g.build([x], [y]), inputs=ALL_INT8)
