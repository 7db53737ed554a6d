"""Control flow: WHILE and IF, and the comparisons and logic a loop's condition computes.

None of them runs on the device. The control-flow pass (tinygen/compiler/control_flow.py) unrolls a
WHILE whose trip count it can work out at compile time and inlines an IF whose condition is a
constant; the comparisons (LESS on a loop counter, LOGICAL_AND of two) are folded there on constants.
What is left of them after that pass is refused in lowering, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..compiler.layer import Layer
from ..errors import TinygenError
from ..ir import Graph, Op, Tensor
from .record import ACTIVATION, OpDef, Options


def resolved_at_compile_time(op: Op, graph: Graph) -> Layer:
    raise TinygenError(
        f"op {op.index} ({op.kind}) is resolved at compile time (tinygen/compiler/control_flow.py); a graph "
        "that reaches lowering cannot hold it"
    )


def constant_only(op: Op, graph: Graph) -> Layer:
    raise TinygenError(
        f"op {op.index} ({op.kind}) works on values computed on the device; tinygen evaluates {op.kind} "
        "at compile time only, on constants (a loop's condition), and has no kernel for it"
    )


# Exact on the raw values: tflite-micro compares unquantized tensors (and quantized ones of equal
# parameters) element by element, with broadcasting.
COMPARISONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "LESS": np.less,
    "LESS_EQUAL": np.less_equal,
    "GREATER": np.greater,
    "GREATER_EQUAL": np.greater_equal,
    "EQUAL": np.equal,
    "NOT_EQUAL": np.not_equal,
    "LOGICAL_AND": np.logical_and,
    "LOGICAL_OR": np.logical_or,
}


def _fold_comparison(compare: Callable[[np.ndarray, np.ndarray], np.ndarray]):
    def fold(op: Op, inputs: list[Tensor | None]) -> list[np.ndarray] | None:
        a, b = inputs[:2]
        if a is None or b is None or not (a.is_constant and b.is_constant) or a.quant != b.quant:
            return None
        return [compare(a.data, b.data)]

    return fold


def _fold_not(op: Op, inputs: list[Tensor | None]) -> list[np.ndarray] | None:
    x = inputs[0]
    return [np.logical_not(x.data)] if x is not None and x.is_constant else None


CONDITION_NOTE = "at compile time only, on constants (a loop's condition)"

OPS = (
    OpDef(
        "WHILE",
        resolved_at_compile_time,
        slots=(ACTIVATION,),
        variadic=True,
        outputs=None,  # as many as its inputs (the loop-carried values)
        options=Options("WhileOptions", ("cond_subgraph_index", "body_subgraph_index")),
        notes="unrolled at compile time when the trip count is known then (a counter with constant "
        "start, limit and step, as converters write RNNs); the body's constants shared by every step",
    ),
    OpDef(
        "IF",
        resolved_at_compile_time,
        slots=(ACTIVATION,),
        variadic=True,
        outputs=None,  # the branches' outputs
        options=Options("IfOptions", ("then_subgraph_index", "else_subgraph_index")),
        notes="inlined at compile time when its condition is a constant",
    ),
    *(
        OpDef(name, constant_only, slots=(ACTIVATION, ACTIVATION), fold=_fold_comparison(compare), notes=CONDITION_NOTE)
        for name, compare in COMPARISONS.items()
    ),
    OpDef("LOGICAL_NOT", constant_only, fold=_fold_not, notes=CONDITION_NOTE),
)
