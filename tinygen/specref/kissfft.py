"""The int16 real FFT of tflite-micro's SignalRfft: KISS FFT (v130) in 16-bit fixed point, bit for bit.

KISS FFT's fixed-point rules (FIXED_POINT 16): values are Q15 int16; a product a * b is formed in
int32 and rounded by (p + 2^14) >> 15 (a complex product rounds each part once, after its sum); sums
and differences are computed in int and stored as int16 (they wrap). Before each butterfly every
input is divided by the radix (times 32767 // radix, rounded), so the transform is the DFT over n.

The complex FFT of length n factors n as KISS FFT does (4s, then 2, then odd numbers; past the
square root the rest is one factor), places the input in the order its recursion reads it, and runs
the stages from the last factor to the first. The real FFT of 2n samples is the complex FFT of the
samples as n (even, odd) pairs, then a split with its own twiddles. Radixes 2, 3, 4 and 5 are
computed; a length with a larger prime factor is refused (tinygen refuses it too).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .arith import wrap32

SAMP_MAX = 32767
RADIXES = (2, 3, 4, 5)


def wrap16(x: np.ndarray) -> np.ndarray:
    return ((np.asarray(x, np.int64) + 32768) & 0xFFFF) - 32768


def sround(product: np.ndarray) -> np.ndarray:
    """A Q30 int32 product back to Q15: (p + 2^14) >> 15, int32 arithmetic, stored as int16."""
    return wrap16(wrap32(wrap32(product) + (1 << 14)) >> 15)


def cmul(ar, ai, br, bi):
    return sround(ar * br - ai * bi), sround(ar * bi + ai * br)


def fixdiv(re, im, radix: int):
    k = SAMP_MAX // radix
    return sround(re * k), sround(im * k)


def q15(phase: float) -> tuple[int, int]:
    """kf_cexp: floor(0.5 + 32767 cos), floor(0.5 + 32767 sin), in double."""
    return math.floor(0.5 + SAMP_MAX * math.cos(phase)), math.floor(0.5 + SAMP_MAX * math.sin(phase))


def factors(n: int) -> list[tuple[int, int]]:
    """(radix, length left after it) for each stage, in kf_factor's order."""
    stages, radix, limit = [], 4, math.floor(math.sqrt(n))
    while True:
        while n % radix:
            radix = {4: 2, 2: 3}.get(radix, radix + 2)
            if radix > limit:
                radix = n
        n //= radix
        stages.append((radix, n))
        if n <= 1:
            return stages


@functools.lru_cache(maxsize=32)
def plan(n: int):
    """What KISS FFT's alloc computes for a complex FFT of length n: stages, input order, twiddles."""
    stages = factors(n)
    order = np.empty(n, np.int64)

    def place(position: int, element: int, stride: int, stage: int) -> None:  # kf_work's recursion
        radix, left = stages[stage]
        for k in range(radix):
            if left == 1:
                order[position + k] = element + k * stride
            else:
                place(position + k * left, element + k * stride, stride * radix, stage + 1)

    place(0, 0, 1, 0)
    twiddles = np.array([q15(-2 * math.pi * k / n) for k in range(n)], np.int64).T
    return stages, order, twiddles


