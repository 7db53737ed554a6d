"""SVDF, int8 with an int16 or int8 memory (tflite-micro's svdf_common.cc, EvalIntegerSvdfReference).

The memory (input 4, a variable tensor [batches, filters * memory]) holds each filter's last `memory`
features, oldest first. Each invoke shifts it one place left, writes the new features
sum((x - z_in) * w_feature) requantized by s_in * s_wf / s_state (clamped to the memory's type, plus its
zero point) at the end, then sums each filter's memory times its time weights, adds the filters of a
unit (rank of them) and the bias, and requantizes by s_state * s_wt / s_out into int8. The fused
activation is not applied on this path. The scales are combined in float32, as tflite-micro's Prepare
multiplies the tensors' float scales.
"""

from __future__ import annotations

import numpy as np

from .arith import TYPE_RANGE, mbqm, quantize_multiplier, saturate, wrap32
from .registry import Node, kernel


def _scale(a: float, b: float, c: float) -> float:
    return float(np.float32(np.float32(a) * np.float32(b)) / np.float32(c))


@kernel("SVDF")
def svdf(node: Node):
    x, weights_feature, weights_time, bias, state = (node.input(i) for i in range(5))
    y = node.output
    node.require_types(("int8",), x, weights_feature, y)
    node.require_types(("int16", "int8"), weights_time, state)
    if state is None or not state.is_variable or state.dtype != weights_time.dtype:
        node.refuse("the memory (input 4) must be a variable tensor of the time weights' type")
    if bias is None or bias.dtype != "int32":
        node.refuse("an int8 SVDF needs an int32 bias")
    if not (weights_feature.is_constant and weights_time.is_constant):
        node.refuse("only constant weights are covered")
    rank = int(node.option("rank", 0))
    batches, input_size = x.shape
    filters, memory = weights_time.shape
    if rank <= 0 or filters % rank or weights_feature.shape != (filters, input_size):
        node.refuse(f"feature weights {weights_feature.shape}, time weights {weights_time.shape}, rank {rank}")
    units = filters // rank
    (sx, zx), (sy, zy), (ss, zs) = node.quantized(x), node.quantized(y), node.quantized(state)
    swf, swt = node.quantized(weights_feature)[0], node.quantized(weights_time)[0]
    sb = bias.quant.scale[0] if bias.quant is not None else 0.0
    if abs(float(sb) - float(np.float32(ss) * np.float32(swt))) >= 1e-5:
        node.fail("the bias scale is not the memory scale times the time weight scale")
    feature_multiplier, feature_shift = quantize_multiplier(_scale(sx, swf, ss))
    output_multiplier, output_shift = quantize_multiplier(_scale(ss, swt, sy))
    low, high = TYPE_RANGE[state.dtype]
    w_feature = weights_feature.data.astype(np.int64).T  # [input_size, filters]
    w_time = weights_time.data.astype(np.int64)  # [filters, memory]
    state_type = state.data.dtype if state.data is not None else np.dtype(state.dtype)

    def run(values):
        inputs, history = values[0].astype(np.int64).reshape(batches, input_size), values[4]
        held = history.reshape(batches, filters, memory)
        features = mbqm(wrap32((inputs - zx) @ w_feature), feature_multiplier, feature_shift)
        held[:, :, :-1] = held[:, :, 1:].copy()
        held[:, :, -1] = (np.clip(features, low, high) + zs).astype(state_type)  # stored in the type: wraps
        sums = wrap32(((held.astype(np.int64) - zs) * w_time).sum(axis=-1))  # [batches, filters]
        per_unit = wrap32(sums.reshape(batches, units, rank).sum(axis=-1) + values[3].astype(np.int64))
        return [saturate(mbqm(per_unit, output_multiplier, output_shift) + zy, "int8")]

    return run
