"""ARG_MAX and ARG_MIN along one constant axis -> tg_arg_max_s8/_f32, tg_arg_min_s8/_f32.

tflite-micro takes int8 or float32 input and writes int32 indices (an int64 output is refused by
its Eval); ties resolve to the first index, since only a strictly greater (or smaller) value
replaces the one found so far.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Layer, tensor_args
from ..ir import Graph, Op, Tensor
from .checks import require
from .record import ACTIVATION, PARAM, OpDef, Options

KERNEL_SUFFIX = {"int8": "s8", "float32": "f32"}


@dataclass(frozen=True)
class ArgParams:
    C_TYPE = "tg_arg_params"
    C_FILE = "tg_reduce.c"
    outer: int  # elements before the axis
    axis_size: int
    inner: int  # elements after the axis


def _lower_arg(kernel: str):
    def lower(op: Op, graph: Graph) -> Layer:
        require(len(op.inputs) == 2, op, "expects an input and an axis tensor")
        x, axis = graph.op_inputs(op)
        y = graph.op_outputs(op)[0]
        require(x.dtype in KERNEL_SUFFIX, op, f"input {x.name} is {x.dtype}; int8 and float32 are supported")
        require(y.dtype == "int32", op, f"output {y.name} is {y.dtype}; tflite-micro writes int32 indices only")
        require(
            axis.is_constant and axis.dtype == "int32" and axis.size == 1,
            op,
            "the axis must be a constant int32 tensor of one element",
        )
        rank = len(x.shape)
        a = int(axis.data.reshape(-1)[0])
        require(-rank <= a < rank, op, f"axis {a} is out of range for a rank-{rank} input")
        a %= rank
        require(all(d > 0 for d in x.shape), op, f"input shape {x.shape} has an empty dimension")
        expected = x.shape[:a] + x.shape[a + 1 :]
        require(y.shape == expected, op, f"output shape {y.shape} should be {expected}")
        params = ArgParams(
            outer=int(np.prod(x.shape[:a], dtype=np.int64)),
            axis_size=x.shape[a],
            inner=int(np.prod(x.shape[a + 1 :], dtype=np.int64)),
        )
        return Layer(op, f"{kernel}_{KERNEL_SUFFIX[x.dtype]}", params, tensor_args(op.inputs[0], op.outputs[0]))

    return lower


def _float_arg(find):
    """Batch-first: a non-negative axis counts from the batch axis the model has (size 1)."""

    def run(op: Op, args: list, out: Tensor) -> np.ndarray:
        x, axis = args
        return find(x, axis=int(np.atleast_1d(axis)[0]) % x.ndim).astype(np.int32)

    return run


def _arg(name: str, table: str, kernel: str, find) -> OpDef:
    return OpDef(
        name,
        _lower_arg(kernel),
        notes="int8 or float32 input, int32 indices, along one constant axis",
        slots=(ACTIVATION, PARAM),
        options=Options(table, ("output_type",)),
        float_reference=_float_arg(find),
    )


OPS = (
    _arg("ARG_MAX", "ArgMaxOptions", "tg_arg_max", np.argmax),
    _arg("ARG_MIN", "ArgMinOptions", "tg_arg_min", np.argmin),
)
