"""Resource variables, resolved when a model is read: each becomes a variable tensor (state in the
state region) with the value it starts from.

Converters write a variable as VAR_HANDLE ops (a handle named by container and shared_name; several
handles may name one variable), READ_VARIABLE(handle) -> value and ASSIGN_VARIABLE(handle, value),
and give its first value in an initialisation subgraph that a CALL_ONCE at the start of the main
subgraph runs on the first invoke. tflite-micro (micro_resource_variable.cc, var_handle.cc,
assign_variable.cc, call_once.cc):
- gives a variable its buffer at the first ASSIGN_VARIABLE's Prepare (the main subgraph first),
  sized like that value and filled with its int8 zero point (0 without quantization);
- READ_VARIABLE and ASSIGN_VARIABLE copy the bytes out and in;
- runs CALL_ONCE's subgraph once, on the first invoke. Its reset() refills every variable and does
  not run CALL_ONCE again; tinygen's tg_model_reset_state() returns the model to its first invoke's
  state instead (what a new interpreter does), which verify compares against.
Here the initialisation subgraph is evaluated at compile time: it may hold VAR_HANDLE and
ASSIGN_VARIABLE of constants. The VAR_HANDLE and CALL_ONCE ops leave the graph (the others keep
their indices from the file); the variable takes the index of its first handle tensor.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import TinygenError
from ..ir import NUMPY_DTYPES, Graph, Op, Tensor

RESOLVED = ("VAR_HANDLE", "CALL_ONCE")
USES = ("READ_VARIABLE", "ASSIGN_VARIABLE")


def has_resource_variables(graph: Graph) -> bool:
    """Handles to resolve. (READ_VARIABLE and ASSIGN_VARIABLE on a variable tensor are what resolution
    leaves, as tinygen's writer writes a resolved graph back.)"""
    return any(op.kind in RESOLVED for op in graph.ops)


def _key(op: Op) -> str:
    container = op.options.get("container") or b""
    name = op.options.get("shared_name") or b""
    return f"{container.decode('utf-8', 'replace')}/{name.decode('utf-8', 'replace')}"


def _handles(graph: Graph) -> dict[int, str]:
    """Handle tensor -> the variable it names."""
    return {op.outputs[0]: _key(op) for op in graph.ops if op.kind == "VAR_HANDLE" and op.outputs}


def _initial_values(init: dict[int, Graph]) -> dict[str, Tensor]:
    """Each variable's value as the initialisation subgraphs assign it (the constant tensor)."""
    values: dict[str, Tensor] = {}
    for index, graph in init.items():
        handles = _handles(graph)
        for op in graph.ops:
            if op.kind == "VAR_HANDLE":
                continue
            value = graph.tensor(op.inputs[1]) if op.kind == "ASSIGN_VARIABLE" and len(op.inputs) == 2 else None
            if value is None or not value.is_constant or op.inputs[0] not in handles:
                raise TinygenError(
                    f"CALL_ONCE's subgraph {index} holds {op.kind} (op {op.index}): tinygen evaluates initialisation "
                    "subgraphs of VAR_HANDLE and ASSIGN_VARIABLE of constants"
                )
            values[handles[op.inputs[0]]] = value
    return values


def resolve_resource_variables(graph: Graph, init: dict[int, Graph]) -> Graph:
    """The main subgraph with its variables resolved; init: its CALL_ONCE subgraphs by index."""
    handles = _handles(graph)
    first_handle = {}
    for handle, key in handles.items():
        first_handle.setdefault(key, handle)
    initial = _initial_values(init)
    tensors = list(graph.tensors)
    allocating: dict[str, Tensor] = {}  # the value of each variable's first ASSIGN_VARIABLE
    ops = []
    for op in graph.ops:
        if op.kind == "CALL_ONCE":
            if any(o.kind in USES for o in ops):
                raise TinygenError(
                    f"op {op.index} (CALL_ONCE) runs after the variables are used; tinygen needs it first"
                )
            continue
        if op.kind == "VAR_HANDLE":
            continue
        for i in op.inputs[1:] if op.kind in USES else op.inputs:
            if i in handles:
                raise TinygenError(f"op {op.index} ({op.kind}) takes a resource variable's handle; tinygen cannot")
        if op.kind in USES:
            handle = op.inputs[0] if op.inputs else -1
            if handle not in handles:
                raise TinygenError(f"op {op.index} ({op.kind}) has no VAR_HANDLE for its variable")
            key = handles[handle]
            if op.kind == "ASSIGN_VARIABLE":
                allocating.setdefault(key, graph.tensor(op.inputs[1]))
            op = dataclasses.replace(op, inputs=(first_handle[key], *op.inputs[1:]))
        ops.append(op)
    for i in graph.outputs:
        if i in handles:
            raise TinygenError(f"model output {graph.tensor(i).name} is a resource variable's handle")
    for key, handle in first_handle.items():
        if any(op.kind in USES and op.inputs[0] == handle for op in ops):
            tensors[handle] = _variable(graph, key, handle, allocating.get(key), initial.get(key), ops)
    return dataclasses.replace(graph, tensors=tensors, ops=ops)


def _variable(graph: Graph, key: str, handle: int, allocating: Tensor | None, first: Tensor | None, ops) -> Tensor:
    """The variable tensor: typed like the values read and assigned, starting from `first` (assigned
    by CALL_ONCE) or tflite-micro's fill (the int8 zero point of the first value assigned)."""
    like = allocating or first
    if like is None:
        raise TinygenError(f"resource variable {key} is read but never assigned: tflite-micro has no value for it")
    values = [graph.tensor(op.outputs[0]) for op in ops if op.kind == "READ_VARIABLE" and op.inputs[0] == handle]
    values += [graph.tensor(op.inputs[1]) for op in ops if op.kind == "ASSIGN_VARIABLE" and op.inputs[0] == handle]
    values += [first] if first is not None else []
    for v in values:
        if (v.dtype, v.shape) != (like.dtype, like.shape):
            raise TinygenError(
                f"resource variable {key} holds {like.dtype} {list(like.shape)} and {v.dtype} {list(v.shape)}: "
                "tinygen needs one type and shape"
            )
    if first is not None:
        start = first.data.astype(NUMPY_DTYPES[like.dtype])
    else:
        fill = like.zero_point & 0xFF if like.quant is not None else 0  # tflite-micro memsets the zero point's byte
        start = np.full(like.nbytes, fill, np.uint8).view(NUMPY_DTYPES[like.dtype]).reshape(like.shape)
    name = graph.tensor(handle).name
    return Tensor(handle, name, like.shape, like.dtype, like.quant, is_variable=True, initial=start)
