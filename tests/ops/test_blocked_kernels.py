"""The blocked convolution and fully connected kernels (firmware/tg_matmul.h) on the edges their blocking
makes, against tflite-micro.

Convolution computes two output channels for two pixels per pass over int16 im2col columns, K in
groups of four (four groups a loop pass); fully connected four rows (two mixed pairs) per pass over
the input widened to int16 in chunks of 32 groups. Each layer of the chain below sits on one edge:
an odd last channel, an odd last pixel, an odd number of groups, a partial last group, window rows
that straddle groups (gathered in a staging row first), rows cut by the padding with few channels,
dilation, whole-group taps cut by the padding, pointwise, each of the three requantization modes,
fully connected blocks of two pairs and one pair and an odd last row (alone too), a weight zero
point, a partial input group and several batches; an input of three chunks, the last partial. Larger
convolutions take mixed pairs (tinygen/ops/matmul.py: one SXTB16 per weight word, the columns' sums
correcting the first channel): the mixed chain covers them in each mode, with an odd last channel, a
partial last group and an odd last pixel, and shifts past -23 (the output offset added after the
shift). The in-place convolution keeps a ring of pad_h + 1 rows (none for 1x1).
The host runs the portable C under sanitizers; the QEMU boards run the DSP path (Cortex-M4, M7, M33)
and the portable one (Cortex-M3) from the same firmware sources.
"""

import numpy as np
import pytest

from tinygen.builder import GraphBuilder
from tinygen.compiler.inplace import apply_in_place
from tinygen.compiler.lower import lower
from tinygen.compiler.schedule import schedule
from tinygen.ops.fully_connected import FC_CHUNK_GROUPS, fc_scratch_bytes
from tinygen.ops.geometry import output_size
from tinygen.ops.matmul import FAST_CLAMP, FAST_SATURATE, MIXED, OFFSET_AFTER, REFERENCE, groups_of

from ..bitexact import assert_bit_exact
from ..helpers import QEMU_BOARDS, verify_on_board


class _Chain:
    """Appends int8 layers to one activation, each with its own quantization."""

    def __init__(self, shape, zero_point: int, seed: int) -> None:
        self.g = GraphBuilder()
        self.rng = np.random.default_rng(seed)
        self.x = self.y = self.g.tensor(shape, scale=0.05, zero_point=zero_point)

    def conv(self, out_c, kernel, padding="SAME", stride=(1, 1), dilation=(1, 1), activation="NONE", **quant):
        _, h, w, c = self.g.tensors[self.y].shape
        data = self.rng.integers(-128, 128, (out_c, *kernel, c))  # -128 too: the kernels must take it
        data.reshape(out_c, -1)[:, 0] = -128
        scales = 10 ** self.rng.uniform(-3.5, -1, out_c)
        w_t = self.g.const(data, "int8", scale=scales.tolist(), zero_point=0, axis=0)
        out_hw = [output_size(padding, (h, w)[a], kernel[a], stride[a], dilation[a]) for a in range(2)]
        quant = quant or {"scale": 0.05, "zero_point": int(self.rng.integers(-20, 20))}
        y = self.g.tensor((1, *out_hw, out_c), **quant)
        scales = np.asarray(self.g.tensors[w_t].quant.scale) * self.g.tensors[self.y].quant.scale[0]
        b = self.g.const(self.rng.integers(-3000, 3000, out_c), "int32", scale=scales.tolist(), zero_point=0)
        self.g.op(
            "CONV_2D",
            [self.y, w_t, b],
            [y],
            padding=padding,
            stride_h=stride[0],
            stride_w=stride[1],
            dilation_h_factor=dilation[0],
            dilation_w_factor=dilation[1],
            fused_activation_function=activation,
        )
        self.y = y

    def reshape(self, shape):
        y = self.g.tensor(shape, **_quant_of(self.g, self.y))
        self.g.op("RESHAPE", [self.y], [y])
        self.y = y

    def fully_connected(self, units, weight_zero_point=0, activation="NONE", scale=0.05):
        rows, depth = self.g.tensors[self.y].shape
        low, high = -128 + max(weight_zero_point, 0), 128 + min(weight_zero_point, 0)
        w = self.g.const(
            self.rng.integers(low, high, (units, depth)), "int8", scale=0.004, zero_point=weight_zero_point
        )
        x_scale = self.g.tensors[self.y].quant.scale[0]
        b = self.g.const(self.rng.integers(-3000, 3000, units), "int32", scale=x_scale * 0.004, zero_point=0)
        y = self.g.tensor((rows, units), scale=scale, zero_point=int(self.rng.integers(-20, 20)))
        self.g.op("FULLY_CONNECTED", [self.y, w, b], [y], fused_activation_function=activation, keep_num_dims=False)
        self.y = y

    def build(self):
        return self.g.build([self.x], [self.y])


