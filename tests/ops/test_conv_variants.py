"""The fast paths of the convolution and fully connected kernels, case by case, against tflite-micro.

Convolution builds int16 im2col columns (whole rows straight from the input, taps cut by the padding
one by one, dilated taps, rows that straddle groups of four staged first) and multiplies them two
channels by two pixels at a time; depthwise runs channels four at a time (depth multiplier 1, in
place too) with a remainder, and takes only the valid taps of windows that overlap the padding.
Fully connected layers start from a bias with the input offset's share folded in at compile time.
Each case below sits on one of those edges (tests/ops/test_blocked_kernels.py has the blocking's
own). The host runs the portable C with sanitizers; the chain of all cases also runs on QEMU, with
the DSP path (mps2-an386, Cortex-M4) and without it (lm3s6965evb, Cortex-M3).
"""

import shutil

import numpy as np
import pytest

from tinygen.boards import load_board
from tinygen.builder import GraphBuilder
from tinygen.compiler.inplace import apply_in_place
from tinygen.compiler.lower import lower
from tinygen.compiler.pipeline import LoadedModel, compile_model
from tinygen.compiler.schedule import schedule
from tinygen.device.firmware import build_firmware
from tinygen.device.link_target import LinkTarget
from tinygen.frontends.tflite_reader import parse_tflite
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.ops.conv import folded_bias
from tinygen.ops.depthwise import DEPTHWISE_INPLACE_GROUP
from tinygen.ops.geometry import output_size
from tinygen.verify import random_samples, verify

from ..bitexact import assert_bit_exact
from ..gen import bias, weights, window_options
from .test_conv import _window_model

# (kind, in_hw, channels, out_c or depth multiplier, kernel, stride, dilation, padding)
WINDOW_CASES = {
    "conv 1x1, even channels, whole words": ("CONV_2D", (4, 4), 16, 8, (1, 1), (1, 1), (1, 1), "VALID"),
    "conv 3x3 SAME, odd channels, byte tail": ("CONV_2D", (6, 5), 5, 7, (3, 3), (1, 1), (1, 1), "SAME"),
    "conv strided, taps off both edges": ("CONV_2D", (7, 9), 3, 4, (5, 4), (2, 3), (1, 1), "SAME"),
    "conv dilated, tap by tap": ("CONV_2D", (9, 9), 6, 3, (3, 3), (1, 1), (2, 2), "SAME"),
    "conv one output channel": ("CONV_2D", (5, 5), 8, 1, (3, 3), (1, 1), (1, 1), "SAME"),
    "depthwise, four channels and a remainder": ("DEPTHWISE_CONV_2D", (6, 6), 7, 1, (3, 3), (1, 1), (1, 1), "SAME"),
    "depthwise, channels of four, strided": ("DEPTHWISE_CONV_2D", (8, 7), 8, 1, (3, 3), (2, 2), (1, 1), "SAME"),
    "depthwise multiplier 3, dilated": ("DEPTHWISE_CONV_2D", (7, 7), 2, 3, (3, 2), (1, 1), (2, 1), "SAME"),
}


@pytest.mark.parametrize("case", WINDOW_CASES, ids=list(WINDOW_CASES))
def test_window_variants(case):
    kind, *shape = WINDOW_CASES[case]
    assert_bit_exact(_window_model(kind, 3, shape[0], shape[1], shape[2], *shape[3:], with_bias=True))


def _fully_connected(
    g: GraphBuilder, rng, x: int, x_scale: float, depth: int, units: int, weight_zero_point: int = 0
) -> int:
    data = rng.integers(-127 + max(weight_zero_point, 0), 128 + min(weight_zero_point, 0), (units, depth))
    w = g.const(data, "int8", scale=0.01, zero_point=weight_zero_point)
    b = g.const(rng.integers(-20000, 20000, units), "int32", scale=x_scale * 0.01, zero_point=0)
    y = g.tensor((1, units), scale=x_scale * 0.01 * np.sqrt(depth) * 40, zero_point=int(rng.integers(-20, 20)))
    g.op("FULLY_CONNECTED", [x, w, b], [y], fused_activation_function="NONE", keep_num_dims=False)
    return y


@pytest.mark.parametrize("depth, units", [(16, 8), (13, 5), (3, 1)])
def test_fully_connected_pairs_and_tails(depth, units):
    rng = np.random.default_rng(depth)
    g = GraphBuilder()
    x = g.tensor((1, depth), scale=0.05, zero_point=-3)
    assert_bit_exact(g.build([x], [_fully_connected(g, rng, x, 0.05, depth, units)]))


def test_fully_connected_with_a_weight_zero_point():
    """Per-tensor asymmetric weights: the kernel takes fo * sum(x + io) out of the dot product."""
    rng = np.random.default_rng(9)
    g = GraphBuilder()
    x = g.tensor((1, 21), scale=0.05, zero_point=7)
    assert_bit_exact(g.build([x], [_fully_connected(g, rng, x, 0.05, 21, 7, weight_zero_point=5)]))


