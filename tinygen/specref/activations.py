"""Element-wise activations: RELU, RELU6, LEAKY_RELU, ABS, RSQRT, HARD_SWISH, ELU."""

from __future__ import annotations

import numpy as np

from ..ops.libm import c_float_function
from .arith import (
    TYPE_RANGE,
    activation_bounds,
    mbqm,
    quantize_multiplier,
    round_away,
    saturate,
)
from .fixedpoint import inverse_sqrt
from .floats import float_kernel
from .registry import Node, kernel

f32 = np.float32


def _same_shape(node: Node, types: tuple[str, ...]):
    x, y = node.inputs[0], node.output
    node.require_types(types, x, y)
    if x.dtype != y.dtype or x.size != y.size:
        node.refuse(f"input {x.dtype}{list(x.shape)} and output {y.dtype}{list(y.shape)} are not covered")
    return x, y


@kernel("RELU")
def relu(node: Node):
    """Rescaled by s_in / s_out (in double in the pinned interpreter), clamped at the output's zero."""
    x, y = _same_shape(node, ("int8", "int16"))
    (sx, zx), (sy, zy) = node.quantized(x), node.quantized(y)
    if x.dtype == "int16" and (zx or zy):
        node.fail("int16 zero points must be 0")
    multiplier = quantize_multiplier(float(sx) / float(sy))
    low, high = activation_bounds("RELU", sy, zy, y.dtype)
    return lambda values: [np.clip(zy + mbqm(values[0].astype(np.int64) - zx, *multiplier), low, high)]


@kernel("RELU6")
def relu6(node: Node):
    """Clamped to [z_in, six] in the input's own quantization; the output's is never read."""
    x, _ = _same_shape(node, ("int8", "int16"))
    sx, zx = node.quantized(x)
    low, high = TYPE_RANGE[x.dtype]
    six = min(max(round_away(float(f32(6.0) / f32(sx))) + zx, low), high)  # FloatToQuantizedType clamps
    return lambda values: [np.clip(values[0], zx, six)]


@kernel("LEAKY_RELU")
def leaky_relu(node: Node):
    """v = x - z_in rescaled by s_in / s_out where v >= 0, by s_in * alpha / s_out where v < 0 (a
    negative alpha gives a negative multiplier whose sign is applied after). The pinned interpreter
    computes both ratios in double (its source at the mirror's head shows float32; int16 models with
    scales that tell the two apart follow double)."""
    x, y = _same_shape(node, ("int8", "int16"))
    (sx, zx), (sy, zy) = node.quantized(x), node.quantized(y)
    alpha = float(f32(node.option("alpha", 0.0)))
    identity = quantize_multiplier(float(sx) / float(sy))
    alpha_multiplier, alpha_shift = quantize_multiplier(float(sx) * alpha / float(sy))
    sign = -1 if alpha_multiplier < 0 else 1

    def run(values):
        v = values[0].astype(np.int64) - zx
        negative = sign * mbqm(v, abs(alpha_multiplier), alpha_shift)
        return [saturate(zy + np.where(v >= 0, mbqm(v, *identity), negative), y.dtype)]

    return run


@kernel("ABS")
def abs_(node: Node):
    if node.inputs[0].dtype == "float32":
        return float_kernel(node)
    x, y = _same_shape(node, ("int8", "int16"))
    (sx, zx), (sy, zy) = node.quantized(x), node.quantized(y)
    if x.dtype == "int16" and (zx or zy):
        node.fail("int16 zero points must be 0")
    rescale = f32(sx) != f32(sy)
    multiplier = quantize_multiplier(float(f32(sx) / f32(sy))) if rescale else None

    def run(values):
        magnitude = np.abs(values[0].astype(np.int64) - zx)
        return [saturate((mbqm(magnitude, *multiplier) if rescale else magnitude) + zy, y.dtype)]

    return run


@kernel("RSQRT")
def rsqrt(node: Node):
    """1 / sqrt(v) as an integer times 2^20 (gemmlowp's inverse square root), then rescaled by
    1 / (sqrtf(s_in) * s_out), the reciprocal in double. v = 0 gives the type's maximum."""
    if node.inputs[0].dtype == "float32":
        return float_kernel(node)
    x, y = _same_shape(node, ("int8",))
    (sx, zx), (sy, zy) = node.quantized(x), node.quantized(y)
    multiplier, shift = quantize_multiplier(1.0 / float(np.sqrt(f32(sx)) * f32(sy)))

    def run(values):
        v = values[0].astype(np.int64) - zx
        if np.any(v < 0):
            node.fail("Rsqrt is only defined for positive values")
        inverse, inverse_shift = inverse_sqrt(v)
        scaled = mbqm(mbqm(1, inverse, inverse_shift + 20), multiplier, shift - 20) + zy
        return [np.where(v == 0, 127, saturate(scaled, "int8"))]

    return run


