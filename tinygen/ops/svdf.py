"""SVDF -> tg_svdf_s8_s16 (int16 memory, tflite-micro's usual int8 layout) or tg_svdf_s8_s8 (int8
memory). The memory is the op's variable tensor input: state kept from one invoke to the next, in
the state region (tinygen/compiler/state.py). docs/numerics/svdf.md has the arithmetic."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, tensor_args
from ..ir import Graph, Op, Tensor
from ..quantmath import quantize_multiplier
from .checks import check_bias, int8_io, require
from .conv import folded_bias
from .record import ACTIVATION, BIAS, WEIGHTS, OpDef, Options, Quantization

# tflite-micro's Prepare: |bias scale - state scale * time weight scale| below this, in double.
BIAS_SCALE_TOLERANCE = 1e-5


@dataclass(frozen=True)
class SvdfParams:
    C_TYPE = "tg_svdf_params"
    C_FILE = "tg_svdf.c"
    batches: int
    input_size: int
    filters: int
    rank: int
    memory: int
    feature_multiplier: int
    feature_shift: int
    state_zero_point: int
    output_multiplier: int
    output_shift: int
    output_offset: int


def _f32_scale(a: float, b: float, c: float) -> float:
    """a * b / c in float32, as tflite-micro computes the effective scales before widening them."""
    return float(np.float32(np.float32(a) * np.float32(b)) / np.float32(c))


def _operands(op: Op, graph: Graph) -> tuple[Tensor, Tensor, Tensor | None, Tensor]:
    """(feature weights, time weights, bias, state), checked as tflite-micro's Prepare checks them."""
    require(len(op.inputs) == 5, op, f"SVDF takes 5 inputs, not {len(op.inputs)}")
    weights_feature, weights_time, bias, state = (graph.tensor(i) if i >= 0 else None for i in op.inputs[1:])
    require(weights_feature is not None and weights_time is not None, op, "missing weights")
    require(state is not None and state.is_variable, op, "the state (input 4) must be a variable tensor")
    return weights_feature, weights_time, bias, state


def lower_svdf(op: Op, graph: Graph) -> Layer:
    (x,), y = int8_io(op, graph)
    weights_feature, weights_time, bias, state = _operands(op, graph)
    rank = int(op.options.get("rank", 0))
    require(len(x.shape) == 2 and len(y.shape) == 2, op, "input and output must be 2-D [batch, features]")
    batches, input_size = x.shape
    require(
        len(weights_feature.shape) == 2 and weights_feature.shape[1] == input_size,
        op,
        f"feature weights must be [filters, {input_size}]",
    )
    filters = weights_feature.shape[0]
    require(rank > 0 and filters % rank == 0, op, f"{filters} filters are not a multiple of rank {rank}")
    units = filters // rank
    require(
        len(weights_time.shape) == 2 and weights_time.shape[0] == filters and weights_time.shape[1] > 0,
        op,
        f"time weights must be [{filters}, memory]",
    )
    memory = weights_time.shape[1]
    require(y.shape == (batches, units), op, f"output must be [{batches}, {units}]")
    require(state.shape == (batches, memory * filters), op, f"the state must be [{batches}, {memory * filters}]")
    require(
        weights_feature.is_constant and weights_feature.dtype == "int8" and weights_feature.quant is not None,
        op,
        "feature weights must be constant int8",
    )
    require(not weights_feature.quant.per_channel, op, "feature weights must be quantized per tensor")
    require(
        weights_time.is_constant and weights_time.dtype in ("int16", "int8") and weights_time.quant is not None,
        op,
        "time weights must be constant int16 or int8",
    )
    require(state.dtype == weights_time.dtype, op, f"the state must be {weights_time.dtype}, as the time weights")
    require(state.quant is not None and not state.quant.per_channel, op, "the state needs per-tensor quantization")
    # tflite-micro's int8 Prepare reads the bias's scale without checking that there is a bias.
    require(bias is not None, op, "an int8 SVDF needs a bias (tflite-micro crashes without one)")
    check_bias(op, bias, units)
    bias_scale = bias.quant.scale[0] if bias.quant is not None else 0.0
    product = float(np.float32(state.scale) * np.float32(weights_time.quant.scale[0]))
    require(
        abs(bias_scale - product) < BIAS_SCALE_TOLERANCE,
        op,
        f"bias scale {bias_scale:g} is not state scale x time weight scale ({product:g}); tflite-micro refuses it",
    )
    feature_multiplier, feature_shift = quantize_multiplier(
        _f32_scale(x.scale, weights_feature.quant.scale[0], state.scale)
    )
    output_multiplier, output_shift = quantize_multiplier(_f32_scale(state.scale, weights_time.quant.scale[0], y.scale))
    params = SvdfParams(
        batches=batches,
        input_size=input_size,
        filters=filters,
        rank=rank,
        memory=memory,
        feature_multiplier=feature_multiplier,
        feature_shift=feature_shift,
        state_zero_point=state.zero_point,
        output_multiplier=output_multiplier,
        output_shift=output_shift,
        output_offset=y.zero_point,
    )
    feature_bias = folded_bias(weights_feature.data, None, -x.zero_point, axis=0)
    args = (
        *tensor_args(op.inputs[0], op.inputs[1]),
        Arg("const", "feature_bias"),
        *tensor_args(op.inputs[2], op.inputs[3], op.inputs[4]),
        Arg("scratch"),
        *tensor_args(op.outputs[0]),
    )
    kernel = "tg_svdf_s8_s16" if state.dtype == "int16" else "tg_svdf_s8_s8"
    return Layer(op, kernel, params, args, {"feature_bias": feature_bias}, scratch_bytes=4 * batches * filters)


