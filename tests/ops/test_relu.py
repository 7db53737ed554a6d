"""Standalone RELU and RELU6 against tflite-micro, over every int8 value."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder

from ..bitexact import assert_bit_exact
from ..gen import activation_quant

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)
ALL_INT8 = [[np.arange(-128, 128, dtype=np.int8).reshape(1, 256)]]


@SETTINGS
@given(kind=st.sampled_from(["RELU", "RELU6"]), seed=st.integers(0, 2**31), same_quant=st.booleans())
def test_relu_every_value(kind, seed, same_quant):
    # RELU rescales to the output's quantization; RELU6 ignores it, which is matched too.
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    qx = activation_quant(rng)
    x = g.tensor((1, 256), **qx)
    y = g.tensor((1, 256), **(qx if same_quant else activation_quant(rng)))
    g.op(kind, [x], [y])
    assert_bit_exact(g.build([x], [y]), inputs=ALL_INT8)
