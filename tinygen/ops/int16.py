"""What the int16 variants of the int8 kernels share: which dtype an op runs in, the int16 checks,
the clamp range, and the limits of tflite-micro's 16x8 arithmetic (docs/numerics/int16.md).

tflite-micro runs CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED with int16 activations and int8
weights ("16x8"), and ADD, MUL, PAD and PADV2 on int16 tensors. Each family's lowering asks
`runs_int16` and picks its int16 kernel; nothing here changes what int8 models compile to.
"""

from __future__ import annotations

import numpy as np
import tflite

from ..ir import Graph, Op, Tensor
from ..quantmath import activation_range
from .checks import fused_activation, int8_io, require

INT16_MIN, INT16_MAX = -32768, 32767
# tflite-micro's 64-bit requantization (MultiplyByQuantizedMultiplier for int64) is written for
# shifts in [-31, 7]: a scale ratio of 2^7 or more is outside it.
MAX_WIDE_SHIFT = 7
# The TensorType code of quantized_bias_type (Conv2DOptions, FullyConnectedOptions) that asks for
# int32 accumulation where the op has no bias.
INT32_BIAS_TYPE = tflite.TensorType.INT32


def runs_int16(op: Op, graph: Graph, n_inputs: int = 1) -> bool:
    """Whether any of the op's first n_inputs inputs or its output is int16: the int16 variant
    (which then checks that all of them are)."""
    tensors = [*graph.op_inputs(op)[:n_inputs], graph.op_outputs(op)[0]]
    return any(t is not None and t.dtype == "int16" for t in tensors)


def int16_io(op: Op, graph: Graph, n_inputs: int = 1) -> tuple[list[Tensor], Tensor]:
    """The op's first n_inputs inputs and its output, checked to be quantized int16."""
    inputs = graph.op_inputs(op)[:n_inputs]
    output = graph.op_outputs(op)[0]
    for t in (*inputs, output):
        require(t is not None, op, "missing input")
        require(
            t.dtype == "int16",
            op,
            f"tensor {t.name} is {t.dtype} where the others are int16; tflite-micro does not mix int8 and int16 here",
        )
        require(t.quant is not None and not t.quant.per_channel, op, f"tensor {t.name} needs per-tensor quantization")
    return inputs, output


def activation_io(op: Op, graph: Graph, n_inputs: int = 1) -> tuple[list[Tensor], Tensor]:
    """int8_io, or int16_io for an op that runs in int16."""
    return (int16_io if runs_int16(op, graph, n_inputs) else int8_io)(op, graph, n_inputs)


def activation_bounds(op: Op, output: Tensor) -> tuple[int, int]:
    """The fused activation's clamp in the output's domain, int8 or int16."""
    if output.dtype != "int16":
        return fused_activation(op, output)
    fused_activation(op, output)  # checks the activation is one tinygen knows
    return activation_range(
        op.options.get("fused_activation_function", "NONE"), output.scale, output.zero_point, INT16_MIN, INT16_MAX
    )


def require_zero_points(op: Op, tensors: list[Tensor], why: str) -> None:
    for t in tensors:
        require(t.zero_point == 0, op, f"int16 tensor {t.name} has zero point {t.zero_point}, not 0 ({why})")


def require_wide_shifts(op: Op, shift: np.ndarray) -> None:
    """The 64-bit requantization's shifts (multipliers below 2^MAX_WIDE_SHIFT)."""
    require(
        int(np.max(shift)) <= MAX_WIDE_SHIFT,
        op,
        f"input scale x weight scale / output scale reaches {2**MAX_WIDE_SHIFT}; tflite-micro's 16x8 "
        "requantization takes factors below that",
    )


def check_bias_s16(op: Op, bias: Tensor | None, channels: int, dtypes: tuple[str, ...]) -> None:
    """A 16x8 bias: a constant vector of `channels` in one of the dtypes tflite-micro reads it as."""
    if bias is not None:
        require(
            bias.dtype in dtypes and bias.is_constant and bias.size == channels,
            op,
            f"a 16x8 bias must be a constant {' or '.join(dtypes)} vector of {channels}, "
            f"not {bias.dtype} {list(bias.shape)}",
        )


def accumulates_in_int32(op: Op, bias: Tensor | None) -> bool:
    """tflite-micro sums a 16x8 CONV_2D or FULLY_CONNECTED in int32 where the bias is int32, or where
    there is none and the options' quantized_bias_type asks for int32; otherwise in int64."""
    if bias is not None:
        return bias.dtype == "int32"
    return op.options.get("quantized_bias_type", 0) == INT32_BIAS_TYPE
