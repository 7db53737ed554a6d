"""tflite-micro's signal-library filter bank and what follows it -> firmware/tg_signal.c.

- SignalFilterBank: uint32 power spectrum -> uint64 channel energies (triangular mel bands, int16
  weights, accumulated modulo 2^64).
- SignalFilterBankSquareRoot: uint64 -> uint32, the rounded square root shifted right by the FFT's
  auto-scale bits.
- SignalPCAN: per-channel automatic gain control from the noise estimate, through a gain table.
- SignalFilterBankLog: uint32 -> int16, a fixed-point natural log times an output scale.

The indices the filter bank follows (where each band starts in the spectrum and in the weights,
and its width) are checked at compile time against the tensors they index: tflite-micro trusts
them. The arithmetic is in docs/numerics/signal.md; the spectral subtraction, which keeps state
between invokes, is spectral_subtraction.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, tensor_args
from ..ir import Graph, Op
from .checks import require
from .record import ACTIVATION, PARAM, OpDef, Options
from .signal_checks import INT32_MAX, constant_values, option, signal_io, typed

C_FILE = "tg_signal.c"
PCAN_LUT_ENTRIES = 125  # the gain of a noise estimate of 32 bits reads entries 122..124
LOG_SEGMENTS = 128


@dataclass(frozen=True)
class FilterBankParams:
    C_TYPE = "tg_signal_filter_bank_params"
    C_FILE = C_FILE
    channels: int


@dataclass(frozen=True)
class SqrtParams:
    C_TYPE = "tg_signal_filter_bank_sqrt_params"
    C_FILE = C_FILE
    channels: int


@dataclass(frozen=True)
class PcanParams:
    C_TYPE = "tg_signal_pcan_params"
    C_FILE = C_FILE
    channels: int
    snr_shift: int


@dataclass(frozen=True)
class LogParams:
    C_TYPE = "tg_signal_filter_bank_log_params"
    C_FILE = C_FILE
    channels: int
    output_scale: int
    correction_bits: int


def lower_filter_bank(op: Op, graph: Graph) -> Layer:
    (x, weights, unweights, frequency_starts, weight_starts, widths), (y,) = signal_io(op, graph, 6, 1)
    typed(op, x, "uint32", rank=1)
    for t in (weights, unweights, frequency_starts, weight_starts, widths):
        typed(op, t, "int16", rank=1)
    typed(op, y, "uint64", rank=1)
    channels = option(op, "num_channels", 1, y.size, f"the output holds {y.size} channels")
    require(y.size == channels, op, f"output {y.name} has {y.size} elements for {channels} channels")
    bands = channels + 1  # band c's rising edge and band c - 1's falling edge make channel c - 1
    tables = (frequency_starts, weight_starts, widths)
    starts, offsets, counts = (constant_values(op, t, "filter bank index") for t in tables)
    require(min(len(starts), len(offsets), len(counts)) >= bands, op, f"the band tables need {bands} entries each")
    starts, offsets, counts = starts[:bands], offsets[:bands], counts[:bands]
    taps = min(weights.size, unweights.size)
    bad = np.nonzero(
        (counts < 0) | (starts < 0) | (offsets < 0) | (starts + counts > x.size) | (offsets + counts > taps)
    )[0]
    require(
        bad.size == 0,
        op,
        f"band {int(bad[0]) if bad.size else 0} reaches outside the {x.size} input bins or the {taps} weights",
    )
    params = FilterBankParams(channels=channels)
    return Layer(op, "tg_signal_filter_bank", params, tensor_args(*op.inputs, *op.outputs))


def lower_sqrt(op: Op, graph: Graph) -> Layer:
    (x, scale_bits), (y,) = signal_io(op, graph, 2, 1)
    typed(op, x, "uint64", rank=1)
    typed(op, scale_bits, "int32", rank=0)
    typed(op, y, "uint32", rank=1)
    require(y.size == x.size, op, f"output {y.name} has {y.size} elements for an input of {x.size}")
    return Layer(op, "tg_signal_filter_bank_sqrt", SqrtParams(channels=x.size), tensor_args(*op.inputs, *op.outputs))


def lower_pcan(op: Op, graph: Graph) -> Layer:
    (x, noise, lut), (y,) = signal_io(op, graph, 3, 1)
    for t in (x, noise, y):
        typed(op, t, "uint32", rank=1)
    typed(op, lut, "int16", rank=1)
    require(y.size == x.size, op, f"output {y.name} has {y.size} elements for an input of {x.size}")
    require(noise.size >= x.size, op, f"noise estimate {noise.name} has {noise.size} channels for {x.size}")
    require(lut.size >= PCAN_LUT_ENTRIES, op, f"gain table {lut.name} has {lut.size} entries; PCAN reads 125")
    snr_shift = option(op, "snr_shift", 0, 63, "it shifts a 64-bit product")
    params = PcanParams(channels=x.size, snr_shift=snr_shift)
    return Layer(op, "tg_signal_pcan", params, tensor_args(*op.inputs, *op.outputs))


def log_table() -> np.ndarray:
    """log2(1 + i / 128) - i / 128 in Q16 for i = 0..128: what the linear interpolation of log2
    between powers of two misses (tflite-micro's kLogLut holds these values)."""
    i = np.arange(LOG_SEGMENTS + 1)
    return np.round(65536 * (np.log2(1 + i / LOG_SEGMENTS) - i / LOG_SEGMENTS)).astype(np.int16)


def lower_log(op: Op, graph: Graph) -> Layer:
    (x,), (y,) = signal_io(op, graph, 1, 1)
    typed(op, x, "uint32", rank=1)
    typed(op, y, "int16", rank=1)
    require(y.size == x.size, op, f"output {y.name} has {y.size} elements for an input of {x.size}")
    correction_bits = option(op, "input_correction_bits", 0, 31, "it shifts a 32-bit value")
    output_scale = option(op, "output_scale", -INT32_MAX - 1, INT32_MAX, "tflite-micro reads it as an int32")
    params = LogParams(channels=x.size, output_scale=output_scale, correction_bits=correction_bits)
    consts = {"log_lut": log_table()}
    args = (Arg("const", "log_lut"), *tensor_args(*op.inputs, *op.outputs))
    return Layer(op, "tg_signal_filter_bank_log", params, args, consts)


def _channels(op: Op, graph: Graph) -> int:
    return graph.tensor(op.outputs[0]).size


def _filter_bank_macs(op: Op, graph: Graph) -> int:
    widths = graph.tensor(op.inputs[5])
    return 2 * int(widths.data.astype(np.int64).clip(0).sum()) if widths.is_constant else 0


NOTE = "tflite-micro's audio front end: "
OPS = (
    OpDef(
        "CUSTOM:SignalFilterBank",
        lower_filter_bank,
        slots=(ACTIVATION, PARAM, PARAM, PARAM, PARAM, PARAM),
        options=Options(flexbuffer=("num_channels",)),
        macs=_filter_bank_macs,
        notes=NOTE + "uint32 spectrum to uint64 mel channels (constant bands, checked at compile time)",
    ),
    OpDef(
        "CUSTOM:SignalFilterBankSquareRoot",
        lower_sqrt,
        slots=(ACTIVATION, ACTIVATION),
        macs=_channels,
        notes=NOTE + "rounded integer square root, uint64 to uint32, shifted by the FFT's scale",
    ),
    OpDef(
        "CUSTOM:SignalPCAN",
        lower_pcan,
        slots=(ACTIVATION, ACTIVATION, PARAM),
        options=Options(flexbuffer=("snr_shift",)),
        macs=_channels,
        in_place=True,
        notes=NOTE + "per-channel gain control (PCAN) through its gain table",
    ),
    OpDef(
        "CUSTOM:SignalFilterBankLog",
        lower_log,
        options=Options(flexbuffer=("input_correction_bits", "output_scale")),
        macs=_channels,
        notes=NOTE + "fixed-point natural log, uint32 to int16",
    ),
)
