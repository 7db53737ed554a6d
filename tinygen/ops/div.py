"""DIV with numpy broadcasting -> tg_div_s32 (C division) and tg_div_s8 (fixed-point reciprocal).

tflite-micro's int8 DIV normalises the numerator to its headroom, multiplies by a fixed-point
reciprocal of the divisor and rescales with one rounding right shift by
recip_shift + headroom - output_shift. That shift depends on the values: where it leaves 0..31
the C shift is undefined, and tflite-micro computes wrong quotients (0 / 100 gives 1, say). Lowering
works out the shift for every numerator and divisor the inputs can hold and compiles the model
only where all of them lie in 0..31.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Layer
from ..ir import Graph, Op, Tensor
from .binary import (
    TYPE_RANGES,
    activation_bounds,
    binary_io,
    broadcast,
    float_layer,
    int32_fold,
    int32_layer,
    require_quantized,
)
from .checks import require, rescale_multiplier
from .elementwise import elementwise_macs
from .record import ACTIVATION, OpDef, Options

MAX_RIGHT_SHIFT = 31


@dataclass(frozen=True)
class DivParams:
    C_TYPE = "tg_div_params"
    C_FILE = "tg_binary.c"
    rank: int
    size: int
    input1_offset: int
    input2_offset: int
    output_offset: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int


def _values(t: Tensor) -> np.ndarray:
    """Every value the tensor can hold, less its zero point (a constant's own values)."""
    values = np.unique(t.data) if t.is_constant else np.arange(TYPE_RANGES[t.dtype][0], TYPE_RANGES[t.dtype][1] + 1)
    return values.astype(np.int64) - t.zero_point


def _bit_length(values: np.ndarray) -> np.ndarray:
    return np.frexp(values.astype(np.float64))[1]  # exact for these small integers; 0 for 0


def rounding_shifts(numerators: np.ndarray, divisors: np.ndarray) -> np.ndarray:
    """recip_shift + headroom for every (numerator, divisor) pair: the final right shift plus output_shift.

    A negative divisor flips both signs first; the divisor is 2^recip_shift * (1 + f) (recip_shift
    is -1 for 0); headroom counts the numerator's redundant sign bits (31 for 0 and -1)."""
    n, d = numerators[:, None], divisors[None, :]
    n = np.where(d < 0, -n, n)
    recip_shift = _bit_length(np.abs(d)) - 1
    headroom = 31 - _bit_length(np.where(n < 0, ~n, n))
    return recip_shift + headroom


def lower_div(op: Op, graph: Graph) -> Layer:
    a, b, y = binary_io(op, graph, ("int8", "int32", "float32"))
    if y.dtype == "float32":
        return float_layer(op, graph, "tg_div")
    if y.dtype == "int32":
        require(
            not (b.is_constant and (b.data == 0).any()),
            op,
            "divides by zero: the constant divisor holds 0 (tflite-micro fails on it)",
        )
        return int32_layer(op, graph, "tg_div")
    require_quantized(op, (a, b, y))
    divisors = _values(b)
    require(
        not (b.is_constant and (divisors == 0).any()), op, "divides by zero: the constant divisor holds its zero point"
    )
    real = a.scale / (b.scale * y.scale)  # in double, from the float32 scales
    multiplier, shift = rescale_multiplier(op, real, f"{a.scale} / ({b.scale} * {y.scale})")
    shifts = rounding_shifts(_values(a), divisors)
    low, high = int(shifts.max()) - MAX_RIGHT_SHIFT, int(shifts.min())  # the output shifts that work
    require(
        low <= shift <= high,
        op,
        f"tflite-micro's int8 DIV computes wrong quotients with these scales (a rounding shift outside "
        f"0..31 for some inputs); it needs input1 scale / (input2 scale * output scale) in "
        f"[{2.0 ** (low - 1):g}, {2.0**high:g}), not {real:.4g}",
    )
    walk = broadcast(op, graph)
    act_min, act_max = activation_bounds(op, y)
    params = DivParams(
        rank=walk.rank,
        size=walk.size,
        input1_offset=-a.zero_point,
        input2_offset=-b.zero_point,
        output_offset=y.zero_point,
        output_multiplier=multiplier,
        output_shift=shift,
        act_min=act_min,
        act_max=act_max,
    )
    return walk.layer(op, "tg_div_s8", params)


def _truncating_division(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """C's a / b (toward zero); None where some divisor is 0."""
    if (b == 0).any():
        return None
    return np.sign(a) * np.sign(b) * (np.abs(a) // np.abs(b))


OPS = (
    OpDef(
        "DIV",
        lower_div,
        notes="int32, float32; int8 where tflite-micro's rounding shifts stay in 0..31 (large input1 / output "
        "scale ratios)",
        slots=(ACTIVATION, ACTIVATION),
        options=Options("DivOptions", ("fused_activation_function",)),
        macs=elementwise_macs,
        float_reference=lambda op, args, out: args[0] / args[1],
        in_place=True,
        fold=int32_fold(_truncating_division),
    ),
)
