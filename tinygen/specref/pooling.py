"""AVERAGE_POOL_2D and MAX_POOL_2D on int8: raw values, no rescaling (tflite-micro requires the input's
and output's quantization to agree). Only the taps inside the image count."""

from __future__ import annotations

import numpy as np

from .arith import activation_bounds, trunc_div
from .conv import same_padding, windows
from .registry import Node, kernel


@kernel("AVERAGE_POOL_2D", "MAX_POOL_2D")
def pool(node: Node):
    x, y = node.inputs[0], node.output
    node.require_types(("int8",), x, y)
    if len(x.shape) != 4 or len(y.shape) != 4:
        node.refuse("only 4-D NHWC tensors are covered")
    (sx, zx), (sy, zy) = node.quantized(x), node.quantized(y)
    if abs(float(sx) - float(sy)) > 1e-6 or zx != zy:
        node.fail("input and output quantization must agree")
    kh, kw = node.option("filter_height", 1), node.option("filter_width", 1)
    stride = (node.option("stride_h", 1), node.option("stride_w", 1))
    if min(kh, kw, *stride) < 1:
        node.refuse(f"filter {kh}x{kw} with strides {stride} is not covered")
    padding = node.option("padding", "SAME")
    pads = [same_padding(x.shape[1 + a], stride[a], 1, (kh, kw)[a], padding)[1] for a in range(2)]
    low, high = activation_bounds(node.activation(), sy, zy, "int8")
    # 1 for each tap inside the image, 0 for a padding tap: [1, OH, OW, KH, KW, 1]
    inside = windows(np.ones((1, *x.shape[1:3], 1), np.int64), kh, kw, stride, (1, 1), pads, y.shape[1:3])
    counts = inside.sum(axis=(3, 4))
    if counts.min() == 0:
        node.fail("a window lies wholly outside the image")

    def average(values):
        taps = windows(values[0].astype(np.int64), kh, kw, stride, (1, 1), pads, y.shape[1:3])
        total = taps.sum(axis=(3, 4))
        rounded = trunc_div(total + np.where(total > 0, counts // 2, -(counts // 2)), counts)
        return [np.clip(rounded, low, high)]

    def maximum(values):
        taps = windows(values[0].astype(np.int64), kh, kw, stride, (1, 1), pads, y.shape[1:3])
        return [np.clip(np.where(inside == 1, taps, -128).max(axis=(3, 4)), low, high)]

    return average if node.kind == "AVERAGE_POOL_2D" else maximum
