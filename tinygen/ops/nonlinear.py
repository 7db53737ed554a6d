"""LOGISTIC and TANH -> tg_logistic_s8, tg_tanh_s8: fixed-point sigmoid curves on fixed output grids.

tflite-micro evaluates both in Q4.27 and ignores the output tensor's parameters except
LOGISTIC's zero point, so the output must be on the grid the kernel writes: logistic
(1/256, -128), tanh (1/128, 0). Other output parameters would make the bytes mean
something else than the model says, so they are refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Layer, tensor_args
from ..ir import Graph, Op, Tensor
from ..quantmath import round_half_away
from .checks import int8_io, require
from .record import OpDef, Quantization

INPUT_INT_BITS = 4
OUTPUT_GRID = {"LOGISTIC": (1.0 / 256, -128), "TANH": (1.0 / 128, 0)}
KERNELS = {"LOGISTIC": "tg_logistic_s8", "TANH": "tg_tanh_s8"}


@dataclass(frozen=True)
class NonlinearParams:
    C_TYPE = "tg_nonlinear_params"
    C_FILE = "tg_activations.c"
    size: int
    input_zero_point: int
    input_multiplier: int
    input_shift: int
    input_radius: int


def input_scaling(input_scale: float) -> tuple[int, int, int]:
    """(multiplier, shift, radius) as TFLM's LOGISTIC/TANH Prepare computes them.

    s_in * 2^27 (one input step in Q4.27) is split by frexp without quantize_multiplier's
    fix-up for a significand rounding up to 1.0; a float32 scale has 24 significant bits, so
    that rounding cannot happen. The shift may be positive. The radius is the largest
    |x - z_in| whose Q4.27 value stays below 15 (the range of 4 integer bits): beyond it the
    output saturates.
    """
    significand, shift = math.frexp(input_scale * 2.0 ** (31 - INPUT_INT_BITS))
    multiplier = round_half_away(significand * 2.0**31)
    radius = ((1 << INPUT_INT_BITS) - 1) << (31 - INPUT_INT_BITS) >> shift
    return multiplier, shift, radius


def lower_nonlinear(op: Op, graph: Graph) -> Layer:
    (x,), y = int8_io(op, graph)
    require(x.shape == y.shape, op, f"input {x.shape} and output {y.shape} shapes differ")
    scale, zero_point = OUTPUT_GRID[op.kind]
    require(
        y.scale == scale and y.zero_point == zero_point,
        op,
        f"output quantization must be scale 1/{round(1 / scale)}, zero point {zero_point} "
        f"(the grid tflite-micro's kernel writes), got scale {y.scale:g}, zero point {y.zero_point}",
    )
    # TFLM computes the radius with 1 << shift, undefined unless 0 <= shift <= 62: this range.
    require(
        2.0**-28 <= x.scale < 2.0**35,
        op,
        f"input scale {x.scale:g} is outside what tflite-micro handles (2^-28 .. 2^35)",
    )
    multiplier, shift, radius = input_scaling(x.scale)
    params = NonlinearParams(
        size=x.size, input_zero_point=x.zero_point, input_multiplier=multiplier, input_shift=shift, input_radius=radius
    )
    return Layer(op, KERNELS[op.kind], params, tensor_args(op.inputs[0], op.outputs[0]))


def logistic_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    return 1 / (1 + np.exp(-args[0]))


def tanh_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    return np.tanh(args[0])


OPS = (
    OpDef(
        "LOGISTIC",
        lower_nonlinear,
        notes="TFLM's fixed-point (gemmlowp) arithmetic, bit for bit; output 1/256, -128",
        float_reference=logistic_float,
        quantization=Quantization(fixed_output=OUTPUT_GRID["LOGISTIC"]),
        in_place=True,
    ),
    OpDef(
        "TANH",
        lower_nonlinear,
        notes="TFLM's fixed-point (gemmlowp) arithmetic, bit for bit; output 1/128, 0",
        float_reference=tanh_float,
        quantization=Quantization(fixed_output=OUTPUT_GRID["TANH"]),
        in_place=True,
    ),
)
