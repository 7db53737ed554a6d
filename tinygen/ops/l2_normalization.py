"""L2_NORMALIZATION along the last axis -> tg_l2_normalization_s8.

tflite-micro's int8 kernel ignores the output tensor's quantization and always writes x / |x| on
the grid of scale 1/128, zero point 0; tinygen requires the output to say so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Layer, tensor_args
from ..ir import Graph, Op, Tensor
from .checks import int8_io, require
from .record import OpDef, Options, Quantization

OUTPUT_SCALE, OUTPUT_ZERO_POINT = 1.0 / 128, 0
MAX_RANK = 4  # tflite-micro's Prepare; the normalized axis is the last, so at least 1
INT32_MAX = 2**31 - 1
FLOAT_EPSILON = 1e-6  # the float kernel's floor on the norm


@dataclass(frozen=True)
class L2NormalizationParams:
    C_TYPE = "tg_l2_normalization_params"
    C_FILE = "tg_reduce.c"
    outer: int  # rows
    depth: int  # elements per row (the last axis)
    input_offset: int  # -input zero point


def lower_l2_normalization(op: Op, graph: Graph) -> Layer:
    (x,), y = int8_io(op, graph)
    require(1 <= len(x.shape) <= MAX_RANK, op, f"input rank {len(x.shape)} is not between 1 and {MAX_RANK}")
    activation = op.options.get("fused_activation_function", "NONE")
    require(activation == "NONE", op, f"fused activation {activation} is not supported (tflite-micro refuses it)")
    require(y.shape == x.shape, op, f"output shape {y.shape} should be the input's {x.shape}")
    require(x.size > 0, op, f"input shape {x.shape} is empty")
    require(
        (y.scale, y.zero_point) == (OUTPUT_SCALE, OUTPUT_ZERO_POINT),
        op,
        f"output quantization must be scale 1/128, zero point 0 (tflite-micro writes that grid), "
        f"not ({y.scale}, {y.zero_point})",
    )
    depth = x.shape[-1]
    # The kernel sums squares of (x - zero point) in int32, as tflite-micro does: no row may overflow it.
    widest = max(127 - x.zero_point, x.zero_point + 128)
    require(
        depth * widest**2 <= INT32_MAX,
        op,
        f"rows of {depth} elements overflow the int32 sum of squares (at most {INT32_MAX // widest**2})",
    )
    params = L2NormalizationParams(outer=x.size // depth, depth=depth, input_offset=-x.zero_point)
    return Layer(op, "tg_l2_normalization_s8", params, tensor_args(op.inputs[0], op.outputs[0]))


def l2_normalization_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    x = args[0]
    norm = np.sqrt(np.sum(np.square(x), axis=-1, keepdims=True))
    return x / np.maximum(norm, np.float32(FLOAT_EPSILON))


OPS = (
    OpDef(
        "L2_NORMALIZATION",
        lower_l2_normalization,
        notes="along the last axis, rank <= 4; output at 1/128, 0",
        options=Options("L2NormOptions", ("fused_activation_function",)),
        float_reference=l2_normalization_float,
        quantization=Quantization(fixed_output=(OUTPUT_SCALE, OUTPUT_ZERO_POINT)),
        in_place=True,
    ),
)
