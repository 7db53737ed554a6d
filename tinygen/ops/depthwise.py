"""DEPTHWISE_CONV_2D -> tg_depthwise_3x3_s8 where the shape allows (3x3, stride 1 or 2, depth
multiplier 1: MobileNet's and DS-CNN's layers), tg_depthwise_3x3_rows_s8 among those at stride 1
with long output rows (tinygen/ops/depthwise_rows.py), tg_depthwise_s8 otherwise, each with an
in-place variant; with int16 activations (16x8) tg_depthwise_s16."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, View, tensor_args
from ..ir import Graph, Op, Tensor
from .checks import channel_multipliers, check_bias, check_weights, require
from .conv import _check_s16, _in_place, _layer, _window
from .cstruct import Dims
from .depthwise_rows import plane_bytes, rows_table, takes_rows
from .geometry import float_windows
from .int16 import check_bias_s16, require_wide_shifts
from .record import ACTIVATION, BIAS, WEIGHTS, OpDef, Options, Quantization
from .requant_table import foldable, folded_table

DEPTHWISE_INPLACE_GROUP = 4  # TG_DEPTHWISE_INPLACE_GROUP in firmware/tg_depthwise.h
GROUP = 4  # channels per group of the 3x3 kernels, whose tables are laid out group by group


@dataclass(frozen=True)
class DepthwiseParams:
    C_TYPE = "tg_depthwise_params"
    C_FILE = "tg_depthwise.c"
    input: Dims
    filter: Dims
    output: Dims
    depth_multiplier: int
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    pad_h: int
    pad_w: int
    input_offset: int
    output_offset: int
    act_min: int
    act_max: int


def depthwise_inplace_scratch_bytes(p: DepthwiseParams) -> int:
    """The in-place kernels' scratch: one group of input channels, every pixel."""
    return min(DEPTHWISE_INPLACE_GROUP, p.input.c) * p.input.h * p.input.w


def lower_depthwise(op: Op, graph: Graph) -> Layer:
    x, weights, bias, bias_index, y, common = _window(op, graph)
    out_c = weights.shape[3]
    require(
        weights.shape[0] == 1 and out_c == y.shape[3] and x.shape[3] > 0 and out_c % x.shape[3] == 0,
        op,
        "depthwise weights must be [1, h, w, input channels * depth multiplier]",
    )
    check_weights(op, weights, out_c, axis=3)
    depth_multiplier = out_c // x.shape[3]
    # tflite-micro loops over the option's multiplier, not the weights': another one computes other channels.
    require(
        op.options.get("depth_multiplier") == depth_multiplier,
        op,
        f"depth_multiplier {op.options.get('depth_multiplier')} contradicts the weights, which give "
        f"{out_c} / {x.shape[3]} = {depth_multiplier}",
    )
    params = DepthwiseParams(depth_multiplier=depth_multiplier, **common)
    if x.dtype == "int16":
        # tflite-micro reads a 16x8 depthwise bias as int64 whatever its type: an int32 one it misreads.
        check_bias_s16(op, bias, out_c, ("int64",))
        _check_s16(op, x, weights, y)
        layer = _layer(op, "tg_depthwise_s16", params, x, weights, bias_index, y)
        require_wide_shifts(op, layer.consts["shift"])
        return layer
    check_bias(op, bias, out_c)
    multiplier, shift = channel_multipliers(x.scale, weights, y.scale, out_c)
    if takes_3x3(params) and takes_rows(params, multiplier, shift):
        table = rows_table(weights.data, None if bias is None else bias.data, multiplier, shift, y.zero_point, params)
        args = (*tensor_args(op.inputs[0]), Arg("const", "table"), *tensor_args(op.outputs[0]), Arg("scratch"))
        return Layer(
            op, "tg_depthwise_3x3_rows_s8", params, args, consts={"table": table}, scratch_bytes=plane_bytes(params)
        )
    if takes_3x3(params) and foldable(multiplier, shift):
        weight_table, quant_table = depthwise_3x3_tables(
            weights.data, None if bias is None else bias.data, multiplier, shift, y.zero_point
        )
        args = (*tensor_args(op.inputs[0]), Arg("const", "weights"), Arg("const", "quant"), *tensor_args(op.outputs[0]))
        return Layer(op, "tg_depthwise_3x3_s8", params, args, consts={"weights": weight_table, "quant": quant_table})
    return _layer(op, "tg_depthwise_s8", params, x, weights, bias_index, y)


def takes_3x3(p: DepthwiseParams) -> bool:
    """The shapes tg_depthwise_3x3_s8 computes: 3x3 filters, depth multiplier 1, no dilation, the same
    stride (1 or 2) both ways, at least one group of channels, and windows that reach at most one
    row or column into the padding on each side (SAME or VALID)."""

    def one_padded_edge(pad: int, out: int, stride: int, size: int) -> bool:
        return pad in (0, 1) and (out - 1) * stride - pad + 2 <= size

    return (
        p.depth_multiplier == 1
        and p.filter.h == p.filter.w == 3
        and p.dilation_h == p.dilation_w == 1
        and p.stride_h == p.stride_w in (1, 2)
        and p.input.c >= GROUP
        and one_padded_edge(p.pad_h, p.output.h, p.stride_h, p.input.h)
        and one_padded_edge(p.pad_w, p.output.w, p.stride_w, p.input.w)
    )


