"""RESHAPE: an alias. The output names the input's bytes; nothing runs."""
from __future__ import annotations

from ..ir import Graph, Op
from ..compiler.layer import Layer
from .common import require


def lower_reshape(op: Op, graph: Graph) -> Layer:
    x = graph.tensor(op.inputs[0])
    y = graph.tensor(op.outputs[0])
    require(x.dtype == y.dtype and x.size == y.size, op, f"cannot reshape {x.shape} {x.dtype} to {y.shape} {y.dtype}")
    require(x.quant == y.quant, op, "input and output quantization differ")
    return Layer(op, kernel=None, shares_storage_with=op.inputs[0])


LOWERINGS = {"RESHAPE": lower_reshape}
