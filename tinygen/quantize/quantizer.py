"""The graph rewrite: a float Graph and activation ranges -> a full-integer int8 Graph.

Follows the TFLite int8 spec (and TFLM's Prepare checks, docs/numerics-tflm.md section 4), with
each op's rule from its record (tinygen/ops: slots, quantization):
- weights symmetric int8 in [-127, 127], per output channel (axis 0 for conv and fully
  connected, axis 3 for depthwise) or per tensor;
- activations asymmetric int8 per tensor, with zero exactly representable;
- bias int32 at scale input_scale * weight_scale, zero point 0;
- softmax and logistic outputs at 1/256 and -128, tanh at 1/128 and 0;
- ops that move bytes without rescaling (reshape, pooling, pad, relu6, concatenation)
  share one quantization between their inputs and output;
- an op whose operands follow rules of their own (SVDF: int16 time weights and memory) builds them
  through its record's `quantization.operands`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..builder import GraphBuilder
from ..compiler.islands import fuse_float_islands
from ..errors import TinygenError
from ..ir import Graph, Op
from ..ops import op_def
from ..ops.record import ACTIVATION, BIAS, WEIGHTS, OpDef
from .float_exec import dequantize, float_ops
from .ranges import quant_params

INT32_MAX = 2**31 - 1
QUANTIZED_BY = "tinygen int8:"  # starts the description of every model the quantizer writes
UNQUANTIZED = ("int32", "bool")  # activations that are not real numbers: indices (ARG_MAX's output), masks
EDGE_OPS = ("QUANTIZE", "DEQUANTIZE")  # the quantizer adds these itself (--float-io)


@dataclass
class QuantizedGraph:
    graph: Graph
    tensor_map: dict[int, int]  # float graph activation index -> int8 graph index
    params: dict[int, tuple[float, int]]  # float graph activation index -> (scale, zero point)


def is_float_graph(graph: Graph) -> bool:
    """True when some op other than QUANTIZE/DEQUANTIZE computes in float32. Float islands in an
    int8 model do not count (the compiler makes them tables), nor does float arithmetic a model does
    on integers it casts to float32 itself (tflite-micro's audio preprocessor scales its int16
    features so): that is the model's own computation, compiled in float32."""
    graph = fuse_float_islands(graph)
    by_design = floats_from_integers(graph)
    return any(
        graph.tensor(i).dtype == "float32" and i not in by_design
        for op in graph.ops
        if op.kind not in ("QUANTIZE", "DEQUANTIZE")
        for i in (*op.inputs, *op.outputs)
        if i >= 0
    )


def floats_from_integers(graph: Graph) -> set[int]:
    """The float32 tensors computed from integer data the model casts to float32: the CASTs'
    outputs, and what ops compute from those and float constants (with those constants)."""
    found: set[int] = set()
    for op in graph.ops:  # in execution order
        inputs = [i for i in op.inputs if i >= 0]
        if op.kind == "CAST" and graph.tensor(op.inputs[0]).dtype != "float32":
            found.update(o for o in op.outputs if graph.tensor(o).dtype == "float32")
        elif any(i in found for i in inputs) and all(
            i in found or graph.tensor(i).is_constant or graph.tensor(i).dtype != "float32" for i in inputs
        ):
            found.update(i for i in (*inputs, *op.outputs) if graph.tensor(i).dtype == "float32")
    return found


def _record(kind: str) -> OpDef:
    return op_def(kind)  # check_float_graph has made sure there is one


def check_float_graph(graph: Graph) -> None:
    for op in graph.ops:
        if op.kind not in float_ops() or op.kind in EDGE_OPS:
            supported = sorted(set(float_ops()) - set(EDGE_OPS))
            raise TinygenError(f"op {op.index} ({op.kind}) cannot be quantized; supported ops: {', '.join(supported)}")
    for t in graph.tensors:
        if t.data is None and t.dtype not in ("float32", *UNQUANTIZED):
            raise TinygenError(f"tensor {t.name} is {t.dtype}; tinygen quantizes float32 models")


