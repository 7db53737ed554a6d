"""CAST: each value converted to the output's type as C++'s static_cast does, ignoring quantization.

tflite-micro casts from and to int8, int16, int32, uint32, float32 and bool (not uint8). Integers
narrow or widen modulo 2^bits; floats truncate toward zero and saturate (NaN gives 0); anything to
bool is `!= 0`. A float to uint32 is refused: C++ leaves its result undefined for negative floats
and floats from 2^32 up, so what tflite-micro gives there depends on its compiler. A cast that
keeps every byte (same type, bool to int8, int32 to uint32 and back) is an alias; the others run
tg_cast_{in}_{out} (suffixes s8, s16, s32, u32, f32, b).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Layer, alias, tensor_args
from ..ir import NUMPY_DTYPES, Graph, Op, Tensor
from .checks import require
from .quantize import conversion_io
from .record import OpDef, Options, Quantization

CAST_TYPES = ("int8", "int16", "int32", "uint32", "float32", "bool")  # tflite-micro's, in and out
SUFFIX = {"int8": "s8", "int16": "s16", "int32": "s32", "uint32": "u32", "float32": "f32", "bool": "b"}
# Casts whose output bytes are the input's: bool holds 0 or 1 in one byte, as int8 does; int32 and
# uint32 are the same 32 bits.
SAME_BYTES = {("bool", "int8"), ("int32", "uint32"), ("uint32", "int32")} | {(t, t) for t in CAST_TYPES}
UNDEFINED = {("float32", "uint32")}


@dataclass(frozen=True)
class CastParams:
    C_TYPE = "tg_cast_params"
    C_FILE = "tg_cast.c"
    size: int


def check_cast(op: Op, x: Tensor, y: Tensor) -> None:
    conversion_io(op, x, y)
    for t in (x, y):
        require(
            t.dtype in CAST_TYPES,
            op,
            f"tensor {t.name} is {t.dtype}; tflite-micro's CAST converts between {', '.join(CAST_TYPES)}",
        )
    require(
        (x.dtype, y.dtype) not in UNDEFINED,
        op,
        f"casts {x.dtype} to {y.dtype}, which C++ leaves undefined for negative and large values",
    )


def lower_cast(op: Op, graph: Graph) -> Layer:
    x, y = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    check_cast(op, x, y)
    if (x.dtype, y.dtype) in SAME_BYTES:
        return alias(op)
    kernel = f"tg_cast_{SUFFIX[x.dtype]}_{SUFFIX[y.dtype]}"
    return Layer(op, kernel, CastParams(size=y.size), tensor_args(op.inputs[0], op.outputs[0]))


def cast_values(x: np.ndarray, from_float: bool, dtype: str) -> np.ndarray:
    """x as the kernels convert it to dtype (from_float: x holds float32 values, else integers or bools)."""
    if dtype == "bool":
        return np.asarray(x) != 0
    if dtype == "float32":
        return np.asarray(x).astype(np.float32)
    info = np.iinfo(NUMPY_DTYPES[dtype])
    if from_float:
        truncated = np.trunc(np.nan_to_num(np.asarray(x, np.float64), nan=0.0))
        return np.clip(truncated, info.min, info.max).astype(NUMPY_DTYPES[dtype])
    return np.asarray(x).astype(np.int64).astype(NUMPY_DTYPES[dtype])  # modulo 2^bits (also for uint32)


def fold_cast(op: Op, inputs: list[Tensor | None]):
    x = inputs[0]
    if x is None or not x.is_constant:
        return None

    def value(y: Tensor) -> np.ndarray:
        check_cast(op, x, y)
        return cast_values(x.data, x.dtype == "float32", y.dtype)

    return [value]


def cast_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    # The executor holds every value as a float32: out-of-range integers saturate here where the kernel wraps.
    return cast_values(args[0], True, out.dtype)


OPS = (
    OpDef(
        "CAST",
        lower_cast,
        notes="int8, int16, int32, uint32, float32, bool (not float32 to uint32); an alias where the bytes stay",
        options=Options("CastOptions", ("in_data_type", "out_data_type")),
        float_reference=cast_float,
        # CAST copies raw values: a float32 -> float32 CAST the quantizer turns into int8 must keep its
        # input's parameters to mean the same.
        quantization=Quantization(shared="first"),
        fold=fold_cast,
    ),
)
