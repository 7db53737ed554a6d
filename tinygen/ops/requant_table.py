"""Compile-time tables for tg_requantize_folded (firmware/tg_fixedpoint.h): requantization to the
output grid with its rounding and the output zero point folded into one 64-bit constant.

tg_requantize(x, multiplier, shift) + zero_point equals
floor((x * multiplier + round - [x < 0] * 2^31) / 2^(31 + r)) for shift = -r, r in [1, 22], with
round = 2^30 + 2^(30+r) + zero_point * 2^(31+r); the kernels compute it with two SMLAL and a shift.
"""

from __future__ import annotations

import numpy as np

MIN_SHIFT, MAX_SHIFT = -22, -1  # beyond -22, zero_point * 2^(31+r) no longer fits the int64 sum
TABLE_WORDS = 4  # multiplier, round's low word, round's high word, r - 1


def foldable(multiplier: np.ndarray, shift: np.ndarray) -> bool:
    """Whether every channel's (multiplier, shift) fits the folded form."""
    return bool(np.all(multiplier > 0) and np.all((shift >= MIN_SHIFT) & (shift <= MAX_SHIFT)))


def folded_table(multiplier: np.ndarray, shift: np.ndarray, zero_point: int) -> np.ndarray:
    """One row of TABLE_WORDS int32 per channel (check foldable first)."""
    r = -shift.astype(np.int64)
    rounding = 2**30 + np.left_shift(1, 30 + r) + zero_point * np.left_shift(1, 31 + r)
    low = (rounding & 0xFFFFFFFF).astype(np.uint32).view(np.int32)
    high = (rounding >> 32).astype(np.int32)
    return np.stack([multiplier.astype(np.int32), low, high, (r - 1).astype(np.int32)], axis=1)
