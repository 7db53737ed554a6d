"""LOGISTIC, TANH and SOFTMAX on int8, in gemmlowp's fixed point (tflite-micro uses no table for these).

LOGISTIC and TANH map one input step to Q4.27 with a frexp multiplier (no fix-up for a significand
rounding to 1.0, a positive shift allowed) and saturate beyond a radius; their outputs are on fixed
grids whatever the output tensor says (LOGISTIC 1/256 at -128, TANH 1/128 at 0). SOFTMAX scales the
differences from each row's maximum by beta * s_in into Q5.26, sums the exps in Q12.19 and divides.
"""

from __future__ import annotations

import math

import numpy as np

from .arith import mbqm, quantize_multiplier, rdbp, round_away, srdhm, wrap32
from .fixedpoint import exp_on_negative_values, logistic, reciprocal, tanh
from .registry import Node, kernel

INPUT_INT_BITS = 4
DIFF_INT_BITS = 5
SUM_INT_BITS = 12


def _input_radius(int_bits: int, shift: int) -> int:
    """CalculateInputRadius: the largest input step whose rescaled value still fits int_bits."""
    return math.floor(((1 << int_bits) - 1) * 2.0 ** (31 - int_bits) / 2.0**shift)


@kernel("LOGISTIC", "TANH")
def sigmoid(node: Node):
    x, y = node.inputs[0], node.output
    node.require_types(("int8",), x, y)
    scale, zero = node.quantized(x)
    if node.kind == "LOGISTIC" and node.quantized(y)[1] != -128:
        node.fail("the output zero point must be -128")
    significand, shift = math.frexp(float(scale) * float(1 << (31 - INPUT_INT_BITS)))
    if not 0 <= shift <= 62:
        node.refuse(f"input scale {scale:g} gives shift {shift}, where tflite-micro's radius is undefined")
    multiplier = round_away(significand * 2.0**31)
    multiplier = multiplier - (1 << 32) if multiplier >= 1 << 31 else multiplier  # the int32 cast wraps
    radius = _input_radius(INPUT_INT_BITS, shift)

    def run(values):
        v = values[0].astype(np.int64) - zero
        rescaled = mbqm(v, multiplier, shift)
        if node.kind == "LOGISTIC":
            curve = np.clip(rdbp(logistic(rescaled, INPUT_INT_BITS), 23) - 128, -128, 127)
        else:
            curve = np.clip(rdbp(tanh(rescaled, INPUT_INT_BITS), 24), -128, 127)
        return [np.where(v <= -radius, -128, np.where(v >= radius, 127, curve))]

    return run


@kernel("SOFTMAX")
def softmax(node: Node):
    x, y = node.inputs[0], node.output
    node.require_types(("int8",), x, y)
    scale, _ = node.quantized(x)
    if node.quantized(y) != (np.float32(1.0 / 256), -128):
        node.fail("the output must have scale 1/256 and zero point -128")
    beta = float(np.float32(node.option("beta", 0.0)))
    real = min(beta * float(scale) * float(1 << (31 - DIFF_INT_BITS)), float((1 << 31) - 1))
    if not real > 1.0:
        node.fail(f"beta * input scale * 2^26 = {real:g} aborts tflite-micro (it must exceed 1)")
    multiplier, shift = quantize_multiplier(real)
    diff_min = -_input_radius(DIFF_INT_BITS, shift)
    depth = x.shape[-1]

    def run(values):
        rows = values[0].astype(np.int64).reshape(-1, depth)
        differences = rows - rows.max(axis=1, keepdims=True)
        used = differences >= diff_min
        exps = exp_on_negative_values(mbqm(differences, multiplier, shift), DIFF_INT_BITS)
        sums = wrap32(np.where(used, rdbp(exps, SUM_INT_BITS), 0).sum(axis=1, keepdims=True))
        inverse, bits_over_unit = reciprocal(sums, SUM_INT_BITS)
        exponent = bits_over_unit + 31 - 8
        if np.any((exponent < 0) | (exponent > 31)):
            node.fail("a row's exps sum to 512 or more, which aborts tflite-micro")
        probabilities = np.clip(rdbp(srdhm(inverse, exps), exponent) - 128, -128, 127)
        return [np.where(used, probabilities, -128)]

    return run
