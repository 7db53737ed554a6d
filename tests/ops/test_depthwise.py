"""DEPTHWISE_CONV_2D's kernels, case by case, against tflite-micro.

The 3x3 kernels (tg_depthwise_3x3_s8 and its in-place twin) take channels in groups of four, with
an overlapping last group for counts that are not a multiple of four, pixels whose windows reach
into the padding on any side, and a requantization with the rounding and the zero point folded
into one constant (shifts -22 .. -1). At stride 1 with output rows of ten or more (along the input's
rows or, transposed, its columns) tg_depthwise_3x3_rows_s8 and its twin take one channel at a time
as an int16 plane, four windows per step and the rest one by one, with tg_matmul.h's one-multiply
requantization (shifts -23 .. -2). Everything else takes tg_depthwise_s8. Each case below
sits on one of those edges, and names the kernel it must take. The host runs the portable C
(sanitizers on); the same models run on every QEMU board: the DSP code on the Cortex-M4, M7 and
M33, the portable code on the Cortex-M3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from tinygen.builder import GraphBuilder
from tinygen.compiler.inplace import apply_in_place
from tinygen.compiler.lower import lower
from tinygen.compiler.schedule import schedule
from tinygen.ops.geometry import output_size

from ..bitexact import assert_bit_exact
from ..gen import window_options
from ..helpers import QEMU_BOARDS, verify_on_board

FAST, GENERIC = "tg_depthwise_3x3_s8", "tg_depthwise_s8"
FAST_IN_PLACE, GENERIC_IN_PLACE = "tg_depthwise_3x3_inplace_s8", "tg_depthwise_inplace_s8"
ROWS, ROWS_IN_PLACE = "tg_depthwise_3x3_rows_s8", "tg_depthwise_3x3_rows_inplace_s8"


@dataclass(frozen=True)
class Case:
    kernel: str  # the kernel the case must lower to
    hw: tuple[int, int]
    channels: int
    stride: int = 1
    padding: str = "SAME"
    activation: str = "RELU"
    filter_hw: tuple[int, int] = (3, 3)
    multiplier: int = 1
    dilation: int = 1
    per_channel: bool = True
    input_zero_point: int = -3
    output_zero_point: int = 5
    extreme_weights: bool = False  # -128 and 127 among the weights
    rescale: float = 1 / 200  # the requantization's real multiplier, about (output scale ~ 200 sums)


# Out-of-place cases: every edge of the 3x3 kernel, and the shapes that take the generic one.
CASES = {
    "groups of four, stride 1, every pixel next to padding or inside": Case(FAST, (5, 6), 8),
    "an overlapping last group (7 channels)": Case(FAST, (6, 5), 7),
    "an overlapping last group (13 channels), narrow clamp": Case(FAST, (4, 7), 13, activation="RELU6"),
    "stride 2, even size: padding after only": Case(FAST, (8, 6), 8, stride=2),
    "stride 2, odd size: padding on both sides": Case(FAST, (7, 5), 6, stride=2, activation="NONE"),
    "stride 1 VALID": Case(FAST, (5, 7), 4, padding="VALID"),
    "stride 2 VALID": Case(FAST, (7, 9), 5, stride=2, padding="VALID"),
    "one column, padded both sides": Case(FAST, (4, 1), 4),
    "one row, two columns, stride 2": Case(FAST, (1, 2), 9, stride=2),
    "per-tensor weights": Case(FAST, (3, 4), 6, per_channel=False),
    "extreme zero points and weights": Case(
        FAST, (5, 4), 5, input_zero_point=-128, output_zero_point=127, extreme_weights=True, activation="NONE"
    ),
    "input zero point 127, output -128": Case(
        FAST, (4, 5), 4, input_zero_point=127, output_zero_point=-128, extreme_weights=True
    ),
    "a shift of -22 still folds": Case(FAST, (3, 3), 4, rescale=2**-22 * 1.5),
    "shift 0 (scale above 1/2): the generic kernel": Case(GENERIC, (4, 4), 4, rescale=0.7),
    "shift below -22: the generic kernel": Case(GENERIC, (4, 4), 4, rescale=2**-24),
    "fewer than four channels": Case(GENERIC, (5, 5), 3),
    "depth multiplier 2": Case(GENERIC, (5, 4), 3, multiplier=2),
    "dilation 2": Case(GENERIC, (7, 7), 4, dilation=2),
    "5x5 filter": Case(GENERIC, (6, 6), 4, filter_hw=(5, 5)),
    "stride 3": Case(GENERIC, (7, 7), 4, stride=3),
    "long rows: blocks of four and two windows alone": Case(ROWS, (3, 14), 5),
    "long columns: the plane transposed, narrow clamp": Case(ROWS, (13, 5), 6, activation="RELU6"),
    "long rows VALID": Case(ROWS, (4, 13), 4, padding="VALID"),
    "long rows, extreme zero points and weights": Case(
        ROWS, (3, 12), 4, input_zero_point=-128, output_zero_point=127, extreme_weights=True, activation="NONE"
    ),
    "long rows, a shift of -23": Case(ROWS, (2, 10), 4, rescale=2**-24 * 1.5, per_channel=False),
    "long rows, a shift of -2": Case(ROWS, (2, 11), 4, rescale=0.2),
    "long rows, shift -1: the four-channel kernel": Case(FAST, (2, 10), 4, rescale=0.3),
    "long rows, stride 2: the four-channel kernel": Case(FAST, (3, 21), 4, stride=2),
}


def _weights(g: GraphBuilder, rng, case: Case, out_c: int) -> tuple[int, np.ndarray]:
    data = rng.integers(-127, 128, (1, *case.filter_hw, out_c))
    if case.extreme_weights:
        data.reshape(-1)[::3] = -128
        data.reshape(-1)[1::3] = 127
    scales = 10 ** rng.uniform(-2.5, -1.5, out_c if case.per_channel else 1)
    w = g.const(data, "int8", scale=scales if case.per_channel else float(scales[0]), zero_point=0, axis=3)
    return w, scales


def _depthwise(g: GraphBuilder, rng, case: Case, h: int, h_scale: float) -> int:
    """The case's layer on h; its output scale makes the requantization multiplier case.rescale."""
    out_c = case.channels * case.multiplier
    w, scales = _weights(g, rng, case, out_c)
    b = g.const(rng.integers(-3000, 3000, out_c), "int32", scale=(scales * h_scale).tolist(), zero_point=0)
    out_hw = [output_size(case.padding, case.hw[a], case.filter_hw[a], case.stride, case.dilation) for a in range(2)]
    y_scale = h_scale * float(scales.max()) / case.rescale
    batch = g.tensors[h].shape[0]
    y = g.tensor((batch, *out_hw, out_c), scale=y_scale, zero_point=case.output_zero_point)
    g.op(
        "DEPTHWISE_CONV_2D",
        [h, w, b],
        [y],
        depth_multiplier=case.multiplier,
        **window_options(case.padding, case.stride, case.dilation, case.activation),
    )
    return y


