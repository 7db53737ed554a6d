"""Write a Graph as a .tflite flatbuffer that the tflite-micro interpreter runs.

Used by the quantizer to emit int8 models and by the tests to generate models.
Constant buffers are 16-byte aligned, as the schema asks and TFLM expects.
"""

from __future__ import annotations

import importlib

import flatbuffers
import numpy as np
import tflite

from ..ir import Graph, Op, Tensor
from .custom_options import write_custom_options
from .tflite_schema import BUILTIN_CODES, CUSTOM_PREFIX, ENUM_FIELDS, TENSOR_TYPE_CODES, camel, op_options

SCHEMA_VERSION = 3

# The generated builder functions live in the schema's modules; `tflite.<Name>` is the reader class.
_Model, _SubGraph, _Tensor, _Operator, _OperatorCode, _Buffer, _QuantizationParameters = (
    importlib.import_module(f"tflite.{name}")
    for name in ("Model", "SubGraph", "Tensor", "Operator", "OperatorCode", "Buffer", "QuantizationParameters")
)
_ENUM_CODES = {field: {name: code for code, name in table.items()} for field, table in ENUM_FIELDS.items()}


def write_tflite(graph: Graph) -> bytes:
    b = flatbuffers.Builder(1024)
    buffers = _write_buffers(b, graph)
    tensors = [_write_tensor(b, t, buffer_index=i + 1) for i, t in enumerate(graph.tensors)]
    kinds = sorted({op.kind for op in graph.ops}, key=lambda k: (_builtin_code(k), k))
    ops = [_write_op(b, op, kinds.index(op.kind)) for op in graph.ops]
    opcodes = [_write_opcode(b, kind) for kind in kinds]

    name = b.CreateString("main")
    subgraph_tensors = _offset_vector(b, _SubGraph.SubGraphStartTensorsVector, tensors)
    subgraph_inputs = _int_vector(b, graph.inputs)
    subgraph_outputs = _int_vector(b, graph.outputs)
    subgraph_ops = _offset_vector(b, _SubGraph.SubGraphStartOperatorsVector, ops)
    _SubGraph.SubGraphStart(b)
    _SubGraph.SubGraphAddTensors(b, subgraph_tensors)
    _SubGraph.SubGraphAddInputs(b, subgraph_inputs)
    _SubGraph.SubGraphAddOutputs(b, subgraph_outputs)
    _SubGraph.SubGraphAddOperators(b, subgraph_ops)
    _SubGraph.SubGraphAddName(b, name)
    subgraph = _SubGraph.SubGraphEnd(b)

    description = b.CreateString(graph.description or "tinygen")
    model_subgraphs = _offset_vector(b, _Model.ModelStartSubgraphsVector, [subgraph])
    model_opcodes = _offset_vector(b, _Model.ModelStartOperatorCodesVector, opcodes)
    model_buffers = _offset_vector(b, _Model.ModelStartBuffersVector, buffers)
    _Model.ModelStart(b)
    _Model.ModelAddVersion(b, SCHEMA_VERSION)
    _Model.ModelAddOperatorCodes(b, model_opcodes)
    _Model.ModelAddSubgraphs(b, model_subgraphs)
    _Model.ModelAddDescription(b, description)
    _Model.ModelAddBuffers(b, model_buffers)
    b.Finish(_Model.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _write_buffers(b: flatbuffers.Builder, graph: Graph) -> list[int]:
    """Buffer 0 is the schema's empty sentinel; tensor i owns buffer i + 1."""
    offsets = []
    for t in [None, *graph.tensors]:
        data = None
        if t is not None and t.data is not None:
            data = np.ascontiguousarray(t.data).astype(t.data.dtype.newbyteorder("<")).tobytes()
            b.StartVector(1, len(data), 16)
            b.head -= len(data)
            b.Bytes[b.head : b.head + len(data)] = data
            data = b.EndVector()
        _Buffer.BufferStart(b)
        if data is not None:
            _Buffer.BufferAddData(b, data)
        offsets.append(_Buffer.BufferEnd(b))
    return offsets


def _write_tensor(b: flatbuffers.Builder, t: Tensor, buffer_index: int) -> int:
    name = b.CreateString(t.name)
    shape = _int_vector(b, t.shape)
    quant = None
    if t.quant is not None:
        scale = b.CreateNumpyVector(np.asarray(t.quant.scale, dtype=np.float32))
        zero_point = b.CreateNumpyVector(np.asarray(t.quant.zero_point, dtype=np.int64))
        _QuantizationParameters.QuantizationParametersStart(b)
        _QuantizationParameters.QuantizationParametersAddScale(b, scale)
        _QuantizationParameters.QuantizationParametersAddZeroPoint(b, zero_point)
        _QuantizationParameters.QuantizationParametersAddQuantizedDimension(b, t.quant.axis)
        quant = _QuantizationParameters.QuantizationParametersEnd(b)
    _Tensor.TensorStart(b)
    _Tensor.TensorAddShape(b, shape)
    _Tensor.TensorAddType(b, TENSOR_TYPE_CODES[t.dtype])
    _Tensor.TensorAddBuffer(b, buffer_index if t.data is not None else 0)
    _Tensor.TensorAddName(b, name)
    _Tensor.TensorAddIsVariable(b, t.is_variable)
    if quant is not None:
        _Tensor.TensorAddQuantization(b, quant)
    return _Tensor.TensorEnd(b)


def _write_op(b: flatbuffers.Builder, op: Op, opcode_index: int) -> int:
    inputs = _int_vector(b, op.inputs)
    outputs = _int_vector(b, op.outputs)
    spec = op_options(op.kind)
    options = _write_options(b, spec.table, spec.fields, spec.vectors, op.options) if spec.table else None
    custom = None
    if op.kind.startswith(CUSTOM_PREFIX):
        custom = b.CreateByteVector(write_custom_options(op.options, spec.flexbuffer))
    _Operator.OperatorStart(b)
    _Operator.OperatorAddOpcodeIndex(b, opcode_index)
    _Operator.OperatorAddInputs(b, inputs)
    _Operator.OperatorAddOutputs(b, outputs)
    if options is not None:
        _Operator.OperatorAddBuiltinOptionsType(b, getattr(tflite.BuiltinOptions, spec.table))
        _Operator.OperatorAddBuiltinOptions(b, options)
    if custom is not None:
        _Operator.OperatorAddCustomOptions(b, custom)
        _Operator.OperatorAddCustomOptionsFormat(b, tflite.CustomOptionsFormat.FLEXBUFFERS)
    return _Operator.OperatorEnd(b)


def _write_options(
    b: flatbuffers.Builder, table_name: str, fields: tuple[str, ...], vectors: tuple[str, ...], values: dict
) -> int:
    module = importlib.import_module(f"tflite.{table_name}")
    vector_offsets = {field: _int_vector(b, values[field]) for field in vectors if field in values}
    getattr(module, f"{table_name}Start")(b)
    for field, offset in vector_offsets.items():
        getattr(module, f"{table_name}Add{camel(field)}")(b, offset)
    for field in fields:
        if field not in values:
            continue  # the schema default applies
        value = values[field]
        if field in _ENUM_CODES:
            value = _ENUM_CODES[field][value]
        getattr(module, f"{table_name}Add{camel(field)}")(b, value)
    return getattr(module, f"{table_name}End")(b)


def _builtin_code(kind: str) -> int:
    return BUILTIN_CODES["CUSTOM"] if kind.startswith(CUSTOM_PREFIX) else BUILTIN_CODES[kind]


def _write_opcode(b: flatbuffers.Builder, kind: str) -> int:
    code = _builtin_code(kind)
    custom_code = b.CreateString(kind[len(CUSTOM_PREFIX) :]) if kind.startswith(CUSTOM_PREFIX) else None
    _OperatorCode.OperatorCodeStart(b)
    if custom_code is not None:
        _OperatorCode.OperatorCodeAddCustomCode(b, custom_code)
    # Codes above 127 only fit the newer field; the deprecated int8 one saturates at 127.
    _OperatorCode.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
    _OperatorCode.OperatorCodeAddBuiltinCode(b, code)
    _OperatorCode.OperatorCodeAddVersion(b, 1)
    return _OperatorCode.OperatorCodeEnd(b)


def _int_vector(b: flatbuffers.Builder, values) -> int:
    return b.CreateNumpyVector(np.asarray(values, dtype=np.int32))


def _offset_vector(b: flatbuffers.Builder, start, offsets: list[int]) -> int:
    start(b, len(offsets))
    for offset in reversed(offsets):
        b.PrependUOffsetTRelative(offset)
    return b.EndVector()
