"""QUANTIZE and DEQUANTIZE: the boundary between float model I/O and int8, plus int8 requantization.

QUANTIZE float32 -> int8  tg_quantize_f32_s8: round(x / scale) + zero point, in float
QUANTIZE int8 -> int8     tg_requantize_s8: integer rescale with a compile-time multiplier
DEQUANTIZE int8 -> float32 tg_dequantize_s8_f32: scale * (q - zero point)
The float scale reaches the C as a one-element float array (params hold integers only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, tensor_args
from ..ir import Graph, Op, Tensor
from .checks import require, rescale_multiplier
from .record import OpDef, Options


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


def _io(op: Op, graph: Graph) -> tuple[Tensor, Tensor]:
    x, y = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    require(x.shape == y.shape, op, f"input shape {x.shape} and output shape {y.shape} differ")
    return x, y


def _require_int8(op: Op, t: Tensor) -> None:
    require(t.dtype == "int8", op, f"tensor {t.name} is {t.dtype}; only int8 and float32 are supported")
    require(t.quant is not None and not t.quant.per_channel, op, f"tensor {t.name} needs per-tensor quantization")


def _scale_const(scale: float) -> dict[str, np.ndarray]:
    return {"scale": np.array([scale], dtype=np.float32)}


def lower_quantize(op: Op, graph: Graph) -> Layer:
    x, y = _io(op, graph)
    _require_int8(op, y)
    args = tensor_args(op.inputs[0], op.outputs[0])
    if x.dtype == "float32":
        return Layer(
            op,
            "tg_quantize_f32_s8",
            QuantizeParams(size=y.size, output_offset=y.zero_point),
            (Arg("const", "scale"), *args),
            _scale_const(y.scale),
        )
    _require_int8(op, x)
    multiplier, shift = rescale_multiplier(op, x.scale / y.scale, f"{x.scale} / {y.scale}")
    params = RequantizeParams(
        size=y.size, input_offset=-x.zero_point, output_offset=y.zero_point, multiplier=multiplier, shift=shift
    )
    return Layer(op, "tg_requantize_s8", params, args)


def lower_dequantize(op: Op, graph: Graph) -> Layer:
    x, y = _io(op, graph)
    _require_int8(op, x)
    require(y.dtype == "float32", op, f"output {y.name} is {y.dtype}; only float32 is supported")
    return Layer(
        op,
        "tg_dequantize_s8_f32",
        DequantizeParams(size=y.size, input_offset=-x.zero_point),
        (Arg("const", "scale"), *tensor_args(op.inputs[0], op.outputs[0])),
        _scale_const(x.scale),
    )


def _identity(op: Op, args: list, out: Tensor) -> np.ndarray:
    return args[0]  # the float executor holds real numbers; it rounds to the int8 grid itself


OPS = (
    OpDef(
        "QUANTIZE",
        lower_quantize,
        notes="float32 to int8 (model inputs), int8 to int8 (requantize)",
        options=Options("QuantizeOptions"),
        float_reference=_identity,
        in_place=True,
    ),
    OpDef(
        "DEQUANTIZE",
        lower_dequantize,
        notes="int8 to float32 (model outputs)",
        options=Options("DequantizeOptions"),
        float_reference=_identity,
    ),
)
