"""SignalRfft, int16: the real FFT of tflite-micro's audio front end -> firmware/tg_rfft.c.

tflite-micro computes it with KISS FFT (v130) in 16-bit fixed point: a complex FFT of half the
length over the samples taken in (even, odd) pairs, then a split into the spectrum of the real
signal. The bits depend on everything KISS FFT chooses: how it factors the length (4s first, then
2, then odd primes), the butterfly of each radix, the rounding of each product and the division
by the radix at every stage (so the result is the DFT divided by the length). tinygen's kernel
does the same arithmetic in its own code; what KISS FFT computes once at setup is computed here:

- the factors (radix, remaining length) of each stage, in KISS FFT's order;
- where each input pair lands before the first stage (the digit-reversed order its recursion reads);
- the twiddles, cos and sin rounded to Q15 in double precision (the same libm values);
- the split's twiddles.

docs/numerics/signal.md has the butterflies. Radixes 2 to 5 are supported; a half length with a
larger prime factor (KISS FFT's generic butterfly) is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, tensor_args
from ..ir import Graph, Op
from .checks import require
from .record import OpDef, Options
from .signal_checks import option, signal_io, typed

Q15_ONE = 32767  # KISS FFT's SAMP_MAX: twiddles are round(32767 * cos), round(32767 * sin)
RADIXES = (2, 3, 4, 5)
MAX_FFT_LENGTH = 4096  # tflite-micro's own Python ops stop at 2048
INT16_TYPE_CODE = 7  # the "T" option: TFLite's TensorType INT16


@dataclass(frozen=True)
class RfftParams:
    C_TYPE = "tg_signal_rfft_params"
    C_FILE = "tg_rfft.c"
    frames: int  # input rows, each transformed on its own
    input_length: int  # samples per row, zero-padded to fft_length
    fft_length: int
    stages: int  # entries of the factors table, (radix, remaining length) each


def kiss_factors(n: int) -> list[tuple[int, int]]:
    """(radix, length after it) per stage, as KISS FFT's kf_factor chooses them: 4 while it divides,
    then 2, then odd numbers from 3; past floor(sqrt(n)) of the original n, what is left is one radix."""
    stages, p, floor_sqrt = [], 4, math.floor(math.sqrt(n))
    while True:
        while n % p:
            p = 2 if p == 4 else 3 if p == 2 else p + 2
            if p > floor_sqrt:
                p = n
        n //= p
        stages.append((p, n))
        if n <= 1:
            return stages


def input_order(stages: list[tuple[int, int]]) -> np.ndarray:
    """order[j]: the input element at position j before the first butterflies. KISS FFT's recursion
    puts input k0 + k1 * s1 + k2 * s2 + ... (s_i the product of the radixes before stage i) at
    position k0 * m0 + k1 * m1 + ... (m_i the length left after stage i)."""
    positions = np.zeros(1, dtype=np.int64)
    elements = np.zeros(1, dtype=np.int64)
    stride = 1
    for radix, remaining in stages:
        k = np.arange(radix)
        positions = (positions[:, None] + k[None, :] * remaining).reshape(-1)
        elements = (elements[:, None] + k[None, :] * stride).reshape(-1)
        stride *= radix
    order = np.empty_like(elements)
    order[positions] = elements
    return order


def q15_cexp(phase: float) -> tuple[int, int]:
    """KISS FFT's fixed-point twiddle: floor(0.5 + 32767 * cos(phase)), the same for sin, in double."""
    return math.floor(0.5 + Q15_ONE * math.cos(phase)), math.floor(0.5 + Q15_ONE * math.sin(phase))


def twiddles(n: int) -> np.ndarray:
    """The complex FFT's twiddles exp(-2 pi i k / n), k < n, as interleaved Q15 pairs."""
    return np.array([q15_cexp(-2 * math.pi * k / n) for k in range(n)], dtype=np.int16).reshape(-1)


def split_twiddles(n: int) -> np.ndarray:
    """The real FFT's split twiddles exp(-i pi ((k + 1) / n + 1/2)), k < n / 2, n the complex length."""
    return np.array([q15_cexp(-math.pi * ((k + 1) / n + 0.5)) for k in range(n // 2)], dtype=np.int16).reshape(-1)


def lower_rfft(op: Op, graph: Graph) -> Layer:
    (x,), (y,) = signal_io(op, graph, 1, 1)
    option(op, "T", INT16_TYPE_CODE, INT16_TYPE_CODE, "tinygen runs the int16 FFT only")
    typed(op, x, "int16")
    typed(op, y, "int16")
    fft_length = option(op, "fft_length", 4, MAX_FFT_LENGTH)
    require(fft_length % 2 == 0, op, f"fft_length {fft_length} is odd; the real FFT needs an even length")
    require(len(x.shape) >= 1 and len(y.shape) == len(x.shape), op, "input and output need the same rank, at least 1")
    input_length, bins = x.shape[-1], fft_length // 2 + 1
    require(input_length <= fft_length, op, f"rows of {input_length} samples do not fit fft_length {fft_length}")
    require(
        y.shape == (*x.shape[:-1], 2 * bins),
        op,
        f"output shape {y.shape}: fft_length {fft_length} gives rows of {bins} complex bins, shape "
        f"{(*x.shape[:-1], 2 * bins)}",
    )
    half = fft_length // 2
    stages = kiss_factors(half)
    radixes = sorted({radix for radix, _ in stages})
    require(
        set(radixes) <= set(RADIXES),
        op,
        f"fft_length {fft_length} needs a radix-{radixes[-1]} stage; tinygen has KISS FFT's radix 2 to 5 butterflies",
    )
    consts = {
        "factors": np.array(stages, dtype=np.int32).reshape(-1),
        "order": input_order(stages).astype(np.int16),
        "twiddles": twiddles(half),
        "split_twiddles": split_twiddles(half),
    }
    frames = x.size // input_length
    params = RfftParams(frames=frames, input_length=input_length, fft_length=fft_length, stages=len(stages))
    args = tuple(Arg("const", name) for name in consts) + tensor_args(*op.inputs, *op.outputs)
    return Layer(op, "tg_signal_rfft_s16", params, args, consts)


def rfft_macs(op: Op, graph: Graph) -> int:
    """About n/2 log2(n/2) complex multiplies per frame, four real ones each."""
    fft_length = int(op.options.get("fft_length", 0))
    frames = graph.tensor(op.outputs[0]).size // max(fft_length + 2, 1)
    half = max(fft_length // 2, 1)
    return frames * 4 * half * max(int(math.log2(half)), 1)


OPS = (
    OpDef(
        "CUSTOM:SignalRfft",
        lower_rfft,
        options=Options(flexbuffer=("T", "fft_length")),
        macs=rfft_macs,
        notes="tflite-micro's audio front end: int16 real FFT, KISS FFT's fixed-point arithmetic (radix 2 to 5)",
    ),
)
