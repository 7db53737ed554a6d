"""Validation: every fact later passes rely on, checked once, between the reader and lowering.

A model file comes from anyone. The reader refuses what the IR cannot hold; this pass refuses
what no pass after it should have to doubt: the model's inputs and outputs, each tensor's size and
quantization, each op's support, arity and window options, and the data flow (every tensor
written once, before it is read). Each refusal is one line naming the tensor or op. What only one
op's kernel needs is checked in that op's lowering.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import TinygenError
from ..ir import NUMPY_DTYPES, Graph, Op, Tensor
from ..ops import SUPPORTED_OPS, op_def

MAX_IO_RANK = 6  # TG_MAX_DIMS in firmware/tg_model_api.h
# Sizes and offsets are int32 in the C runtime: no tensor, and no buffer, may reach 2 GiB.
MAX_BYTES = 2**31 - 1
# Option fields of the windowed ops (convolution, pooling). No model has a window, stride, dilation
# or depth multiplier near 2^16; larger values only serve to overflow the kernels' int32 index
# arithmetic. The exact products are bounded in lowering (tinygen/ops/geometry.py, transpose_conv.py).
WINDOW_FIELDS = (
    "stride_h",
    "stride_w",
    "dilation_h_factor",
    "dilation_w_factor",
    "filter_height",
    "filter_width",
    "depth_multiplier",
)
MAX_WINDOW_FIELD = 2**16
# Zero points are read as the tensor's own type (the offsets the kernels add must fit it).
INTEGER_TYPES = ("int8", "uint8", "int16", "int32")


def validate(graph: Graph) -> Graph:
    """The model checked; returned unchanged."""
    _check_io(graph)
    for t in graph.tensors:
        _check_size(t)
        if t.quant is not None:
            _check_quantization(t)
    for op in graph.ops:
        check_op(op)
    _check_variables(graph)
    _check_data_flow(graph)
    return graph


def _check_io(graph: Graph) -> None:
    if not graph.inputs or not graph.outputs:
        missing = "inputs" if not graph.inputs else "outputs"
        raise TinygenError(f"the model has no {missing}; tinygen compiles models that map inputs to outputs")
    if all(i in graph.inputs or graph.tensor(i).is_constant for i in graph.outputs):
        raise TinygenError("the model computes nothing: each of its outputs is a model input or a constant")
    for i in (*graph.inputs, *graph.outputs):
        t = graph.tensor(i)
        if len(t.shape) > MAX_IO_RANK:
            raise TinygenError(
                f"model input/output {t.name} has rank {len(t.shape)}; at most {MAX_IO_RANK} is supported"
            )
    for i in graph.inputs:
        t = graph.tensor(i)
        if t.is_constant:
            raise TinygenError(f"model input {t.name} is a constant")
        if len(t.shape) >= 2 and t.shape[0] != 1:
            raise TinygenError(f"tensor {t.name} has batch size {t.shape[0]}; tinygen compiles batch 1")


def _check_size(t: Tensor) -> None:
    # Python integers: the product is exact, however large the dimensions.
    size = math.prod(t.shape) * np.dtype(NUMPY_DTYPES[t.dtype]).itemsize
    if size > MAX_BYTES:
        raise TinygenError(
            f"tensor {t.index} ({t.name}) of shape {list(t.shape)} needs {size:,} bytes; the limit is 2 GiB"
        )


def _check_quantization(t: Tensor) -> None:
    q, where = t.quant, f"tensor {t.index} ({t.name})"
    bad = [s for s in q.scale if not (math.isfinite(s) and s > 0)]
    if bad:
        raise TinygenError(f"{where} has scale {bad[0]}; a scale must be a positive finite number")
    if len(q.zero_point) != len(q.scale):
        raise TinygenError(f"{where} has {len(q.scale)} scales but {len(q.zero_point)} zero points")
    if t.dtype in INTEGER_TYPES:
        info = np.iinfo(NUMPY_DTYPES[t.dtype])
        outside = [z for z in q.zero_point if not info.min <= z <= info.max]
        if outside:
            raise TinygenError(f"{where} has zero point {outside[0]}, outside the {t.dtype} range")
    # Per-channel parameters run along an axis of the tensor, one per channel. tflite-micro never reads
    # an int32/int64 bias's own quantization (its scale is input x weight scale), and converters copy
    # the weights' axis onto it (person_detect.tflite): the axis is not checked there.
    if q.per_channel and t.dtype not in ("int32", "int64"):
        if not 0 <= q.axis < len(t.shape):
            raise TinygenError(f"{where} is quantized per channel along axis {q.axis}, outside its rank {len(t.shape)}")
        if t.shape[q.axis] != len(q.scale):
            raise TinygenError(
                f"{where} has {len(q.scale)} per-channel scales for the {t.shape[q.axis]} channels of axis {q.axis}"
            )


def check_op(op: Op) -> None:
    """The op is supported, with the inputs and outputs its record allows and sane window options."""
    record = op_def(op.kind)
    if record is None:
        raise TinygenError(f"op {op.index} ({op.kind}) is not supported; supported ops: {', '.join(SUPPORTED_OPS)}")
    where = f"op {op.index} ({op.kind})"
    slots = len(record.slots)
    required = max((s + 1 for s in range(slots) if s not in record.optional_inputs), default=0)
    most = math.inf if record.variadic else slots
    if not required <= len(op.inputs) <= most:
        takes = f"{required}" + ("" if most == required else " or more" if record.variadic else f" to {most}")
        raise TinygenError(f"{where} has {len(op.inputs)} input(s); it takes {takes}")
    # Inputs past the slots repeat the last one's role (variadic ops).
    absent = [i for i, t in enumerate(op.inputs) if t < 0 and min(i, slots - 1) not in record.optional_inputs]
    if absent:
        raise TinygenError(f"{where} has no input {absent[0]} ({record.role(absent[0])}), which it needs")
    if (record.outputs is None and not op.outputs) or record.outputs not in (None, len(op.outputs)):
        gives = "at least 1" if record.outputs is None else str(record.outputs)
        raise TinygenError(f"{where} has {len(op.outputs)} output(s); it gives {gives}")
    for field in WINDOW_FIELDS:
        value = op.options.get(field)
        if value is not None and not 1 <= value <= MAX_WINDOW_FIELD:
            raise TinygenError(f"{where} has {field} {value}; it must be between 1 and {MAX_WINDOW_FIELD:,}")


def _check_variables(graph: Graph) -> None:
    """Variable tensors are state an op updates in place: tinygen keeps them only as op inputs."""
    for i in (*graph.inputs, *graph.outputs):
        if graph.tensor(i).is_variable:
            name = graph.tensor(i).name
            raise TinygenError(f"model input/output {name} is a variable tensor; tinygen does not support that")
    for op in graph.ops:
        for i in op.outputs:
            if graph.tensor(i).is_variable:
                raise TinygenError(
                    f"op {op.index} ({op.kind}) writes variable tensor {graph.tensor(i).name} as an output; "
                    "tinygen supports variables only as inputs that an op updates in place"
                )


def _check_data_flow(graph: Graph) -> None:
    """Each tensor written by one op, never a constant or a model input, and read after it is written:
    the ops are in execution order, as tflite-micro runs them."""
    # Constants exist from the start, and so do variables: they hold the state the last invoke left.
    available = set(graph.inputs) | {t.index for t in graph.tensors if t.is_constant or t.is_variable}
    for op in graph.ops:
        for i in op.inputs:
            if i >= 0 and i not in available:
                raise TinygenError(
                    f"op {op.index} ({op.kind}) reads tensor {graph.tensor(i).name} before it is "
                    "computed; the ops are not in execution order"
                )
        for i in op.outputs:
            t = graph.tensor(i)
            if i in available or op.outputs.count(i) > 1:
                what = "a constant" if t.is_constant else "a model input" if i in graph.inputs else "written twice"
                raise TinygenError(f"op {op.index} ({op.kind}) writes tensor {t.name}, which is {what}")
            available.add(i)
    for i in graph.outputs:
        if i not in available:
            raise TinygenError(f"output tensor {graph.tensor(i).name} is never computed")
