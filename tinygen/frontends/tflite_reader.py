"""Read a .tflite flatbuffer into a Graph.

The reader refuses only what the IR cannot hold (dynamic shapes, indices to tensors, buffers or
operator codes that do not exist, constants whose bytes do not fill their shape, a corrupt file);
whether the model makes sense is decided later, by the validator (tinygen/compiler/validate.py),
control flow in the control-flow pass, and whether tinygen can compile each op in lowering, so
`tinygen inspect` still describes models it cannot build. Every subgraph is read: the main one is
the Graph, the others (a WHILE's condition and body, an IF's branches, CALL_ONCE's initialisation)
its `subgraphs`.
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
        # Each subgraph takes a 4-byte offset in the file: a damaged count claiming more (2^31) would
        # have the reader walk garbage that long.
        if count > len(buf) // 4:
            raise TinygenError(f"{name} is a corrupt TFLite file: it claims {count} subgraphs")
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
        # -1 marks an absent optional input; any other index must name a tensor.
        for t in (*(i for i in op.inputs if i != -1), *op.outputs):
            if not 0 <= t < len(tensors):
                raise TinygenError(f"op {op.index} ({op.kind}) refers to tensor {t}, which does not exist")
    inputs = _indices(subgraph.InputsAsNumpy, subgraph.InputsLength())
    outputs = _indices(subgraph.OutputsAsNumpy, subgraph.OutputsLength())
    for what, indices in (("input", inputs), ("output", outputs)):
        for t in indices:
            if not 0 <= t < len(tensors):
                raise TinygenError(f"model {what} {t} refers to a tensor that does not exist")
    description = model.Description().decode("utf-8", "replace") if model.Description() else ""
    return Graph(tensors=tensors, ops=ops, inputs=inputs, outputs=outputs, description=description)


def _indices(as_numpy, length: int) -> tuple[int, ...]:
    """An int vector of the file as a tuple (flatbuffers gives 0, not an empty array, for an absent one)."""
    return tuple(int(i) for i in as_numpy()) if length else ()


def _read_tensor(model, t, index: int) -> Tensor:
    name = t.Name().decode("utf-8", "replace") if t.Name() else f"tensor_{index}"
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    # shape_signature marks dimensions unknown at conversion (-1, usually the batch). Where `shape`
    # still gives a size, tflite-micro runs at that size, and so does tinygen.
    unknown = [axis for axis, d in enumerate(shape) if d < 0]
    if unknown and shape[unknown[0]] == -1:
        raise TinygenError(
            f"tensor {index} ({name}) has an unknown size on axis {unknown[0]} (shape {list(shape)}); "
            "tinygen needs every size: convert the model with a fixed input shape"
        )
    if unknown:
        raise TinygenError(f"tensor {index} ({name}) has a negative size on axis {unknown[0]} (shape {list(shape)})")
    dtype = TENSOR_TYPES.get(t.Type())
    if dtype is None:
        raise TinygenError(f"tensor {index} ({name}) has type {type_name(t.Type())}, which tinygen does not support")
    if t.Sparsity() is not None:
        raise TinygenError(f"tensor {index} ({name}) is sparse; tinygen, like tflite-micro, reads dense tensors")
    variable = bool(t.IsVariable())
    # A variable's buffer is not its initial value: tflite-micro gives it fresh memory, set to its
    # zero point (int8) or 0 when the interpreter starts and on every reset.
    data = None if variable else _read_data(model, t.Buffer(), index, name, shape, dtype)
    quant = _read_quant(t.Quantization())
    return Tensor(index=index, name=name, shape=shape, dtype=dtype, quant=quant, data=data, is_variable=variable)


def _read_data(model, buffer_index: int, index: int, name: str, shape: tuple[int, ...], dtype: str):
    """A constant's values, or None for a tensor computed at run time (no data in its buffer)."""
    # Buffer 0 is the schema's empty buffer, which a writer with no constants may leave out.
    if buffer_index >= model.BuffersLength() and buffer_index != 0:
        raise TinygenError(f"tensor {index} ({name}) refers to buffer {buffer_index}, which does not exist")
    buffer = model.Buffers(buffer_index) if buffer_index < model.BuffersLength() else None
    if buffer is None:
        return None
    if buffer.Offset() > 1:  # the data lies after the flatbuffer (models over 2 GB)
        raise TinygenError(
            f"tensor {index} ({name}) keeps its data outside the flatbuffer, which tinygen (like tflite-micro) "
            "does not read"
        )
    if buffer.DataLength() == 0:
        return None
    itemsize = np.dtype(NUMPY_DTYPES[dtype]).itemsize
    needed = int(np.prod(shape, dtype=object)) * itemsize  # Python integers: no overflow
    if buffer.DataLength() != needed:
        raise TinygenError(
            f"tensor {index} ({name}) is a constant {dtype} of shape {list(shape)}, {needed:,} bytes, but its "
            f"buffer holds {buffer.DataLength():,}"
        )
    return np.frombuffer(buffer.DataAsNumpy().tobytes(), dtype=NUMPY_DTYPES[dtype]).reshape(shape).copy()


