"""FULLY_CONNECTED -> tg_fully_connected_s8; with int16 activations (16x8) tg_fully_connected_s16
(tg_fully_connected_s16_acc32 for an int32 bias)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, tensor_args
from ..ir import Graph, Op, Tensor
from .checks import channel_multipliers, check_bias, check_weights, fused_activation, int8_io, require
from .conv import folded_bias
from .int16 import (
    accumulates_in_int32,
    activation_bounds,
    check_bias_s16,
    int16_io,
    require_wide_shifts,
    runs_int16,
)
from .matmul import GROUP, groups_of, mixed_biases, mixed_pair_blocks, quant_records
from .record import ACTIVATION, BIAS, WEIGHTS, OpDef, Options, Quantization

PAIRS_PER_BLOCK = 2  # firmware/tg_fully_connected.c: four rows a pass
FC_CHUNK_GROUPS = 32  # TG_FC_CHUNK_GROUPS: groups of four input values widened at a time


@dataclass(frozen=True)
class FullyConnectedParams:
    C_TYPE = "tg_fully_connected_params"
    C_FILE = "tg_fully_connected.c"
    batches: int
    input_depth: int
    output_depth: int
    input_offset: int
    filter_offset: int
    output_offset: int
    act_min: int
    act_max: int


def _shapes(op: Op, graph: Graph, x: Tensor, y: Tensor) -> tuple[Tensor, int, Tensor | None, int]:
    """(weights, bias index or -1, bias, batches), with the shapes checked."""
    weights = graph.tensor(op.inputs[1])
    bias_index = op.inputs[2] if len(op.inputs) > 2 else -1
    require(len(weights.shape) == 2, op, "weights must be 2-D [outputs, depth]")
    out_depth, depth = weights.shape
    require(x.size % depth == 0, op, f"input size {x.size} is not a multiple of the weights' depth {depth}")
    batches = x.size // depth
    require(y.size == batches * out_depth, op, "output size does not match the weights")
    check_weights(op, weights, out_depth, axis=0)
    bias = graph.tensor(bias_index) if bias_index >= 0 else None
    return weights, bias_index, bias, batches


def _params(x: Tensor, weights: Tensor, y: Tensor, batches: int, act_range: tuple[int, int]) -> FullyConnectedParams:
    out_depth, depth = weights.shape
    return FullyConnectedParams(
        batches=batches,
        input_depth=depth,
        output_depth=out_depth,
        input_offset=-x.zero_point,
        # the per-channel reference kernel ignores the weights' zero point
        filter_offset=0 if weights.quant.per_channel else -weights.quant.zero_point[0],
        output_offset=y.zero_point,
        act_min=act_range[0],
        act_max=act_range[1],
    )


def lower_fully_connected(op: Op, graph: Graph) -> Layer:
    if runs_int16(op, graph):
        return lower_fully_connected_s16(op, graph)
    (x,), y = int8_io(op, graph)
    weights, _, bias, batches = _shapes(op, graph, x, y)
    out_depth = weights.shape[0]
    check_bias(op, bias, out_depth)
    multiplier, shift = channel_multipliers(x.scale, weights, y.scale, out_depth)
    params = _params(x, weights, y, batches, fused_activation(op, y))
    # the records take the bias with the input offset's share folded in
    folded = folded_bias(weights.data, None if bias is None else bias.data, params.input_offset, axis=0)
    consts = {
        "weights": mixed_pair_blocks(weights.data.reshape(out_depth, -1), PAIRS_PER_BLOCK),
        "quant": quant_records(mixed_biases(folded), multiplier, shift, params.act_min, params.act_max, mixed=True),
    }
    args = (
        *tensor_args(op.inputs[0]),
        Arg("const", "weights"),
        Arg("const", "quant"),
        *tensor_args(op.outputs[0]),
        Arg("scratch"),
    )
    return Layer(op, "tg_fully_connected_s8", params, args, consts, scratch_bytes=fc_scratch_bytes(params))


def fc_scratch_bytes(p: FullyConnectedParams) -> int:
    """tg_fully_connected_s8's scratch: the input row widened to int16, FC_CHUNK_GROUPS groups of
    four at most, then for a longer row one int32 sum per output row, kept between its chunks."""
    groups = groups_of(p.input_depth)
    widened = 2 * GROUP * min(groups, FC_CHUNK_GROUPS)
    return widened + (4 * p.output_depth if groups > FC_CHUNK_GROUPS else 0)


def _check_bias_scale(op: Op, x: Tensor, weights: Tensor, y: Tensor, bias: Tensor | None) -> None:
    """tflite-micro's Prepare for per-tensor weights: the bias scale (0 when unquantized) within 2% of
    the output scale of input scale x weight scale."""
    if bias is None or weights.quant.per_channel:
        return
    bias_scale = bias.quant.scale[0] if bias.quant is not None else 0.0
    require(
        abs(x.scale * weights.quant.scale[0] - bias_scale) / y.scale <= 0.02,
        op,
        f"bias scale {bias_scale:g} is too far from input scale x weight scale; tflite-micro refuses it",
    )


def lower_fully_connected_s16(op: Op, graph: Graph) -> Layer:
    """16x8: int64 sums and requantization, or int32 ones where the bias is int32 (tflite-micro's choice)."""
    (x,), y = int16_io(op, graph)
    weights, bias_index, bias, batches = _shapes(op, graph, x, y)
    check_bias_s16(op, bias, weights.shape[0], ("int64", "int32"))
    _check_bias_scale(op, x, weights, y, bias)
    multiplier, shift = channel_multipliers(x.scale, weights, y.scale, weights.shape[0])
    narrow = accumulates_in_int32(op, bias)
    if not narrow:
        require_wide_shifts(op, shift)
    params = _params(x, weights, y, batches, activation_bounds(op, y))
    args = (
        *tensor_args(op.inputs[0], op.inputs[1], bias_index),
        Arg("const", "multiplier"),
        Arg("const", "shift"),
        *tensor_args(op.outputs[0]),
    )
    kernel = "tg_fully_connected_s16_acc32" if narrow else "tg_fully_connected_s16"
    return Layer(op, kernel, params, args, {"multiplier": multiplier, "shift": shift})


def fully_connected_macs(op: Op, graph: Graph) -> int:
    return graph.tensor(op.outputs[0]).size * graph.tensor(op.inputs[1]).shape[-1]


def fully_connected_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    x, w, b = (args + [None])[:3]
    y = x.reshape(-1, w.shape[1]) @ w.T
    y = y if b is None else y + b
    return y.reshape(x.shape[0], -1)


OPS = (
    OpDef(
        "FULLY_CONNECTED",
        lower_fully_connected,
        notes="int8 and 16x8; per-tensor and per-channel weights, optional bias, any input rank",
        slots=(ACTIVATION, WEIGHTS, BIAS),
        optional_inputs=(2,),
        options=Options("FullyConnectedOptions", ("fused_activation_function", "keep_num_dims", "quantized_bias_type")),
        macs=fully_connected_macs,
        float_reference=fully_connected_float,
        quantization=Quantization(weight_axis=0),
    ),
)
