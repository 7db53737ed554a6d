"""Model statistics for reports: multiply-accumulates (from each op's record) and parameter counts."""

from __future__ import annotations

from ..ir import Graph, Op
from ..ops import op_def


def op_macs(op: Op, graph: Graph) -> int:
    """Multiply-accumulates of one op (0 for ops that do none, and for ops tinygen does not know)."""
    record = op_def(op.kind)
    return record.macs(op, graph) if record and op.outputs else 0


def op_parameters(op: Op, graph: Graph) -> int:
    """Elements of the op's constant inputs (weights and biases)."""
    return sum(graph.tensor(i).size for i in op.inputs if i >= 0 and graph.tensor(i).is_constant)
