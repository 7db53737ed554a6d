"""QUANTIZE, DEQUANTIZE and CAST: values from one type (and grid) to another."""

from __future__ import annotations

import numpy as np

from .arith import INT32_MIN, TYPE_RANGE, mbqm, quantize_multiplier, round_away_array, saturate, wrap32
from .registry import Node, kernel

# tflite-micro's QUANTIZE computes these pairs (input: outputs) and fails on the others.
REQUANTIZE_PAIRS = {
    "float32": ("int8", "int16"),
    "int8": ("int8", "uint8", "int16", "int32"),
    "uint8": ("int8",),
    "int16": ("int8", "int16", "int32"),
    "int32": ("int8", "int16"),
}


@kernel("QUANTIZE")
def quantize(node: Node):
    x, y = node.inputs[0], node.output
    if y.dtype not in REQUANTIZE_PAIRS.get(x.dtype, ()):
        node.refuse(f"{x.dtype} to {y.dtype} is not covered (tflite-micro does not compute it)")
    if y.quant is None or y.quant.per_channel:
        node.fail("the output needs one scale and zero point")
    out_scale, out_zero = node.quantized(y)
    if x.dtype == "float32":
        step = np.float32(out_scale)

        def affine(values):
            with np.errstate(all="ignore"):
                rounded = round_away_array(values[0].astype(np.float32) / step)
            # Outside int32 (or NaN) the float-to-int conversion gives INT32_MIN on x86.
            inside = np.isfinite(rounded) & (rounded >= INT32_MIN) & (rounded < 2.0**31)
            integer = np.where(inside, rounded, INT32_MIN).astype(np.int64)
            return [saturate(wrap32(integer + out_zero), y.dtype)]

        return affine
    in_scale, in_zero = node.quantized(x)
    multiplier, shift = quantize_multiplier(float(in_scale) / float(out_scale))

    def requantize(values):
        shifted = mbqm(wrap32(values[0].astype(np.int64) - in_zero), multiplier, shift)
        return [saturate(wrap32(shifted + out_zero), y.dtype)]

    return requantize


@kernel("DEQUANTIZE")
def dequantize(node: Node):
    """float32(double(scale) * (q - zero point)): channel 0's scale and zero point for every channel."""
    node.require_types(("int8", "uint8", "int16"), node.inputs[0])
    node.require_types(("float32",), node.output)
    scale, zero = node.quantized(node.inputs[0])
    return lambda values: [(np.float64(scale) * (values[0].astype(np.float64) - zero)).astype(np.float32)]


CAST_TYPES = ("int8", "int16", "int32", "float32", "bool")


@kernel("CAST")
def cast(node: Node):
    """Stored values converted, quantization ignored: integers wrap or widen, floats saturate toward
    zero (NaN gives 0), anything to bool is `!= 0`."""
    node.require_types(CAST_TYPES)
    target = node.output.dtype

    def run(values):
        x = values[0]
        if target == "bool":
            return [x != 0]
        if x.dtype == np.float32 and target != "float32":
            low, high = TYPE_RANGE[target]
            with np.errstate(invalid="ignore"):
                truncated = np.trunc(np.nan_to_num(x.astype(np.float64), nan=0.0, posinf=high, neginf=low))
            return [np.clip(truncated, low, high).astype(np.int64)]
        return [x.astype(np.int64).astype(target) if target != "float32" else x.astype(np.float32)]

    return run
