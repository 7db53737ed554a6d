"""tflite-micro's signal-library ops before the FFT and right after it -> firmware/tg_signal.c.

- SignalWindow: int16 samples times an int16 window (Q-format), shifted right, saturated to int16.
- SignalFftAutoScale: the frame shifted left as far as its largest magnitude allows; the shift too.
- SignalEnergy: |X[k]|^2 of int16 complex bins, as uint32, for k in [start_index, end_index).

The arithmetic is in docs/numerics/signal.md. The FFT itself is rfft.py; the filter bank and what
follows it, filter_bank.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..compiler.layer import Layer, tensor_args
from ..ir import Graph, Op
from .checks import require
from .record import ACTIVATION, OpDef, Options
from .signal_checks import option, signal_io, typed

C_FILE = "tg_signal.c"


@dataclass(frozen=True)
class WindowParams:
    C_TYPE = "tg_signal_window_params"
    C_FILE = C_FILE
    size: int  # input elements
    window_size: int  # the window is applied to each run of this many samples
    shift: int


@dataclass(frozen=True)
class FftAutoScaleParams:
    C_TYPE = "tg_signal_fft_auto_scale_params"
    C_FILE = C_FILE
    size: int


@dataclass(frozen=True)
class EnergyParams:
    C_TYPE = "tg_signal_energy_params"
    C_FILE = C_FILE
    size: int  # output elements
    start: int  # the bins computed: [start, end); the others are 0
    end: int


def lower_window(op: Op, graph: Graph) -> Layer:
    (x, window), (y,) = signal_io(op, graph, 2, 1)
    typed(op, x, "int16")
    typed(op, window, "int16", rank=1)
    typed(op, y, "int16")
    require(len(x.shape) >= 1 and x.shape == y.shape, op, f"output shape {y.shape} differs from input shape {x.shape}")
    require(
        window.size > 0 and x.size % window.size == 0,
        op,
        f"the window's {window.size} weights do not tile the input's {x.size} samples",
    )
    # int16 * int16 fits int32 exactly; shifting it by 31 or more is undefined.
    shift = option(op, "shift", 0, 31, "the product is a 32-bit value")
    params = WindowParams(size=x.size, window_size=window.size, shift=shift)
    return Layer(op, "tg_signal_window_s16", params, tensor_args(*op.inputs, *op.outputs))


def lower_fft_auto_scale(op: Op, graph: Graph) -> Layer:
    (x,), (y, scale_bits) = signal_io(op, graph, 1, 2)
    typed(op, x, "int16", rank=1)
    typed(op, y, "int16", rank=1)
    typed(op, scale_bits, "int32", rank=0)
    require(y.size == x.size, op, f"output {y.name} has {y.size} elements for an input of {x.size}")
    params = FftAutoScaleParams(size=x.size)
    return Layer(op, "tg_signal_fft_auto_scale_s16", params, tensor_args(*op.inputs, *op.outputs))


def lower_energy(op: Op, graph: Graph) -> Layer:
    (spectrum,), (y,) = signal_io(op, graph, 1, 1)
    typed(op, spectrum, "int16", rank=1)
    typed(op, y, "uint32", rank=1)
    bins = min(spectrum.size // 2, y.size)  # the input holds (real, imaginary) pairs
    start = option(op, "start_index", 0, bins, f"the input holds {spectrum.size // 2} bins, the output {y.size}")
    end = option(op, "end_index", 0, bins, f"the input holds {spectrum.size // 2} bins, the output {y.size}")
    params = EnergyParams(size=y.size, start=start, end=end)
    return Layer(op, "tg_signal_energy_s16", params, tensor_args(*op.inputs, *op.outputs))


def _elements(op: Op, graph: Graph) -> int:
    return graph.tensor(op.outputs[0]).size


OPS = (
    OpDef(
        "CUSTOM:SignalWindow",
        lower_window,
        slots=(ACTIVATION, ACTIVATION),
        options=Options(flexbuffer=("shift",)),
        macs=_elements,
        in_place=True,
        notes="tflite-micro's audio front end: int16 samples times a Q-format window",
    ),
    OpDef(
        "CUSTOM:SignalFftAutoScale",
        lower_fft_auto_scale,
        outputs=2,  # the scaled frame and the shift
        options=Options(),
        in_place=True,
        notes="tflite-micro's audio front end: int16 frame scaled up to full range, and the shift",
    ),
    OpDef(
        "CUSTOM:SignalEnergy",
        lower_energy,
        options=Options(flexbuffer=("end_index", "start_index")),
        macs=_elements,
        notes="tflite-micro's audio front end: uint32 power of int16 complex bins; bins outside the range are 0",
    ),
)
