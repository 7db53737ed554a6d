"""AVERAGE_POOL_2D and MAX_POOL_2D against tflite-micro, on generated models.

With four channels or more the kernels take four at a time (a word per window pixel: SXTAB16 into
halfword sums, or SSUB8 and SEL for the maximum; an overlapping last group for counts that are not
a multiple of four; halfword sums poured into int32 every 256 pixels). GROUP_CASES sit on those
edges; they run on the host and on every QEMU board (the DSP code on the M4, M7 and M33).
"""

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
from ..helpers import QEMU_BOARDS, verify_on_board

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


# (kind, input h x w, channels, window, stride, padding, activation)
GROUP_CASES = [
    ("AVERAGE_POOL_2D", (25, 5), 8, (25, 5), (25, 5), "VALID", "NONE"),  # global, as DS-CNN ends
    ("AVERAGE_POOL_2D", (20, 15), 5, (20, 15), (20, 15), "VALID", "NONE"),  # 300 pixels: sums poured
    ("AVERAGE_POOL_2D", (7, 6), 7, (3, 3), (2, 2), "SAME", "RELU6"),  # edges, overlap, narrow clamp
    ("MAX_POOL_2D", (8, 8), 4, (2, 2), (2, 2), "VALID", "NONE"),
    ("MAX_POOL_2D", (7, 5), 9, (3, 2), (2, 1), "SAME", "RELU_N1_TO_1"),
    ("MAX_POOL_2D", (17, 17), 6, (17, 17), (1, 1), "VALID", "NONE"),  # 289 pixels
]


def group_model(quant: dict):
    g = GraphBuilder()
    inputs, outputs = [], []
    for kind, hw, channels, kernel, stride, padding, act in GROUP_CASES:
        x = g.tensor((1, *hw, channels), **quant)
        out_hw = [output_size(padding, hw[a], kernel[a], stride[a]) for a in range(2)]
        y = g.tensor((1, *out_hw, channels), **quant)
        options = {"filter_height": kernel[0], "filter_width": kernel[1], "stride_h": stride[0], "stride_w": stride[1]}
        g.op(kind, [x], [y], padding=padding, fused_activation_function=act, **options)
        inputs.append(x)
        outputs.append(y)
    return g.build(inputs, outputs)


def _extreme_samples(graph):
    """All inputs at -128, then all at 127: the halfword sums at their limits."""
    shapes = [graph.tensor(i).shape for i in graph.inputs]
    return [[np.full(s, v, dtype=np.int8) for s in shapes] for v in (-128, 127)]


def test_four_channels_at_a_time_on_the_host():
    graph = group_model({"scale": 0.05, "zero_point": -3})
    assert_bit_exact(graph, samples=6)
    assert_bit_exact(graph, inputs=_extreme_samples(graph))


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_four_channels_at_a_time_on_qemu(board_id, qemu_ready, tmp_path):
    result = verify_on_board(group_model({"scale": 0.05, "zero_point": -3}), board_id, tmp_path, samples=3)
    assert result.bit_exact, result.summary()
