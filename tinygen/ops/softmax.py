"""SOFTMAX -> tg_softmax_s8: int8 in, int8 out on tflite-micro's fixed grid (scale 1/256, zero point -128);
tg_softmax_s8_s16 for an int16 output (scale 1/65536, zero point -32768)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Layer, tensor_args
from ..ir import Graph, Op, Tensor
from ..quantmath import quantize_multiplier
from .checks import int8_io, require
from .record import OpDef, Options, Quantization

# The scaled difference beta * s_in * (x - max) is evaluated in Q5.26, so differences
# reach down to -32 before exp() underflows.
DIFF_INT_BITS = 5
OUTPUT_SCALE = 1.0 / 256
OUTPUT_ZERO_POINT = -128
# An int16 output: zero point -32768 and a scale within 0.1% of 1/65536 (tflite-micro's Prepare).
OUTPUT16_SCALE = 1.0 / 65536
OUTPUT16_ZERO_POINT = -32768
# The int16 output's Q12.19 sum of exps is an int32 in tflite-micro: rows up to this deep cannot overflow it.
OUTPUT16_MAX_DEPTH = 4095


@dataclass(frozen=True)
class SoftmaxParams:
    C_TYPE = "tg_softmax_params"
    C_FILE = "tg_softmax.c"
    rows: int
    depth: int
    input_multiplier: int
    input_shift: int
    diff_min: int


def softmax_scaling(beta: float, input_scale: float) -> tuple[int, int, int] | None:
    """(multiplier, left shift, diff_min) as TFLM's Prepare derives them, or None if it would abort.

    beta * s_in maps an input step to Q5.26 (hence 2^26), capped below 2^31 and quantized
    as a multiplier > 1. diff_min is minus the largest difference that still fits 5 integer
    bits after the shift: floor(31 * 2^26 / 2^shift).
    """
    real = min(float(np.float32(beta)) * input_scale * 2.0 ** (31 - DIFF_INT_BITS), 2.0**31 - 1)
    if not real > 1.0:  # QuantizeMultiplierGreaterThanOne CHECK-fails
        return None
    # Quantizing real / 2 gives the same significand with the exponent one lower; it lets the
    # exponent reach 31 (beta * s_in >= 16), which quantize_multiplier refuses for general use.
    # That is harmless here: diff_min is then 0, so only a zero difference is ever shifted.
    multiplier, shift = quantize_multiplier(real / 2)
    shift += 1
    diff_min = -(((1 << DIFF_INT_BITS) - 1) << (31 - DIFF_INT_BITS) >> shift)
    return multiplier, shift, diff_min


def lower_softmax(op: Op, graph: Graph) -> Layer:
    x, y = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    wide = y.dtype == "int16" and x.dtype == "int8"
    if wide:
        require(x.quant is not None and y.quant is not None, op, "int8 to int16 needs quantized tensors")
    else:
        (x,), y = int8_io(op, graph)
    require(len(x.shape) >= 1 and x.shape == y.shape, op, f"input {x.shape} and output {y.shape} shapes differ")
    if wide:
        require(
            abs(y.scale - OUTPUT16_SCALE) <= 0.001 * OUTPUT16_SCALE and y.zero_point == OUTPUT16_ZERO_POINT,
            op,
            f"an int16 output's quantization must be scale 1/65536, zero point -32768 (as tflite-micro requires), "
            f"got scale {y.scale:g}, zero point {y.zero_point}",
        )
        require(x.shape[-1] <= OUTPUT16_MAX_DEPTH, op, f"rows of {x.shape[-1]} overflow the int16 output's sum")
    else:
        require(
            y.scale == OUTPUT_SCALE and y.zero_point == OUTPUT_ZERO_POINT,
            op,
            f"output quantization must be scale 1/256, zero point -128 (as tflite-micro requires), "
            f"got scale {y.scale:g}, zero point {y.zero_point}",
        )
    beta = op.options.get("beta", 0.0)  # the schema's default
    scaling = softmax_scaling(beta, x.scale)
    require(scaling is not None, op, f"beta {beta:g} * input scale {x.scale:g} must exceed 2^-26")
    multiplier, shift, diff_min = scaling
    depth = x.shape[-1]
    params = SoftmaxParams(
        rows=x.size // depth, depth=depth, input_multiplier=multiplier, input_shift=shift, diff_min=diff_min
    )
    kernel = "tg_softmax_s8_s16" if wide else "tg_softmax_s8"
    return Layer(op, kernel, params, tensor_args(op.inputs[0], op.outputs[0]))


def softmax_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    z = args[0] * op.options.get("beta", 1.0)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_guard(op: Op, graph: Graph) -> str | None:
    """TFLM aborts a SOFTMAX row whose exps sum to 512 or more (and at prepare on a multiplier <= 1).

    Whether a row gets there depends on the data (512 equal values always do), so this only
    catches what aborts for every input: even the most spread row, one 127 and the rest -128,
    sums to 512. A deep, flat softmax can still abort the interpreter on particular inputs.
    """
    x = graph.tensor(op.inputs[0])
    if x.dtype != "int8" or x.quant is None or graph.tensor(op.outputs[0]).dtype != "int8":
        return None  # an int16 output's shift stays within 31 for any row tinygen compiles
    beta = op.options.get("beta", 0.0)
    scaling = softmax_scaling(beta, x.scale)
    smallest_exp = 0.0
    if scaling is not None and scaling[2] <= -255:
        smallest_exp = math.exp(-255 * beta * x.scale)
    if scaling is None or 1 + (x.shape[-1] - 1) * smallest_exp >= 512:
        return "aborts tflite-micro on every input (its beta * input scale is too small)"
    return None


OPS = (
    OpDef(
        "SOFTMAX",
        lower_softmax,
        notes="TFLM's fixed-point (gemmlowp) arithmetic, bit for bit; int8 output 1/256, -128; int16 1/65536, -32768",
        options=Options("SoftmaxOptions", ("beta",)),
        float_reference=softmax_float,
        quantization=Quantization(fixed_output=(OUTPUT_SCALE, OUTPUT_ZERO_POINT)),
        in_place=True,
        reference_guard=softmax_guard,
    ),
)
