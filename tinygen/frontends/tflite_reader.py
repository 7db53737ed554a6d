"""Read a .tflite flatbuffer into a Graph.

The reader refuses only what the IR cannot hold (dynamic shapes, a corrupt file); whether
tinygen can compile each op is decided later (control flow in the control-flow pass, each op
in lowering), so `tinygen inspect` still describes models it cannot build. Every subgraph is
read: the main one is the Graph, the others (a WHILE's condition and body, an IF's branches,
CALL_ONCE's initialisation) its `subgraphs`.
"""

from __future__ import annotations

import functools
import importlib

import flatbuffers
import numpy as np
import tflite

from ..errors import TinygenError
from ..ir import NUMPY_DTYPES, Graph, Op, Quant, Tensor
from .custom_options import read_custom_options
from .resource_variables import has_resource_variables, resolve_resource_variables
from .tflite_schema import CUSTOM_PREFIX, ENUM_FIELDS, TENSOR_TYPES, camel, op_options, type_name

TFLITE_IDENTIFIER = b"TFL3"


def parse_tflite(buf: bytes, name: str = "model") -> Graph:
    if len(buf) < 8 or buf[4:8] != TFLITE_IDENTIFIER:
        raise TinygenError(f"{name} is not a TFLite model (no TFL3 file identifier)")
    try:
        model = tflite.Model.GetRootAsModel(buf, 0)
        count = model.SubgraphsLength()
        if count < 1:
            raise TinygenError(f"{name} has no subgraph")
        graph = _read_subgraph(model, model.Subgraphs(0), buf)
        graph.subgraphs = {i: _read_subgraph(model, model.Subgraphs(i), buf) for i in range(1, count)}
        if not has_resource_variables(graph):
            return graph
        return resolve_resource_variables(graph, {i: graph.subgraphs[i] for i in _init_subgraphs(graph)})
    except TinygenError:
        raise
    except Exception as e:  # flatbuffers raises bare IndexError/struct.error on damaged files
        raise TinygenError(f"{name} is a corrupt or truncated TFLite file") from e


def _init_subgraphs(graph: Graph) -> list[int]:
    """The subgraphs the main subgraph's CALL_ONCE ops run, each once."""
    found = []
    for op in graph.ops:
        if op.kind == "CALL_ONCE":
            index = int(op.options["init_subgraph_index"])
            if index not in graph.subgraphs:
                raise TinygenError(f"op {op.index} (CALL_ONCE) runs subgraph {index}, which does not exist")
            found.append(index)
    return sorted(set(found))


def _read_subgraph(model, subgraph, buf: bytes) -> Graph:
    tensors = [_read_tensor(model, subgraph.Tensors(i), i) for i in range(subgraph.TensorsLength())]
    ops = [_read_op(model, subgraph.Operators(i), i) for i in range(subgraph.OperatorsLength())]
    for op in ops:
        for t in (*op.inputs, *op.outputs):
            if t >= len(tensors):
                raise TinygenError(f"op {op.index} ({op.kind}) refers to tensor {t}, which does not exist")
    description = model.Description().decode("utf-8", "replace") if model.Description() else ""
    return Graph(
        tensors=tensors,
        ops=ops,
        inputs=tuple(int(i) for i in subgraph.InputsAsNumpy()),
        outputs=tuple(int(i) for i in subgraph.OutputsAsNumpy()),
        description=description,
    )


def _read_tensor(model, t, index: int) -> Tensor:
    name = t.Name().decode("utf-8", "replace") if t.Name() else f"tensor_{index}"
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    # shape_signature marks dimensions unknown at conversion (-1, usually the batch). Where `shape`
    # still gives a size, tflite-micro runs at that size, and so does tinygen.
    unknown = [axis for axis, d in enumerate(shape) if d < 0]
    if unknown:
        raise TinygenError(
            f"tensor {index} ({name}) has an unknown size on axis {unknown[0]} (shape {list(shape)}); "
            "tinygen needs every size: convert the model with a fixed input shape"
        )
    dtype = TENSOR_TYPES.get(t.Type())
    if dtype is None:
        raise TinygenError(f"tensor {index} ({name}) has type {type_name(t.Type())}, which tinygen does not support")
    data = None
    variable = bool(t.IsVariable())
    buffer = model.Buffers(t.Buffer())
    # A variable's buffer is not its initial value: tflite-micro gives it fresh memory, set to its
    # zero point (int8) or 0 when the interpreter starts and on every reset.
    if buffer is not None and buffer.DataLength() > 0 and not variable:
        raw = buffer.DataAsNumpy().tobytes()
        data = np.frombuffer(raw, dtype=NUMPY_DTYPES[dtype]).reshape(shape).copy()
    quant = _read_quant(t.Quantization())
    return Tensor(index=index, name=name, shape=shape, dtype=dtype, quant=quant, data=data, is_variable=variable)


def _read_quant(q) -> Quant | None:
    if q is None or q.ScaleLength() == 0:
        return None
    scales = tuple(float(s) for s in q.ScaleAsNumpy().astype(np.float32))
    zero_points = tuple(int(z) for z in q.ZeroPointAsNumpy()) if q.ZeroPointLength() else (0,) * len(scales)
    return Quant(scale=scales, zero_point=zero_points, axis=int(q.QuantizedDimension()))


def _read_op(model, op, index: int) -> Op:
    code = model.OperatorCodes(op.OpcodeIndex())
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    if builtin == tflite.BuiltinOperator.CUSTOM:
        kind = CUSTOM_PREFIX + (code.CustomCode() or b"?").decode("utf-8", "replace")
    else:
        kind = tflite.utils.BUILTIN_OPCODE2NAME.get(builtin, f"BUILTIN_{builtin}")
    inputs = tuple(int(i) for i in op.InputsAsNumpy()) if op.InputsLength() else ()
    outputs = tuple(int(i) for i in op.OutputsAsNumpy()) if op.OutputsLength() else ()
    return Op(index=index, kind=kind, inputs=inputs, outputs=outputs, options=_read_options(kind, op, index))


def _read_options(kind: str, op, index: int) -> dict:
    spec = op_options(kind)
    if spec.flexbuffer:
        raw = op.CustomOptionsAsNumpy().tobytes() if op.CustomOptionsLength() else b""
        return read_custom_options(raw, spec.flexbuffer, f"op {index} ({kind})")
    if not (spec.fields or spec.vectors):
        return {}
    table = op.BuiltinOptions()
    options = _empty_table(spec.table) if table is None else getattr(tflite, spec.table)()
    if table is not None:
        options.Init(table.Bytes, table.Pos)
    result = {}
    for field in spec.fields:
        value = getattr(options, camel(field))()
        result[field] = ENUM_FIELDS[field][value] if field in ENUM_FIELDS else value
    for field in spec.vectors:
        values = getattr(options, f"{camel(field)}AsNumpy")()
        result[field] = tuple(int(v) for v in values) if not isinstance(values, int) else ()
    return result


@functools.cache
def _empty_table(table_name: str):
    """An options table with every field at its schema default: a missing table means exactly that."""
    module = importlib.import_module(f"tflite.{table_name}")
    b = flatbuffers.Builder(16)
    getattr(module, f"{table_name}Start")(b)
    b.Finish(getattr(module, f"{table_name}End")(b))
    options = getattr(tflite, table_name)()
    buf = b.Output()
    options.Init(buf, flatbuffers.encode.Get(flatbuffers.packer.uoffset, buf, 0))
    return options