@pytest.mark.parametrize("input_zero_point", [-128, 127])
@pytest.mark.parametrize("with_bias", [True, False])
def test_folded_bias_at_extreme_input_offsets(input_zero_point, with_bias):
    """Interior windows (folded bias, no offset in the loop) next to border ones (offset per valid
    tap, plain bias), and a fully connected layer, at the largest input offsets either way."""
    rng = np.random.default_rng(input_zero_point + 128 + 300 * with_bias)
    g = GraphBuilder()
    x = g.tensor((1, 5, 6, 8), scale=0.02, zero_point=input_zero_point)
    w = weights(g, rng, (6, 3, 3, 8), axis=0)
    y = g.tensor((1, 5, 6, 6), scale=2.0, zero_point=-4)
    g.op(
        "CONV_2D",
        [x, w, bias(g, rng, 6) if with_bias else -1],
        [y],
        **window_options("SAME"),
    )
    units = 5
    fc_w = g.const(rng.integers(-127, 128, (units, 5 * 6 * 6)), "int8", scale=0.01, zero_point=0)
    fc_b = g.const(rng.integers(-20000, 20000, units), "int32", scale=0.02, zero_point=0) if with_bias else -1
    z = g.tensor((1, units), scale=8.0, zero_point=3)
    g.op("FULLY_CONNECTED", [y, fc_w, fc_b], [z], fused_activation_function="NONE", keep_num_dims=False)
    assert_bit_exact(g.build([x], [z]))


def test_folded_bias_wraps_like_int32_sums():
    sums = np.full((2, 140_000), 127, dtype=np.int8)  # 127 * 128 * 140,000 > 2^31
    folded = folded_bias(sums, np.array([2**31 - 1, -5]), 128, axis=0)
    expected = [(v + 2**31) % 2**32 - 2**31 for v in (127 * 128 * 140_000 + 2**31 - 1, 127 * 128 * 140_000 - 5)]
    assert folded.dtype == np.int32 and folded.tolist() == expected


def in_place_depthwise(channels: int) -> GraphBuilder:
    """A depthwise layer over a tensor that dies there and is the peak: the planner takes the in-place
    kernel, which saves groups of four channels and then one channel at a time (a 2x3 filter: the
    generic kernel; tests/ops/test_depthwise.py covers the 3x3 ones)."""
    rng = np.random.default_rng(channels)
    g = GraphBuilder()
    x = g.tensor((1, 6, 5, 1), scale=0.05, zero_point=3)
    h = g.tensor((1, 6, 5, channels), scale=0.05, zero_point=-5)
    g.op(
        "CONV_2D",
        [x, weights(g, rng, (channels, 1, 1, 1), axis=0), bias(g, rng, channels)],
        [h],
        **window_options("SAME"),
    )
    y = g.tensor((1, 6, 5, channels), scale=0.05, zero_point=2)
    g.op(
        "DEPTHWISE_CONV_2D",
        [h, weights(g, rng, (1, 2, 3, channels), axis=3), bias(g, rng, channels)],
        [y],
        padding="SAME",
        stride_h=1,
        stride_w=1,
        dilation_h_factor=1,
        dilation_w_factor=1,
        fused_activation_function="RELU",
        depth_multiplier=1,
    )
    return g.build([x], [y])


@pytest.mark.parametrize("channels", [7, 9])
def test_in_place_depthwise_groups_and_tail(channels):
    layer = apply_in_place(schedule(lower(in_place_depthwise(channels)))).layers[-1]
    assert layer.kernel == "tg_depthwise_inplace_s8"
    assert layer.scratch_bytes == DEPTHWISE_INPLACE_GROUP * 6 * 5
    assert_bit_exact(in_place_depthwise(channels))


def variants_chain() -> GraphBuilder:
    """The window edges above and a fully connected tail in one model, so that one firmware per
    board covers them (the in-place kernels run in test_memory.py and the MLPerf models)."""
    rng = np.random.default_rng(21)
    g = GraphBuilder()

    def window(kind, x, in_hw, channels, out_c_or_mult, kernel, stride=(1, 1), dilation=(1, 1), padding="SAME"):
        out_c = out_c_or_mult if kind == "CONV_2D" else channels * out_c_or_mult
        if kind == "CONV_2D":
            w, options = weights(g, rng, (out_c, *kernel, channels), axis=0), {}
        else:
            w, options = weights(g, rng, (1, *kernel, out_c), axis=3), {"depth_multiplier": out_c_or_mult}
        out_hw = tuple(output_size(padding, in_hw[a], kernel[a], stride[a], dilation[a]) for a in range(2))
        y = g.tensor((1, *out_hw, out_c), scale=0.05, zero_point=int(rng.integers(-20, 20)))
        g.op(
            kind,
            [x, w, bias(g, rng, out_c)],
            [y],
            padding=padding,
            stride_h=stride[0],
            stride_w=stride[1],
            dilation_h_factor=dilation[0],
            dilation_w_factor=dilation[1],
            fused_activation_function="RELU",
            **options,
        )
        return y, out_hw, out_c

    x = g.tensor((1, 9, 8, 3), scale=0.05, zero_point=4)
    y, hw, c = window("CONV_2D", x, (9, 8), 3, 7, (3, 3))
    y, hw, c = window("DEPTHWISE_CONV_2D", y, hw, c, 1, (3, 3))
    y, hw, c = window("CONV_2D", y, hw, c, 7, (3, 3), dilation=(2, 2))
    y, hw, c = window("DEPTHWISE_CONV_2D", y, hw, c, 2, (3, 3), stride=(2, 2))
    y, hw, c = window("CONV_2D", y, hw, c, 9, (2, 3), stride=(1, 2), padding="VALID")
    return g.build([x], [_fully_connected(g, rng, y, 0.05, hw[0] * hw[1] * c, 5)])  # reads y as one row


