"""Compile-time work for the 3x3 depthwise kernels over int16 planes (firmware/tg_depthwise_rows.h):
where they pay, their table, and their scratch."""

from __future__ import annotations

import numpy as np

from .conv import folded_bias
from .matmul import FAST_SHIFTS

BLOCK = 4  # windows computed at once along a plane row
MIN_ROW = 10  # output rows shorter than this take the four-channel kernels: the plane's ends cost more


def transposed(p) -> bool:
    """Whether the plane runs along the input's columns: where that leaves fewer windows outside the
    blocks along a row."""
    return p.output.w * (p.output.h % BLOCK) < p.output.h * (p.output.w % BLOCK)


def takes_rows(p, multiplier: np.ndarray, shift: np.ndarray) -> bool:
    """For a layer tg_depthwise_3x3_s8 takes: stride 1, long rows (in the plane's orientation) and
    every channel on tg_mm_requantize_fast (firmware/tg_matmul.h)."""
    row = p.output.h if transposed(p) else p.output.w
    one_multiply = bool(np.all(multiplier > 0) and np.all(np.isin(shift, FAST_SHIFTS)))
    return p.stride_w == 1 and row >= MIN_ROW and one_multiply


def plane_bytes(p) -> int:
    """The scratch: one channel as an int16 plane with a border (the padding), rows of (input w, or h where
    transposed) + 2 values rounded up to even."""
    rows, cols = (p.input.w, p.input.h) if transposed(p) else (p.input.h, p.input.w)
    return 2 * ((cols + 3) & ~1) * (rows + 2)


def rows_table(
    weights: np.ndarray, bias: np.ndarray | None, multiplier: np.ndarray, shift: np.ndarray, zero_point: int, p
) -> np.ndarray:
    """Whether the plane is transposed, then 10 words per channel: per filter row (of the plane's
    orientation) the first two taps as an int16 pair and the third in a word's bottom half; the bias
    with the input offset folded in (the plane holds the input as it is);
    the multiplier, the shift field r - 1 and the rounding constant (2 * zero_point + 1) * 2^(r - 2)
    of tg_mm_requantize_fast."""
    channels = weights.shape[3]
    taps = weights.reshape(3, 3, channels).astype(np.int64)
    if transposed(p):
        taps = taps.transpose(1, 0, 2)
    pairs = (taps[:, 0] & 0xFFFF) | ((taps[:, 1] & 0xFFFF) << 16)  # rows x channels
    rows = np.stack([pairs, taps[:, 2] & 0xFFFF], axis=1).transpose(2, 0, 1).reshape(channels, 6)
    biases = folded_bias(weights, bias, p.input_offset, axis=3).astype(np.int64)
    r = -np.asarray(shift, dtype=np.int64)
    rounding = (2 * zero_point + 1) * np.left_shift(1, r - 2)
    requant = np.stack([biases, np.asarray(multiplier, dtype=np.int64), r - 1, rounding], axis=1)
    table = np.concatenate([rows, requant & 0xFFFFFFFF], axis=1).astype(np.uint32).view(np.int32)
    return np.concatenate([[int(transposed(p))], table.reshape(-1)]).astype(np.int32)
