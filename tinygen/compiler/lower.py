"""Lowering: Graph -> LoweredModel, one Layer per op through its record, every constant computed here."""

from __future__ import annotations

from ..errors import TinygenError
from ..ir import Graph
from ..ops import SUPPORTED_OPS, op_def
from ..quantmath import MultiplierRangeError
from .layer import LoweredModel


def lower(graph: Graph) -> LoweredModel:
    layers = []
    for op in graph.ops:
        record = op_def(op.kind)
        if record is None:
            raise TinygenError(f"op {op.index} ({op.kind}) is not supported; supported ops: {', '.join(SUPPORTED_OPS)}")
        try:
            layers.append(record.lower(op, graph))
        except MultiplierRangeError as e:
            raise TinygenError(f"op {op.index} ({op.kind}): {e}") from None
    return LoweredModel(graph, layers)