def _quant_of(g, t):
    return {"scale": g.tensors[t].quant.scale[0], "zero_point": g.tensors[t].quant.zero_point[0]}


def blocked_chain():
    """Every edge of the blocked kernels in one model, so that one firmware per board covers them."""
    c = _Chain((1, 7, 9, 3), zero_point=-128, seed=5)  # the extreme input offset
    c.conv(5, (3, 3), activation="RELU6")  # rows of 9 bytes straddle groups; odd channel, 63 pixels; clamp
    c.conv(6, (1, 3))  # one row of 15 bytes cut by the padding: staged; 7 groups per window
    c.conv(8, (3, 3), dilation=(2, 2))  # dilated taps of 6 bytes: staged tap by tap
    c.conv(4, (3, 2), padding="VALID", stride=(2, 3))  # 8 channels: whole rows straight from the input
    c.conv(4, (3, 3))  # 4 channels: taps cut by the padding, group by group
    c.conv(7, (1, 1), scale=0.0005, zero_point=3)  # pointwise, odd channel; a left shift: the reference path
    _, h, w, ch = c.g.tensors[c.y].shape
    c.reshape((1, h * w * ch))
    c.fully_connected(7, weight_zero_point=-3)  # rows 4 + 2 + 1; depth 63: a partial group; a weight zero point
    c.fully_connected(11)  # 4 + 4 + 2 + 1 rows; depth 7: one whole group and a partial one
    c.fully_connected(8, activation="RELU")  # 4 + 4 rows; depth 11; clamped
    c.fully_connected(2, scale=0.00005)  # one pair alone, depth 8 (two groups); a left shift: the reference path
    c.fully_connected(1)  # one row alone
    return c


def test_the_chain_takes_every_path():
    """The edges named above are where they are said to be (so that the chain keeps its coverage)."""
    layers = [layer for layer in lower(blocked_chain().build()).layers if layer.kernel]
    convs = [layer for layer in layers if layer.kernel == "tg_conv_s8"]
    modes = [int(layer.consts["quant"][0]) for layer in layers if "quant" in layer.consts]
    assert modes[0] == FAST_CLAMP and modes[1] == FAST_SATURATE and modes[5] == REFERENCE
    ks = [p.filter.h * p.filter.w * p.input.c for p in (layer.params for layer in convs)]
    assert ks == [27, 15, 54, 48, 36, 4]  # 7, 4, 14, 12, 9 and 1 groups; the first three end in a partial one
    pixels = [p.output.h * p.output.w for p in (layer.params for layer in convs)]
    assert pixels[0] % 2 and pixels[3] % 2
    fcs = [layer for layer in layers if layer.kernel == "tg_fully_connected_s8"]
    assert [(layer.params.input_depth, layer.params.output_depth) for layer in fcs] == [
        (63, 7),
        (7, 11),
        (11, 8),
        (8, 2),
        (2, 1),
    ]
    fc_modes = [int(layer.consts["quant"][0]) - MIXED for layer in fcs]
    assert fc_modes == [FAST_SATURATE, FAST_SATURATE, FAST_CLAMP, REFERENCE, FAST_SATURATE]


