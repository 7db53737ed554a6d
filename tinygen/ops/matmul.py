"""Compile-time work for the blocked matrix-product kernels (firmware/tg_matmul.h): weights re-laid in
the order the kernels read them, and each channel's bias and requantization in one record."""

from __future__ import annotations

import numpy as np

GROUP = 4  # TG_MM_GROUP: K values per group (one word of int8 weights)
QUANT_FIELDS = 3  # TG_MM_QUANT_FIELDS
REFERENCE, FAST_CLAMP, FAST_SATURATE = 0, 1, 2  # TG_MM_REFERENCE, ...
MIXED = 4  # TG_MM_MIXED: added to the mode where the weights are mixed pairs
OFFSET_AFTER = 8  # TG_MM_OFFSET_AFTER: added where the output offset is added after the shift
FAST_SHIFTS = range(-23, -1)  # the shifts the one-multiply path takes with the output offset folded in
WIDE_SHIFTS = range(-31, -1)  # and with the offset added after (tg_mm_requantize_fast)


def groups_of(k: int) -> int:
    return -(-k // GROUP)


def interleave_rows(rows: np.ndarray, block: int) -> np.ndarray:
    """Weights [out, K] as the kernels read them: K padded with zeros to whole groups, rows in blocks
    of `block` whose groups interleave ([row 0 group g][row 1 group g]...[row 0 group g+1]...), a last
    partial block as smaller blocks (halving: a block of 4 leaves one of 2 and one of 1).
    Flash grows by the padding only: under GROUP bytes a row."""
    out, k = rows.shape
    groups = groups_of(k)
    padded = np.zeros((out, groups * GROUP), dtype=np.int8)
    padded[:, :k] = rows
    parts, start = [], 0
    while start < out:
        size = block
        while size > out - start:
            size //= 2
        part = padded[start : start + size].reshape(size, groups, GROUP)
        parts.append(part.transpose(1, 0, 2).reshape(-1))  # group-major, then row
        start += size
    return np.concatenate(parts) if parts else padded.reshape(-1)


def mixed_pays(out: int, k: int) -> bool:
    """Whether mixed pairs save instructions in tg_mm_two_columns_s8: two SXTB16 per group and pair
    against about 7 per group for the columns' sums and 4 per pair for the corrections."""
    groups, pairs = groups_of(k), out // 2
    return 2 * groups * pairs > 7 * groups + 4 * pairs


def mixed_pairs(rows: np.ndarray) -> np.ndarray:
    """Weights [out, K] as tg_mm_two_columns_s8 reads them (firmware/tg_matmul.h): K padded with zeros
    to whole groups; per pair of rows (a, b) and group, the even values then the odd ones, each as
    [a_k + 128, b_k, a_k+2 + 128, b_k+2] (a's bytes unsigned: a + 128 in [0, 255]); an odd last row
    plain. The same bytes as the model's, the padding aside."""
    out, k = rows.shape
    groups, pairs = groups_of(k), out // 2
    padded = np.zeros((out, groups, GROUP), dtype=np.int64)
    padded.reshape(out, -1)[:, :k] = rows
    a, b = padded[0 : 2 * pairs : 2] + 128, padded[1 : 2 * pairs : 2]
    order = [0, 2, 1, 3]  # the even values, then the odd ones
    laid = np.stack([a[..., order], b[..., order]], axis=-1)  # pairs x groups x value x (a, b)
    parts = [laid.reshape(-1).astype(np.uint8).view(np.int8), padded[2 * pairs :].reshape(-1).astype(np.int8)]
    return np.concatenate(parts)


def mixed_pair_blocks(rows: np.ndarray, pairs_per_block: int) -> np.ndarray:
    """Weights [out, K] as tg_fully_connected_s8 reads them: mixed_pairs' pairs in blocks of
    `pairs_per_block` whose groups interleave ([pair 0 group g][pair 1 group g]...), a last partial
    block as one block of what is left, an odd last row plain."""
    out, k = rows.shape
    groups, pairs = groups_of(k), out // 2
    laid = mixed_pairs(rows)
    pair_bytes = 2 * GROUP * groups
    by_pair = laid[: pairs * pair_bytes].reshape(pairs, groups, 2 * GROUP)
    blocks = [
        by_pair[start : start + pairs_per_block].transpose(1, 0, 2).reshape(-1)
        for start in range(0, pairs, pairs_per_block)
    ]
    return np.concatenate([*blocks, laid[pairs * pair_bytes :]])


def mixed_biases(bias: np.ndarray) -> np.ndarray:
    """Each pair's first bias as bias_a + 256 * bias_b (wrapped to int32): the bias of the mixed sum
    (tg_matmul.h); the rest as they are."""
    out = np.asarray(bias, dtype=np.int64).copy()
    pairs = len(out) // 2
    out[0 : 2 * pairs : 2] += 256 * out[1 : 2 * pairs : 2]
    return ((out + 2**31) % 2**32 - 2**31).astype(np.int32)


def quant_records(
    bias: np.ndarray, multiplier: np.ndarray, shift: np.ndarray, act_min: int, act_max: int, mixed: bool = False
) -> np.ndarray:
    """[mode, then (bias, multiplier, shift field) per channel] (tg_matmul.h): the fast modes, with
    the shift field r - 1 (r = -shift), where every channel allows them (a zero multiplier with any
    shift: its outputs are the zero point); + OFFSET_AFTER where some channel shifts by more than 23;
    otherwise the reference mode with the shift as it is; + MIXED for mixed pairs. Three words a
    channel, as the bias, multiplier and shift took."""
    multiplier = np.asarray(multiplier, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    fast_shift = np.where(multiplier == 0, FAST_SHIFTS[0], shift)
    positive = bool(np.all(multiplier >= 0))
    fast = positive and bool(np.all(np.isin(fast_shift, WIDE_SHIFTS)))
    if fast:
        mode = FAST_SATURATE if (act_min, act_max) == (-128, 127) else FAST_CLAMP
        mode += 0 if np.all(np.isin(fast_shift, FAST_SHIFTS)) else OFFSET_AFTER
    else:
        mode = REFERENCE
    records = np.stack([np.asarray(bias, dtype=np.int64), multiplier, -fast_shift - 1 if fast else shift], axis=1)
    return np.concatenate([[mode + (MIXED if mixed else 0)], records.reshape(-1)]).astype(np.int32)
