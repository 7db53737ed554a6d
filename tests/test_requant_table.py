"""tg_requantize_folded with tables from tinygen/ops/requant_table.py against tg_requantize + zero point.

The fast kernels requantize with the rounding and the output zero point folded into one 64-bit
constant built at compile time. This builds the tables in Python for every shift the folded form
takes, edge multipliers and zero points, and compares both formulations in C (UBSan on) over edge
accumulators and millions of random ones.
"""

import subprocess
from pathlib import Path

import numpy as np
import pytest

from tinygen.device.host import host_compiler
from tinygen.errors import TinygenError
from tinygen.ops.requant_table import MAX_SHIFT, MIN_SHIFT, foldable, folded_table

from .c_random import splitmix64

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"

SEED = 0x9E3779B97F4A7C15  # of the harness's random numbers
HARNESS = r"""
#include <inttypes.h>
#include <stdio.h>
#include "tg_fixedpoint.h"

static const int32_t cases[][7] = { /* multiplier, shift, zero point, then the table */
%(cases)s
};

%(random)s

static long mismatches, checked;
static void check(int32_t x, const int32_t *c)
{
    const int32_t folded = tg_requantize_folded(x, c + 3);
    const int32_t expected = (int32_t)((int64_t)tg_requantize(x, c[0], c[1]) + c[2]);
    ++checked;
    if (folded != expected && mismatches++ < 5) {
        printf("x=%%" PRId32 " m=%%" PRId32 " shift=%%" PRId32 " zp=%%" PRId32 ": %%" PRId32 " != %%" PRId32 "\n",
               x, c[0], c[1], c[2], folded, expected);
    }
}

int main(void)
{
    static const int32_t xs[] = {INT32_MIN, INT32_MIN + 1, -1073741825, -1073741824, -65537, -32769, -256,
                                 -255, -128, -3, -2, -1, 0, 1, 2, 3, 127, 255, 32768, 1073741823,
                                 1073741824, INT32_MAX - 1, INT32_MAX};
    const size_t n = sizeof cases / sizeof cases[0];
    for (size_t k = 0; k < n; ++k) {
        for (size_t i = 0; i < sizeof xs / sizeof xs[0]; ++i) {
            check(xs[i], cases[k]);
        }
        for (long i = 0; i < RANDOM_PER_CASE; ++i) {
            const uint32_t pick = next();
            int32_t x = (int32_t)next();
            if (pick & 1) x >>= next() %% 32; /* accumulator-sized */
            if (pick & 2) /* near a multiple of the divisor, where the roundings tie */
                x = ((int32_t)(next() %% 4096) - 2048) * ((int32_t)1 << (next() %% 20));
            check(x, cases[k]);
        }
    }
    printf("%%ld checked, %%ld mismatches\n", checked, mismatches);
    return mismatches != 0;
}
"""


def _cases() -> list[tuple[int, int, int]]:
    rng = np.random.default_rng(0)
    multipliers = [1 << 30, (1 << 30) + 1, 1518500250, 2**31 - 1]
    cases = []
    for shift in range(MIN_SHIFT, MAX_SHIFT + 1):
        for zero_point in (-128, -1, 0, 5, 127):
            for m in [*multipliers, int(rng.integers(1 << 30, 2**31))]:
                cases.append((m, shift, zero_point))
    return cases


def test_foldable_takes_only_its_shifts_and_positive_multipliers():
    assert foldable(np.array([1 << 30, 2**31 - 1]), np.array([MIN_SHIFT, MAX_SHIFT]))
    assert not foldable(np.array([1 << 30]), np.array([0]))
    assert not foldable(np.array([1 << 30]), np.array([MIN_SHIFT - 1]))
    assert not foldable(np.array([0]), np.array([-5]))


def test_folded_tables_equal_the_reference_requantization(tmp_path):
    try:
        cc = host_compiler()
    except TinygenError:
        pytest.skip("no host C compiler")
    rows = []
    for m, shift, zero_point in _cases():
        table = folded_table(np.array([m]), np.array([shift]), zero_point)[0]
        rows.append("    {" + ", ".join(str(int(v)) for v in (m, shift, zero_point, *table)) + "},")
    (tmp_path / "folded.c").write_text(HARNESS % {"cases": "\n".join(rows), "random": splitmix64(SEED)})
    exe = tmp_path / "folded"
    subprocess.run(
        [
            *cc.split(),
            "-std=c99",
            "-O2",
            "-Wall",
            "-fsanitize=undefined",
            "-fno-sanitize-recover=all",
            "-DRANDOM_PER_CASE=5000L",
            f"-I{FIRMWARE}",
            str(tmp_path / "folded.c"),
            "-o",
            str(exe),
        ],
        check=True,
    )
    result = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 mismatches" in result.stdout