def activation_params(graph: Graph, ranges: dict[int, tuple[float, float]]) -> dict[int, tuple[float, int]]:
    """(scale, zero point) per activation, honouring the ops that share or fix quantization."""
    parent = {i: i for i in ranges}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    fixed: dict[int, tuple[float, int]] = {}
    for op in graph.ops:
        out, rule = op.outputs[0], _record(op.kind).quantization
        if rule.shared != "none":
            moved = [*(op.inputs if rule.shared == "all" else op.inputs[:1]), *op.outputs[1:]]
            for i in moved:
                if i in parent:
                    parent[root(i)] = root(out)
        if rule.fixed_output:
            fixed[out] = rule.fixed_output

    group_fixed: dict[int, tuple[float, int]] = {}
    for i, params in fixed.items():
        if group_fixed.setdefault(root(i), params) != params:
            raise TinygenError(f"tensor {graph.tensor(i).name} must hold two fixed quantizations at once")
    group_range: dict[int, tuple[float, float]] = {}
    for i, (low, high) in ranges.items():
        if not (np.isfinite(low) and np.isfinite(high)):
            raise TinygenError(
                f"tensor {graph.tensor(i).name} takes values [{low}, {high}] on the calibration data: "
                "the float model overflows or produces NaN there"
            )
        g_low, g_high = group_range.get(root(i), (0.0, 0.0))
        group_range[root(i)] = (min(g_low, low), max(g_high, high))
    return {i: group_fixed.get(root(i)) or quant_params(*group_range[root(i)]) for i in ranges}


def quantize_graph(
    graph: Graph, ranges: dict[int, tuple[float, float]], per_channel: bool = True, float_io: bool = False
) -> QuantizedGraph:
    """ranges: (low, high) for every activation tensor of the float graph (inputs included)."""
    check_float_graph(graph)
    params = activation_params(graph, ranges)
    return _Rewrite(graph, params, per_channel, ranges).run(float_io)


def real_values(t) -> np.ndarray:
    """A float constant's values, or a quantized constant's real values (the weights of a hybrid model,
    int8 with float activations, are dequantized and quantized afresh)."""
    if t.dtype == "float32" or t.quant is None:
        return t.data.astype(np.float64)
    return dequantize(t.data, t.quant).astype(np.float64)


