"""Model statistics for reports: multiply-accumulates and parameter counts per op."""
from __future__ import annotations

from ..ir import Graph, Op


def op_macs(op: Op, graph: Graph) -> int:
    """Multiply-accumulates of one op (0 for ops that do no multiply-accumulate work)."""
    out = graph.tensor(op.outputs[0]) if op.outputs else None
    if out is None:
        return 0
    if op.kind == "CONV_2D":
        _, kh, kw, ic = graph.tensor(op.inputs[1]).shape
        return out.size * kh * kw * ic
    if op.kind == "DEPTHWISE_CONV_2D":
        _, kh, kw, _ = graph.tensor(op.inputs[1]).shape
        return out.size * kh * kw
    if op.kind == "FULLY_CONNECTED":
        return out.size * graph.tensor(op.inputs[1]).shape[-1]
    if op.kind in ("AVERAGE_POOL_2D",):
        return out.size * op.options["filter_height"] * op.options["filter_width"]
    if op.kind in ("ADD", "MUL"):
        return out.size
    return 0


def op_parameters(op: Op, graph: Graph) -> int:
    """Elements of the op's constant inputs (weights and biases)."""
    return sum(graph.tensor(i).size for i in op.inputs if i >= 0 and graph.tensor(i).is_constant)
