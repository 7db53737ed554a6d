"""SignalFilterBankSpectralSubtraction: the audio front end's noise reduction, which keeps state
-> firmware/tg_signal.c.

Each channel's noise estimate is a running average of its energy (even and odd channels have
their own smoothing coefficients), carried from one invoke to the next in the persistent state
region (tinygen/compiler/state.py): zero after tg_model_init() and tg_model_reset_state(), as
tflite-micro clears it in Prepare and on reset. The output is the energy less the estimate, but
never below a floor (a fraction of the energy); the second output is the updated estimate.
docs/numerics/signal.md has the arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..compiler.layer import Arg, Layer, StateBuffer, tensor_args
from ..ir import Graph, Op
from .checks import require
from .record import OpDef, Options
from .signal_checks import INT32_MAX, option, signal_io, typed

KEYS = (
    "alternate_one_minus_smoothing",
    "alternate_smoothing",
    "clamping",
    "min_signal_remaining",
    "num_channels",
    "one_minus_smoothing",
    "smoothing",
    "smoothing_bits",
    "spectral_subtraction_bits",
)
# Coefficients tflite-micro reads as int32 and keeps as uint32: tinygen takes the values both agree on.
COEFFICIENTS = (
    "smoothing",
    "one_minus_smoothing",
    "alternate_smoothing",
    "alternate_one_minus_smoothing",
    "min_signal_remaining",
)


@dataclass(frozen=True)
class SpectralSubtractionParams:
    C_TYPE = "tg_signal_spectral_subtraction_params"
    C_FILE = "tg_signal.c"
    channels: int
    smoothing: int
    one_minus_smoothing: int
    alternate_smoothing: int
    alternate_one_minus_smoothing: int
    min_signal_remaining: int
    smoothing_bits: int
    spectral_subtraction_bits: int
    clamping: int


def lower_spectral_subtraction(op: Op, graph: Graph) -> Layer:
    (x,), (y, noise) = signal_io(op, graph, 1, 2)
    for t in (x, y, noise):
        typed(op, t, "uint32", rank=1)
    channels = option(op, "num_channels", 1, x.size, f"the input holds {x.size} channels")
    for t in (x, y, noise):
        require(t.size == channels, op, f"tensor {t.name} has {t.size} elements for {channels} channels")
    coefficients = {key: option(op, key, 0, INT32_MAX) for key in COEFFICIENTS}
    params = SpectralSubtractionParams(
        channels=channels,
        **coefficients,
        smoothing_bits=option(op, "smoothing_bits", 0, 31, "it shifts a 32-bit value"),
        spectral_subtraction_bits=option(op, "spectral_subtraction_bits", 0, 63, "it shifts a 64-bit value"),
        clamping=option(op, "clamping", 0, 1),
    )
    state = (StateBuffer("noise_estimate", 4 * channels, 0),)
    args = (*tensor_args(*op.inputs, *op.outputs), Arg("state", 0))
    return Layer(op, "tg_signal_spectral_subtraction", params, args, state=state)


OPS = (
    OpDef(
        "CUSTOM:SignalFilterBankSpectralSubtraction",
        lower_spectral_subtraction,
        outputs=2,  # the output and the noise estimate
        options=Options(flexbuffer=KEYS),
        macs=lambda op, graph: 4 * graph.tensor(op.inputs[0]).size,
        in_place=True,
        notes="tflite-micro's audio front end: noise subtraction with a per-channel noise estimate kept "
        "between invokes (state, reset by tg_model_reset_state)",
    ),
)
