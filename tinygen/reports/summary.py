"""`tinygen inspect`: what a model holds, as plain data for tables and JSON."""

from __future__ import annotations

from ..ir import Graph, Tensor
from ..ops import SUPPORTED_OPS
from .analysis import op_macs, op_parameters


def describe_tensor(t: Tensor) -> dict:
    info = {"index": t.index, "name": t.name, "shape": list(t.shape), "dtype": t.dtype}
    if t.quant is not None:
        if t.quant.per_channel:
            info["quantization"] = {
                "per_channel": True,
                "axis": t.quant.axis,
                "channels": len(t.quant.scale),
                "scale_min": min(t.quant.scale),
                "scale_max": max(t.quant.scale),
            }
        else:
            info["quantization"] = {"scale": t.scale, "zero_point": t.zero_point}
    return info


def describe_model(graph: Graph) -> dict:
    ops = []
    for op in graph.ops:
        activations = [graph.tensor(i) for i in op.inputs if i >= 0 and not graph.tensor(i).is_constant]
        ops.append(
            {
                "index": op.index,
                "op": op.kind,
                "supported": op.kind in SUPPORTED_OPS,
                "inputs": [describe_tensor(t) for t in activations],
                "outputs": [describe_tensor(graph.tensor(i)) for i in op.outputs],
                "options": op.options,
                "parameters": op_parameters(op, graph),
                "macs": op_macs(op, graph),
            }
        )
    constants = [t for t in graph.tensors if t.is_constant]
    return {
        "inputs": [describe_tensor(graph.tensor(i)) for i in graph.inputs],
        "outputs": [describe_tensor(graph.tensor(i)) for i in graph.outputs],
        "ops": ops,
        "parameters": sum(t.size for t in constants),
        "weight_bytes": sum(t.nbytes for t in constants),
        "macs": sum(op["macs"] for op in ops),
    }
