"""Float islands (int8 -> DEQUANTIZE -> float element-wise ops -> QUANTIZE -> int8) compile to one
table, bit-exact with tflite-micro's float kernels over every input byte."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.pipeline import compile_model

from ..bitexact import assert_bit_exact
from ..helpers import loaded

FLOAT_OPS = ["SQUARE", "NEG", "EXP", "LOG", "SQRT", "ELU", "ABS", "RSQRT"]
EVERY_BYTE = [[np.arange(-128, 128, dtype=np.int8).reshape(1, 256)]]


def island(kinds, in_quant, out_quant, with_pre=False):
    g = GraphBuilder()
    x = g.tensor((1, 256), "int8", **in_quant)
    source = x
    if with_pre:  # an int8 op in front, so the island sits inside a model
        source = g.tensor((1, 256), "int8", **in_quant)
        g.op("RELU6", [x], [source])
    value = g.tensor((1, 256), "float32")
    g.op("DEQUANTIZE", [source], [value])
    for kind in kinds:
        nxt = g.tensor((1, 256), "float32")
        g.op(kind, [value], [nxt])
        value = nxt
    y = g.tensor((1, 256), "int8", **out_quant)
    g.op("QUANTIZE", [value], [y])
    return g.build([x], [y])


quant = st.fixed_dictionaries(
    {"scale": st.floats(1e-3, 0.5).map(lambda s: float(np.float32(s))), "zero_point": st.integers(-128, 127)}
)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(kinds=st.lists(st.sampled_from(FLOAT_OPS), min_size=1, max_size=3), in_quant=quant, out_quant=quant)
def test_islands_are_bit_exact_on_every_byte(kinds, in_quant, out_quant):
    assert_bit_exact(island(kinds, in_quant, out_quant), inputs=EVERY_BYTE)


@pytest.mark.parametrize("kind", FLOAT_OPS)
def test_each_op_alone(kind):
    graph = island([kind], {"scale": 0.05, "zero_point": 3}, {"scale": 0.02, "zero_point": -7}, with_pre=True)
    assert_bit_exact(graph, inputs=EVERY_BYTE)
    layers = compile_model(loaded(graph, "island")).lowered.layers
    assert [layer.kernel for layer in layers] == ["tg_relu6_s8", "tg_lookup_s8"]  # one table, no float code


def test_a_float_op_outside_an_island_is_refused():
    from tinygen.errors import TinygenError

    g = GraphBuilder()
    x, y = g.tensor((1, 4), "float32"), g.tensor((1, 4), "float32")
    g.op("EXP", [x], [y])
    with pytest.raises(TinygenError, match=r"op 0 \(EXP\): tflite-micro runs EXP in float32 only"):
        compile_model(loaded(g.build([x], [y]), "exp"))
