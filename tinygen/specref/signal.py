"""tflite-micro's signal-library ops (signal/src and signal/micro/kernels), the audio front end:
integer arithmetic on int16 samples and uint32/uint64 energies. docs/numerics/signal.md states each.

SignalFilterBankSpectralSubtraction keeps a noise estimate per channel between invokes (the node's
memory, zero at the start of each sequence, as tflite-micro's Prepare and reset clear it)."""

from __future__ import annotations

import math

import numpy as np

from . import kissfft
from .registry import Node, kernel

U32, U64 = 0xFFFFFFFF, np.uint64(0xFFFFFFFFFFFFFFFF)
# log2(1 + j/128) - j/128 in Q16, the correction table of tflite-micro's fixed-point log
LOG_TABLE = np.array([round(65536 * (math.log2(1 + j / 128) - j / 128)) for j in range(129)], np.int64)
LN2_Q16 = 45426
PCAN_SNR_BITS, PCAN_OUTPUT_BITS = 12, 6


def bit_length(x: np.ndarray) -> np.ndarray:
    """MostSignificantBit32 for x > 0: the number of bits of x read as a uint32."""
    x = np.asarray(x, np.int64) & U32
    bits = np.zeros(x.shape, np.int64)
    for step in (16, 8, 4, 2, 1):
        high = x >= (1 << step)
        bits, x = bits + np.where(high, step, 0), np.where(high, x >> step, x)
    return bits + (x > 0)


def _int_option(node: Node, name: str, low: int, high: int) -> int:
    value = node.option(name)
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not low <= value <= high:
        node.refuse(f"option {name} = {value!r} is outside {low}..{high}")
    return int(value)


@kernel("CUSTOM:SignalWindow")
def window(node: Node):
    x, weights = node.inputs[0], node.input(1)
    node.require_types(("int16",), x, weights, node.output)
    shift = _int_option(node, "shift", 0, 31)
    if len(weights.shape) != 1 or weights.size == 0 or x.size % weights.size:
        node.refuse(f"a window of {weights.shape} does not divide {x.shape}")

    def run(values):
        frames = values[0].astype(np.int64).reshape(-1, weights.size)
        return [np.clip((frames * values[1].astype(np.int64)) >> shift, -32768, 32767)]

    return run


def _largest_magnitude(x: np.ndarray) -> int:
    """MaxAbs16: the largest |x| kept as an int16, so that -32768 stays -32768 and any later value
    above it replaces it (the reference's loop, run in full only from a -32768 on)."""
    most = int(np.abs(x).max(initial=0)) if not np.any(x == -32768) else None
    if most is not None:
        return most
    first = int(np.argmax(x == -32768))
    most = int(np.abs(x[:first]).max(initial=0))
    for value in x[first:].tolist():
        if value > most:
            most = value
        elif -value > most:
            most = -value if value != -32768 else -32768
    return most


@kernel("CUSTOM:SignalFftAutoScale")
def fft_auto_scale(node: Node):
    x = node.inputs[0]
    node.require_types(("int16",), x, node.outputs[0])
    node.require_types(("int32",), node.outputs[1])

    def run(values):
        frame = values[0].astype(np.int64).reshape(-1)
        most = _largest_magnitude(frame)
        bits = 32 if most <= 0 else most.bit_length()  # as a uint32: a negative max has 32 bits
        shift = max(16 - bits - 1, 0)
        return [kissfft.wrap16(frame << shift), np.int32(shift)]

    return run


