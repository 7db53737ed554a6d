"""AVERAGE_POOL_2D and MAX_POOL_2D against tflite-micro, on generated models."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.lower import lower
from tinygen.errors import TinygenError
from tinygen.ops.geometry import output_size

from ..bitexact import assert_bit_exact
from ..gen import activation, activation_quant

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)


def _pool_model(kind, seed, in_hw, channels, kernel, stride, padding, output_quant=None):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    quant = activation_quant(rng)
    x = g.tensor((1, *in_hw, channels), **quant)
    out_hw = [output_size(padding, in_hw[a], kernel[a], stride[a]) for a in range(2)]
    y = g.tensor((1, *out_hw, channels), **(output_quant or quant))
    g.op(
        kind,
        [x],
        [y],
        padding=padding,
        stride_h=stride[0],
        stride_w=stride[1],
        filter_height=kernel[0],
        filter_width=kernel[1],
        fused_activation_function=activation(rng),
    )
    return g.build([x], [y])


pool = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["AVERAGE_POOL_2D", "MAX_POOL_2D"]),
        "seed": st.integers(0, 2**31),
        "in_hw": st.tuples(st.integers(1, 12), st.integers(1, 12)),
        "channels": st.integers(1, 8),
        "kernel": st.tuples(st.integers(1, 5), st.integers(1, 5)),
        "stride": st.tuples(st.integers(1, 3), st.integers(1, 3)),
        "padding": st.sampled_from(["SAME", "VALID"]),
    }
)


def _valid(case) -> bool:
    return all(
        output_size(case["padding"], case["in_hw"][a], case["kernel"][a], case["stride"][a]) > 0 for a in range(2)
    )


@SETTINGS
@given(case=pool.filter(_valid))
def test_pool(case):
    assert_bit_exact(_pool_model(**case))


@pytest.mark.parametrize("kind", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
def test_large_window_same_padding(kind):
    # Windows mostly in the padding: the average divides by the in-image tap count only.
    assert_bit_exact(_pool_model(kind, 3, (3, 2), 5, (5, 4), (1, 1), "SAME"))


def test_pool_rejects_rescaling():
    graph = _pool_model(
        "AVERAGE_POOL_2D", 1, (4, 4), 2, (2, 2), (2, 2), "VALID", output_quant={"scale": 0.5, "zero_point": 0}
    )
    with pytest.raises(TinygenError, match=r"op 0 \(AVERAGE_POOL_2D\).*quantization must match"):
        lower(graph)
