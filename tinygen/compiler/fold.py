"""Constant folding: ops the compiler can evaluate exactly run at compile time, not on the device.

An op whose record has a `fold` is evaluated when it can be: usually when every input is a
constant (constant QUANTIZE/DEQUANTIZE of weights, shape arithmetic), and for SHAPE always,
since shapes are static. Its outputs become constants (in flash, and only where a kernel still
reads them), and the op is gone. Keras' Flatten and Reshape leave SHAPE -> STRIDED_SLICE ->
PACK -> RESHAPE chains that fold away entirely. Ops left with no consumer are removed after.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import TinygenError
from ..ir import NUMPY_DTYPES, Graph, Op, Tensor
from ..ops import op_def


def fold_constants(graph: Graph) -> Graph:
    tensors = list(graph.tensors)
    kept = []
    for op in graph.ops:
        values = None if set(op.outputs) & set(graph.outputs) else fold_op(op, tensors)
        if values is None:
            kept.append(op)
            continue
        for index, data in zip(op.outputs, values):
            tensors[index] = dataclasses.replace(tensors[index], data=data)
    return _without_dead_ops(dataclasses.replace(graph, tensors=tensors, ops=kept))


def fold_op(op: Op, tensors: list[Tensor]) -> list[np.ndarray] | None:
    """The values of the op's outputs, typed and shaped as they are, where its record can evaluate it
    at compile time on these tensors; None where it cannot."""
    record = op_def(op.kind)
    if record is None or record.fold is None:
        return None
    outputs = record.fold(op, [tensors[i] if i >= 0 else None for i in op.inputs])
    if outputs is None:
        return None
    values = []
    for index, value in zip(op.outputs, outputs):
        t = tensors[index]
        if callable(value):  # a conversion: its values depend on the output's type and quantization
            value = value(t)
        data = np.asarray(value, dtype=NUMPY_DTYPES[t.dtype])
        if data.size != t.size:
            raise TinygenError(
                f"op {op.index} ({op.kind}) computes {data.size} values for its output {t.name} "
                f"of shape {list(t.shape)}"
            )
        values.append(data.reshape(t.shape))
    return values


def _without_dead_ops(graph: Graph) -> Graph:
    """Drop ops none of whose outputs is read (after folding, the producers of a SHAPE's input may be).
    An op without outputs (ASSIGN_VARIABLE) updates state: it stays."""
    ops = list(graph.ops)
    while True:
        read = set(graph.outputs) | {i for op in ops for i in op.inputs}
        alive = [op for op in ops if set(op.outputs) & read or not op.outputs]
        if len(alive) == len(ops):
            return dataclasses.replace(graph, ops=alive)
        ops = alive
