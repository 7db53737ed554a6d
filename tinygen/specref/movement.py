"""Ops that move values without computing: each output element is a copy of one input element.

tflite-micro never rescales here (no Prepare compares quantization, except CONCATENATION's), so the
raw stored values are copied whatever the tensors' scales.
"""

from __future__ import annotations

import numpy as np

from .registry import Node, kernel


@kernel("RESHAPE", "SQUEEZE")
def copy(node: Node):
    return lambda values: [values[0]]


@kernel("EXPAND_DIMS")
def expand_dims(node: Node):
    node.require_types(("float32", "int8", "int16"))
    return lambda values: [values[0]]


@kernel("SHAPE")
def shape(node: Node):
    node.require_types(("int32",), node.output)
    dims = np.array(node.inputs[0].shape, np.int32)
    return lambda values: [dims]


@kernel("TRANSPOSE")
def transpose(node: Node):
    x, perm = node.inputs[0], [int(p) for p in node.constant(1).reshape(-1)]
    if sorted(perm) != list(range(len(x.shape))) or node.output.shape != tuple(x.shape[p] for p in perm):
        node.refuse(f"perm {perm} does not permute {x.shape} into {node.output.shape}")
    return lambda values: [np.transpose(values[0], perm)]


@kernel("REVERSE_V2")
def reverse(node: Node):
    rank = len(node.inputs[0].shape)

    def run(values):
        axes = sorted(int(a) + rank if a < 0 else int(a) for a in np.asarray(values[1]).reshape(-1))
        if not axes or axes != list(range(axes[0], axes[0] + len(axes))):
            node.fail(f"axes {axes} are not contiguous")
        return [np.flip(values[0], axes)]

    return run


def _indices(node: Node, values, rank: int) -> list[int]:
    indices = [int(v) for v in np.asarray(values).reshape(-1)]
    if len(indices) != rank:
        node.refuse(f"{indices} does not hold one entry per input dimension ({rank})")
    return indices


@kernel("SLICE")
def slice_(node: Node):
    shape = node.inputs[0].shape

    def run(values):
        begin, size = _indices(node, values[1], len(shape)), _indices(node, values[2], len(shape))
        stops = [dim if s == -1 else b + s for b, s, dim in zip(begin, size, shape)]
        if any(b < 0 or stop > dim or stop < b for b, stop, dim in zip(begin, stops, shape)):
            node.refuse(f"begin {begin} and size {size} leave the input {shape}")
        return [values[0][tuple(slice(b, stop) for b, stop in zip(begin, stops))]]

    return run


@kernel("STRIDED_SLICE")
def strided_slice(node: Node):
    """tflite-micro's walk: a negative begin or end wraps once, then each is clamped to the axis; masks
    take the whole axis; a shrunk axis takes [begin, begin + 1). The ellipsis and new-axis masks and
    `offset` are ignored, as tflite-micro ignores them."""
    shape = node.inputs[0].shape
    begin_mask, end_mask, shrink = (node.option(m, 0) for m in ("begin_mask", "end_mask", "shrink_axis_mask"))

    def axis_range(axis: int, begin: int, end: int, stride: int) -> np.ndarray:
        size, lowest, highest = shape[axis], -(2**31), 2**31 - 1
        low, high = (0, size) if stride > 0 else (-1, size - 1)
        if begin_mask >> axis & 1:  # the whole axis: the extreme ints, clamped below
            begin = lowest if stride > 0 else highest
        begin = min(max(begin + size if begin < 0 else begin, low), high)
        if shrink >> axis & 1:
            end = begin + 1
        else:
            if end_mask >> axis & 1:
                end = highest if stride > 0 else lowest
            end = min(max(end + size if end < 0 else end, low), high)
        return np.arange(begin, end, stride)

    def run(values):
        begins, ends, strides = (_indices(node, values[i], len(shape)) for i in (1, 2, 3))
        if 0 in strides:
            node.fail("a stride is 0")
        ranges = [axis_range(a, b, e, s) for a, (b, e, s) in enumerate(zip(begins, ends, strides))]
        return [values[0][np.ix_(*ranges)]]

    return run


@kernel("GATHER")
def gather(node: Node):
    x, indices = node.inputs[0], node.inputs[1]
    node.require_types(("float32", "int8"), x)
    node.require_types(("int32",), indices)
    rank = len(x.shape)
    axis = node.option("axis", 0) % rank if rank else 0
    batch_dims = node.option("batch_dims", 0)
    batch_dims += len(indices.shape) if batch_dims < 0 else 0
    if not 0 <= batch_dims <= axis or x.shape[:batch_dims] != indices.shape[:batch_dims]:
        node.refuse(f"batch_dims {batch_dims} does not fit axis {axis} and the shapes")
    batch = int(np.prod(x.shape[:batch_dims], dtype=np.int64))
    outer = int(np.prod(x.shape[batch_dims:axis], dtype=np.int64))
    inner = int(np.prod(x.shape[axis + 1 :], dtype=np.int64))

    def run(values):
        coords = np.asarray(values[1], np.int64).reshape(batch, -1)
        if coords.size and (coords.min() < 0 or coords.max() >= x.shape[axis]):
            node.fail(f"an index is outside [0, {x.shape[axis]})")
        table = values[0].reshape(batch, outer, x.shape[axis], inner)
        picked = table[np.arange(batch)[:, None, None], np.arange(outer)[None, :, None], coords[:, None, :]]
        return [picked]

    return run


@kernel("CONCATENATION")
def concatenation(node: Node):
    if node.activation() != "NONE":
        node.refuse("a fused activation is not covered")
    y = node.output
    axis = node.option("axis", 0)
    axis += len(y.shape) if axis < 0 else 0
    if y.dtype in ("int8", "int16"):
        for x in node.inputs:
            if node.quantized(x) != node.quantized(y):
                node.fail("tflite-micro requires every input's scale and zero point to equal the output's")
    return lambda values: [np.concatenate(values, axis=axis)]


@kernel("PACK")
def pack(node: Node):
    axis = node.option("axis", 0)
    axis += len(node.output.shape) if axis < 0 else 0
    count = node.option("values_count", len(node.inputs))
    return lambda values: [np.stack(values[:count], axis=axis)]


@kernel("UNPACK")
def unpack(node: Node):
    x = node.inputs[0]
    axis = node.option("axis", 0)
    axis += len(x.shape) if axis < 0 else 0
    count = len(node.outputs)
    return lambda values: [np.take(values[0], i, axis=axis) for i in range(count)]


def _split(node: Node, data_slot: int, axis: int):
    """Each output takes its own extent along the axis, in turn (tflite-micro reads the extents from
    the output shapes)."""
    rank = len(node.inputs[data_slot].shape)
    axis += rank if axis < 0 else 0
    extents = [t.shape[axis] for t in node.outputs]
    if sum(extents) != node.inputs[data_slot].shape[axis]:
        node.refuse(f"the outputs' extents {extents} do not add up to the input's along axis {axis}")
    bounds = np.cumsum(extents)[:-1]
    return lambda values: np.split(values[data_slot], bounds, axis=axis)


@kernel("SPLIT")
def split(node: Node):
    return _split(node, 1, int(node.constant(0).reshape(-1)[0]))


@kernel("SPLIT_V")
def split_v(node: Node):
    return _split(node, 0, int(node.constant(2).reshape(-1)[0]))
