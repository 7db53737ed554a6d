"""TG_LOOKUP -> tg_lookup_s8: an int8 table indexed by the input byte, made by the compiler.

No .tflite file holds this op: tinygen/compiler/islands.py puts it where a float island was (a
DEQUANTIZE, float element-wise ops, a QUANTIZE), with the island's 256 results as its table.
"""

from __future__ import annotations

from ..compiler.layer import Arg, Layer, tensor_args
from ..ir import Graph, Op
from .checks import int8_io, require
from .elu import LookupParams
from .record import OpDef


def lower_lookup(op: Op, graph: Graph) -> Layer:
    (x,), y = int8_io(op, graph)
    table = op.options["table"]
    require(table.shape == (256,) and str(table.dtype) == "int8" and x.shape == y.shape, op, "malformed table")
    args = (Arg("const", "table"), *tensor_args(op.inputs[0], op.outputs[0]))
    return Layer(op, "tg_lookup_s8", LookupParams(size=y.size), args, {"table": table})


OPS = (
    OpDef(
        "TG_LOOKUP",
        lower_lookup,
        notes="a float island (DEQUANTIZE, float element-wise ops, QUANTIZE) as one int8 table",
        in_place=True,
        internal=True,
    ),
)
