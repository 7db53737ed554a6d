"""DEPTHWISE_CONV_2D -> tg_depthwise_s8 (in place: tg_depthwise_inplace_s8); with int16 activations
(16x8) tg_depthwise_s16."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Layer
from ..ir import Graph, Op, Tensor
from .checks import check_bias, check_weights, require
from .conv import _check_s16, _in_place, _layer, _window
from .cstruct import Dims
from .geometry import float_windows
from .int16 import check_bias_s16, require_wide_shifts
from .record import ACTIVATION, BIAS, WEIGHTS, OpDef, Options, Quantization

DEPTHWISE_INPLACE_GROUP = 4  # TG_DEPTHWISE_INPLACE_GROUP in firmware/tg_depthwise.h


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
    """tg_depthwise_inplace_s8's scratch: one group of input channels, every pixel."""
    return min(DEPTHWISE_INPLACE_GROUP, p.input.c) * p.input.h * p.input.w


def lower_depthwise(op: Op, graph: Graph) -> Layer:
    x, weights, bias, bias_index, y, common = _window(op, graph)
    out_c = weights.shape[3]
    require(
        weights.shape[0] == 1 and out_c == y.shape[3] and out_c % x.shape[3] == 0,
        op,
        "depthwise weights must be [1, h, w, input channels * depth multiplier]",
    )
    check_weights(op, weights, out_c, axis=3)
    params = DepthwiseParams(depth_multiplier=out_c // x.shape[3], **common)
    if x.dtype == "int16":
        # tflite-micro reads a 16x8 depthwise bias as int64 whatever its type: an int32 one it misreads.
        check_bias_s16(op, bias, out_c, ("int64",))
        _check_s16(op, x, weights, y)
        layer = _layer(op, "tg_depthwise_s16", params, x, weights, bias_index, y)
        require_wide_shifts(op, layer.consts["shift"])
        return layer
    check_bias(op, bias, out_c)
    return _layer(op, "tg_depthwise_s8", params, x, weights, bias_index, y)


def depthwise_inplace_variant(layer: Layer) -> Layer | None:
    """tg_depthwise_inplace_s8 (MIT TinyEngine's trick) for batch 1 and depth multiplier 1 (int8 only)."""
    p = layer.params
    if layer.kernel != "tg_depthwise_s8" or not (p.depth_multiplier == 1 and p.output.n == 1):
        return None
    return _in_place(layer, "tg_depthwise_inplace_s8", depthwise_inplace_scratch_bytes(p))


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
        in_place_variant=depthwise_inplace_variant,
        reference_guard=depthwise_guard,
    ),
)
