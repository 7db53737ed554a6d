"""QUANTIZE and DEQUANTIZE: between float32 and the integer types, and between integer scales.

QUANTIZE float32 -> int8, int16   tg_quantize_f32_{s8,s16}: round(x / scale) + zero point, in float
QUANTIZE integer -> integer       tg_requantize_*: an integer rescale with a compile-time multiplier,
                                  for the pairs tflite-micro computes (QUANTIZE_PAIRS)
DEQUANTIZE int8, uint8, int16 -> float32   tg_dequantize_{s8,u8,s16}_f32: scale * (q - zero point)
The float scale reaches the C as a one-element float array (params hold integers only).
Each conversion of a constant is folded at compile time with the same arithmetic (docs/numerics/quantize.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, tensor_args
from ..ir import NUMPY_DTYPES, Graph, Op, Tensor
from .checks import require, rescale_multiplier
from .record import OpDef, Options

# Kernel name suffixes.
SUFFIX = {"int8": "s8", "uint8": "u8", "int16": "s16", "int32": "s32", "float32": "f32"}

# The (input, output) types tflite-micro's QUANTIZE computes (quantize_common.cc); it refuses the others.
QUANTIZE_PAIRS = (
    ("float32", "int8"),
    ("float32", "int16"),
    ("int8", "int8"),
    ("int8", "uint8"),
    ("int8", "int16"),
    ("int8", "int32"),
    ("uint8", "int8"),
    ("int16", "int8"),
    ("int16", "int16"),
    ("int16", "int32"),
    ("int32", "int8"),
    ("int32", "int16"),
)
DEQUANTIZE_INPUTS = ("int8", "uint8", "int16")

# The kernels bound round(x / scale) to +-2^16 before converting it to an int (TG_QUANTIZE_LIMIT), where
# every int8 and int16 output saturates. Any bound past that gives the same bytes; numpy takes the int32
# range, which also serves the float executor's int32 outputs.
QUANTIZE_BOUND = 2.0**31


@dataclass(frozen=True)
class QuantizeParams:
    C_TYPE = "tg_quantize_params"
    C_FILE = "tg_quantize.c"
    size: int
    output_offset: int


@dataclass(frozen=True)
class RequantizeParams:
    C_TYPE = "tg_requantize_params"
    C_FILE = "tg_quantize.c"
    size: int
    input_offset: int
    output_offset: int
    multiplier: int
    shift: int


@dataclass(frozen=True)
class DequantizeParams:
    C_TYPE = "tg_dequantize_params"
    C_FILE = "tg_quantize.c"
    size: int
    input_offset: int


def conversion_io(op: Op, x: Tensor, y: Tensor) -> None:
    """What every conversion needs: the same shape in and out."""
    require(x.shape == y.shape, op, f"input shape {x.shape} and output shape {y.shape} differ")


def _require_quantized(op: Op, t: Tensor) -> None:
    require(t.quant is not None and not t.quant.per_channel, op, f"tensor {t.name} needs per-tensor quantization")
    require(bool(np.isfinite(t.scale)) and t.scale > 0, op, f"tensor {t.name} has scale {t.scale}; it must be positive")
    info = np.iinfo(NUMPY_DTYPES[t.dtype])
    # -zero point must fit an int32 too (the kernels take it as the input offset).
    require(
        max(info.min, -(2**31) + 1) <= t.zero_point <= info.max,
        op,
        f"tensor {t.name} has zero point {t.zero_point}, outside the {t.dtype} range",
    )


def _pair_names(pairs) -> str:
    return ", ".join(f"{a} to {b}" for a, b in pairs)


def check_quantize(op: Op, x: Tensor, y: Tensor) -> None:
    """tflite-micro's QUANTIZE Prepare and Eval type switch, as compile-time checks."""
    conversion_io(op, x, y)
    require(
        (x.dtype, y.dtype) in QUANTIZE_PAIRS,
        op,
        f"converts {x.dtype} to {y.dtype}; tflite-micro's QUANTIZE converts {_pair_names(QUANTIZE_PAIRS)}",
    )
    _require_quantized(op, y)
    if x.dtype != "float32":
        _require_quantized(op, x)


def check_dequantize(op: Op, x: Tensor, y: Tensor) -> None:
    conversion_io(op, x, y)
    require(
        x.dtype in DEQUANTIZE_INPUTS and y.dtype == "float32",
        op,
        f"converts {x.dtype} to {y.dtype}; tflite-micro's DEQUANTIZE converts {', '.join(DEQUANTIZE_INPUTS)} "
        "to float32",
    )
    # tflite-micro dequantizes a per-channel tensor with its first channel's scale only.
    _require_quantized(op, x)


def requantize_params(op: Op, x: Tensor, y: Tensor) -> RequantizeParams:
    multiplier, shift = rescale_multiplier(op, x.scale / y.scale, f"{x.scale} / {y.scale}")
    return RequantizeParams(
        size=y.size, input_offset=-x.zero_point, output_offset=y.zero_point, multiplier=multiplier, shift=shift
    )


def requantize_kernel(input_dtype: str, output_dtype: str) -> str:
    """tg_requantize_s8 (int8 to int8), tg_requantize_s8_u8, ...: one suffix when the types agree."""
    if input_dtype == output_dtype:
        return f"tg_requantize_{SUFFIX[input_dtype]}"
    return f"tg_requantize_{SUFFIX[input_dtype]}_{SUFFIX[output_dtype]}"


