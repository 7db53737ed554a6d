"""CONV_2D -> tg_conv_s8; with int16 activations (16x8) tg_conv_s16 (tg_conv_s16_acc32 for an int32
bias). DEPTHWISE_CONV_2D shares the window helpers here (tinygen/ops/depthwise.py)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, View, tensor_args
from ..errors import TinygenError
from ..ir import Graph, Op, Tensor
from .checks import channel_multipliers, check_bias, check_weights, require
from .cstruct import Dims
from .geometry import float_windows, window_padding
from .int16 import (
    accumulates_in_int32,
    activation_bounds,
    activation_io,
    check_bias_s16,
    require_wide_shifts,
    require_zero_points,
)
from .matmul import GROUP, groups_of, interleave_rows, mixed_biases, mixed_pairs, mixed_pays, quant_records
from .record import ACTIVATION, BIAS, WEIGHTS, OpDef, Options, Quantization

MAX_FILTER_H = 16  # TG_CONV_MAX_FILTER_H in firmware/tg_conv.h


@dataclass(frozen=True)
class ConvParams:
    C_TYPE = "tg_conv_params"
    C_FILE = "tg_conv.c"
    input: Dims
    filter: Dims
    output: Dims
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


def conv_scratch_bytes(p: ConvParams) -> int:
    """tg_conv_s8's scratch (firmware/tg_conv.c): two int16 columns of the window's groups, then the
    staging of window rows that do not start on a group: the whole window in whole groups where rows
    straddle groups, one row where only taps cut by the padding (or dilation) need gathering."""
    row = p.filter.w * p.input.c
    groups = groups_of(p.filter.h * row)
    columns = 2 * GROUP * 2 * groups
    if p.filter.h > 1 and row % GROUP:
        return columns + groups * GROUP
    return columns + (0 if p.input.c % GROUP == 0 or p.filter.w == 1 else row)


def conv_inplace_scratch_bytes(p: ConvParams) -> int:
    """tg_conv_inplace_s8's scratch: a ring of pad_h + 1 input rows (none for a 1x1 filter), rounded
    up to a word, then tg_conv_s8's."""
    ring = 0 if p.filter.h == p.filter.w == 1 else (p.pad_h + 1) * p.input.w * p.input.c
    return -(-ring // 4) * 4 + conv_scratch_bytes(p)


def folded_bias(weights: np.ndarray, bias: np.ndarray | None, input_offset: int, axis: int) -> np.ndarray:
    """bias + input_offset * the sum of each output channel's weights (output channels along axis),
    wrapped to int32 as the reference's int32 sums wrap."""
    sums = np.moveaxis(weights.astype(np.int64), axis, 0).reshape(weights.shape[axis], -1).sum(axis=1)
    folded = sums * input_offset + (0 if bias is None else bias.astype(np.int64))
    return ((folded + 2**31) % 2**32 - 2**31).astype(np.int32)


def _window(op: Op, graph: Graph):
    (x,), y = activation_io(op, graph)
    weights = graph.tensor(op.inputs[1])
    bias_index = op.inputs[2] if len(op.inputs) > 2 else -1
    bias = graph.tensor(bias_index) if bias_index >= 0 else None
    require(len(x.shape) == 4 and len(y.shape) == 4 and len(weights.shape) == 4, op, "expects 4-D NHWC tensors")
    o = op.options
    dilation = (o.get("dilation_h_factor", 1), o.get("dilation_w_factor", 1))
    pad_h, pad_w = window_padding(op, x.shape[1:3], weights.shape[1:3], y.shape[1:3], dilation)
    act_min, act_max = activation_bounds(op, y)
    common = dict(
        input=Dims.of(x.shape),
        filter=Dims.of(weights.shape),
        output=Dims.of(y.shape),
        stride_h=o["stride_h"],
        stride_w=o["stride_w"],
        dilation_h=dilation[0],
        dilation_w=dilation[1],
        pad_h=pad_h,
        pad_w=pad_w,
        input_offset=-x.zero_point,
        output_offset=y.zero_point,
        act_min=act_min,
        act_max=act_max,
    )
    return x, weights, bias, bias_index, y, common


def _layer(op, kernel, params, x, weights, bias_index, y, extra: dict[str, np.ndarray] | None = None) -> Layer:
    """The call (input, filter, bias, *extra consts, multiplier, shift, output)."""
    multiplier, shift = channel_multipliers(x.scale, weights, y.scale, y.shape[3])
    extra = extra or {}
    args = (
        *tensor_args(op.inputs[0], op.inputs[1], bias_index),
        *(Arg("const", name) for name in extra),
        Arg("const", "multiplier"),
        Arg("const", "shift"),
        *tensor_args(op.outputs[0]),
    )
    return Layer(op, kernel, params, args, consts={**extra, "multiplier": multiplier, "shift": shift})


def _check_s16(op: Op, x: Tensor, weights: Tensor, y: Tensor) -> None:
    """The 16x8 kernels ignore every zero point: tflite-micro computes as if they were 0."""
    require_zero_points(op, [x, y], "tflite-micro's 16x8 convolution ignores it")
    require(
        all(z == 0 for z in weights.quant.zero_point), op, "16x8 weights need zero point 0 (tflite-micro ignores it)"
    )


def lower_conv(op: Op, graph: Graph) -> Layer:
    x, weights, bias, bias_index, y, common = _window(op, graph)
    out_c, _, _, f_c = weights.shape
    require(f_c == x.shape[3], op, "grouped convolution is not supported")
    if x.dtype == "int16":
        return _lower_conv_s16(op, x, weights, bias, bias_index, y, common)
    require(weights.shape[1] <= MAX_FILTER_H, op, f"filters taller than {MAX_FILTER_H} rows are not supported")
    require(out_c == y.shape[3], op, "weights and output disagree on the channel count")
    check_weights(op, weights, out_c, axis=0)
    check_bias(op, bias, out_c)
    params = ConvParams(**common)
    multiplier, shift = channel_multipliers(x.scale, weights, y.scale, out_c)
    biases = np.zeros(out_c, np.int32) if bias is None else bias.data
    rows = weights.data.reshape(out_c, -1)
    mixed = mixed_pays(*rows.shape)
    consts = {
        "weights": mixed_pairs(rows) if mixed else interleave_rows(rows, block=2),
        "quant": quant_records(
            mixed_biases(biases) if mixed else biases, multiplier, shift, params.act_min, params.act_max, mixed
        ),
    }
    args = (
        *tensor_args(op.inputs[0]),
        Arg("const", "weights"),
        Arg("const", "quant"),
        *tensor_args(op.outputs[0]),
        Arg("scratch"),
    )
    return Layer(op, "tg_conv_s8", params, args, consts, scratch_bytes=conv_scratch_bytes(params))


def _lower_conv_s16(
    op: Op, x: Tensor, weights: Tensor, bias: Tensor | None, bias_index: int, y: Tensor, common: dict
) -> Layer:
    """16x8: int64 sums and requantization, or int32 ones where the bias is int32 (tflite-micro's choice)."""
    out_c = weights.shape[0]
    require(out_c == y.shape[3], op, "weights and output disagree on the channel count")
    check_weights(op, weights, out_c, axis=0)
    check_bias_s16(op, bias, out_c, ("int64", "int32"))
    _check_s16(op, x, weights, y)
    narrow = accumulates_in_int32(op, bias)
    layer = _layer(
        op, "tg_conv_s16_acc32" if narrow else "tg_conv_s16", ConvParams(**common), x, weights, bias_index, y
    )
    if not narrow:
        require_wide_shifts(op, layer.consts["shift"])
    return layer


def conv_variants(layer: Layer) -> tuple[Layer, ...]:
    """tg_conv_inplace_s8 for batch 1, stride 1, dilation 1 and equal input and output shapes (int8 only)."""
    p = layer.params
    if layer.kernel != "tg_conv_s8" or not (
        p.input == p.output and p.output.n == 1 and p.stride_h == p.stride_w == 1 and p.dilation_h == p.dilation_w == 1
    ):
        return ()
    *inputs, _output, scratch = layer.args  # the same arguments, less the output
    in_place = dataclasses.replace(
        layer,
        kernel="tg_conv_inplace_s8",
        args=(*inputs, scratch),
        scratch_bytes=conv_inplace_scratch_bytes(p),
        views=(View(layer.op.outputs[0], layer.op.inputs[0]),),
    )
    return (in_place,)


def _in_place(layer: Layer, kernel: str, scratch: int) -> Layer:
    *inputs, _output = layer.args  # the in-place kernels take the same arguments, scratch for the output
    return dataclasses.replace(
        layer,
        kernel=kernel,
        args=(*inputs, Arg("scratch")),
        scratch_bytes=scratch,
        views=(View(layer.op.outputs[0], layer.op.inputs[0]),),
    )


def conv_macs(op: Op, graph: Graph) -> int:
    _, kh, kw, ic = graph.tensor(op.inputs[1]).shape
    return graph.tensor(op.outputs[0]).size * kh * kw * ic


def conv_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    x, w, b = (args + [None])[:3]
    _, kh, kw, cin = w.shape
    if cin != x.shape[3]:
        raise TinygenError(f"op {op.index} (CONV_2D): grouped convolution is not supported")
    win = float_windows(x, op, out.shape[1:3], (kh, kw))
    y = np.tensordot(win, w.transpose(3, 1, 2, 0), axes=([3, 4, 5], [0, 1, 2]))
    return y if b is None else y + b


_WINDOW_FIELDS = (
    "padding",
    "stride_w",
    "stride_h",
    "fused_activation_function",
    "dilation_w_factor",
    "dilation_h_factor",
)

OPS = (
    OpDef(
        "CONV_2D",
        lower_conv,
        notes="int8 and 16x8; stride, dilation, SAME/VALID, per-channel or per-tensor weights, optional bias",
        slots=(ACTIVATION, WEIGHTS, BIAS),
        optional_inputs=(2,),
        options=Options("Conv2DOptions", (*_WINDOW_FIELDS, "quantized_bias_type")),
        macs=conv_macs,
        float_reference=conv_float,
        quantization=Quantization(weight_axis=0),
        variants=conv_variants,
    ),
)