def group_channels(channels: int) -> np.ndarray:
    """Each group's first channel: 0, 4, ... and, for a count that is not a multiple of four, a last
    group at channels - 4 that overlaps the one before."""
    return np.minimum(np.arange(0, channels, GROUP), channels - GROUP)


def depthwise_3x3_tables(
    weights: np.ndarray, bias: np.ndarray | None, multiplier: np.ndarray, shift: np.ndarray, zero_point: int
) -> tuple[np.ndarray, np.ndarray]:
    """tg_depthwise_3x3_s8's tables, in the order it reads them (firmware/tg_depthwise.h): per group,
    each tap's channels (0, 2) and (1, 3) as int16 pairs; then per group its four biases and each
    channel's tg_requantize_folded table."""
    channels = weights.shape[3]
    lanes = group_channels(channels)[:, None] + np.arange(GROUP)  # groups x 4 channels
    taps = weights.reshape(9, channels).astype(np.int64)[:, lanes]  # taps x groups x 4

    def pairs(low: np.ndarray, high: np.ndarray) -> np.ndarray:
        return ((low & 0xFFFF) | ((high & 0xFFFF) << 16)).astype(np.uint32).view(np.int32)

    even, odd = pairs(taps[..., 0], taps[..., 2]), pairs(taps[..., 1], taps[..., 3])  # taps x groups
    weight_table = np.stack([even, odd], axis=-1).transpose(1, 0, 2).reshape(-1)
    biases = np.zeros(channels, np.int32) if bias is None else bias.astype(np.int32)
    requant = folded_table(multiplier, shift, zero_point)[lanes].reshape(len(lanes), -1)
    quant_table = np.concatenate([biases[lanes], requant], axis=1).reshape(-1)
    return weight_table, quant_table


def depthwise_variants(layer: Layer) -> tuple[Layer, ...]:
    """The in-place kernel (MIT TinyEngine's trick) for batch 1 and depth multiplier 1 (int8 only)."""
    p = layer.params
    if not (p.depth_multiplier == 1 and p.output.n == 1):
        return ()
    if layer.kernel == "tg_depthwise_3x3_rows_s8":  # the same plane as scratch, the output dropped
        *inputs, _output, scratch = layer.args
        in_place = dataclasses.replace(
            layer,
            kernel="tg_depthwise_3x3_rows_inplace_s8",
            args=(*inputs, scratch),
            views=(View(layer.op.outputs[0], layer.op.inputs[0]),),
        )
        return (in_place,)
    if layer.kernel not in IN_PLACE:
        return ()
    return (_in_place(layer, IN_PLACE[layer.kernel], depthwise_inplace_scratch_bytes(p)),)


IN_PLACE = {"tg_depthwise_s8": "tg_depthwise_inplace_s8", "tg_depthwise_3x3_s8": "tg_depthwise_3x3_inplace_s8"}


def depthwise_macs(op: Op, graph: Graph) -> int:
    _, kh, kw, _ = graph.tensor(op.inputs[1]).shape
    return graph.tensor(op.outputs[0]).size * kh * kw


def depthwise_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    x, w, b = (args + [None])[:3]
    _, kh, kw, cout = w.shape
    c = x.shape[3]
    win = float_windows(x, op, out.shape[1:3], (kh, kw))
    y = np.einsum("bhwckl,klcm->bhwcm", win, w.reshape(kh, kw, c, cout // c), optimize=True)
    y = y.reshape(*y.shape[:3], cout)
    return y if b is None else y + b


def depthwise_guard(op: Op, graph: Graph) -> str | None:
    if len(op.inputs) < 3 or op.inputs[2] < 0:
        return "has no bias; tflite-micro crashes on that"
    return None


OPS = (
    OpDef(
        "DEPTHWISE_CONV_2D",
        lower_depthwise,
        notes="int8 and 16x8; any depth multiplier; int8 in place where that lowers the arena",
        slots=(ACTIVATION, WEIGHTS, BIAS),
        optional_inputs=(2,),
        options=Options(
            "DepthwiseConv2DOptions",
            (
                "padding",
                "stride_w",
                "stride_h",
                "depth_multiplier",
                "fused_activation_function",
                "dilation_w_factor",
                "dilation_h_factor",
            ),
        ),
        macs=depthwise_macs,
        float_reference=depthwise_float,
        quantization=Quantization(weight_axis=3, bias_required=True),
        variants=depthwise_variants,
        reference_guard=depthwise_guard,
    ),
)
