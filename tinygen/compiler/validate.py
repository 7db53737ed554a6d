"""Validation: the model-level checks every later pass relies on, before any op is lowered."""

from __future__ import annotations

from ..errors import TinygenError
from ..ir import Graph
from ..ops import SUPPORTED_OPS, op_def

MAX_IO_RANK = 6  # TG_MAX_DIMS in firmware/tg_model_api.h


def validate(graph: Graph) -> Graph:
    """Every op supported, model-level limits, ops in execution order."""
    for op in graph.ops:
        if op_def(op.kind) is None:
            raise TinygenError(f"op {op.index} ({op.kind}) is not supported; supported ops: {', '.join(SUPPORTED_OPS)}")
    for i in (*graph.inputs, *graph.outputs):
        t = graph.tensor(i)
        if len(t.shape) > MAX_IO_RANK:
            raise TinygenError(
                f"model input/output {t.name} has rank {len(t.shape)}; at most {MAX_IO_RANK} is supported"
            )
    for i in graph.inputs:
        t = graph.tensor(i)
        if len(t.shape) >= 2 and t.shape[0] != 1:
            raise TinygenError(f"tensor {t.name} has batch size {t.shape[0]}; tinygen compiles batch 1")
    _check_variables(graph)
    # Constants exist from the start, and so do variables: they hold the state the last invoke left.
    available = set(graph.inputs) | {t.index for t in graph.tensors if t.is_constant or t.is_variable}
    for op in graph.ops:
        for i in op.inputs:
            if i >= 0 and i not in available:
                raise TinygenError(
                    f"op {op.index} ({op.kind}) reads tensor {graph.tensor(i).name} before it is "
                    "computed; the ops are not in execution order"
                )
        available.update(op.outputs)
    for i in graph.outputs:
        if i not in available:
            raise TinygenError(f"output tensor {graph.tensor(i).name} is never computed")
    return graph


def _check_variables(graph: Graph) -> None:
    """Variable tensors are state an op updates in place: tinygen keeps them only as op inputs."""
    for i in (*graph.inputs, *graph.outputs):
        if graph.tensor(i).is_variable:
            name = graph.tensor(i).name
            raise TinygenError(f"model input/output {name} is a variable tensor; tinygen does not support that")
    for op in graph.ops:
        for i in op.outputs:
            if graph.tensor(i).is_variable:
                raise TinygenError(
                    f"op {op.index} ({op.kind}) writes variable tensor {graph.tensor(i).name} as an output; "
                    "tinygen supports variables only as inputs that an op updates in place"
                )
