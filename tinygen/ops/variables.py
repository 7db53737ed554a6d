"""Resource variables: VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE, and the CALL_ONCE that initialises
them. The reader resolves each variable to a variable tensor in the state region, with the value
CALL_ONCE's subgraph assigns it (tinygen/frontends/resource_variables.py); what is left to run is a
copy out of the state region (READ_VARIABLE) or into it (ASSIGN_VARIABLE)."""

from __future__ import annotations

from dataclasses import dataclass

from ..compiler.layer import Layer, tensor_args
from ..errors import TinygenError
from ..ir import Graph, Op
from .checks import require
from .record import ACTIVATION, OpDef, Options


@dataclass(frozen=True)
class CopyParams:
    C_TYPE = "tg_copy_params"
    C_FILE = "tg_copy.c"
    bytes: int


def _copy(op: Op, graph: Graph, source: int, target: int) -> Layer:
    a, b = graph.tensor(source), graph.tensor(target)
    what = f"{a.dtype} {list(a.shape)} does not fit {b.dtype} {list(b.shape)}"
    require(a.dtype == b.dtype and a.shape == b.shape, op, what)
    return Layer(op, "tg_copy", CopyParams(a.nbytes), tensor_args(source, target))


def lower_read_variable(op: Op, graph: Graph) -> Layer:
    require(graph.tensor(op.inputs[0]).is_variable, op, "reads a tensor that is not a variable")
    return _copy(op, graph, op.inputs[0], op.outputs[0])


def lower_assign_variable(op: Op, graph: Graph) -> Layer:
    require(graph.tensor(op.inputs[0]).is_variable, op, "assigns a tensor that is not a variable")
    return _copy(op, graph, op.inputs[1], op.inputs[0])


def resolved_when_read(op: Op, graph: Graph) -> Layer:
    raise TinygenError(f"op {op.index} ({op.kind}) is resolved when the model is read; a graph cannot hold it")


OPS = (
    OpDef(
        "VAR_HANDLE",
        resolved_when_read,
        slots=(),
        options=Options("VarHandleOptions", ("container", "shared_name")),
        notes="each resource variable becomes state in the state region, apart from the arena",
    ),
    OpDef(
        "CALL_ONCE",
        resolved_when_read,
        slots=(),
        outputs=0,
        options=Options("CallOnceOptions", ("init_subgraph_index",)),
        notes="its initialisation subgraph (assignments of constants) evaluated at compile time",
    ),
    OpDef("READ_VARIABLE", lower_read_variable, notes="a copy out of the state region"),
    OpDef(
        "ASSIGN_VARIABLE",
        lower_assign_variable,
        slots=(ACTIVATION, ACTIVATION),
        outputs=0,
        notes="a copy into the state region",
    ),
)
