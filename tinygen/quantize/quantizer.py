"""The graph rewrite: a float Graph and activation ranges -> a full-integer int8 Graph.

Follows the TFLite int8 spec (and TFLM's Prepare checks, docs/numerics-tflm.md section 4):
- weights symmetric int8 in [-127, 127], per output channel (axis 0 for conv and fully
  connected, axis 3 for depthwise) or per tensor;
- activations asymmetric int8 per tensor, with zero exactly representable;
- bias int32 at scale input_scale * weight_scale, zero point 0;
- softmax and logistic outputs at 1/256 and -128, tanh at 1/128 and 0;
- ops that move bytes without rescaling (reshape, pooling, pad, relu6, concatenation)
  share one quantization between their inputs and output.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..builder import GraphBuilder
from ..errors import TinygenError
from ..ir import Graph, Op
from .float_exec import OPS
from .ranges import quant_params

WEIGHT_AXIS = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}
SHARED_QUANT = {"RESHAPE", "AVERAGE_POOL_2D", "MAX_POOL_2D", "PAD", "PADV2", "RELU6", "CONCATENATION"}
FIXED_OUTPUT = {"SOFTMAX": (1 / 256, -128), "LOGISTIC": (1 / 256, -128), "TANH": (1 / 128, 0)}
INT32_MAX = 2**31 - 1


@dataclass
class QuantizedGraph:
    graph: Graph
    tensor_map: dict[int, int]  # float graph activation index -> int8 graph index
    params: dict[int, tuple[float, int]]  # float graph activation index -> (scale, zero point)


def is_float_graph(graph: Graph) -> bool:
    """True when some op other than QUANTIZE/DEQUANTIZE computes in float32."""
    return any(graph.tensor(i).dtype == "float32" for op in graph.ops if op.kind not in ("QUANTIZE", "DEQUANTIZE")
               for i in (*op.inputs, *op.outputs) if i >= 0)


def check_float_graph(graph: Graph) -> None:
    for op in graph.ops:
        if op.kind not in OPS or op.kind in ("QUANTIZE", "DEQUANTIZE"):
            supported = sorted(set(OPS) - {"QUANTIZE", "DEQUANTIZE"})
            raise TinygenError(f"op {op.index} ({op.kind}) cannot be quantized; supported ops: {', '.join(supported)}")
    for t in graph.tensors:
        if t.data is None and t.dtype != "float32":
            raise TinygenError(f"tensor {t.name} is {t.dtype}; tinygen quantizes float32 models")
    if len(graph.inputs) != 1:
        raise TinygenError(f"the model has {len(graph.inputs)} inputs; tinygen quantizes single-input models")


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
        out = op.outputs[0]
        if op.kind in SHARED_QUANT:
            moved = op.inputs if op.kind == "CONCATENATION" else op.inputs[:1]
            for i in moved:
                if i in parent:
                    parent[root(i)] = root(out)
        if op.kind in FIXED_OUTPUT:
            fixed[out] = FIXED_OUTPUT[op.kind]

    group_fixed: dict[int, tuple[float, int]] = {}
    for i, params in fixed.items():
        if group_fixed.setdefault(root(i), params) != params:
            raise TinygenError(f"tensor {graph.tensor(i).name} must hold two fixed quantizations at once")
    group_range: dict[int, tuple[float, float]] = {}
    for i, (low, high) in ranges.items():
        g_low, g_high = group_range.get(root(i), (0.0, 0.0))
        group_range[root(i)] = (min(g_low, low), max(g_high, high))
    return {i: group_fixed.get(root(i)) or quant_params(*group_range[root(i)]) for i in ranges}


def quantize_graph(graph: Graph, ranges: dict[int, tuple[float, float]], per_channel: bool = True,
                   float_io: bool = False) -> QuantizedGraph:
    """ranges: (low, high) for every activation tensor of the float graph (inputs included)."""
    check_float_graph(graph)
    params = activation_params(graph, ranges)
    return _Rewrite(graph, params, per_channel).run(float_io)


class _Rewrite:
    def __init__(self, graph: Graph, params: dict[int, tuple[float, int]], per_channel: bool) -> None:
        self.graph, self.params, self.per_channel = graph, params, per_channel
        self.b = GraphBuilder(graph.description or "tinygen int8")
        self.map: dict[int, int] = {}

    def run(self, float_io: bool) -> QuantizedGraph:
        inputs = [self.activation(i) for i in self.graph.inputs]
        if float_io:
            inputs = [self.edge("QUANTIZE", i, before=True) for i in inputs]
        for op in self.graph.ops:
            self.op(op)
        outputs = [self.map[i] for i in self.graph.outputs]
        if float_io:
            outputs = [self.edge("DEQUANTIZE", i, before=False) for i in outputs]
        return QuantizedGraph(self.b.build(inputs, outputs), dict(self.map), self.params)

    def activation(self, index: int) -> int:
        if index not in self.map:
            t = self.graph.tensor(index)
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
        inputs = []
        for slot, i in enumerate(op.inputs):
            t = self.graph.tensor(i) if i >= 0 else None
            if t is None:
                inputs.append(-1)
            elif not t.is_constant:
                inputs.append(self.activation(i))
            elif op.kind in WEIGHT_AXIS and slot == 1:
                inputs.append(self.weights(op))
            elif op.kind in WEIGHT_AXIS and slot == 2:
                inputs.append(self.bias(op))
            elif t.dtype != "float32":
                inputs.append(self.b.const(t.data, t.dtype, name=t.name))  # shapes, axes, paddings
            else:
                inputs.append(self.float_constant(op, slot))
        if op.kind == "DEPTHWISE_CONV_2D" and (len(inputs) < 3 or inputs[2] < 0):
            inputs = [*inputs[:2], self.bias(op)]  # tflite-micro needs the bias; a zero one changes nothing
        self.b.op(op.kind, inputs, [self.activation(o) for o in op.outputs], **op.options)

    def weight_scales(self, op: Op) -> np.ndarray:
        """float32 scales per output channel (one when per tensor): max |w| / 127, raised where a
        bias would not fit int32 at input_scale * weight_scale."""
        w = self.graph.tensor(op.inputs[1]).data.astype(np.float64)
        axis = WEIGHT_AXIS[op.kind]
        others = tuple(a for a in range(w.ndim) if a != axis)
        scales = np.abs(w).max(axis=others) / 127 if self.per_channel else np.array([np.abs(w).max() / 127])
        bias = self.float_bias(op)
        if bias is not None:
            need = np.abs(bias.astype(np.float64)) / (self.input_scale(op) * INT32_MAX)
            scales = np.maximum(scales, need if self.per_channel else need.max(initial=0))
        fallback = scales.max() if scales.max() > 0 else 1.0  # an all-zero channel: any scale works
        return np.where(scales > 0, scales, fallback).astype(np.float32)

    def weights(self, op: Op) -> int:
        t = self.graph.tensor(op.inputs[1])
        axis = WEIGHT_AXIS[op.kind]
        scales = self.weight_scales(op)
        shape = [1] * t.data.ndim
        shape[axis] = -1
        q = np.clip(np.round(t.data.astype(np.float64) / scales.astype(np.float64).reshape(shape)), -127, 127)
        scale = scales.tolist() if self.per_channel else float(scales[0])
        return self.b.const(q.astype(np.int8), "int8", scale=scale, zero_point=0, axis=axis, name=t.name)

    def bias(self, op: Op) -> int:
        channels = self.graph.tensor(op.outputs[0]).shape[-1]
        bias = self.float_bias(op)
        bias = np.zeros(channels) if bias is None else bias.astype(np.float64)
        scales = np.broadcast_to(np.float64(self.input_scale(op)) * self.weight_scales(op).astype(np.float64),
                                 (channels,))
        q = np.clip(np.round(bias / scales), -INT32_MAX - 1, INT32_MAX).astype(np.int32)
        name = self.graph.tensor(op.inputs[2]).name if len(op.inputs) > 2 and op.inputs[2] >= 0 else \
            f"{self.graph.tensor(op.outputs[0]).name}_bias"
        bias_scales = scales.tolist() if self.per_channel else float(scales[0])
        return self.b.const(q, "int32", scale=bias_scales, zero_point=0, name=name)

    def float_bias(self, op: Op) -> np.ndarray | None:
        i = op.inputs[2] if len(op.inputs) > 2 else -1
        return self.graph.tensor(i).data if i >= 0 else None

    def input_scale(self, op: Op) -> float:
        return float(np.float32(self.params[op.inputs[0]][0]))

    def float_constant(self, op: Op, slot: int) -> int:
        """A float constant operand (an ADD bias, a PADV2 fill, a CONCATENATION part), quantized per tensor:
        with the output's parameters where the op shares them, else over its own range."""
        t = self.graph.tensor(op.inputs[slot])
        if op.kind in SHARED_QUANT:
            scale, zero_point = self.params[op.outputs[0]]
        else:
            scale, zero_point = quant_params(min(float(t.data.min()), 0.0), max(float(t.data.max()), 0.0))
        q = np.clip(np.round(t.data.astype(np.float64) / np.float32(scale)) + zero_point, -128, 127)
        return self.b.const(q.astype(np.int8), "int8", scale=scale, zero_point=zero_point, name=t.name)
