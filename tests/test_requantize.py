"""tg_requantize's one-multiply fast path against the reference formulation it replaces.

firmware/tg_common.h proves the two equal for shifts in [-31, -1]; this runs both on the host
(with UBSan) over every combination of edge values and millions of random triples, shifts
from -31 to 31, so that a slip in the proof or in the C shows as a mismatch.
"""

import subprocess
from pathlib import Path

import pytest

from tinygen.device.host import host_compiler
from tinygen.errors import TinygenError

from .c_random import splitmix64

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"

SEED = 0x9E3779B97F4A7C15  # of the harness's random numbers
HARNESS = r"""
#include <inttypes.h>
#include <stdio.h>
#include "tg_common.h"

@NEXT@

static long mismatches, checked;
static void check(int32_t x, int32_t m, int32_t s)
{
    const int32_t fast = tg_requantize(x, m, s), ref = tg_requantize_reference(x, m, s);
    ++checked;
    if (fast != ref && mismatches++ < 5) {
        printf("x=%" PRId32 " m=%" PRId32 " shift=%" PRId32 ": %" PRId32 " != %" PRId32 "\n", x, m, s, fast, ref);
    }
}

int main(void)
{
    static const int32_t xs[] = {INT32_MIN, INT32_MIN + 1, -1073741825, -1073741824, -65537, -65536, -32769,
                                 -255, -128, -3, -2, -1, 0, 1, 2, 3, 127, 255, 32768, 65536, 1073741823,
                                 1073741824, INT32_MAX - 1, INT32_MAX};
    static const int32_t ms[] = {INT32_MIN, INT32_MIN + 1, -1073741824, -1, 0, 1, 1073741823, 1073741824,
                                 1073741825, 1518500250, INT32_MAX - 1, INT32_MAX};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; ++i)
        for (size_t j = 0; j < sizeof ms / sizeof ms[0]; ++j)
            for (int32_t s = -31; s <= 31; ++s)
                check(xs[i], ms[j], s);
    for (long n = 0; n < RANDOM_TRIPLES; ++n) {
        const uint32_t pick = next();
        /* x: full range, accumulator-sized, or near a power of two (where the roundings tie) */
        int32_t x = (int32_t)next();
        if ((pick & 3) == 1) x >>= next() % 32;
        if ((pick & 3) == 2)
            x = (int32_t)((uint32_t)1 << (next() % 31)) * ((next() & 1) ? 1 : -1) + (int32_t)(next() % 5) - 2;
        /* multiplier: a Q31 significand in [2^30, 2^31) as tinygen emits, or any int32 */
        const int32_t m = (pick & 12) ? (int32_t)(0x40000000u | (next() & 0x3FFFFFFFu)) : (int32_t)next();
        /* shift: mostly the fast path's [-31, -1] */
        const int32_t s = (pick & 48) ? -1 - (int32_t)(next() % 31) : (int32_t)(next() % 63) - 31;
        check(x, m, s);
    }
    printf("%ld checked, %ld mismatches\n", checked, mismatches);
    return mismatches != 0;
}
"""


def test_fast_requantize_equals_the_reference(tmp_path):
    try:
        cc = host_compiler()
    except TinygenError:
        pytest.skip("no host C compiler")
    (tmp_path / "requantize.c").write_text(HARNESS.replace("@NEXT@", splitmix64(SEED)))
    exe = tmp_path / "requantize"
    subprocess.run(
        [
            *cc.split(),
            "-std=c99",
            "-O2",
            "-Wall",
            "-fsanitize=undefined",
            "-fno-sanitize-recover=all",
            "-DRANDOM_TRIPLES=16000000L",
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
