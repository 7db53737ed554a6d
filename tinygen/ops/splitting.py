"""SPLIT, SPLIT_V, UNPACK (one input into several outputs) and PACK (several inputs into one).

Seen as [outer, axis, inner], an input splits into outputs that each take a run of the axis for
every outer index. Along the outermost axis that is not 1 (outer = 1) each output is a contiguous
range of the input: a view, no copy. Otherwise one strided copy fills all outputs, which then live
one after the other. PACK interleaves its inputs along a new axis: one block per input.
"""

from __future__ import annotations

import numpy as np

from ..ir import Op
from .checks import require
from .movement import Block, Movement, Plan, gather_block, movement_op, normalized_axis
from .record import Options, Quantization

SPLIT_DTYPES = ("float32", "int8", "int16", "int32")  # SPLIT, SPLIT_V and UNPACK in tflite-micro's Eval
PACK_DTYPES = ("float32", "int8", "int16", "int32", "int64")


def split_along(op: Op, shape: tuple[int, ...], axis: int, sizes: list[int], keep_axis: bool = True) -> Plan:
    """Outputs taking consecutive runs of `sizes` along the axis (UNPACK: runs of 1, the axis dropped)."""
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    inner = int(np.prod(shape[axis + 1 :], dtype=np.int64))
    blocks, shapes, start, region = [], [], 0, 0
    for size in sizes:
        require(size > 0, op, f"an output would have size {size} along axis {axis}")
        blocks.append(gather_block((outer, size * inner), (shape[axis] * inner, 1), start * inner, region))
        shapes.append((*shape[:axis], *((size,) if keep_axis else ()), *shape[axis + 1 :]))
        start += size
        region += outer * size * inner
    require(start == shape[axis], op, f"the outputs take {start} of the {shape[axis]} along axis {axis}")
    return Plan(tuple(blocks), tuple(shapes))


def _axis_value(op: Op, axis: np.ndarray, rank: int) -> int:
    require(axis.dtype == np.int32 and axis.size == 1, op, "axis must be one int32 value")
    return normalized_axis(op, int(axis.reshape(-1)[0]), rank)


def split_plan(op: Op, shapes, params) -> Plan:
    (shape,), (axis,) = shapes, params
    axis = _axis_value(op, axis, len(shape))
    count = len(op.outputs)
    require(shape[axis] % count == 0, op, f"axis {axis} of size {shape[axis]} does not split into {count}")
    return split_along(op, shape, axis, [shape[axis] // count] * count)


def split_v_plan(op: Op, shapes, params) -> Plan:
    (shape,), (size_splits, axis) = shapes, params
    axis = _axis_value(op, axis, len(shape))
    sizes = [int(s) for s in np.asarray(size_splits).reshape(-1)]
    require(len(sizes) == len(op.outputs), op, f"size_splits has {len(sizes)} entries for {len(op.outputs)} outputs")
    unknown = [i for i, s in enumerate(sizes) if s == -1]
    require(len(unknown) <= 1, op, "size_splits has more than one -1")
    if unknown:
        sizes[unknown[0]] = shape[axis] - (sum(sizes) + 1)
    return split_along(op, shape, axis, sizes)


def unpack_plan(op: Op, shapes, params) -> Plan:
    (shape,) = shapes
    axis = normalized_axis(op, op.options.get("axis", 0), len(shape))
    count = op.options.get("num", 0)
    require(count == shape[axis], op, f"num {count} is not the size {shape[axis]} of axis {axis}")
    require(count == len(op.outputs), op, f"num {count} is not the number of outputs {len(op.outputs)}")
    return split_along(op, shape, axis, [1] * count, keep_axis=False)


def pack_plan(op: Op, shapes, params) -> Plan:
    shape, count = shapes[0], len(shapes)
    values_count = op.options.get("values_count", 0)
    require(values_count == count, op, f"values_count {values_count} is not the number of inputs {count}")
    require(all(s == shape for s in shapes), op, f"packs inputs of different shapes {sorted(set(shapes))}")
    axis = normalized_axis(op, op.options.get("axis", 0), len(shape) + 1)
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    inner = int(np.prod(shape[axis:], dtype=np.int64))
    # Input i's rows land count rows apart in the output, starting at row i.
    dims = ((outer, inner, count * inner), (inner, 1, 1))
    blocks = tuple(Block(source=i, in_offset=0, out_offset=i * inner, dims=dims) for i in range(count))
    return Plan(blocks, ((*shape[:axis], count, *shape[axis:]),))


SPLIT = Movement(split_plan, SPLIT_DTYPES, params=((0, "axis"),), data_slot=1)
SPLIT_V = Movement(split_v_plan, SPLIT_DTYPES, params=((1, "size_splits"), (2, "axis")))
UNPACK = Movement(unpack_plan, SPLIT_DTYPES, input_rank=lambda op, params, rank: rank + 1)
PACK = Movement(pack_plan, PACK_DTYPES, data_slot=-1, input_rank=lambda op, params, rank: rank - 1)

OPS = (
    movement_op(
        "SPLIT",
        SPLIT,
        "int8, int16, int32, float32; views along the outermost non-1 axis",
        outputs=None,  # one per piece, checked in the plan
        options=Options("SplitOptions", ("num_splits",)),
        quantization=Quantization(shared="all"),  # the moved input is slot 1, after the axis
    ),
    movement_op(
        "SPLIT_V",
        SPLIT_V,
        "int8, int16, int32, float32; views along the outermost non-1 axis",
        outputs=None,  # one per piece, checked in the plan
        options=Options("SplitVOptions", ("num_splits",)),
    ),
    movement_op(
        "UNPACK",
        UNPACK,
        "int8, int16, int32, float32; views along the outermost non-1 axis",
        outputs=None,  # one per piece, checked in the plan
        options=Options("UnpackOptions", ("num", "axis")),
    ),
    movement_op(
        "PACK",
        PACK,
        "int8, int16, int32, int64, float32",
        options=Options("PackOptions", ("values_count", "axis")),
        quantization=Quantization(shared="all"),
    ),
)
