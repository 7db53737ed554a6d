"""Compile-time quantization arithmetic, done exactly as TFLite Micro's Prepare does it.

Every integer the generated C uses (multipliers, shifts, activation bounds) comes
from here. The reference computes them from float32 scales, sometimes in float and
sometimes in double, and rounds half away from zero; each function says which, because
a difference in the last bit of a multiplier changes outputs by one.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import TinygenError

INT8_MIN, INT8_MAX = -128, 127


class MultiplierRangeError(TinygenError):
    """A rescale too large for the reference's fixed-point multiply; lowering names the op."""


def round_half_away(x: float) -> int:
    """C's round()/roundf(): ties go away from zero (Python's round() goes to even)."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def f32(x: float) -> np.float32:
    return np.float32(x)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """A real multiplier as (q31 significand, power-of-two exponent): real ~= q * 2^(shift - 31).

    frexp gives the significand in [0.5, 1); it is rounded to 31 bits, and a
    significand that rounds up to 1.0 is halved with the exponent bumped.
    """
    if real == 0.0:
        return 0, 0
    significand, shift = math.frexp(real)
    q = round_half_away(significand * (1 << 31))
    if q == 1 << 31:
        q //= 2
        shift += 1
    if shift < -31:  # too small to represent: the reference flushes it to zero
        return 0, 0
    if shift > 30:  # tflite-micro would shift left by 31 or more: undefined in C
        raise MultiplierRangeError(f"a rescale by {real:g} overflows the int32 fixed-point arithmetic")
    return q, shift


def quantize_multipliers(reals) -> tuple[np.ndarray, np.ndarray]:
    pairs = [quantize_multiplier(float(r)) for r in reals]
    return (np.array([p[0] for p in pairs], dtype=np.int32), np.array([p[1] for p in pairs], dtype=np.int32))


def quantize_float(value: float, scale: float, zero_point: int) -> int:
    """zero_point + round(value / scale), the division in float32 as the reference does it."""
    return zero_point + round_half_away(float(f32(value) / f32(scale)))


def activation_range(
    activation: str, scale: float, zero_point: int, qmin: int = INT8_MIN, qmax: int = INT8_MAX
) -> tuple[int, int]:
    """The clamp bounds of a fused activation, in the output's quantized domain."""
    bounds = {"NONE": (None, None), "RELU": (0.0, None), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}
    if activation not in bounds:
        raise ValueError(f"unsupported fused activation {activation}")
    low, high = bounds[activation]
    act_min = qmin if low is None else max(qmin, quantize_float(low, scale, zero_point))
    act_max = qmax if high is None else min(qmax, quantize_float(high, scale, zero_point))
    return act_min, act_max