def _source(g: GraphBuilder, rng, case: Case) -> tuple[int, int, float]:
    """A model input and the depthwise layer's input computed from it (a 1x1 convolution, so that
    its values spread over the int8 range at the case's zero point)."""
    x = g.tensor((1, *case.hw, 1), scale=0.02, zero_point=0)
    h_scale = 0.05
    w = g.const(rng.integers(-127, 128, (case.channels, 1, 1, 1)), "int8", scale=[0.05] * case.channels, axis=0)
    b = g.const(rng.integers(-200, 200, case.channels), "int32", scale=[0.001] * case.channels, zero_point=0)
    h = g.tensor((1, *case.hw, case.channels), scale=h_scale, zero_point=case.input_zero_point)
    g.op("CONV_2D", [x, w, b], [h], **window_options("VALID"))
    return x, h, h_scale


def branches(cases: list[Case], seed: int = 0):
    """Each case as its own input -> 1x1 convolution -> depthwise branch; the depthwise inputs are
    model outputs too, so that no layer may write over them: every layer runs out of place."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    inputs, outputs = [], []
    for case in cases:
        x, h, h_scale = _source(g, rng, case)
        inputs.append(x)
        outputs += [h, _depthwise(g, rng, case, h, h_scale)]
    return g.build(inputs, outputs)


def in_place_chain(channels: int, seed: int = 1, hw: tuple[int, int] = (6, 5)):
    """1x1 convolution -> two 3x3 depthwise layers of one size -> one of stride 2: the inputs die at
    their layers and the first two are as large as their outputs, so the planner writes those in
    place; the last one too where its output is larger than the four channels it saves (channels > 16)."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    first = Case(FAST_IN_PLACE, hw, channels, input_zero_point=-128)
    x, h, scale = _source(g, rng, first)
    layers = (first, Case(FAST_IN_PLACE, hw, channels, activation="RELU6"), Case(FAST, hw, channels, stride=2))
    for case in layers:
        y = _depthwise(g, rng, case, h, scale)
        h, scale = y, g.tensors[y].quant.scale[0]
    return g.build([x], [h])


