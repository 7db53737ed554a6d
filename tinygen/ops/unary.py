"""ABS, LEAKY_RELU and RSQRT -> tg_abs_s8, tg_leaky_relu_s8, tg_rsqrt_s8: element-wise int8 ops that
requantize one value per element with tflite-micro's multipliers.

tflite-micro computes each ratio of scales in float32 before widening it to double for
QuantizeMultiplier; the functions below do the same, since the last bit of a multiplier shows in the
outputs. NEG, EXP, LOG and SQRT have float32 kernels only in tflite-micro and are not here
(docs/numerics/unary.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Layer, tensor_args
from ..ir import Graph, Op, Tensor
from ..quantmath import INT8_MIN, f32
from .checks import int8_io, require, rescale_multiplier
from .record import OpDef, Options

# RSQRT's int8 path carries 1/sqrt(x - z_in) as an integer scaled by 2^20 between its two rescales.
RSQRT_DATA_SHIFT = 20


@dataclass(frozen=True)
class AbsParams:
    C_TYPE = "tg_abs_params"
    C_FILE = "tg_unary.c"
    size: int
    input_offset: int
    output_offset: int
    multiplier: int  # input scale / output scale
    shift: int


@dataclass(frozen=True)
class LeakyReluParams:
    C_TYPE = "tg_leaky_relu_params"
    C_FILE = "tg_unary.c"
    size: int
    input_offset: int
    output_offset: int
    identity_multiplier: int  # x >= 0: input scale / output scale
    identity_shift: int
    alpha_multiplier: int  # x < 0: |alpha| * input scale / output scale
    alpha_shift: int
    alpha_negative: int  # 1 when alpha < 0: the alpha branch's result is negated


@dataclass(frozen=True)
class RsqrtParams:
    C_TYPE = "tg_rsqrt_params"
    C_FILE = "tg_unary.c"
    size: int
    input_offset: int
    output_offset: int
    multiplier: int  # 1 / (sqrt(input scale) * output scale)
    shift: int  # its exponent less RSQRT_DATA_SHIFT


def same_shape_io(op: Op, graph: Graph) -> tuple[Tensor, Tensor]:
    """The int8 input and output of an element-wise op, checked to have one shape."""
    (x,), y = int8_io(op, graph)
    require(x.shape == y.shape, op, f"input shape {x.shape} and output shape {y.shape} differ")
    return x, y


def lower_abs(op: Op, graph: Graph) -> Layer:
    x, y = same_shape_io(op, graph)
    # tflite-micro skips the rescale when the scales are equal; the multiplier of 1.0 it would use
    # otherwise, (2^30, 1), gives the same integers, so one path serves both.
    with np.errstate(over="ignore"):  # past float32's range: infinity, which rescale_multiplier refuses
        ratio = float(f32(x.scale) / f32(y.scale))
    multiplier, shift = rescale_multiplier(op, ratio, f"{x.scale} / {y.scale}")
    params = AbsParams(
        size=y.size, input_offset=-x.zero_point, output_offset=y.zero_point, multiplier=multiplier, shift=shift
    )
    return Layer(op, "tg_abs_s8", params, tensor_args(op.inputs[0], op.outputs[0]))


def lower_leaky_relu(op: Op, graph: Graph) -> Layer:
    x, y = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if x.dtype == "int16" or y.dtype == "int16":  # tflite-micro's 16-bit variant: the same arithmetic
        require(x.dtype == y.dtype == "int16", op, f"input {x.dtype} and output {y.dtype}: both must be int16")
        require(x.shape == y.shape, op, f"input shape {x.shape} and output shape {y.shape} differ")
        for t in (x, y):
            require(t.quant is not None and not t.quant.per_channel, op, f"{t.name} needs per-tensor quantization")
    else:
        x, y = same_shape_io(op, graph)
    alpha = op.options.get("alpha", 0.0)  # the schema's default
    # The pinned interpreter divides in double (its source at the mirror's head shows float32; the
    # int16 seanet models tell them apart). tflite-micro quantizes the signed ratio; frexp and its
    # rounding are symmetric, so the magnitude's multiplier with the sign kept apart is the same pair.
    identity = x.scale / y.scale
    alpha_ratio = x.scale * float(f32(alpha)) / y.scale
    identity_multiplier, identity_shift = rescale_multiplier(op, identity, f"{x.scale} / {y.scale}")
    alpha_multiplier, alpha_shift = rescale_multiplier(op, abs(alpha_ratio), f"{x.scale} * |alpha {alpha}| / {y.scale}")
    params = LeakyReluParams(
        size=y.size,
        input_offset=-x.zero_point,
        output_offset=y.zero_point,
        identity_multiplier=identity_multiplier,
        identity_shift=identity_shift,
        alpha_multiplier=alpha_multiplier,
        alpha_shift=alpha_shift,
        alpha_negative=int(alpha_ratio < 0),
    )
    kernel = "tg_leaky_relu_s16" if x.dtype == "int16" else "tg_leaky_relu_s8"
    return Layer(op, kernel, params, tensor_args(op.inputs[0], op.outputs[0]))


def lower_rsqrt(op: Op, graph: Graph) -> Layer:
    x, y = same_shape_io(op, graph)
    # tflite-micro fails Invoke on any element below the input's zero point (a negative real value).
    # Only the lowest zero point rules that out for every input.
    require(
        x.zero_point == INT8_MIN,
        op,
        f"input zero point is {x.zero_point}; it must be {INT8_MIN} (tflite-micro fails at run time on any "
        "input below the zero point, a negative number)",
    )
    # sqrt in float32, the product in float32, the reciprocal in double.
    product = float(np.sqrt(f32(x.scale)) * f32(y.scale))
    require(product > 0, op, f"sqrt(input scale {x.scale}) * output scale {y.scale} is 0 in float32")
    real = 1.0 / product
    multiplier, shift = rescale_multiplier(op, real, f"1 / (sqrt({x.scale}) * {y.scale})")
    # The second rescale shifts right by RSQRT_DATA_SHIFT more; beyond 31 bits tflite-micro's shift is
    # undefined.
    require(
        shift - RSQRT_DATA_SHIFT >= -31,
        op,
        f"output scale {y.scale} is too large for input scale {x.scale}: 1 / (sqrt(input scale) * output scale) "
        f"must be at least 2^-{31 - RSQRT_DATA_SHIFT}",
    )
    params = RsqrtParams(
        size=y.size,
        input_offset=-x.zero_point,
        output_offset=y.zero_point,
        multiplier=multiplier,
        shift=shift - RSQRT_DATA_SHIFT,
    )
    return Layer(op, "tg_rsqrt_s8", params, tensor_args(op.inputs[0], op.outputs[0]))


def abs_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    return np.abs(args[0])


def leaky_relu_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    x = args[0]
    return np.where(x > 0, x, x * np.float32(op.options.get("alpha", 0.0)))


def rsqrt_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    return 1 / np.sqrt(args[0])


def rsqrt_exact(x: np.ndarray) -> np.ndarray:
    """tflite-micro's float RSQRT: 1.f / sqrtf(x), both IEEE-exact operations."""
    with np.errstate(all="ignore"):
        return (np.float32(1.0) / np.sqrt(np.asarray(x, np.float32))).astype(np.float32)


OPS = (
    OpDef(
        "ABS",
        lower_abs,
        notes="int8: the magnitude of x - z_in, rescaled to the output's scale",
        float_reference=abs_float,
        in_place=True,
        float_exact=lambda x: np.abs(np.asarray(x, np.float32)),
    ),
    OpDef(
        "LEAKY_RELU",
        lower_leaky_relu,
        notes="int8 and int16: TFLM's identity and alpha multipliers (any alpha sign)",
        options=Options("LeakyReluOptions", ("alpha",)),
        float_reference=leaky_relu_float,
        in_place=True,
    ),
    OpDef(
        "RSQRT",
        lower_rsqrt,
        notes="int8: TFLM's fixed-point inverse square root; input zero point -128",
        float_reference=rsqrt_float,
        in_place=True,
        float_exact=rsqrt_exact,
    ),
)
