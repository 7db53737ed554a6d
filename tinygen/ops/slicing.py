"""SLICE and STRIDED_SLICE: one strided block of the input (a view when it is one contiguous range)."""

from __future__ import annotations

import numpy as np

from ..ir import Op
from .checks import require
from .movement import Movement, Plan, gather_block, int_vector, movement_op, row_major_strides, single_plan
from .record import Options

SLICE_MAX_RANK = 5  # tflite-micro's kMaxDim for SLICE
STRIDED_SLICE_MAX_RANK = 4  # and for STRIDED_SLICE ("input dim should not exceed 4")


def slice_plan(op: Op, shapes, params) -> Plan:
    (shape,), (begin, size) = shapes, params
    rank = len(shape)
    require(1 <= rank <= SLICE_MAX_RANK, op, f"slices ranks 1 to {SLICE_MAX_RANK}, not {rank}")
    require(begin.dtype == size.dtype, op, "begin and size must have the same type")
    begin, size = int_vector(op, begin, rank, "begin"), int_vector(op, size, rank, "size")
    extents = []
    for axis, (b, n, d) in enumerate(zip(begin, size, shape)):
        n = d - b if n == -1 else n
        # tflite-micro reads whatever lies there otherwise.
        require(b >= 0 and n >= 0 and b + n <= d, op, f"begin {b} and size {n} leave axis {axis} of size {d}")
        extents.append(n)
    strides = row_major_strides(shape)
    return single_plan(gather_block(extents, strides, sum(b * s for b, s in zip(begin, strides))), extents)


def _bit(mask: int, axis: int) -> bool:
    return bool(mask >> axis & 1)


def _clamp(value: int, stride: int, size: int) -> int:
    return min(max(value, 0), size) if stride > 0 else min(max(value, -1), size - 1)


def strided_slice_plan(op: Op, shapes, params) -> Plan:
    (shape,), (begin, end, strides) = shapes, params
    rank = len(shape)
    require(1 <= rank <= STRIDED_SLICE_MAX_RANK, op, f"slices ranks 1 to {STRIDED_SLICE_MAX_RANK}, not {rank}")
    for name, values in (("begin", begin), ("end", end), ("strides", strides)):
        require(values.dtype == np.int32, op, f"{name} must be int32")
    begin, end = int_vector(op, begin, rank, "begin"), int_vector(op, end, rank, "end")
    strides = int_vector(op, strides, rank, "strides")
    options = op.options
    for mask in ("ellipsis_mask", "new_axis_mask"):
        require(not options.get(mask, 0), op, f"{mask} is not supported (tflite-micro ignores it)")
    require(not options.get("offset", False), op, "offset is not supported (tflite-micro ignores it)")
    shrink = options.get("shrink_axis_mask", 0)
    in_strides = row_major_strides(shape)
    extents, steps, kept, first = [], [], [], 0
    for axis, (size, stride) in enumerate(zip(shape, strides)):
        require(stride != 0, op, f"stride of axis {axis} is 0")
        # tflite-micro's Eval: start and stop wrapped, clamped, then overridden by the masks.
        start = _clamp(begin[axis] + size if begin[axis] < 0 else begin[axis], stride, size)
        if _bit(options.get("begin_mask", 0), axis):
            start = 0 if stride > 0 else size - 1
        if _bit(shrink, axis):
            # tflite-micro writes nothing for these (and reads the output shape as given).
            require(stride > 0, op, f"shrinks axis {axis} with a negative stride")
            require(start < size, op, f"shrinks axis {axis} at {begin[axis]}, outside its size {size}")
            count = 1
        else:
            stop = _clamp(end[axis] + size if end[axis] < 0 else end[axis], stride, size)
            if _bit(options.get("end_mask", 0), axis):
                stop = size if stride > 0 else -1
            count = max(0, -(-(stop - start) // stride))  # ceil((stop - start) / stride)
            kept.append(count)
        extents.append(count)
        steps.append(stride * in_strides[axis])
        first += start * in_strides[axis]
    return single_plan(gather_block(extents, steps, first), kept)


SLICE = Movement(
    slice_plan,
    ("float32", "int8", "int16", "int32", "bool"),
    params=((1, "begin"), (2, "size")),
)
STRIDED_SLICE = Movement(
    strided_slice_plan,
    ("float32", "int8", "int16", "int32", "bool"),
    params=((1, "begin"), (2, "end"), (3, "strides")),
    input_rank=lambda op, params, rank: len(params[0]),
)

OPS = (
    movement_op(
        "SLICE",
        SLICE,
        "int8, int16, int32, float32, bool, rank 1 to 5; a view when contiguous",
        options=Options("SliceOptions"),
    ),
    movement_op(
        "STRIDED_SLICE",
        STRIDED_SLICE,
        "int8, int16, int32, float32, bool, rank 1 to 4, begin/end/shrink masks; a view when contiguous",
        options=Options(
            "StridedSliceOptions",
            ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask", "offset"),
        ),
    ),
)