def mixed_chain():
    """Layers large enough for mixed pairs, one per requantization mode."""
    c = _Chain((1, 5, 7, 5), zero_point=-128, seed=11)  # 35 pixels: an odd last one
    c.conv(17, (3, 3), activation="RELU6")  # K 45: 12 groups, the last partial; 8 pairs and an odd channel
    c.conv(16, (3, 3))  # K 153
    c.conv(12, (3, 3), scale=0.0005, zero_point=3)  # K 144; a left shift: the reference path
    c.conv(10, (3, 3), scale=40.0, zero_point=-7)  # K 108; shifts past -23: the offset after the shift
    c.conv(3, (1, 1), scale=1e6, zero_point=5)  # plain pairs, an odd channel; the offset after the shift
    return c


def _modes(chain) -> list[int]:
    return [int(layer.consts["quant"][0]) for layer in lower(chain.build()).layers if "quant" in layer.consts]


def test_the_mixed_chain_takes_mixed_pairs():
    """Mixed pairs in each mode there; none in the small convolutions of the other chain (its fully
    connected layers always take them)."""
    assert _modes(mixed_chain()) == [
        FAST_CLAMP + MIXED,
        FAST_SATURATE + MIXED,
        REFERENCE + MIXED,
        FAST_SATURATE + MIXED + OFFSET_AFTER,
        FAST_SATURATE + OFFSET_AFTER,
    ]
    assert not any(mode & MIXED for mode in _modes(blocked_chain())[:6])


def fc_batches():
    """Fully connected over three rows of input (three batches), each row against every weight row."""
    c = _Chain((1, 39), zero_point=127, seed=8)
    c.reshape((3, 13))
    c.fully_connected(6)
    return c


def fc_long():
    """An input row of three chunks (76 groups: 32, 32, 12, the last partial), the sums kept between them."""
    c = _Chain((1, 301), zero_point=-5, seed=9)
    c.fully_connected(13)  # 4 + 4 + 4 + 1 rows, each through the three chunks
    c.fully_connected(7)  # 4 + 2 + 1 rows, one chunk
    return c


def test_the_long_input_takes_chunks():
    fcs = [layer for layer in lower(fc_long().build()).layers if layer.kernel == "tg_fully_connected_s8"]
    assert [groups_of(layer.params.input_depth) for layer in fcs] == [76, 4]
    assert [fc_scratch_bytes(layer.params) for layer in fcs] == [8 * FC_CHUNK_GROUPS + 4 * 13, 8 * 4]
    assert FC_CHUNK_GROUPS == 32


@pytest.mark.parametrize(
    "build", [blocked_chain, mixed_chain, fc_batches, fc_long], ids=["chain", "mixed chain", "fc batches", "fc long"]
)
def test_blocked_kernels_on_the_host(build):
    assert_bit_exact(build().build())


def in_place_conv(kernel, width, channels=8):  # 16 channels at 3x3: mixed pairs
    """A convolution over a tensor that dies there and is the peak: the planner takes the in-place kernel."""
    c = _Chain((1, 9, width, 1), zero_point=3, seed=width)
    c.conv(channels, (1, 1))
    c.conv(channels, kernel, activation="RELU")
    return c.build()


@pytest.mark.parametrize(
    "kernel, width, channels",
    [((3, 3), 7, 8), ((5, 5), 6, 8), ((1, 3), 5, 8), ((1, 1), 5, 8), ((3, 3), 5, 16)],
    ids=["3x3, a ring of 2 rows, odd width", "5x5, a ring of 3 rows", "1x3, a ring of 1 row", "1x1, no ring", "mixed"],
)
def test_in_place_convolution(kernel, width, channels):
    graph = in_place_conv(kernel, width, channels)
    assert apply_in_place(schedule(lower(graph))).layers[-1].kernel == "tg_conv_inplace_s8"
    assert_bit_exact(graph)


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
@pytest.mark.parametrize(
    "build",
    [
        lambda: blocked_chain().build(),
        lambda: mixed_chain().build(),
        lambda: fc_batches().build(),
        lambda: fc_long().build(),
        lambda: in_place_conv((3, 3), 7),
        lambda: in_place_conv((3, 3), 5, 16),
    ],
    ids=["chain", "mixed chain", "fc batches", "fc long", "in-place 3x3", "in-place mixed"],
)
def test_blocked_kernels_on_qemu(build, board_id, qemu_ready, tmp_path):
    outcome = verify_on_board(build(), board_id, tmp_path, samples=4)
    assert outcome.bit_exact, outcome.summary()