def _srdhm16(a: np.ndarray, b) -> np.ndarray:
    """gemmlowp's int16 SaturatingRoundingDoublingHighMul."""
    product = np.asarray(a, np.int64) * b
    high = _trunc_2_15(product + np.where(product >= 0, 1 << 14, 1 - (1 << 14)))
    return np.where((a == -32768) & (b == -32768), 32767, high)


def _trunc_2_15(x: np.ndarray) -> np.ndarray:
    return np.where(x >= 0, x >> 15, -((-x) >> 15))


def _rdbp16(x: np.ndarray, exponent: int) -> np.ndarray:
    """gemmlowp's int16 RoundingDivideByPOT: its mask is cut to 16 bits (all ones from 16 on)."""
    mask = ((1 << exponent) - 1) & 0xFFFF
    mask = mask - 0x10000 if mask >= 0x8000 else mask
    return (x >> exponent) + ((x & mask) > (mask >> 1) + (x < 0))


def _saturating_left16(x: np.ndarray, amount: int) -> np.ndarray:
    return np.clip(x * (1 << amount), -32768, 32767)


def _int16_multiplier(real: float) -> tuple[int, int]:
    """QuantizeMultiplier, then DownScaleInt32ToInt16Multiplier: the Q31 significand rounded to Q15."""
    multiplier, exponent = quantize_multiplier(real)
    return (32767 if multiplier >= (1 << 31) - 1 - (1 << 15) else (multiplier + (1 << 15)) >> 16), exponent


@kernel("HARD_SWISH")
def hard_swish(node: Node):
    """x * relu6(x + 3) / 6 in int16 fixed point, as tflite-micro's reference computes it."""
    x, y = _same_shape(node, ("int8",))
    (sx, zx), (sy, zy) = node.quantized(x), node.quantized(y)
    hires = f32(1.0 / 128.0) * f32(sx)
    out_multiplier, out_exponent = _int16_multiplier(float(hires / f32(sy)))
    if out_exponent > 0:
        node.fail("the output scale is below input scale / 128")
    relu_multiplier, relu_exponent = _int16_multiplier(float(hires / f32(3.0 / 32768.0)))

    def run(values):
        hires_value = (values[0].astype(np.int64) - zx) * 128
        preshift = _srdhm16(hires_value, out_multiplier)
        reluish = hires_value
        if relu_exponent > 0:
            reluish = _saturating_left16(reluish, relu_exponent - 1)
        reluish = _srdhm16(reluish, relu_multiplier)
        if relu_exponent > 0:
            reluish = _saturating_left16(reluish, 1)
        if relu_exponent < 0:
            reluish = _rdbp16(reluish, -relu_exponent)
        reluish = (reluish + (1 << 15)) >> 1
        product = _trunc_2_15(reluish * preshift)  # SaturatingDoublingHighMul, rounding toward zero
        return [saturate(_rdbp16(product, -out_exponent) + zy, "int8")]

    return run


@kernel("ELU")
def elu(node: Node):
    """A 256-entry table filled in float32: dequantize, expf(x) - 1 below 0, times 1 / s_out, roundf,
    plus z_out (a float sum), converted to int32 and clamped. float32: x < 0 ? expm1f(x) : x."""
    if node.inputs[0].dtype == "float32":
        return float_kernel(node)
    x, y = _same_shape(node, ("int8",))
    (sx, zx), (sy, zy) = node.quantized(x), node.quantized(y)
    expf, inverse = c_float_function("expf"), f32(1.0) / f32(sy)
    table = np.zeros(256, np.int64)
    with np.errstate(all="ignore"):
        for q in range(-128, 128):
            real = f32(sx) * f32(q - zx)
            curved = f32(expf(float(real))) - f32(1.0) if real < 0 else real
            shifted = f32(round_away(float(curved * inverse))) + f32(zy) if np.isfinite(curved * inverse) else None
            if shifted is None or not -(2.0**31) <= shifted < 2.0**31:
                node.refuse("an entry of tflite-micro's table leaves int32 (the conversion is undefined)")
            table[q & 0xFF] = min(max(int(shifted), -128), 127)
    return lambda values: [table[values[0].astype(np.uint8)]]