@kernel("CUSTOM:SignalRfft")
def rfft(node: Node):
    x, y = node.inputs[0], node.output
    node.require_types(("int16",), x, y)
    if node.option("T", 7) != 7:
        node.refuse("only the int16 FFT is covered")
    fft_length = _int_option(node, "fft_length", 4, 1 << 16)
    if not kissfft.supported(fft_length):
        node.refuse(f"fft_length {fft_length}: half of it must factor into radixes 2, 3, 4 and 5")
    length = x.shape[-1] if x.shape else 1
    if length > fft_length or y.size != (x.size // length) * (fft_length + 2):
        node.refuse(f"input {x.shape} and output {y.shape} do not fit fft_length {fft_length}")

    def run(values):
        frames = values[0].astype(np.int64).reshape(-1, length)
        padded = np.zeros((frames.shape[0], fft_length), np.int64)
        padded[:, :length] = frames
        return [kissfft.real_fft(padded)]

    return run


@kernel("CUSTOM:SignalEnergy")
def energy(node: Node):
    x, y = node.inputs[0], node.output
    node.require_types(("int16",), x)
    node.require_types(("uint32",), y)
    bins = min(x.size // 2, y.size)
    start, end = _int_option(node, "start_index", 0, bins), _int_option(node, "end_index", 0, bins)

    def run(values):
        pairs = values[0].astype(np.int64).reshape(-1, 2)
        out = np.zeros(y.size, np.int64)  # tflite-micro leaves the bins outside the range as they were
        out[start:end] = (pairs[start:end] ** 2).sum(axis=1) & U32
        return [out.astype(np.uint32)]

    return run


@kernel("CUSTOM:SignalFilterBank")
def filter_bank(node: Node):
    """Band i accumulates weights[ws + j] * x[fs + j] and unweights[...] * x[...] for j < width, in
    uint64 (the int16 weights sign-extended, everything modulo 2^64); channel c is band c + 1's
    weighted sum plus band c's unweighted sum."""
    x, y = node.inputs[0], node.output
    node.require_types(("uint32",), x)
    node.require_types(("int16",), *node.inputs[1:6])
    node.require_types(("uint64",), y)
    channels = _int_option(node, "num_channels", 1, y.size)
    starts, weight_starts, widths = (node.constant(i).astype(np.int64).reshape(-1) for i in (3, 4, 5))
    if channels != y.size or not starts.size == weight_starts.size == widths.size == channels + 1:
        node.refuse(f"{channels} channels need {channels + 1} bands and {channels} outputs")
    widths = np.maximum(widths, 0)  # a negative width runs no loop
    band = np.repeat(np.arange(channels + 1), widths)
    offsets = np.arange(band.size) - np.repeat(np.cumsum(widths) - widths, widths)
    bins, taps = starts[band] + offsets, weight_starts[band] + offsets
    weights = node.input(1)
    if band.size and (bins.min() < 0 or bins.max() >= x.size or taps.min() < 0 or taps.max() >= weights.size):
        node.refuse("a band reaches outside the spectrum or the weights")

    def accumulate(products: np.ndarray) -> np.ndarray:
        sums = np.zeros(channels + 1, np.uint64)
        np.add.at(sums, band, products)  # uint64: wraps modulo 2^64
        return sums

    def run(values):
        spectrum = values[0].astype(np.uint64).reshape(-1)[bins]
        weighted = accumulate(values[1].reshape(-1)[taps].astype(np.int64).astype(np.uint64) * spectrum)
        unweighted = accumulate(values[2].reshape(-1)[taps].astype(np.int64).astype(np.uint64) * spectrum)
        return [weighted[1:] + unweighted[:-1]]

    return run


def rounded_sqrt(x: np.ndarray) -> np.ndarray:
    """Sqrt64: the square root rounded to nearest (floor, plus one where the remainder exceeds the
    root), except that it stays at 0xFFFF below 2^32 and at 0xFFFFFFFF above."""
    values = [int(v) for v in np.asarray(x, np.uint64).reshape(-1)]
    roots = []
    for value in values:
        root = math.isqrt(value)
        cap = 0xFFFF if value < 1 << 32 else 0xFFFFFFFF
        roots.append(root + 1 if value - root * root > root and root != cap else root)
    return np.array(roots, np.int64).reshape(np.shape(x))


@kernel("CUSTOM:SignalFilterBankSquareRoot")
def filter_bank_square_root(node: Node):
    node.require_types(("uint64",), node.inputs[0])
    node.require_types(("int32",), node.input(1))
    node.require_types(("uint32",), node.output)

    def run(values):
        shift = int(np.asarray(values[1]).reshape(-1)[0]) & 31  # x86 takes a 32-bit shift count mod 32
        return [(rounded_sqrt(values[0]) >> shift) & U32]

    return run


SUBTRACTION_OPTIONS = (
    "smoothing",
    "one_minus_smoothing",
    "alternate_smoothing",
    "alternate_one_minus_smoothing",
    "min_signal_remaining",
)


@kernel("CUSTOM:SignalFilterBankSpectralSubtraction")
def spectral_subtraction(node: Node):
    x = node.inputs[0]
    node.require_types(("uint32",), x, *node.outputs)
    channels = _int_option(node, "num_channels", 1, x.size)
    smoothing, one_minus, alternate, alternate_one_minus, minimum = (
        _int_option(node, name, 0, (1 << 31) - 1) for name in SUBTRACTION_OPTIONS
    )
    smoothing_bits = _int_option(node, "smoothing_bits", 0, 31)
    shift = np.uint64(_int_option(node, "spectral_subtraction_bits", 0, 63))
    clamping = bool(node.option("clamping", False))
    odd = np.arange(channels) % 2 == 1
    weight_new = np.where(odd, alternate, smoothing).astype(np.uint64)
    weight_old = np.where(odd, alternate_one_minus, one_minus).astype(np.uint64)

    def run(values):
        signal = values[0].astype(np.uint64).reshape(-1)[:channels]
        noise = node.memory.setdefault("noise", np.zeros(channels, np.uint64))
        scaled = (signal << np.uint64(smoothing_bits)) & np.uint64(U32)
        noise[:] = ((scaled * weight_new + noise * weight_old) >> shift) & np.uint64(U32)
        estimate = np.minimum(noise, scaled)
        if clamping:
            noise[:] = estimate
        floor = ((signal * np.uint64(minimum)) >> shift) & np.uint64(U32)
        subtracted = (scaled - estimate) >> np.uint64(smoothing_bits)
        return [np.maximum(subtracted, floor), noise.copy()]

    return run


def _gain(noise: np.ndarray, table: np.ndarray) -> np.ndarray:
    """WideDynamicFunction: the gain for each noise estimate, interpolated in the table (int16)."""
    v = np.asarray(noise, np.int64)
    bits = bit_length(v)
    base = np.clip(4 * bits - 6, 0, table.size - 3)
    frac = np.where(bits < 11, v << np.clip(11 - bits, 0, 11), v >> np.clip(bits - 11, 0, 31)) & 0x3FF
    result = ((table[base + 2] * frac) >> 5) + table[base + 1] * 32
    result = ((result * frac + (1 << 14)) >> 15) + table[base]
    return np.where(v <= 2, table[np.minimum(v, 2)], kissfft.wrap16(result))


@kernel("CUSTOM:SignalPCAN")
def pcan(node: Node):
    x, noise, table = node.inputs[0], node.input(1), node.input(2)
    node.require_types(("uint32",), x, noise, node.output)
    node.require_types(("int16",), table)
    snr_shift = np.uint64(_int_option(node, "snr_shift", 0, 63))
    if table.size < 125:
        node.refuse(f"a gain table of {table.size} entries (it reads up to entry 124)")

    def run(values):
        energies = values[0].astype(np.uint64).reshape(-1)
        gain = (_gain(values[1].reshape(-1), values[2].astype(np.int64).reshape(-1)) & U32).astype(np.uint64)
        snr = ((energies * gain) >> snr_shift).astype(np.int64) & U32
        small = snr < (2 << PCAN_SNR_BITS)
        quiet = (snr * snr) >> (2 + 2 * PCAN_SNR_BITS - PCAN_OUTPUT_BITS)
        loud = (snr >> (PCAN_SNR_BITS - PCAN_OUTPUT_BITS)) - (1 << PCAN_OUTPUT_BITS)
        return [np.where(small, quiet, loud) & U32]

    return run


def log_q16(x: np.ndarray, out_scale: int) -> np.ndarray:
    """Log32: ln(x) * out_scale / 2^16 from log2 in Q16 (its fraction corrected by the table), for x > 1."""
    x = np.asarray(x, np.int64)
    integer = bit_length(x) - 1
    frac = x - (np.int64(1) << integer)
    frac = np.where(integer < 16, frac << np.clip(16 - integer, 0, 16), frac >> np.clip(integer - 16, 0, 31))
    segment = frac >> 9
    c0, c1 = LOG_TABLE[segment], LOG_TABLE[np.minimum(segment + 1, 128)]
    fraction = (frac + c0 + (((c1 - c0) * (frac - 512 * segment)) >> 16)) & U32
    log2 = ((integer << 16) + fraction) & U32
    loge = ((LN2_Q16 * log2 + (1 << 15)) >> 16) & U32
    scaled = np.uint64(out_scale & U32) * loge.astype(np.uint64)  # the low 32 bits are uint32's product
    return ((scaled.astype(np.int64) + (1 << 15)) & U32) >> 16


@kernel("CUSTOM:SignalFilterBankLog")
def filter_bank_log(node: Node):
    node.require_types(("uint32",), node.inputs[0])
    node.require_types(("int16",), node.output)
    correction = _int_option(node, "input_correction_bits", 0, 31)
    out_scale = _int_option(node, "output_scale", -(1 << 31), (1 << 31) - 1)

    def run(values):
        scaled = (values[0].astype(np.int64).reshape(-1) << correction) & U32
        logs = log_q16(np.maximum(scaled, 2), out_scale)
        return [np.where(scaled > 1, np.minimum(logs, 32767), 0)]

    return run