def svdf_float(op: Op, args: list, out: Tensor) -> dict[int, np.ndarray]:
    """The float SVDF with the batch as consecutive steps from a zero memory: the output and, for
    calibration, the memory at each step (each filter's last `memory` features, oldest first)."""
    x, weights_feature, weights_time, bias = args[:4]
    steps, (filters, memory) = x.shape[0], weights_time.shape
    features = x.reshape(steps, -1, weights_feature.shape[1]) @ weights_feature.T  # [steps, batches, filters]
    padded = np.concatenate([np.zeros((memory - 1, *features.shape[1:]), features.dtype), features])
    history = np.stack([padded[j : j + steps] for j in range(memory)], axis=-1)  # [steps, batches, filters, memory]
    sums = (history * weights_time).sum(axis=-1)
    rank = int(op.options["rank"])
    units = sums.reshape(steps, -1, filters // rank, rank).sum(axis=-1) + (0 if bias is None else bias)
    return {op.outputs[0]: units.reshape(steps, -1), op.inputs[4]: history.reshape(steps, -1)}


def _symmetric(values: np.ndarray, limit: int) -> tuple[np.ndarray, float]:
    """values quantized symmetrically per tensor to [-limit, limit], and the scale (float32)."""
    scale = float(np.float32(np.abs(values).max() / limit)) or 1.0
    return np.clip(np.round(values / scale), -limit, limit), scale


def svdf_operands(rewrite, op: Op) -> list[int]:
    """tflite-micro's int8 SVDF layout, as TFLite's quantizer writes it: int8 feature weights and int16
    time weights, symmetric per tensor; the memory int16 and symmetric over its calibrated range; the
    bias int32 at memory scale x time weight scale (in float32, which tflite-micro checks)."""
    graph, b = rewrite.graph, rewrite.b
    weights_feature, weights_time = graph.tensor(op.inputs[1]), graph.tensor(op.inputs[2])
    for w in (weights_feature, weights_time):
        require(w.dtype == "float32" and w.is_constant, op, "weights must be float32 constants to quantize")
    wf, wf_scale = _symmetric(weights_feature.data.astype(np.float64), 127)
    wt, wt_scale = _symmetric(weights_time.data.astype(np.float64), 32767)
    state = graph.tensor(op.inputs[4])
    low, high = rewrite.ranges[state.index]
    state_scale = float(np.float32(max(abs(low), abs(high)) / 32767)) or 1.0
    bias_scale = float(np.float32(state_scale) * np.float32(wt_scale))
    units = graph.tensor(op.outputs[0]).shape[-1]
    bias = graph.tensor(op.inputs[3]).data.astype(np.float64) if op.inputs[3] >= 0 else np.zeros(units)
    q_bias = np.clip(np.round(bias / bias_scale), -(2**31), 2**31 - 1)
    rewrite.map[state.index] = b.tensor(
        state.shape, "int16", scale=state_scale, zero_point=0, variable=True, name=state.name
    )
    return [
        rewrite.activation(op.inputs[0]),
        b.const(wf, "int8", scale=wf_scale, zero_point=0, name=weights_feature.name),
        b.const(wt, "int16", scale=wt_scale, zero_point=0, name=weights_time.name),
        b.const(q_bias, "int32", scale=bias_scale, zero_point=0, name=f"{graph.tensor(op.outputs[0]).name}_bias"),
        rewrite.map[state.index],
    ]


def svdf_macs(op: Op, graph: Graph) -> int:
    batches, input_size = graph.tensor(op.inputs[0]).shape
    filters, memory = graph.tensor(op.inputs[2]).shape
    return batches * filters * (input_size + memory)


OPS = (
    OpDef(
        "SVDF",
        lower_svdf,
        notes="int8 with an int16 or int8 memory (a variable tensor, kept between invokes)",
        slots=(ACTIVATION, WEIGHTS, WEIGHTS, BIAS, ACTIVATION),
        optional_inputs=(3,),  # the bias
        options=Options("SVDFOptions", ("rank", "fused_activation_function", "asymmetric_quantize_inputs")),
        macs=svdf_macs,
        float_reference=svdf_float,
        quantization=Quantization(operands=svdf_operands),
    ),
)
