"""ELU -> tg_lookup_s8: the 256-entry table tflite-micro's Prepare fills, computed here.

tflite-micro evaluates ELU on int8 through a table indexed by the input byte. Each entry is
computed in float32: dequantize, expf(x) - 1 for x < 0, multiply by 1 / output scale, round half
away from zero, add the output zero point, convert to int32 and clamp to int8. The table below
follows those steps in numpy float32 scalars, and takes expf from the C math library, the function
the interpreter calls (numpy's float32 exp rounds differently in the last bit for some inputs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, tensor_args
from ..ir import Graph, Op, Tensor
from ..quantmath import INT8_MAX, INT8_MIN, f32, round_half_away
from .checks import require
from .libm import apply, c_float_function
from .record import OpDef
from .unary import same_shape_io

INT32_RANGE = (-(2.0**31), 2.0**31)


@dataclass(frozen=True)
class LookupParams:
    C_TYPE = "tg_lookup_params"
    C_FILE = "tg_unary.c"
    size: int


def elu_value(x: np.float32) -> np.float32:
    return f32(c_float_function("expf")(float(x))) - f32(1.0) if x < 0 else x


def elu_table(x_scale: float, x_zero_point: int, y_scale: float, y_zero_point: int) -> np.ndarray | None:
    """The int8 table indexed by the input byte (as uint8), or None where tflite-micro's float-to-int32
    conversion of an entry is undefined (an infinite, NaN or out-of-range value)."""
    inverse_scale = f32(1.0) / f32(y_scale)
    table = np.zeros(256, dtype=np.int8)
    with np.errstate(over="ignore", invalid="ignore"):
        for q in range(INT8_MIN, INT8_MAX + 1):
            scaled = elu_value(f32(x_scale) * f32(q - x_zero_point)) * inverse_scale
            if not np.isfinite(scaled):
                return None
            shifted = f32(round_half_away(float(scaled))) + f32(y_zero_point)
            if not INT32_RANGE[0] <= shifted < INT32_RANGE[1]:
                return None
            table[q & 0xFF] = min(max(int(shifted), INT8_MIN), INT8_MAX)
    return table


def lower_elu(op: Op, graph: Graph) -> Layer:
    x, y = same_shape_io(op, graph)
    table = elu_table(x.scale, x.zero_point, y.scale, y.zero_point)
    require(
        table is not None,
        op,
        f"output scale {y.scale} is too small for input scale {x.scale}: tflite-micro's table overflows int32",
    )
    args = (Arg("const", "table"), *tensor_args(op.inputs[0], op.outputs[0]))
    return Layer(op, "tg_lookup_s8", LookupParams(size=y.size), args, {"table": table})


def elu_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    x = args[0]
    return np.where(x < 0, np.expm1(np.minimum(x, 0)), x)


def elu_exact(x: np.ndarray) -> np.ndarray:
    """tflite-micro's float ELU: x < 0 ? expm1f(x) : x."""
    x = np.asarray(x, np.float32)
    return np.where(x < 0, apply("expm1f", np.minimum(x, 0)), x).astype(np.float32)


OPS = (
    OpDef(
        "ELU",
        lower_elu,
        notes="int8: TFLM's 256-entry table, computed at compile time",
        float_reference=elu_float,
        in_place=True,
        float_exact=elu_exact,
    ),
)
