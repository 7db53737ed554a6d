"""Standalone RELU and RELU6 -> tg_relu_s8, tg_relu6_s8.

The two differ in TFLM: RELU requantizes to the output's scale and clamps at the
output's zero; RELU6 clamps in the input's domain and ignores the output
quantization entirely, so its output is only meaningful when that equals the input's.
Both are matched as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Layer, tensor_args
from ..ir import Graph, Op, Tensor
from ..quantmath import INT8_MAX, INT8_MIN, activation_range, quantize_float
from .checks import int8_io, require, rescale_multiplier
from .record import OpDef, Quantization


@dataclass(frozen=True)
class ReluParams:
    C_TYPE = "tg_relu_params"
    C_FILE = "tg_relu.c"
    size: int
    input_offset: int
    output_offset: int
    multiplier: int
    shift: int
    act_min: int
    act_max: int


@dataclass(frozen=True)
class Relu6Params:
    C_TYPE = "tg_relu6_params"
    C_FILE = "tg_relu.c"
    size: int
    zero: int  # 0.0 and 6.0 in the input's quantized domain
    six: int


def lower_relu(op: Op, graph: Graph) -> Layer:
    (x,), y = int8_io(op, graph)
    require(x.shape == y.shape, op, f"input shape {x.shape} and output shape {y.shape} differ")
    multiplier, shift = rescale_multiplier(op, x.scale / y.scale, f"{x.scale} / {y.scale}")
    act_min, act_max = activation_range("RELU", y.scale, y.zero_point)
    params = ReluParams(
        size=y.size,
        input_offset=-x.zero_point,
        output_offset=y.zero_point,
        multiplier=multiplier,
        shift=shift,
        act_min=act_min,
        act_max=act_max,
    )
    return Layer(op, "tg_relu_s8", params, tensor_args(op.inputs[0], op.outputs[0]))


def lower_relu6(op: Op, graph: Graph) -> Layer:
    (x,), y = int8_io(op, graph)
    require(x.shape == y.shape, op, f"input shape {x.shape} and output shape {y.shape} differ")
    six = min(max(quantize_float(6.0, x.scale, x.zero_point), INT8_MIN), INT8_MAX)
    params = Relu6Params(size=y.size, zero=x.zero_point, six=six)
    return Layer(op, "tg_relu6_s8", params, tensor_args(op.inputs[0], op.outputs[0]))


def relu_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    return np.maximum(args[0], 0)


def relu6_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    return np.clip(args[0], 0, 6)


OPS = (
    OpDef(
        "RELU",
        lower_relu,
        notes="standalone, requantizes to the output's scale",
        float_reference=relu_float,
        in_place=True,
    ),
    # The kernel ignores the output's quantization, so the quantizer gives it the input's.
    OpDef(
        "RELU6",
        lower_relu6,
        notes="standalone, in the input's quantization",
        float_reference=relu6_float,
        quantization=Quantization(shared="first"),
        in_place=True,
    ),
)
