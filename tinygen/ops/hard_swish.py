"""HARD_SWISH -> tg_hard_swish_s8: x * relu6(x + 3) / 6 in tflite-micro's int16 fixed point.

The input is lifted by 2^7 into int16, then rescaled twice with 16-bit multipliers: once to the
output's scale, once to the "reluish" scale where 3.0 is 2^15 (so x in [-3, 3] maps to [-1, 1]).
The two products meet in one truncating high multiply. Both multipliers are computed here as
tflite-micro's Prepare does: the ratio in float32, QuantizeMultiplier in double, then rounded to
the top 16 bits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Layer, tensor_args
from ..ir import Graph, Op, Tensor
from ..quantmath import f32, quantize_multiplier
from .checks import require, rescale_multiplier
from .record import OpDef
from .unary import same_shape_io

HIRES_SHIFT = 7  # the int8 difference x - z_in is lifted by 2^7 in int16
RELUISH_SCALE = f32(3.0) / f32(32768.0)  # 3.0 is 2^15 on the reluish scale
INT16_MAX = (1 << 15) - 1
# tflite-micro's int16 rounding right shift gives +-1 for any value from 16 bits of shift on.
MAX_RIGHT_SHIFT = 15


@dataclass(frozen=True)
class HardSwishParams:
    C_TYPE = "tg_hard_swish_params"
    C_FILE = "tg_unary.c"
    size: int
    input_offset: int
    output_offset: int
    output_multiplier: int  # Q15, int16 range: input scale / 2^7 / output scale
    output_shift: int  # <= 0
    reluish_multiplier: int  # Q15, int16 range: input scale / 2^7 / (3 / 2^15)
    reluish_shift: int


def int16_multiplier(multiplier: int) -> int:
    """A Q31 multiplier rounded to its top 16 bits (Q15), saturating where the rounding would overflow."""
    rounding = 1 << 15
    if multiplier >= (1 << 31) - 1 - rounding:
        return INT16_MAX
    return (multiplier + rounding) >> 16


def lower_hard_swish(op: Op, graph: Graph) -> Layer:
    x, y = same_shape_io(op, graph)
    hires_scale = f32(1.0 / (1 << HIRES_SHIFT)) * f32(x.scale)
    output_real = float(hires_scale / f32(y.scale))
    # tflite-micro's Prepare requires the output multiplier's exponent to be <= 0: a float32 ratio
    # below 1 is at most 1 - 2^-24, which QuantizeMultiplier does not round up to 1.
    require(
        output_real < 1.0,
        op,
        f"output scale {y.scale} is too small for input scale {x.scale}: input scale / 128 / output scale must be "
        "below 1 (tflite-micro refuses the model)",
    )
    output_multiplier, output_shift = quantize_multiplier(output_real)
    require(
        output_shift >= -MAX_RIGHT_SHIFT,
        op,
        f"output scale {y.scale} is too large for input scale {x.scale}: input scale / 128 / output scale must be "
        f"at least 2^-{MAX_RIGHT_SHIFT + 1} (tflite-micro's int16 rounding shift goes wrong below)",
    )
    reluish_real = float(hires_scale / RELUISH_SCALE)
    what = f"input scale {x.scale} / 128 / (3 / 32768)"
    reluish_multiplier, reluish_shift = rescale_multiplier(op, reluish_real, what)
    require(
        reluish_shift >= -MAX_RIGHT_SHIFT,
        op,
        f"input scale {x.scale} is too small: input scale / 128 / (3 / 32768) must be at least "
        f"2^-{MAX_RIGHT_SHIFT + 1} (tflite-micro's int16 rounding shift goes wrong below)",
    )
    params = HardSwishParams(
        size=y.size,
        input_offset=-x.zero_point,
        output_offset=y.zero_point,
        output_multiplier=int16_multiplier(output_multiplier),
        output_shift=output_shift,
        reluish_multiplier=int16_multiplier(reluish_multiplier),
        reluish_shift=reluish_shift,
    )
    return Layer(op, "tg_hard_swish_s8", params, tensor_args(op.inputs[0], op.outputs[0]))


def hard_swish_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    x = args[0]
    return x * np.clip(x + 3, 0, 6) / 6


OPS = (
    OpDef(
        "HARD_SWISH",
        lower_hard_swish,
        notes="int8: TFLM's int16 fixed-point arithmetic, bit for bit",
        float_reference=hard_swish_float,
        in_place=True,
    ),
)
