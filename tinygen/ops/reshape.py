"""RESHAPE: an alias. The output names the input's bytes; nothing runs."""

from __future__ import annotations

import numpy as np

from ..compiler.layer import Layer, alias
from ..ir import Graph, Op, Tensor
from .checks import require
from .record import ACTIVATION, PARAM, OpDef, Quantization


def lower_reshape(op: Op, graph: Graph) -> Layer:
    x = graph.tensor(op.inputs[0])
    y = graph.tensor(op.outputs[0])
    require(x.dtype == y.dtype and x.size == y.size, op, f"cannot reshape {x.shape} {x.dtype} to {y.shape} {y.dtype}")
    require(x.quant == y.quant, op, "input and output quantization differ")
    return alias(op)


def reshape_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    return args[0]  # the float executor gives every output its batched shape


def reshape_fold(op: Op, inputs: list[Tensor | None]) -> list[np.ndarray] | None:
    x = inputs[0]
    return [x.data] if x.is_constant else None  # the fold pass gives it the output's shape


OPS = (
    OpDef(
        "RESHAPE",
        lower_reshape,
        notes="an alias: no copy, no code",
        slots=(ACTIVATION, PARAM),
        optional_inputs=(1,),  # the shape may come from the options instead
        float_reference=reshape_float,
        quantization=Quantization(shared="first"),
        fold=reshape_fold,
    ),
)