class _Rewrite:
    def __init__(
        self,
        graph: Graph,
        params: dict[int, tuple[float, int]],
        per_channel: bool,
        ranges: dict[int, tuple[float, float]] | None = None,
    ) -> None:
        self.graph, self.params, self.per_channel = graph, params, per_channel
        self.ranges = ranges or {}
        self.b = GraphBuilder(f"{QUANTIZED_BY} {graph.description}".strip())
        self.map: dict[int, int] = {}

    def run(self, float_io: bool) -> QuantizedGraph:
        inputs = [self.activation(i) for i in self.graph.inputs]
        if float_io:
            inputs = [self.edge("QUANTIZE", i, before=True) if self.b.tensors[i].quant else i for i in inputs]
        for op in self.graph.ops:
            self.op(op)
        outputs = [self.map[i] for i in self.graph.outputs]
        if float_io:
            outputs = [self.edge("DEQUANTIZE", i, before=False) if self.b.tensors[i].quant else i for i in outputs]
        return QuantizedGraph(self.b.build(inputs, outputs), dict(self.map), self.params)

    def activation(self, index: int) -> int:
        if index not in self.map:
            t = self.graph.tensor(index)
            if t.dtype in UNQUANTIZED:  # indices and the like stay as they are
                self.map[index] = self.b.tensor(t.shape, t.dtype, name=t.name)
            else:
                scale, zero_point = self.params[index]
                self.map[index] = self.b.tensor(t.shape, "int8", scale=scale, zero_point=zero_point, name=t.name)
        return self.map[index]

    def edge(self, kind: str, index: int, before: bool) -> int:
        """A float32 tensor at the model's edge and the op converting it to or from `index`."""
        t = self.b.tensors[index]
        outer = self.b.tensor(t.shape, "float32", name=f"{t.name}_float")
        self.b.op(kind, [outer] if before else [index], [index] if before else [outer])
        return outer

    def op(self, op: Op) -> None:
        record = _record(op.kind)
        if record.quantization.operands is not None:
            inputs = record.quantization.operands(self, op)
            self.b.op(op.kind, inputs, [self.activation(o) for o in op.outputs], **op.options)
            return
        inputs = []
        for slot, i in enumerate(op.inputs):
            t = self.graph.tensor(i) if i >= 0 else None
            if t is None:
                inputs.append(-1)
            elif not t.is_constant:
                inputs.append(self.activation(i))
            elif record.role(slot) == WEIGHTS:
                inputs.append(self.weights(op))
            elif record.role(slot) == BIAS:
                inputs.append(self.bias(op))
            elif t.dtype != "float32":
                inputs.append(self.b.const(t.data, t.dtype, name=t.name))  # shapes, axes, paddings
            else:
                inputs.append(self.float_constant(op, slot))
        bias_slot = record.slot_of(BIAS)
        if record.quantization.bias_required and (len(inputs) <= bias_slot or inputs[bias_slot] < 0):
            inputs = [*inputs[:bias_slot], *[-1] * (bias_slot - len(inputs)), self.bias(op)]  # zero: no change
        kind, options = op.kind, op.options
        if record.quantization.rewrite is not None:  # an op tflite-micro runs in int8 only as another
            kind, float_inputs, options = record.quantization.rewrite(op)
            inputs = [inputs[op.inputs.index(i)] for i in float_inputs]
        self.b.op(kind, inputs, [self.activation(o) for o in op.outputs], **options)

    def weight_scales(self, op: Op) -> np.ndarray:
        """float32 scales per output channel (one when per tensor): max |w| / 127, raised where a
        bias would not fit int32 at input_scale * weight_scale."""
        w = real_values(self.graph.tensor(self.slot(op, WEIGHTS)))
        axis = _record(op.kind).quantization.weight_axis
        others = tuple(a for a in range(w.ndim) if a != axis)
        scales = np.abs(w).max(axis=others) / 127 if self.per_channel else np.array([np.abs(w).max() / 127])
        bias = self.float_bias(op)
        if bias is not None:
            need = np.abs(bias.astype(np.float64)) / (self.input_scale(op) * INT32_MAX)
            scales = np.maximum(scales, need if self.per_channel else need.max(initial=0))
        fallback = scales.max() if scales.max() > 0 else 1.0  # an all-zero channel: any scale works
        return np.where(scales > 0, scales, fallback).astype(np.float32)

    def weights(self, op: Op) -> int:
        t = self.graph.tensor(self.slot(op, WEIGHTS))
        axis = _record(op.kind).quantization.weight_axis
        scales = self.weight_scales(op)
        shape = [1] * t.data.ndim
        shape[axis] = -1
        q = np.clip(np.round(real_values(t) / scales.astype(np.float64).reshape(shape)), -127, 127)
        scale = scales.tolist() if self.per_channel else float(scales[0])
        return self.b.const(q.astype(np.int8), "int8", scale=scale, zero_point=0, axis=axis, name=t.name)

    def bias(self, op: Op) -> int:
        channels = self.graph.tensor(op.outputs[0]).shape[-1]
        bias = self.float_bias(op)
        bias = np.zeros(channels) if bias is None else bias.astype(np.float64)
        scales = np.broadcast_to(
            np.float64(self.input_scale(op)) * self.weight_scales(op).astype(np.float64), (channels,)
        )
        q = np.clip(np.round(bias / scales), -INT32_MAX - 1, INT32_MAX).astype(np.int32)
        i = self.slot(op, BIAS)
        name = self.graph.tensor(i).name if i >= 0 else f"{self.graph.tensor(op.outputs[0]).name}_bias"
        bias_scales = scales.tolist() if self.per_channel else float(scales[0])
        return self.b.const(q, "int32", scale=bias_scales, zero_point=0, name=name)

    def slot(self, op: Op, role: str) -> int:
        """The tensor in the op's input slot with this role (the first such slot), or -1."""
        slot = _record(op.kind).slot_of(role)
        return op.inputs[slot] if slot is not None and slot < len(op.inputs) else -1

    def float_bias(self, op: Op) -> np.ndarray | None:
        i = self.slot(op, BIAS)
        return real_values(self.graph.tensor(i)) if i >= 0 else None

    def input_scale(self, op: Op) -> float:
        return float(np.float32(self.params[self.slot(op, ACTIVATION)][0]))

    def float_constant(self, op: Op, slot: int) -> int:
        """A float constant operand (an ADD bias, a PADV2 fill, a CONCATENATION part), quantized per tensor:
        with the output's parameters where the op shares them, else over its own range."""
        t = self.graph.tensor(op.inputs[slot])
        if _record(op.kind).quantization.shared != "none":
            scale, zero_point = self.params[op.outputs[0]]
        else:
            scale, zero_point = quant_params(min(float(t.data.min()), 0.0), max(float(t.data.max()), 0.0))
        q = np.clip(np.round(real_values(t) / np.float32(scale)) + zero_point, -128, 127)
        return self.b.const(q.astype(np.int8), "int8", scale=scale, zero_point=zero_point, name=t.name)
