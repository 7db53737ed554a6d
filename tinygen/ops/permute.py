"""TRANSPOSE and REVERSE_V2: one strided block over the whole input (a view when only size-1 axes move)."""

from __future__ import annotations

import numpy as np

from ..ir import Op
from .checks import require
from .movement import (
    Movement,
    Plan,
    gather_block,
    int_vector,
    movement_op,
    normalized_axis,
    row_major_strides,
    single_plan,
)
from .record import Options

TRANSPOSE_MAX_RANK = 5  # tflite-micro's Prepare
REVERSE_MAX_RANK = 6  # RuntimeShape's small size, checked by tflite-micro's Prepare


def transpose_plan(op: Op, shapes, params) -> Plan:
    (shape,), (perm,) = shapes, params
    rank = len(shape)
    require(1 <= rank <= TRANSPOSE_MAX_RANK, op, f"transposes ranks 1 to {TRANSPOSE_MAX_RANK}, not {rank}")
    require(perm.dtype == np.int32, op, "perm must be int32")
    perm = int_vector(op, perm, rank, "perm")
    require(sorted(perm) == list(range(rank)), op, f"perm {perm} is not a permutation of 0..{rank - 1}")
    strides = row_major_strides(shape)
    return single_plan(gather_block([shape[p] for p in perm], [strides[p] for p in perm]), [shape[p] for p in perm])


def reverse_plan(op: Op, shapes, params) -> Plan:
    (shape,), (axes,) = shapes, params
    rank = len(shape)
    require(1 <= rank <= REVERSE_MAX_RANK, op, f"reverses ranks 1 to {REVERSE_MAX_RANK}, not {rank}")
    require(axes.dtype == np.int32 and axes.ndim == 1, op, "axis must be a 1-D int32 tensor")
    require(1 <= axes.size <= rank, op, f"axis must name 1 to {rank} axes, not {axes.size}")
    axes = sorted(normalized_axis(op, int(a), rank) for a in axes)
    require(
        axes == list(range(axes[0], axes[0] + len(axes))),
        op,
        f"axes {axes} are not contiguous and distinct; tflite-micro reverses only such axes",
    )
    strides = list(row_major_strides(shape))
    offset = 0
    for a in axes:
        offset += (shape[a] - 1) * strides[a]
        strides[a] = -strides[a]
    return single_plan(gather_block(shape, strides, offset), shape)


TRANSPOSE = Movement(transpose_plan, ("float32", "int8", "int16"), params=((1, "perm"),))
REVERSE = Movement(reverse_plan, ("int8", "uint8", "int16", "int32", "int64", "float32", "bool"), params=((1, "axis"),))

OPS = (
    movement_op(
        "TRANSPOSE",
        TRANSPOSE,
        "int8, int16, float32, rank 1 to 5; a view when only size-1 axes move",
        options=Options("TransposeOptions"),
    ),
    movement_op(
        "REVERSE_V2",
        REVERSE,
        "any dtype, rank 1 to 6, contiguous axes (as tflite-micro)",
        options=Options("ReverseV2Options"),
    ),
)
