"""CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED against tflite-micro, on generated models."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.ops.geometry import output_size

from ..bitexact import assert_bit_exact
from ..gen import activation, activation_quant, bias, weights

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)


def _window_model(
    kind: str,
    seed: int,
    in_hw,
    channels: int,
    out_c_or_mult: int,
    kernel,
    stride,
    dilation,
    padding: str,
    with_bias: bool,
    per_channel: bool = True,
):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    x = g.tensor((1, *in_hw, channels), **activation_quant(rng))
    if kind == "CONV_2D":
        out_c = out_c_or_mult
        w = weights(g, rng, (out_c, *kernel, channels), axis=0, per_channel=per_channel)
        options = {}
    else:
        out_c = channels * out_c_or_mult
        w = weights(g, rng, (1, *kernel, out_c), axis=3, per_channel=per_channel)
        options = {"depth_multiplier": out_c_or_mult}
    out_hw = [output_size(padding, in_hw[a], kernel[a], stride[a], dilation[a]) for a in range(2)]
    y = g.tensor((1, *out_hw, out_c), **activation_quant(rng))
    g.op(
        kind,
        [x, w, bias(g, rng, out_c) if with_bias else -1],
        [y],
        padding=padding,
        stride_h=stride[0],
        stride_w=stride[1],
        dilation_h_factor=dilation[0],
        dilation_w_factor=dilation[1],
        fused_activation_function=activation(rng),
        **options,
    )
    return g.build([x], [y])


window = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**31),
        "in_hw": st.tuples(st.integers(1, 12), st.integers(1, 12)),
        "channels": st.integers(1, 9),
        "kernel": st.tuples(st.integers(1, 4), st.integers(1, 4)),
        "stride": st.tuples(st.integers(1, 3), st.integers(1, 3)),
        "dilation": st.tuples(st.integers(1, 2), st.integers(1, 2)),
        "padding": st.sampled_from(["SAME", "VALID"]),
        "with_bias": st.booleans(),
    }
)


def _valid(case) -> bool:
    return all(
        output_size(case["padding"], case["in_hw"][a], case["kernel"][a], case["stride"][a], case["dilation"][a]) > 0
        for a in range(2)
    )


@SETTINGS
@given(case=window.filter(_valid), out_c=st.integers(1, 9))
def test_conv2d(case, out_c):
    assert_bit_exact(_window_model("CONV_2D", out_c_or_mult=out_c, **case))


@SETTINGS
@given(case=window.filter(_valid), multiplier=st.integers(1, 3))
def test_depthwise_conv2d(case, multiplier):
    # tflite-micro's depthwise kernel crashes without a bias, so the reference always gets one.
    assert_bit_exact(_window_model("DEPTHWISE_CONV_2D", out_c_or_mult=multiplier, **{**case, "with_bias": True}))


@pytest.mark.parametrize("kind", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_per_tensor_weights(kind):
    assert_bit_exact(_window_model(kind, 7, (9, 7), 4, 2, (3, 3), (2, 1), (1, 1), "SAME", True, per_channel=False))


@SETTINGS
@given(
    seed=st.integers(0, 2**31),
    in_shape=st.sampled_from([(1, 16), (1, 1, 40), (1, 2, 3, 8), (1, 300)]),
    units=st.integers(1, 40),
    per_channel=st.booleans(),
    with_bias=st.booleans(),
)
def test_fully_connected(seed, in_shape, units, per_channel, with_bias):
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    x = g.tensor(in_shape, **activation_quant(rng))
    depth = in_shape[-1]
    w = weights(g, rng, (units, depth), axis=0, per_channel=per_channel)
    rows = int(np.prod(in_shape)) // depth
    y = g.tensor((rows, units), **activation_quant(rng))
    g.op(
        "FULLY_CONNECTED",
        [x, w, bias(g, rng, units, x, w) if with_bias else -1],
        [y],
        fused_activation_function=activation(rng),
        keep_num_dims=False,
    )
    assert_bit_exact(g.build([x], [y]))
