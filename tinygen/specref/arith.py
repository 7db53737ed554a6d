"""The integer arithmetic of the TFLite int8 spec, as tflite-micro's reference kernels do it.

Written from the quantization spec and tflite-micro's kernel sources, independently of tinygen's
compiler (tinygen/quantmath.py and the op lowerings are not used here). Every array function takes
and returns int64 arrays holding int32 values, so that products never overflow numpy's integers;
where the reference's int32 arithmetic wraps, `wrap32` says so.
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
TYPE_RANGE = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "int32": (INT32_MIN, INT32_MAX)}


def wrap32(x: np.ndarray) -> np.ndarray:
    """Two's-complement wrap to int32 (what the reference's overflowing int32 arithmetic gives)."""
    return ((np.asarray(x, np.int64) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def round_away(x: float) -> int:
    """C's round()/roundf(): halves go away from zero."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def round_away_array(x: np.ndarray) -> np.ndarray:
    """roundf() on every element, in double so that adding the half cannot round."""
    x = np.asarray(x, np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def trunc_div(a: np.ndarray, b) -> np.ndarray:
    """C's integer division: the quotient rounded toward zero."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    quotient = np.abs(a) // np.abs(b)
    return np.where((a < 0) != (b < 0), -quotient, quotient)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """QuantizeMultiplier: real ~= M * 2^(shift - 31), M a Q31 significand from frexp, in double."""
    if real == 0.0:
        return 0, 0
    significand, shift = math.frexp(real)
    fixed = round_away(significand * 2.0**31)
    if fixed == 1 << 31:  # the significand rounded up to 1.0
        fixed //= 2
        shift += 1
    if shift < -31:  # too small: flushed to zero
        return 0, 0
    return fixed, shift


def srdhm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SaturatingRoundingDoublingHighMul: (a * b * 2) / 2^32, rounded half away from zero."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    product = a * b
    nudged = product + np.where(product >= 0, 1 << 30, 1 - (1 << 30))
    high = np.where(nudged >= 0, nudged >> 31, -((-nudged) >> 31))  # C division truncates
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, high)


def rdbp(x: np.ndarray, exponent) -> np.ndarray:
    """RoundingDivideByPOT: x / 2^exponent, rounded half away from zero, for exponents 0..31.

    Outside that range the reference's result is what its x86 build computes, and so is this one's:
    the mask (1 << e) - 1 is built in 64 bits (shift count mod 64) and cut to 32, and the int32 value's
    shift takes its count mod 32."""
    x, exponent = np.asarray(x, np.int64), np.asarray(exponent, np.int64)
    mask = wrap32(((np.uint64(1) << (exponent & 63).astype(np.uint64)) - np.uint64(1)).astype(np.int64))
    threshold = (mask >> 1) + (x < 0)
    return (x >> (exponent & 31)) + ((x & mask) > threshold)


def saturating_shift(x: np.ndarray, exponent: int) -> np.ndarray:
    """SaturatingRoundingMultiplyByPOT: x * 2^exponent, saturating left, rounding right."""
    x = np.asarray(x, np.int64)
    if exponent <= 0:
        return rdbp(x, -exponent)
    limit = (1 << (31 - exponent)) - 1
    return np.where(x > limit, INT32_MAX, np.where(x < -limit, INT32_MIN, x << exponent))


def mbqm(x: np.ndarray, multiplier, shift) -> np.ndarray:
    """MultiplyByQuantizedMultiplier (int32, double rounding): shift left, high multiply, shift right."""
    shift = np.asarray(shift, np.int64)
    left, right = np.maximum(shift, 0), np.maximum(-shift, 0)
    return rdbp(srdhm(wrap32(np.asarray(x, np.int64) << left), multiplier), right)


def mbqm64(x: np.ndarray, multiplier, shift) -> np.ndarray:
    """MultiplyByQuantizedMultiplier for int64 sums: a Q15 multiplier, one rounding (half up), the low
    32 bits kept. int64 arithmetic wraps, as it does in the reference in practice."""
    multiplier, shift = np.asarray(multiplier, np.int64), np.asarray(shift, np.int64)
    reduced = np.where(multiplier < 0x7FFF0000, (multiplier + (1 << 15)) >> 16, 0x7FFF)
    total_shift = 15 - shift
    with np.errstate(over="ignore"):
        rounded = np.asarray(x, np.int64) * reduced + (np.int64(1) << (total_shift - 1))
    return wrap32(rounded >> total_shift)


def quantize_in_float(value: float, scale: float, zero_point: int) -> int:
    """zero_point + roundf(value / scale), the division in float32."""
    return zero_point + round_away(float(np.float32(value) / np.float32(scale)))


def activation_bounds(activation: str, scale: float, zero_point: int, dtype: str) -> tuple[int, int]:
    """CalculateActivationRangeQuantized: a fused activation's clamp in the output's integers."""
    low, high = TYPE_RANGE[dtype]
    if activation in ("RELU", "RELU6", "RELU_N1_TO_1"):
        bottom = -1.0 if activation == "RELU_N1_TO_1" else 0.0
        low = max(low, quantize_in_float(bottom, scale, zero_point))
    if activation in ("RELU6", "RELU_N1_TO_1"):
        high = min(high, quantize_in_float(6.0 if activation == "RELU6" else 1.0, scale, zero_point))
    return low, high


def saturate(x: np.ndarray, dtype: str) -> np.ndarray:
    low, high = TYPE_RANGE[dtype]
    return np.clip(x, low, high)
