"""Models with resource variables, as converters write them: VAR_HANDLE, READ_VARIABLE and
ASSIGN_VARIABLE in the main subgraph, and a CALL_ONCE that runs an initialisation subgraph
assigning the variables their first values. tinygen's writer holds one subgraph, so these are
built here with the schema's object API (from the tflite-micro package the tests use anyway).

The model: y = ADD(x, READ(acc)) then ASSIGN(acc, y), an int8 running sum kept between invokes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

SHAPE = (1, 6)
X_QUANT = (0.05, -3)
ACC_QUANT = (0.1, 7)  # the variable, and ADD's output written back to it


@dataclass
class _Subgraph:
    tensors: list = field(default_factory=list)
    ops: list = field(default_factory=list)


class _Builder:
    def __init__(self) -> None:
        self.buffers = [schema.BufferT()]  # buffer 0: the schema's empty sentinel
        self.opcodes: list[int] = []

    def tensor(self, sub: _Subgraph, name: str, dtype: int, shape=SHAPE, quant=None, data=None) -> int:
        t = schema.TensorT()
        t.name, t.type, t.shape = name.encode(), dtype, list(shape)
        t.buffer = 0
        if data is not None:
            buffer = schema.BufferT()
            buffer.data = list(np.ascontiguousarray(data).tobytes())
            self.buffers.append(buffer)
            t.buffer = len(self.buffers) - 1
        if quant is not None:
            q = schema.QuantizationParametersT()
            q.scale, q.zeroPoint = [quant[0]], [quant[1]]
            t.quantization = q
        sub.tensors.append(t)
        return len(sub.tensors) - 1

    def op(self, sub: _Subgraph, code: int, inputs, outputs, options_type=0, options=None) -> None:
        if code not in self.opcodes:
            self.opcodes.append(code)
        op = schema.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = self.opcodes.index(code), list(inputs), list(outputs)
        op.builtinOptionsType, op.builtinOptions = options_type, options
        sub.ops.append(op)

    def handle(self, sub: _Subgraph, name: str) -> int:
        h = self.tensor(sub, f"{name}_handle", schema.TensorType.RESOURCE, shape=())
        options = schema.VarHandleOptionsT()
        options.container, options.sharedName = b"", name.encode()
        self.op(sub, schema.BuiltinOperator.VAR_HANDLE, [], [h], schema.BuiltinOptions.VarHandleOptions, options)
        return h

    def assign(self, sub: _Subgraph, handle: int, value: int) -> None:
        self.op(sub, schema.BuiltinOperator.ASSIGN_VARIABLE, [handle, value], [])

    def read(self, sub: _Subgraph, handle: int, name: str, quant=ACC_QUANT) -> int:
        value = self.tensor(sub, name, schema.TensorType.INT8, quant=quant)
        self.op(sub, schema.BuiltinOperator.READ_VARIABLE, [handle], [value])
        return value

    def model(self, subgraphs: list[tuple[_Subgraph, list[int], list[int]]]) -> bytes:
        model = schema.ModelT()
        model.version, model.description, model.buffers = 3, b"resource variables", self.buffers
        model.operatorCodes = []
        for code in self.opcodes:
            c = schema.OperatorCodeT()
            c.builtinCode, c.deprecatedBuiltinCode, c.version = code, min(code, 127), 1
            model.operatorCodes.append(c)
        model.subgraphs = []
        for sub, inputs, outputs in subgraphs:
            g = schema.SubGraphT()
            g.tensors, g.operators, g.inputs, g.outputs = sub.tensors, sub.ops, inputs, outputs
            model.subgraphs.append(g)
        b = flatbuffers.Builder(0)
        b.Finish(model.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def running_sum(
    initial: np.ndarray | None = None, call_once_first: bool = True, assign: bool = True, init_computes: bool = False
) -> bytes:
    """x -> y = x + acc; acc = y. With `initial`, CALL_ONCE's subgraph assigns acc that int8 value
    (of its own shape) first; without, acc starts at what tflite-micro fills it with (its zero point).
    For the refusals: CALL_ONCE after the variable's first use, no ASSIGN_VARIABLE, or an
    initialisation subgraph that computes (an ADD) rather than assigns constants."""
    b = _Builder()
    main, init = _Subgraph(), _Subgraph()
    x = b.tensor(main, "x", schema.TensorType.INT8, quant=X_QUANT)
    y = b.tensor(main, "y", schema.TensorType.INT8, quant=ACC_QUANT)
    options = schema.CallOnceOptionsT()
    options.initSubgraphIndex = 1
    call_once = (main, schema.BuiltinOperator.CALL_ONCE, [], [], schema.BuiltinOptions.CallOnceOptions, options)
    if initial is not None and call_once_first:
        b.op(*call_once)
    handle = b.handle(main, "acc")
    acc = b.read(main, handle, "acc_value")
    if initial is not None and not call_once_first:
        b.op(*call_once)
    b.op(main, schema.BuiltinOperator.ADD, [x, acc], [y], schema.BuiltinOptions.AddOptions, schema.AddOptionsT())
    if assign:
        b.assign(main, b.handle(main, "acc"), y)  # a second handle on the same variable, as converters write
    subgraphs = [(main, [x], [y])]
    if initial is not None:
        value = b.tensor(
            init, "acc_initial", schema.TensorType.INT8, initial.shape, ACC_QUANT, data=initial.astype(np.int8)
        )
        if init_computes:
            doubled = b.tensor(init, "acc_doubled", schema.TensorType.INT8, initial.shape, ACC_QUANT)
            add = (schema.BuiltinOptions.AddOptions, schema.AddOptionsT())
            b.op(init, schema.BuiltinOperator.ADD, [value, value], [doubled], *add)
            value = doubled
        b.assign(init, b.handle(init, "acc"), value)
        subgraphs.append((init, [], []))
    return b.model(subgraphs)