def test_variants_chain_on_the_host():
    assert_bit_exact(variants_chain())


@pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="needs arm-none-eabi-gcc and qemu-system-arm",
)
@pytest.mark.parametrize("board_id", ["mps2-an386", "lm3s6965evb"])
@pytest.mark.parametrize("build", [variants_chain, lambda: in_place_depthwise(7)], ids=["chain", "in-place depthwise"])
def test_variants_chain_on_qemu(build, board_id, tmp_path, monkeypatch):
    pytest.importorskip("platformio")
    monkeypatch.setenv("TINYGEN_CACHE_DIR", str(tmp_path / "cache"))
    data = write_tflite(build())
    model = LoadedModel(parse_tflite(data), data, "variants.tflite")
    compiled = compile_model(model)
    board = load_board(board_id)
    elf = build_firmware(compiled, board, tmp_path / "fw").build.elf
    with LinkTarget.open(board, model.graph, elf=elf) as target:
        outcome = verify(target, compiled, random_samples(model.graph, 4, seed=2))
    assert outcome.bit_exact, outcome.summary()


def _near_int32_max_bias_model(kind: str):
    """One output whose bias sits just under INT32_MAX, with weights that sum to 0 and an input at
    its zero point: the reference's sums stay 0, but a sum started from the folded bias passes
    through INT32_MAX + 16256 before it comes back (C's signed overflow unless it wraps)."""
    g = GraphBuilder()
    w = np.array([-127] * 4 + [127] * 4)
    shape = (1, 1, 1, 8) if kind == "CONV_2D" else (1, 8)
    x = g.tensor(shape, scale=0.05, zero_point=-128)
    weights_ = g.const(
        w.reshape(1, 1, 1, 8) if kind == "CONV_2D" else w.reshape(1, 8),
        "int8",
        scale=[0.01] if kind == "CONV_2D" else 0.01,
        zero_point=0,
        axis=0,
    )
    b = g.const(np.array([2**31 - 1000]), "int32", scale=0.0005, zero_point=0)
    y = g.tensor((1, 1, 1, 1) if kind == "CONV_2D" else (1, 1), scale=1e6, zero_point=0)
    options = (
        {"padding": "VALID", "stride_h": 1, "stride_w": 1, "dilation_h_factor": 1, "dilation_w_factor": 1}
        if kind == "CONV_2D"
        else {"keep_num_dims": False}
    )
    g.op(kind, [x, weights_, b], [y], fused_activation_function="NONE", **options)
    return g.build([x], [y]), [[np.full(shape, -128, dtype=np.int8)]]


@pytest.mark.parametrize("kind", ["CONV_2D", "FULLY_CONNECTED"])
def test_sums_from_the_folded_bias_wrap_like_the_reference(kind):
    graph, inputs = _near_int32_max_bias_model(kind)
    assert_bit_exact(graph, inputs=inputs)  # UBSan aborts on a signed overflow


def test_in_place_convolution_is_not_used_for_batches_above_one():
    """A RESHAPE inside the model can make a batch of 2; the ring-buffer kernel handles batch 1 only."""
    rng = np.random.default_rng(1)
    g = GraphBuilder()
    window = {
        "padding": "SAME",
        "stride_h": 1,
        "stride_w": 1,
        "dilation_h_factor": 1,
        "dilation_w_factor": 1,
        "fused_activation_function": "NONE",
    }
    x = g.tensor((1, 8, 4, 1), scale=0.05, zero_point=3)
    h = g.tensor((1, 8, 4, 8), scale=0.05, zero_point=-5)
    g.op("CONV_2D", [x, weights(g, rng, (8, 1, 1, 1), axis=0), bias(g, rng, 8)], [h], **window)
    batched = g.tensor((2, 4, 4, 8), scale=0.05, zero_point=-5)
    g.op("RESHAPE", [h], [batched])
    y = g.tensor((2, 4, 4, 8), scale=0.05, zero_point=2)
    g.op("CONV_2D", [batched, weights(g, rng, (8, 3, 3, 8), axis=0), bias(g, rng, 8)], [y], **window)
    out = g.tensor((1, 256), scale=0.05, zero_point=2)
    g.op("RESHAPE", [y], [out])
    graph = g.build([x], [out])
    kernels = [layer.kernel for layer in apply_in_place(schedule(lower(graph))).layers if layer.kernel]
    assert kernels[-1] == "tg_conv_s8"
    assert_bit_exact(graph)
