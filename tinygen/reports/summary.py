"""`tinygen inspect`: what a model holds, as plain data for tables and JSON."""

from __future__ import annotations

import dataclasses

from ..compiler.control_flow import CONTROL_FLOW, resolve_control_flow
from ..compiler.fold import fold_constants
from ..compiler.validate import check_op
from ..errors import TinygenError
from ..ir import Graph, Tensor
from ..ops import op_def
from ..quantize.float_exec import float_ops
from ..quantize.quantizer import EDGE_OPS, is_float_graph
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


def op_support(graph: Graph) -> dict[int, tuple[str, str | None]]:
    """Per op index: ("supported" | "folded" | "quantized" | "unsupported", the reason when
    unsupported), as the compiler would decide for this model: whether its lowering accepts these
    dtypes, shapes and parameters, or constant folding evaluates it at compile time. In a float model,
    "quantized": the quantizer turns the op into int8 given calibration data."""
    if any(op.kind in CONTROL_FLOW for op in graph.ops):
        return _control_flow_support(graph)
    if is_float_graph(graph):
        quantizable = set(float_ops()) - set(EDGE_OPS)
        return {
            op.index: ("quantized", None)
            if op.kind in quantizable
            else ("unsupported", f"tinygen cannot quantize {op.kind}")
            for op in graph.ops
        }
    try:
        folded = fold_constants(graph)
    except TinygenError:
        folded = graph
    kept = {op.index for op in folded.ops}
    support = {}
    for op in graph.ops:
        record = op_def(op.kind)
        if record is None:
            support[op.index] = ("unsupported", f"tinygen has no kernel for {op.kind}")
        elif op.index not in kept:
            support[op.index] = ("folded", None)
        else:
            try:
                check_op(op)  # the validator's checks of the op itself: arity, window options
                record.lower(op, folded)
                support[op.index] = ("supported", None)
            except TinygenError as e:
                support[op.index] = ("unsupported", str(e))
            except Exception as e:  # a malformed op the lowering did not expect: still an answer
                support[op.index] = ("unsupported", f"{type(e).__name__}: {e}")
    return support


def _control_flow_support(graph: Graph) -> dict[int, tuple[str, str | None]]:
    """The support of a model with WHILE or IF: the main ops' as in the graph the control-flow pass
    makes (they keep their indices there); a WHILE or IF is "unrolled" when the pass resolves it and
    the ops it copies are supported, else unsupported with the first reason."""
    try:
        resolved = op_support(resolve_control_flow(graph))
    except TinygenError as e:  # the other ops as they are without it
        others = [op for op in graph.ops if op.kind not in CONTROL_FLOW]
        resolved, reason = op_support(dataclasses.replace(graph, ops=others, subgraphs={})), str(e)
    else:
        main = {op.index for op in graph.ops}
        reason = next((why for i, (status, why) in resolved.items() if status == "unsupported" and i not in main), None)
    support = {}
    for op in graph.ops:
        if op.kind in CONTROL_FLOW:
            support[op.index] = ("unsupported", reason) if reason else ("unrolled", None)
        else:
            support[op.index] = resolved.get(op.index, ("folded", None))  # folded while unrolling
    return support


def describe_model(graph: Graph) -> dict:
    support = op_support(graph)
    ops = []
    for op in graph.ops:
        status, reason = support[op.index]
        activations = [graph.tensor(i) for i in op.inputs if i >= 0 and not graph.tensor(i).is_constant]
        ops.append(
            {
                "index": op.index,
                "op": op.kind,
                "supported": status != "unsupported",
                # supported, folded (evaluated at compile time), quantized (in a float model), unrolled
                # (control flow resolved at compile time) or unsupported
                "status": status,
                "reason": reason,
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
