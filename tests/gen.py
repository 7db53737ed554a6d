"""Random, plausible quantization parameters for generated test models."""

from __future__ import annotations

import numpy as np

from tinygen.builder import GraphBuilder


def activation_quant(rng: np.random.Generator) -> dict:
    """A per-tensor int8 activation: scale over three decades, any zero point."""
    return {"scale": float(10 ** rng.uniform(-3, 0)), "zero_point": int(rng.integers(-128, 128))}


def weights(
    g: GraphBuilder, rng: np.random.Generator, shape: tuple[int, ...], axis: int, per_channel: bool = True
) -> int:
    """Symmetric int8 weights, per channel along axis (or per tensor)."""
    channels = shape[axis] if per_channel else 1
    scales = 10 ** rng.uniform(-3.5, -1, channels)
    data = rng.integers(-127, 128, shape)
    return g.const(data, "int8", scale=scales if per_channel else float(scales[0]), zero_point=0, axis=axis)


def bias(g: GraphBuilder, rng: np.random.Generator, channels: int, x: int | None = None, w: int | None = None) -> int:
    """An int32 bias; with the input x and weights w, at the scale the spec gives it (input x weight
    scale, which tflite-micro checks for per-tensor fully connected layers), else at scale 1."""
    scale = 1.0
    if x is not None and w is not None:
        scale = (np.asarray(g.tensors[w].quant.scale) * g.tensors[x].quant.scale[0]).tolist()
    return g.const(rng.integers(-20000, 20000, channels), "int32", scale=scale, zero_point=0)


def activation(rng: np.random.Generator) -> str:
    return str(rng.choice(["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]))


def window_options(padding: str = "SAME", stride: int = 1, dilation: int = 1, activation: str = "NONE") -> dict:
    """A convolution's TFLite options with the same stride and dilation along both axes."""
    return {
        "padding": padding,
        "stride_h": stride,
        "stride_w": stride,
        "dilation_h_factor": dilation,
        "dilation_w_factor": dilation,
        "fused_activation_function": activation,
    }