def kernels(graph) -> list[str]:
    layers = apply_in_place(schedule(lower(graph))).layers
    return [layer.kernel for layer in layers if layer.op.kind == "DEPTHWISE_CONV_2D"]


def test_each_case_takes_its_kernel():
    assert sorted(kernels(branches(list(CASES.values())))) == sorted(c.kernel for c in CASES.values())


def test_the_fast_cases_on_the_host():
    assert_bit_exact(branches([c for c in CASES.values() if c.kernel == FAST]), samples=6)


def test_the_long_row_cases_on_the_host():
    assert_bit_exact(branches([c for c in CASES.values() if c.kernel == ROWS]), samples=6)


def test_the_generic_cases_on_the_host():
    assert_bit_exact(branches([c for c in CASES.values() if c.kernel == GENERIC]), samples=6)


def test_batch_of_two_on_the_host():
    """The 3x3 kernel walks batches out of place (a RESHAPE inside a model can make them)."""
    rng = np.random.default_rng(5)
    g = GraphBuilder()
    x = g.tensor((1, 10, 4, 6), scale=0.05, zero_point=-2)
    batched = g.tensor((2, 5, 4, 6), scale=0.05, zero_point=-2)
    g.op("RESHAPE", [x], [batched])
    y = _depthwise(g, rng, Case(FAST, (5, 4), 6), batched, 0.05)
    out = g.tensor((1, 10, 4, 6), scale=g.tensors[y].quant.scale[0], zero_point=g.tensors[y].quant.zero_point[0])
    g.op("RESHAPE", [y], [out])
    graph = g.build([x], [out])
    assert kernels(graph) == [FAST]
    assert_bit_exact(graph, samples=4)


@pytest.mark.parametrize("channels", [8, 7, 21])
def test_in_place_chain_on_the_host(channels):
    graph = in_place_chain(channels)
    assert kernels(graph) == [FAST_IN_PLACE] * 2 + [FAST_IN_PLACE if channels > 16 else FAST]
    assert_bit_exact(graph, samples=4)


def test_in_place_long_rows_on_the_host():
    """Both layers at stride 1 go in place over their planes (the one of stride 2, whose output is
    smaller than the four channels it would save, stays out of place)."""
    graph = in_place_chain(6, hw=(4, 12))
    assert kernels(graph) == [ROWS_IN_PLACE] * 2 + [FAST]
    assert_bit_exact(graph, samples=4)


def test_the_narrow_clamp_case_has_narrow_bounds():
    """The clamp runs only for bounds narrower than int8: the RELU6 case must have them."""
    layers = lower(branches([CASES["an overlapping last group (13 channels), narrow clamp"]])).layers
    params = next(layer.params for layer in layers if layer.op.kind == "DEPTHWISE_CONV_2D")
    assert params.act_max < 127


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_every_3x3_path_on_qemu(board_id, qemu_ready, tmp_path):
    fast = [c for c in CASES.values() if c.kernel in (FAST, ROWS)]
    chains = (("in place", in_place_chain(21)), ("in place rows", in_place_chain(6, hw=(4, 12))))
    for name, graph in (("branches", branches(fast)), *chains):
        result = verify_on_board(graph, board_id, tmp_path / name.replace(" ", "-"), samples=3)
        assert result.bit_exact, (name, result.summary())
