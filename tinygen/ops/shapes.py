"""SQUEEZE and EXPAND_DIMS (aliases: the output names the input's bytes), and SHAPE (always folded).

Shapes are static, so SHAPE's value is known at compile time whatever its input holds: the fold
pass replaces it by a constant, and with it the SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE chains
Keras' Flatten and Reshape leave in converted models.
"""

from __future__ import annotations

import numpy as np

from ..compiler.layer import Layer, alias
from ..errors import TinygenError
from ..ir import Graph, Op, Tensor
from .checks import require
from .movement import check_dtypes, constant_param, normalized_axis
from .record import ACTIVATION, PARAM, OpDef, Options, Quantization

SQUEEZE_MAX_RANK = 8  # tflite-micro's Prepare
EXPAND_DIMS_DTYPES = ("float32", "int8", "int16")  # tflite-micro's Eval
ANY_DTYPE = ("float32", "int8", "uint8", "int16", "int32", "int64", "bool")


def squeezed_shape(op: Op, shape: tuple[int, ...]) -> tuple[int, ...]:
    rank = len(shape)
    require(rank <= SQUEEZE_MAX_RANK, op, f"squeezes ranks up to {SQUEEZE_MAX_RANK}, not {rank}")
    dims = op.options.get("squeeze_dims", ())
    if not dims:
        return tuple(d for d in shape if d != 1)
    squeezed = {normalized_axis(op, a, rank, "squeeze_dims entry") for a in dims}
    for axis in squeezed:
        require(shape[axis] == 1, op, f"squeezes axis {axis} of size {shape[axis]}")
    return tuple(d for axis, d in enumerate(shape) if axis not in squeezed)


def lower_squeeze(op: Op, graph: Graph) -> Layer:
    x, y = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    check_dtypes(op, [x, y], ANY_DTYPE)
    expected = squeezed_shape(op, x.shape)
    require(tuple(y.shape) == expected, op, f"output shape {y.shape} is not the squeezed {expected}")
    return alias(op)


def expanded_shape(op: Op, shape: tuple[int, ...], axis: np.ndarray) -> tuple[int, ...]:
    require(axis.dtype == np.int32 and axis.ndim <= 1 and axis.size == 1, op, "axis must be one int32 value")
    at = normalized_axis(op, int(axis.reshape(-1)[0]), len(shape) + 1)
    return (*shape[:at], 1, *shape[at:])


def lower_expand_dims(op: Op, graph: Graph) -> Layer:
    x, y = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    check_dtypes(op, [x, y], EXPAND_DIMS_DTYPES)
    expected = expanded_shape(op, x.shape, constant_param(op, graph, 1, "axis"))
    require(tuple(y.shape) == expected, op, f"output shape {y.shape} is not the expanded {expected}")
    return alias(op)


def same_values(op: Op, args: list, out: Tensor) -> np.ndarray:
    return args[0]  # the float executor gives every output its batched shape


def fold_squeeze(op: Op, inputs: list[Tensor | None]) -> list[np.ndarray] | None:
    x = inputs[0]
    return [x.data.reshape(squeezed_shape(op, x.shape))] if x.is_constant else None


def fold_expand_dims(op: Op, inputs: list[Tensor | None]) -> list[np.ndarray] | None:
    x, axis = inputs[:2]
    if not (x.is_constant and axis is not None and axis.is_constant) or x.dtype not in EXPAND_DIMS_DTYPES:
        return None  # lowering names what is wrong
    return [x.data.reshape(expanded_shape(op, x.shape, axis.data))]


def lower_shape(op: Op, graph: Graph) -> Layer:
    y = graph.tensor(op.outputs[0])
    require(y.dtype == "int32", op, f"writes {y.dtype}; tflite-micro writes int32 shapes only")
    # Every other SHAPE is folded away before lowering.
    raise TinygenError(f"op {op.index} (SHAPE): its output is a model output; tinygen folds SHAPE and emits no code")


def fold_shape(op: Op, inputs: list[Tensor | None]) -> list[np.ndarray] | None:
    if op.options.get("out_type") == "int64":
        return None  # tflite-micro refuses it: lowering says so
    return [np.array(inputs[0].shape, dtype=np.int32)]


OPS = (
    OpDef(
        "SQUEEZE",
        lower_squeeze,
        notes="an alias: no copy, no code",
        options=Options("SqueezeOptions", vectors=("squeeze_dims",)),
        float_reference=same_values,
        quantization=Quantization(shared="first"),
        fold=fold_squeeze,
    ),
    OpDef(
        "EXPAND_DIMS",
        lower_expand_dims,
        notes="an alias: no copy, no code (int8, int16, float32)",
        slots=(ACTIVATION, PARAM),
        options=Options("ExpandDimsOptions"),
        float_reference=same_values,
        quantization=Quantization(shared="first"),
        fold=fold_expand_dims,
    ),
    OpDef(
        "SHAPE",
        lower_shape,
        notes="folded at compile time (shapes are static)",
        options=Options("ShapeOptions", ("out_type",)),
        fold=fold_shape,
    ),
)
