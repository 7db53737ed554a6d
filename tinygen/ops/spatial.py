"""DEPTH_TO_SPACE, SPACE_TO_DEPTH, BATCH_TO_SPACE_ND and SPACE_TO_BATCH_ND as strided copies.

DEPTH_TO_SPACE and SPACE_TO_DEPTH are transposes of a finer view of NHWC: one block of six
dimensions. The batch <-> space pair interleaves block_shape[0] x block_shape[1] batches into the
rows and columns; with crops or paddings the rows of one batch need not line up with the output
grid, so each of those batches is its own block. SPACE_TO_BATCH_ND cannot pad: tflite-micro fills
the padding with a value it never initializes.
"""

from __future__ import annotations

import numpy as np

from ..ir import Op
from .checks import require
from .movement import Block, Movement, Plan, gather_block, int_vector, movement_op
from .record import Options

TYPES = ("float32", "int8")  # each of the four, in tflite-micro's Eval


def _block_size(op: Op) -> int:
    size = op.options.get("block_size", 0)
    require(size >= 1, op, f"block_size {size} must be at least 1")
    return size


def _rank4(op: Op, shape) -> tuple[int, int, int, int]:
    require(len(shape) == 4, op, f"needs a 4-D NHWC input, not rank {len(shape)}")
    return tuple(shape)


def depth_to_space_plan(op: Op, shapes, params) -> Plan:
    n, h, w, c = _rank4(op, shapes[0])
    bs = _block_size(op)
    require(c % (bs * bs) == 0, op, f"{c} channels do not divide into {bs} x {bs} blocks")
    depth = c // (bs * bs)
    # Output [n, h, dy, w, dx, depth] reads input channel (dy * bs + dx) * depth + d.
    extents = (n, h, bs, w, bs, depth)
    block = gather_block(extents, (h * w * c, w * c, bs * depth, c, depth, 1))
    return Plan((block,), ((n, h * bs, w * bs, depth),))


def space_to_depth_plan(op: Op, shapes, params) -> Plan:
    n, h, w, c = _rank4(op, shapes[0])
    bs = _block_size(op)
    require(h % bs == 0 and w % bs == 0, op, f"height {h} and width {w} must be multiples of block_size {bs}")
    # Output [n, y, x, dy, dx, c] reads input row y * bs + dy, column x * bs + dx.
    extents = (n, h // bs, w // bs, bs, bs, c)
    block = gather_block(extents, (h * w * c, bs * w * c, bs * c, w * c, c, 1))
    return Plan((block,), ((n, h // bs, w // bs, bs * bs * c),))


def _nhwc(op: Op, shape, block_shape: np.ndarray, edges: np.ndarray, name: str):
    """The 3-D (NHC) or 4-D shape as NHWC, the block (rows, columns) and (top, bottom, left, right) edges."""
    require(len(shape) in (3, 4), op, f"needs a 3-D or 4-D input, not rank {len(shape)}")
    spatial = len(shape) - 2
    require(block_shape.dtype == np.int32 and edges.dtype == np.int32, op, f"block_shape and {name} must be int32")
    block = int_vector(op, block_shape, spatial, "block_shape")
    require(edges.shape == (spatial, 2), op, f"{name} must have shape ({spatial}, 2), not {edges.shape}")
    require(min(block) >= 1, op, f"block_shape {block} must be at least 1")
    require(int(edges.min()) >= 0, op, f"negative {name} {edges.tolist()} are not supported")
    n, h, *rest = shape
    if spatial == 1:
        return (n, h, 1, rest[0]), (block[0], 1), (*edges[0].tolist(), 0, 0)
    return tuple(shape), tuple(block), tuple(edges.reshape(-1).tolist())


def _span(first: int, step: int, lo: int, hi: int, count: int) -> tuple[int, int]:
    """[a, b): the i in [0, count) with lo <= i * step + first < hi."""
    a = max(0, -((first - lo) // step))
    b = min(count, -((first - hi) // step))
    return a, max(a, b)


def batch_to_space_plan(op: Op, shapes, params) -> Plan:
    (n, h, w, c), (bh, bw), (top, bottom, left, right) = _nhwc(op, shapes[0], *params, "crops")
    require(n % (bh * bw) == 0, op, f"batch {n} is not a multiple of the block's {bh * bw}")
    out_n, out_h, out_w = n // (bh * bw), h * bh - top - bottom, w * bw - left - right
    require(out_h > 0 and out_w > 0, op, "the crops leave nothing")
    blocks = []
    for dy in range(bh):
        for dx in range(bw):
            # Input batch (dy * bw + dx) * out_n + b lands on rows y * bh + dy - top, columns x * bw + dx - left.
            y0, y1 = _span(dy - top, bh, 0, out_h, h)
            x0, x1 = _span(dx - left, bw, 0, out_w, w)
            if y0 == y1 or x0 == x1:
                continue
            dims = ((out_n, h * w * c, out_h * out_w * c), (y1 - y0, w * c, bh * out_w * c), (x1 - x0, c, bw * c))
            in_offset = (dy * bw + dx) * out_n * h * w * c + y0 * w * c + x0 * c
            out_offset = (y0 * bh + dy - top) * out_w * c + (x0 * bw + dx - left) * c
            blocks.append(Block(0, in_offset, out_offset, (*dims, (c, 1, 1))))
    shape = (out_n, out_h, out_w, c) if len(shapes[0]) == 4 else (out_n, out_h, c)
    return Plan(tuple(blocks), (shape,))


def space_to_batch_plan(op: Op, shapes, params) -> Plan:
    (n, h, w, c), (bh, bw), edges = _nhwc(op, shapes[0], *params, "paddings")
    # tflite-micro pads with a value it never sets (whatever its arena held): only no padding is exact.
    require(not any(edges), op, "paddings are not supported: tflite-micro pads with an uninitialized value")
    require(h % bh == 0 and w % bw == 0, op, f"height {h} and width {w} are not multiples of the block {bh} x {bw}")
    out_h, out_w = h // bh, w // bw
    # Output batch (dy * bw + dx) * n + b holds rows y * bh + dy, columns x * bw + dx of input batch b.
    extents = (bh, bw, n, out_h, out_w, c)
    block = gather_block(extents, (w * c, c, h * w * c, bh * w * c, bw * c, 1))
    shape = (n * bh * bw, out_h, out_w, c) if len(shapes[0]) == 4 else (n * bh * bw, out_h, c)
    return Plan((block,), (shape,))


OPS = (
    movement_op(
        "DEPTH_TO_SPACE",
        Movement(depth_to_space_plan, TYPES),
        "int8, float32",
        options=Options("DepthToSpaceOptions", ("block_size",)),
    ),
    movement_op(
        "SPACE_TO_DEPTH",
        Movement(space_to_depth_plan, TYPES),
        "int8, float32",
        options=Options("SpaceToDepthOptions", ("block_size",)),
    ),
    movement_op(
        "BATCH_TO_SPACE_ND",
        Movement(batch_to_space_plan, TYPES, params=((1, "block_shape"), (2, "crops"))),
        "int8, float32, 3-D or 4-D, non-negative crops",
        options=Options("BatchToSpaceNDOptions"),
    ),
    movement_op(
        "SPACE_TO_BATCH_ND",
        Movement(space_to_batch_plan, TYPES, params=((1, "block_shape"), (2, "paddings"))),
        "int8, float32, 3-D or 4-D, no padding (tflite-micro pads with an uninitialized value)",
        options=Options("SpaceToBatchNDOptions"),
    ),
)
