"""Checks and arithmetic every op's lowering shares: dtypes, weights, biases, activations, multipliers."""

from __future__ import annotations

import numpy as np

from ..errors import TinygenError
from ..ir import ACTIVATIONS, Graph, Op, Tensor
from ..quantmath import activation_range, quantize_multiplier, quantize_multipliers


def require(condition: bool, op: Op, message: str) -> None:
    if not condition:
        raise TinygenError(f"op {op.index} ({op.kind}): {message}")


def refuse_float(op: Op, t: Tensor) -> None:
    """A float32 activation: the model needs quantizing first."""
    if t.dtype == "float32":
        raise TinygenError(
            f"op {op.index} ({op.kind}) works on float32 tensors; tinygen compiles int8 "
            "models: quantize it first (tinygen quantize MODEL --calibration DATA)"
        )


def int8_io(op: Op, graph: Graph, n_inputs: int = 1) -> tuple[list[Tensor], Tensor]:
    """The op's first n_inputs inputs and its output, checked to be quantized int8."""
    inputs = graph.op_inputs(op)[:n_inputs]
    output = graph.op_outputs(op)[0]
    for t in (*inputs, output):
        require(t is not None, op, "missing input")
        refuse_float(op, t)
        require(t.dtype == "int8", op, f"tensor {t.name} is {t.dtype}; only int8 is supported")
        require(t.quant is not None and not t.quant.per_channel, op, f"tensor {t.name} needs per-tensor quantization")
    return inputs, output


def fused_activation(op: Op, output: Tensor) -> tuple[int, int]:
    activation = op.options.get("fused_activation_function", "NONE")
    require(activation in ACTIVATIONS, op, f"fused activation {activation} is not supported")
    return activation_range(activation, output.scale, output.zero_point)


def channel_multipliers(
    input_scale: float, weights: Tensor, output_scale: float, channels: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel (multiplier, shift): input_scale * weight_scale / output_scale, in double."""
    scales = weights.quant.scale if weights.quant.per_channel else weights.quant.scale * channels
    return quantize_multipliers([input_scale * s / output_scale for s in scales])


def check_bias(op: Op, bias: Tensor | None, channels: int) -> None:
    if bias is not None:
        require(
            bias.dtype == "int32" and bias.is_constant and bias.size == channels,
            op,
            f"bias must be a constant int32 vector of {channels}",
        )


def check_weights(op: Op, weights: Tensor, channels: int, axis: int) -> None:
    require(
        weights.is_constant and weights.dtype == "int8" and weights.quant is not None,
        op,
        "weights must be constant int8 tensors",
    )
    if weights.quant.per_channel:
        require(
            weights.quant.axis == axis and len(weights.quant.scale) == channels,
            op,
            f"per-channel weights must have {channels} scales along axis {axis}",
        )


def rescale_multiplier(op: Op, real: float, what: str) -> tuple[int, int]:
    """(multiplier, shift) for an element-wise rescale by `real` (described by `what` in errors).

    At 2^29 and above the int32 arithmetic of the rescaled values overflows."""
    require(real < 2.0**29, op, f"rescaling by {what} overflows the int32 arithmetic")
    return quantize_multiplier(real)