def complex_fft(re: np.ndarray, im: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The fixed-point complex FFT of each row (the last axis, length n), int16 values in int64."""
    rows, n = re.shape
    stages, order, (tw_re, tw_im) = plan(n)
    re, im = re[:, order], im[:, order]
    strides = np.cumprod([1] + [radix for radix, _ in stages])
    for (radix, m), stride in reversed(list(zip(stages, strides))):
        if radix not in RADIXES:
            raise ValueError(f"radix {radix}")
        parts = [
            fixdiv(re.reshape(rows, stride, radix, m)[:, :, j], im.reshape(rows, stride, radix, m)[:, :, j], radix)
            for j in range(radix)
        ]
        u = np.arange(m) * stride
        twiddled = [parts[0]] + [cmul(*parts[j], tw_re[j * u], tw_im[j * u]) for j in range(1, radix)]
        edge = (tw_re[stride * m], tw_im[stride * m], tw_re[2 * stride * m % n], tw_im[2 * stride * m % n])
        outputs = BUTTERFLIES[radix](twiddled, edge)
        re = np.stack([r for r, _ in outputs], axis=2).reshape(rows, n)
        im = np.stack([i for _, i in outputs], axis=2).reshape(rows, n)
    return re, im


def _bfly2(f, edge):
    (ar, ai), (tr, ti) = f
    return [(wrap16(ar + tr), wrap16(ai + ti)), (wrap16(ar - tr), wrap16(ai - ti))]


def _bfly3(f, edge):
    (ar, ai), (br, bi), (cr, ci) = f
    sr, si = wrap16(br + cr), wrap16(bi + ci)
    dr, di = wrap16(br - cr), wrap16(bi - ci)
    hr, hi = wrap16(ar - (sr >> 1)), wrap16(ai - (si >> 1))
    dr, di = sround(dr * edge[1]), sround(di * edge[1])  # times sin(-2 pi / 3)
    return [
        (wrap16(ar + sr), wrap16(ai + si)),
        (wrap16(hr - di), wrap16(hi + dr)),
        (wrap16(hr + di), wrap16(hi - dr)),
    ]


def _bfly4(f, edge):
    (ar, ai), (br, bi), (cr, ci), (dr, di) = f
    er, ei = wrap16(ar - cr), wrap16(ai - ci)
    ar, ai = wrap16(ar + cr), wrap16(ai + ci)
    sr, si = wrap16(br + dr), wrap16(bi + di)
    ur, ui = wrap16(br - dr), wrap16(bi - di)
    return [
        (wrap16(ar + sr), wrap16(ai + si)),
        (wrap16(er + ui), wrap16(ei - ur)),
        (wrap16(ar - sr), wrap16(ai - si)),
        (wrap16(er - ui), wrap16(ei + ur)),
    ]


def _bfly5(f, edge):
    """kf_bfly5: ya = w^(n/5), yb = w^(2n/5); each product by a twiddle part rounded on its own."""
    (ar, ai), (br, bi), (cr, ci), (dr, di), (er, ei) = f
    yar, yai, ybr, ybi = edge

    def s(a, b):
        return sround(a * b)

    pr, pi = wrap16(br + er), wrap16(bi + ei)  # b + e
    qr, qi = wrap16(br - er), wrap16(bi - ei)  # b - e
    rr, ri = wrap16(cr + dr), wrap16(ci + di)  # c + d
    tr, ti = wrap16(cr - dr), wrap16(ci - di)  # c - d
    first = (wrap16(ar + s(pr, yar) + s(rr, ybr)), wrap16(ai + s(pi, yar) + s(ri, ybr)))
    first_twist = (wrap16(s(qi, yai) + s(ti, ybi)), wrap16(-s(qr, yai) - s(tr, ybi)))
    second = (wrap16(ar + s(pr, ybr) + s(rr, yar)), wrap16(ai + s(pi, ybr) + s(ri, yar)))
    second_twist = (wrap16(-s(qi, ybi) + s(ti, yai)), wrap16(s(qr, ybi) - s(tr, yai)))
    return [
        (wrap16(ar + pr + rr), wrap16(ai + pi + ri)),
        (wrap16(first[0] - first_twist[0]), wrap16(first[1] - first_twist[1])),
        (wrap16(second[0] + second_twist[0]), wrap16(second[1] + second_twist[1])),
        (wrap16(second[0] - second_twist[0]), wrap16(second[1] - second_twist[1])),
        (wrap16(first[0] + first_twist[0]), wrap16(first[1] + first_twist[1])),
    ]


BUTTERFLIES = {2: _bfly2, 3: _bfly3, 4: _bfly4, 5: _bfly5}


def supported(fft_length: int) -> bool:
    return fft_length >= 4 and fft_length % 2 == 0 and all(r in RADIXES for r, _ in factors(fft_length // 2))


@functools.lru_cache(maxsize=32)
def _split_twiddles(n: int) -> np.ndarray:
    return np.array([q15(-math.pi * ((k + 1) / n + 0.5)) for k in range(n // 2)], np.int64).T


def real_fft(frames: np.ndarray) -> np.ndarray:
    """kiss_fftr of each row of int16 samples (length 2n): n + 1 (real, imaginary) pairs, interleaved."""
    samples = np.asarray(frames, np.int64)
    rows, n = samples.shape[0], samples.shape[1] // 2
    zr, zi = complex_fft(samples[:, 0::2], samples[:, 1::2])
    out_re, out_im = np.zeros((rows, n + 1), np.int64), np.zeros((rows, n + 1), np.int64)
    dc_r, dc_i = fixdiv(zr[:, 0], zi[:, 0], 2)
    out_re[:, 0], out_re[:, n] = wrap16(dc_r + dc_i), wrap16(dc_r - dc_i)
    k = np.arange(1, n // 2 + 1)
    if k.size:
        ar, ai = fixdiv(zr[:, k], zi[:, k], 2)
        br, bi = fixdiv(zr[:, n - k], wrap16(-zi[:, n - k]), 2)
        sr, si = wrap16(ar + br), wrap16(ai + bi)
        wr, wi = _split_twiddles(n)
        tr, ti = cmul(wrap16(ar - br), wrap16(ai - bi), wr[k - 1], wi[k - 1])
        out_re[:, k], out_im[:, k] = (sr + tr) >> 1, (si + ti) >> 1
        out_re[:, n - k], out_im[:, n - k] = (sr - tr) >> 1, (ti - si) >> 1  # at k = n/2 this write wins
    return np.stack([out_re, out_im], axis=-1).reshape(rows, 2 * (n + 1)).astype(np.int16)