def _scale_const(scale: float) -> dict[str, np.ndarray]:
    return {"scale": np.array([scale], dtype=np.float32)}


def lower_quantize(op: Op, graph: Graph) -> Layer:
    x, y = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    check_quantize(op, x, y)
    args = tensor_args(op.inputs[0], op.outputs[0])
    if x.dtype == "float32":
        return Layer(
            op,
            f"tg_quantize_f32_{SUFFIX[y.dtype]}",
            QuantizeParams(size=y.size, output_offset=y.zero_point),
            (Arg("const", "scale"), *args),
            _scale_const(y.scale),
        )
    return Layer(op, requantize_kernel(x.dtype, y.dtype), requantize_params(op, x, y), args)


def lower_dequantize(op: Op, graph: Graph) -> Layer:
    x, y = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    check_dequantize(op, x, y)
    return Layer(
        op,
        f"tg_dequantize_{SUFFIX[x.dtype]}_f32",
        DequantizeParams(size=y.size, input_offset=-x.zero_point),
        (Arg("const", "scale"), *tensor_args(op.inputs[0], op.outputs[0])),
        _scale_const(x.scale),
    )


# The kernels' arithmetic in numpy, for folding constants: the same bits as the C.


def _wrap32(v: np.ndarray) -> np.ndarray:
    """int64 values modulo 2^32, as int32 arithmetic wraps."""
    return (v + 2**31) % 2**32 - 2**31


def _saturate(v: np.ndarray, dtype: str) -> np.ndarray:
    info = np.iinfo(NUMPY_DTYPES[dtype])
    return np.clip(v, info.min, info.max).astype(NUMPY_DTYPES[dtype])


def quantize_values(x: np.ndarray, scale: float, zero_point: int, dtype: str) -> np.ndarray:
    """round(x / scale) + zero point: float32 division, rounding half away from zero, bounded like the kernel."""
    with np.errstate(over="ignore"):  # a quotient past the float range is inf, as in C
        q = (np.asarray(x, np.float32) / np.float32(scale)).astype(np.float64)
    rounded = np.sign(q) * np.floor(np.abs(q) + 0.5)  # exact in double for every float32 q
    bounded = np.where(rounded > -QUANTIZE_BOUND, rounded, -QUANTIZE_BOUND)  # NaN goes low, as in the C
    bounded = np.where(bounded < QUANTIZE_BOUND, bounded, QUANTIZE_BOUND)
    return _saturate(bounded.astype(np.int64) + zero_point, dtype)


def requantize_values(q: np.ndarray, p: RequantizeParams, dtype: str) -> np.ndarray:
    """MultiplyByQuantizedMultiplier(q - input zero point) + output zero point, saturated: tg_requantize."""
    x = _wrap32(np.asarray(q, np.int64) + p.input_offset)
    x = _wrap32(x << max(p.shift, 0))
    high = (x * p.multiplier + (1 << 30)) >> 31  # rounding doubling high multiply (multiplier >= 0)
    right = max(-p.shift, 0)
    mask = (1 << right) - 1
    rounded = (high >> right) + ((high & mask) > (mask >> 1) + (high < 0))  # ties away from zero
    return _saturate(_wrap32(rounded + p.output_offset), dtype)


def dequantize_values(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """scale * (q - zero point) in double, narrowed once to float32, as tflite-micro does."""
    return (np.float64(scale) * (np.asarray(q, np.float64) - zero_point)).astype(np.float32)


def fold_quantize(op: Op, inputs: list[Tensor | None]):
    x = inputs[0]
    if x is None or not x.is_constant:
        return None

    def value(y: Tensor) -> np.ndarray:
        check_quantize(op, x, y)
        if x.dtype == "float32":
            return quantize_values(x.data, y.scale, y.zero_point, y.dtype)
        return requantize_values(x.data, requantize_params(op, x, y), y.dtype)

    return [value]


def fold_dequantize(op: Op, inputs: list[Tensor | None]):
    x = inputs[0]
    if x is None or not x.is_constant:
        return None

    def value(y: Tensor) -> np.ndarray:
        check_dequantize(op, x, y)
        return dequantize_values(x.data, x.scale, x.zero_point)

    return [value]


def quantize_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    """The real values the output holds: the input's, rounded to the output's grid and range."""
    q = quantize_values(args[0], out.scale, out.zero_point, out.dtype)
    return dequantize_values(q, out.scale, out.zero_point)


def dequantize_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    return args[0]  # the float executor already holds the input's real values


OPS = (
    OpDef(
        "QUANTIZE",
        lower_quantize,
        notes="float32 to int8/int16; requantize int8, uint8, int16, int32 (tflite-micro's pairs)",
        options=Options("QuantizeOptions"),
        float_reference=quantize_float,
        in_place=True,
        fold=fold_quantize,
    ),
    OpDef(
        "DEQUANTIZE",
        lower_dequantize,
        notes="int8, uint8, int16 to float32",
        options=Options("DequantizeOptions"),
        float_reference=dequantize_float,
        fold=fold_dequantize,
    ),
)