def _read_quant(q) -> Quant | None:
    if q is None or q.ScaleLength() == 0:
        return None
    scales = tuple(float(s) for s in q.ScaleAsNumpy().astype(np.float32))
    zero_points = tuple(int(z) for z in q.ZeroPointAsNumpy()) if q.ZeroPointLength() else (0,) * len(scales)
    return Quant(scale=scales, zero_point=zero_points, axis=int(q.QuantizedDimension()))


def _read_op(model, op, index: int) -> Op:
    kind = _op_kind(model, op, index)
    inputs = _indices(op.InputsAsNumpy, op.InputsLength())
    outputs = _indices(op.OutputsAsNumpy, op.OutputsLength())
    return Op(index=index, kind=kind, inputs=inputs, outputs=outputs, options=_read_options(kind, op, index))


# An OperatorCode names its op twice: deprecated_builtin_code (int8, schema v3; 127 stands for "see
# builtin_code") and builtin_code (int32, v3a). tflite-micro reads max(builtin_code, deprecated) (GetBuiltinCode
# in tensorflow/compiler/mlir/lite/schema/schema_utils.cc, from micro_op_resolver.cc), so it runs a file whose
# fields disagree as the larger code without a word. tinygen refuses such a file instead. A field missing from
# the file (v3 files have no builtin_code) is not a disagreement: the other one names the op.
_DEPRECATED_FIELD, _BUILTIN_FIELD = 4, 10  # vtable offsets in the OperatorCode table
_PLACEHOLDER = tflite.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES


def _op_kind(model, op, index: int) -> str:
    """The op's name: a builtin's, or CUSTOM: and its custom code."""
    if op.OpcodeIndex() >= model.OperatorCodesLength():
        raise TinygenError(f"op {index} refers to operator code {op.OpcodeIndex()}, which does not exist")
    code = model.OperatorCodes(op.OpcodeIndex())
    builtin = _builtin_code(code, index)
    if builtin == tflite.BuiltinOperator.CUSTOM:
        return CUSTOM_PREFIX + (code.CustomCode() or b"?").decode("utf-8", "replace")
    return _op_name(builtin)


def _builtin_code(code, op_index: int) -> int:
    deprecated, builtin = code.DeprecatedBuiltinCode(), _raw_builtin_code(code)
    both_given = code._tab.Offset(_DEPRECATED_FIELD) and code._tab.Offset(_BUILTIN_FIELD)
    if both_given and deprecated != min(builtin, _PLACEHOLDER):
        raise TinygenError(
            f"op {op_index}'s operator code names two ops: {_op_name(deprecated)} (deprecated_builtin_code "
            f"{deprecated}) and {_op_name(builtin)} (builtin_code {builtin})"
        )
    return max(builtin, deprecated)


def _raw_builtin_code(code) -> int:
    """builtin_code as stored (the tflite package's accessor answers deprecated_builtin_code below 127)."""
    offset = code._tab.Offset(_BUILTIN_FIELD)
    return code._tab.Get(flatbuffers.number_types.Int32Flags, offset + code._tab.Pos) if offset else 0


def _op_name(builtin: int) -> str:
    return tflite.utils.BUILTIN_OPCODE2NAME.get(builtin, f"BUILTIN_{builtin}")


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
        if field in ENUM_FIELDS:
            if value not in ENUM_FIELDS[field]:
                known = ", ".join(ENUM_FIELDS[field].values())
                raise TinygenError(f"op {index} ({kind}) has {field} {value}; tinygen knows {known}")
            value = ENUM_FIELDS[field][value]
        result[field] = value
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
