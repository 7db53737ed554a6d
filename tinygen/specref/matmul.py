"""FULLY_CONNECTED (int8 and 16x8) and BATCH_MATMUL (int8 and int16), as exact float64 products."""

from __future__ import annotations

import numpy as np

from .arith import mbqm, mbqm64, quantize_multiplier, saturate, wrap32
from .conv import Requantize, sums_in_int64
from .registry import Node, kernel

EXACT = 2.0**53  # float64 sums of integers are exact below this


def _exact_matmul(a: np.ndarray, b: np.ndarray, bound: float) -> np.ndarray:
    """a @ b for integer-valued arrays: in float64 (BLAS) when every partial sum is below 2^53,
    else in int64."""
    if bound < EXACT:
        return np.matmul(a.astype(np.float64), b.astype(np.float64))
    return np.matmul(a.astype(np.int64), b.astype(np.int64))


@kernel("FULLY_CONNECTED")
def fully_connected(node: Node):
    """The input read as [batches, depth] rows; per output unit o: sum of (w - z_w) * (x - z_in) (per
    channel: no weight offset), plus the bias, requantized by s_in * s_w / s_out, plus z_out."""
    x, w, y = node.inputs[0], node.inputs[1], node.output
    node.require_types(("int8", "int16"), x, y)
    node.require_types(("int8",), w)
    if x.dtype != y.dtype or len(w.shape) != 2 or not w.is_constant:
        node.refuse("only int8 or 16x8 layers with constant 2-D weights are covered")
    units, depth = w.shape
    if x.size % depth or y.size != (x.size // depth) * units:
        node.refuse(f"input {x.shape}, weights {w.shape} and output {y.shape} do not agree")
    bias = node.input(2)
    (sx, zero_in), (sy, _) = node.quantized(x), node.quantized(y)
    if w.quant is not None and not w.quant.per_channel and bias is not None:
        sb = bias.quant.scale[0] if bias.quant else 0.0
        if abs(float(sx) * float(w.quant.scale[0]) - float(sb)) / float(sy) > 0.02:
            node.fail("the bias scale is more than 2% off input scale * weight scale")
    requantize = Requantize(node, x, w, y, units, 0, sums_in_int64(node, x, bias))
    requantize.zero_out = node.quantized(y)[1]  # unlike the convolutions, 16x8 keeps the zero points
    weight_offset = 0 if w.quant is None or w.quant.per_channel else w.quant.zero_point[0]
    weights = (w.data.astype(np.int64) - weight_offset).T
    bound = depth * 65536.0 * 256

    def run(values):
        rows = values[0].astype(np.int64).reshape(-1, depth) - zero_in
        return [requantize(_exact_matmul(rows, weights, bound), values[2] if len(values) > 2 else None)]

    return run


@kernel("BATCH_MATMUL")
def batch_matmul(node: Node):
    """out[..., a, c] = sum over k of (lhs - z_lhs)(rhs - z_rhs), batch dimensions broadcast, requantized
    by s_lhs * s_rhs / s_out (double). int8 sums in int32; int16 (zero points 0) in int64 with the
    int64 MBQM. No fused activation: the type's range."""
    lhs, rhs, y = node.inputs[0], node.inputs[1], node.output
    node.require_types(("int8", "int16"), lhs, rhs, y)
    if not lhs.dtype == rhs.dtype == y.dtype or not 2 <= len(lhs.shape) <= 5 or not 2 <= len(rhs.shape) <= 5:
        node.refuse("only int8 or int16 operands of rank 2 to 5, of one type, are covered")
    adj_x, adj_y = node.option("adj_x", False), node.option("adj_y", False)
    (sl, zl), (sr, zr), (so, zo) = node.quantized(lhs), node.quantized(rhs), node.quantized(y)
    if y.dtype == "int16" and (zl or zr or zo):
        node.fail("int16 zero points must be 0")
    multiplier, shift = quantize_multiplier(float(sl) * float(sr) / float(so))
    depth = lhs.shape[-2] if adj_x else lhs.shape[-1]
    if depth != (rhs.shape[-1] if adj_y else rhs.shape[-2]):
        node.refuse(f"depths of {lhs.shape} and {rhs.shape} (adj_x {adj_x}, adj_y {adj_y}) differ")
    bound = depth * 65536.0 * 65536.0

    def run(values):
        a = values[0].astype(np.int64) - zl
        b = values[1].astype(np.int64) - zr
        a, b = (np.swapaxes(a, -1, -2) if adj_x else a), (np.swapaxes(b, -1, -2) if adj_y else b)
        sums = _exact_matmul(a, b, bound).astype(np.int64)
        if y.dtype == "int16":
            return [saturate(mbqm64(sums, multiplier, shift), "int16")]
        return [saturate(mbqm(wrap32(sums), multiplier, shift) + zo, "int8")]

    return run
