"""Reductions: MEAN, SUM, REDUCE_MAX, REDUCE_MIN (over constant axes), ARG_MAX, ARG_MIN,
L2_NORMALIZATION (over the last axis)."""

from __future__ import annotations

import numpy as np

from .arith import mbqm, quantize_multiplier, saturate, wrap32
from .fixedpoint import inverse_sqrt
from .registry import Node, kernel


def _axes(node: Node) -> tuple[int, ...]:
    """The axis tensor's entries, negative ones counted from the end, repeats dropped."""
    rank = len(node.inputs[0].shape)
    node.require_types(("int32",), node.inputs[1])
    axes = set()
    for axis in node.constant(1).reshape(-1):
        axis = int(axis) + (rank if axis < 0 else 0)
        if not 0 <= axis < rank:
            node.fail(f"axis {axis} is out of range for rank {rank}")
        axes.add(axis)
    return tuple(sorted(axes))


@kernel("MEAN", "SUM")
def mean_or_sum(node: Node):
    """QuantizedMeanOrSum: the group's int32 sum minus z_in * n, requantized by s_in / s_out; MEAN
    folds 1/n into the multiplier: M' = (M << sh) / n with sh = min(floor(log2 n), 32, 31 + S)."""
    x, y = node.inputs[0], node.output
    node.require_types(("int8",), x, y)
    axes = _axes(node)
    (sx, zx), (sy, zy) = node.quantized(x), node.quantized(y)
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    multiplier, shift = quantize_multiplier(float(sx) / float(sy))
    if node.kind == "MEAN" and count > 0:
        fold = min(count.bit_length() - 1, 32, 31 + shift)
        multiplier, shift = wrap32((multiplier << fold) // count).item(), shift - fold

    def run(values):
        total = wrap32(values[0].astype(np.int64).sum(axis=axes))
        return [saturate(mbqm(wrap32(total - zx * count), multiplier, shift) + zy, "int8")]

    return run


@kernel("REDUCE_MAX", "REDUCE_MIN")
def reduce_extreme(node: Node):
    """The largest (smallest) raw value of each group; tflite-micro's Eval requires equal quantization."""
    x, y = node.inputs[0], node.output
    node.require_types(("int8",), x, y)
    axes = _axes(node)
    (sx, zx), (sy, zy) = node.quantized(x), node.quantized(y)
    if float(sx) != float(sy) or zx != zy:
        node.fail("input and output quantization must be equal")
    if node.kind == "REDUCE_MAX":
        return lambda values: [np.max(values[0], axis=axes, initial=-128)]
    return lambda values: [np.min(values[0], axis=axes, initial=127)]


@kernel("ARG_MAX", "ARG_MIN")
def arg_extreme(node: Node):
    """Per group, the index of the first value that no later value beats (`x > best`; `x < best`
    for ARG_MIN), so ties go to the first index and a NaN never takes the place of another value."""
    x = node.inputs[0]
    node.require_types(("float32", "int8"), x)
    node.require_types(("int32",), node.inputs[1], node.output)
    rank = len(x.shape)
    axis = int(node.constant(1).reshape(-1)[0])
    axis += rank if axis < 0 else 0
    if not 0 <= axis < rank or x.shape[axis] == 0:
        node.refuse(f"axis {axis} of shape {x.shape} is not covered")
    beats = np.greater if node.kind == "ARG_MAX" else np.less

    def run(values):
        data = np.moveaxis(values[0], axis, 0)
        best, index = data[0].copy(), np.zeros(data.shape[1:], np.int64)
        for i in range(1, len(data)):
            better = beats(data[i], best)
            best, index = np.where(better, data[i], best), np.where(better, i, index)
        return [index]

    return run


@kernel("L2_NORMALIZATION")
def l2_normalization(node: Node):
    """x / |x| per row of the last axis, always written on the grid 1/128, 0 (the output's
    quantization is never read): the inverse square root of the int32 sum of squares, then MBQM."""
    x, y = node.inputs[0], node.output
    node.require_types(("int8",), x, y)
    if node.activation() != "NONE":
        node.fail("a fused activation is not allowed")
    _, zx = node.quantized(x)
    depth = x.shape[-1]

    def run(values):
        rows = values[0].astype(np.int64).reshape(-1, depth) - zx
        multiplier, shift = inverse_sqrt(wrap32((rows * rows).sum(axis=1, keepdims=True)))
        return [saturate(mbqm(rows, multiplier, shift + 7), "int8")]

    return run
