"""The blocked kernels' one-multiply requantization (firmware/tg_matmul.h) against the reference.

tinygen/ops/matmul.py computes each channel's record (bias, multiplier, r - 1); the C harness applies
tg_mm_requantize_fast to those records with the output offset (folded in for shifts down to -23,
added after the shift below: TG_MM_OFFSET_AFTER) and compares it with
tg_requantize_reference + output offset (the step-by-step double rounding) on edge and random sums,
under UBSan. The records come from the Python, so a slip on either side shows.
"""

import subprocess
from pathlib import Path

import numpy as np
import pytest

from tinygen.device.host import host_compiler
from tinygen.errors import TinygenError
from tinygen.ops.matmul import (
    FAST_CLAMP,
    FAST_SATURATE,
    FAST_SHIFTS,
    OFFSET_AFTER,
    QUANT_FIELDS,
    REFERENCE,
    WIDE_SHIFTS,
    quant_records,
)

from .c_random import splitmix64

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"

SEED = 0x243F6A8885A308D3  # of the harness's random numbers
HARNESS = r"""
#include <inttypes.h>
#include <stdio.h>
#include "tg_matmul.h"

static const int32_t cases[][4] = { /* multiplier, shift, output offset, then the record's r - 1 */
CASES
};

@NEXT@

static long mismatches, checked;
static void check(int32_t x, const int32_t *c)
{
    const int after = c[1] < -23; /* TG_MM_OFFSET_AFTER: the offset added after the shift */
    const int32_t fast = tg_mm_requantize_fast(x, c[0], c[3], after ? 1 : 2 * c[2] + 1) + (after ? c[2] : 0);
    const int32_t ref = tg_requantize_reference(x, c[0], c[1]) + c[2];
    ++checked;
    if (fast != ref && mismatches++ < 5) {
        printf("x=%" PRId32 " m=%" PRId32 " shift=%" PRId32 " offset=%" PRId32 ": %" PRId32 " != %" PRId32 "\n", x,
               c[0], c[1], c[2], fast, ref);
    }
}

int main(void)
{
    static const int32_t xs[] = {INT32_MIN, INT32_MIN + 1, -1073741825, -1073741824, -65537, -65536, -32769, -255,
                                 -128, -3, -2, -1, 0, 1, 2, 3, 127, 255, 32768, 65536, 1073741823, 1073741824,
                                 INT32_MAX - 1, INT32_MAX};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; ++k) {
        const int32_t *c = cases[k];
        for (size_t i = 0; i < sizeof xs / sizeof xs[0]; ++i) {
            check(xs[i], c);
        }
        /* near the ties of the final rounding: x m / 2^(31 + r) close to k + 1/2 */
        for (int64_t k = -40; k <= 40; ++k) {
            const int64_t x0 = (2 * k + 1) * ((int64_t)1 << (30 - c[1])) / c[0]; /* r = -shift */
            for (int64_t d = -2; d <= 2; ++d) {
                if (x0 + d >= INT32_MIN && x0 + d <= INT32_MAX) {
                    check((int32_t)(x0 + d), c);
                }
            }
        }
        for (long n = 0; n < RANDOM_SUMS; ++n) {
            int32_t x = (int32_t)next();
            if (n & 1) {
                x >>= next() % 32; /* accumulator-sized */
            }
            check(x, c);
        }
    }
    printf("%ld checked, %ld mismatches\n", checked, mismatches);
    return mismatches != 0;
}
"""


def _cases() -> list[list[int]]:
    rng = np.random.default_rng(12)
    multipliers = [1 << 30, (1 << 30) + 1, 1518500250, (1 << 31) - 2, (1 << 31) - 1]
    multipliers += [int(m) for m in rng.integers(1 << 30, 1 << 31, 6)]
    cases = []
    for shift in WIDE_SHIFTS:
        for offset in (-128, -1, 0, 1, 127, int(rng.integers(-128, 128))):
            for m in multipliers:
                record = quant_records(np.array([0]), np.array([m]), np.array([shift]), -128, 127)
                assert record[0] == FAST_SATURATE + (0 if shift in FAST_SHIFTS else OFFSET_AFTER) and record[2] == m
                cases.append([m, shift, offset, int(record[3])])  # the record: (bias, multiplier, r - 1)
    return cases


def test_fast_requantize_equals_the_reference(tmp_path):
    try:
        cc = host_compiler()
    except TinygenError:
        pytest.skip("no host C compiler")
    cases = ",\n".join("{" + ", ".join(str(v) for v in case) + "}" for case in _cases())
    (tmp_path / "requantize.c").write_text(HARNESS.replace("CASES", cases).replace("@NEXT@", splitmix64(SEED)))
    exe = tmp_path / "requantize"
    subprocess.run(
        [
            *cc.split(),
            "-std=c99",
            "-O2",
            "-Wall",
            "-fsanitize=undefined",
            "-fno-sanitize-recover=all",
            "-DRANDOM_SUMS=4000L",
            f"-I{FIRMWARE}",
            str(tmp_path / "requantize.c"),
            "-o",
            str(exe),
        ],
        check=True,
    )
    result = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 mismatches" in result.stdout


@pytest.mark.parametrize(
    "multiplier, shift",
    [([1 << 30, 1 << 30], [-5, -1]), ([1 << 30, 1 << 30], [-5, -32]), ([1 << 30], [3])],
    ids=["a shift of -1", "a shift below -31", "a left shift"],
)
def test_records_fall_back_to_the_reference_where_one_channel_needs_it(multiplier, shift):
    bias = np.arange(len(multiplier))
    records = quant_records(bias, np.array(multiplier), np.array(shift), -128, 127)
    assert records[0] == REFERENCE
    expected = [[b, m, s] for b, m, s in zip(bias, multiplier, shift)]
    assert records[1:].reshape(-1, QUANT_FIELDS).tolist() == expected


def test_wide_shifts_and_zero_multipliers_stay_fast():
    """Shifts in [-31, -24] take the fast mode with the offset after; a zero multiplier (its outputs are
    the zero point) any shift, recorded as one the fast path takes."""
    wide = quant_records(np.array([0, 1]), np.array([1 << 30, 1 << 30]), np.array([-5, -24]), -128, 127)
    assert wide[0] == FAST_SATURATE + OFFSET_AFTER and wide[1:].reshape(-1, QUANT_FIELDS)[:, 2].tolist() == [4, 23]
    zero = quant_records(np.array([0, 1]), np.array([0, 1 << 30]), np.array([0, -5]), -6, 6)
    assert zero[0] == FAST_CLAMP and zero[1:].reshape(-1, QUANT_FIELDS).tolist() == [[0, 0, 22], [1, 1 << 30, 4]]
