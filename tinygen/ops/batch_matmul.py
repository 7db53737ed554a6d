"""BATCH_MATMUL -> tg_batch_matmul_s8, tg_batch_matmul_s16.

out[..., a, c] = sum over k of lhs[..., a, k] * rhs[..., k, c], with adj_x / adj_y naming
operands stored transposed and numpy broadcasting over up to three batch dimensions.

The kernel addresses both operands through strides (a row of lhs, a column of rhs, and a
step along the shared depth), so a transposed operand is read in place. A constant operand
is transposed here instead, as tflite-micro does once in its first run, so that its depth
is contiguous: when both are, the int8 kernel takes the dot-product path of tg_common.h.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, tensor_args
from ..ir import Graph, Op, Tensor
from .checks import int8_io, require, rescale_multiplier
from .elementwise import broadcast_walk
from .record import ACTIVATION, OpDef, Options

MIN_RANK, MAX_RANK = 2, 5  # tflite-micro's Prepare
BATCH_RANK = MAX_RANK - 2  # the kernel walks three batch dimensions
# int16: tflite-micro accumulates in int64 and its requantization multiplies the sum by up to
# 2^15; with products of at most 2^30, this depth keeps that within int64 (and near the +-2^47
# the source asserts).
INT16_MAX_DEPTH = 1 << 17
# That requantization shifts right by 15 - shift after adding 2^(14 - shift), so it needs an
# exponent of at most 14. (Its source asserts one below 8; the interpreter does not check it,
# and computes larger ones exactly.)
INT16_MAX_SHIFT = 14


@dataclass(frozen=True)
class BatchMatmulParams:
    C_TYPE = "tg_batch_matmul_params"
    C_FILE = "tg_batch_matmul.c"
    batch0: int  # the output's batch dimensions, merged and padded with leading 1s to three
    batch1: int
    batch2: int
    lhs_batch_stride0: int  # elements, 0 where lhs is broadcast
    lhs_batch_stride1: int
    lhs_batch_stride2: int
    rhs_batch_stride0: int
    rhs_batch_stride1: int
    rhs_batch_stride2: int
    rows: int  # of the output (lhs rows)
    cols: int  # of the output (rhs columns)
    depth: int
    lhs_row_stride: int  # lhs element (row a, depth k) at a * lhs_row_stride + k * lhs_depth_stride
    lhs_depth_stride: int
    rhs_col_stride: int  # rhs element (column c, depth k) at c * rhs_col_stride + k * rhs_depth_stride
    rhs_depth_stride: int
    lhs_offset: int  # -zero points
    rhs_offset: int
    output_offset: int
    output_multiplier: int
    output_shift: int


def _io(op: Op, graph: Graph) -> tuple[Tensor, Tensor, Tensor]:
    """lhs, rhs and output: all int8 or all int16, per-tensor quantized (int16 symmetric)."""
    lhs, rhs, y = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    if lhs.dtype != "int16":
        (lhs, rhs), y = int8_io(op, graph, n_inputs=2)
        return lhs, rhs, y
    for t in (rhs, y):
        require(t.dtype == "int16", op, f"tensor {t.name} is {t.dtype}; both inputs and the output must be int16")
    for t in (lhs, rhs, y):
        require(t.quant is not None and not t.quant.per_channel, op, f"tensor {t.name} needs per-tensor quantization")
        require(t.zero_point == 0, op, f"int16 tensor {t.name} must have zero point 0 (tflite-micro checks it)")
    return lhs, rhs, y


def _matrix_strides(t: Tensor, transposed: bool) -> tuple[int, int, np.ndarray | None]:
    """(stride between the operand's rows or columns, stride along its depth, the data stored
    with contiguous depth when the operand is a constant that needs transposing, else None).

    Untransposed lhs [.., rows, depth] and transposed rhs [.., cols, depth] have contiguous depth;
    the other two, [.., depth, rows or cols], are read with a stride of their last dimension
    unless they are constant."""
    outer, inner = t.shape[-2:]
    if not transposed:
        return inner, 1, None
    if t.is_constant:
        return outer, 1, np.swapaxes(t.data, -1, -2).reshape(-1)
    return 1, inner, None


def lower_batch_matmul(op: Op, graph: Graph) -> Layer:
    lhs, rhs, y = _io(op, graph)
    for t in (lhs, rhs):
        rank = len(t.shape)
        require(MIN_RANK <= rank <= MAX_RANK, op, f"tensor {t.name} has rank {rank}; {MIN_RANK} to {MAX_RANK} work")
    require(min(*lhs.shape, *rhs.shape) >= 1, op, "has an empty input")
    adj_x, adj_y = bool(op.options.get("adj_x", False)), bool(op.options.get("adj_y", False))
    rows, depth = lhs.shape[-2:][::-1] if adj_x else lhs.shape[-2:]
    rhs_depth, cols = rhs.shape[-2:][::-1] if adj_y else rhs.shape[-2:]
    require(
        depth == rhs_depth,
        op,
        f"lhs {lhs.shape} (adj_x={adj_x}) and rhs {rhs.shape} (adj_y={adj_y}) differ in depth: {depth} vs {rhs_depth}",
    )
    try:
        batch = np.broadcast_shapes(lhs.shape[:-2], rhs.shape[:-2])
    except ValueError:
        batch = None
    require(batch is not None, op, f"batch dimensions of {lhs.shape} and {rhs.shape} do not broadcast")
    expected = (*batch, rows, cols)
    require(tuple(y.shape) == expected, op, f"output shape {y.shape} is not {expected}")

    # In double: tflite-micro's source takes the scales' product in float32, but its interpreter
    # rounds as if in double, as for FULLY_CONNECTED (tests/ops/test_batch_matmul.py shows a case).
    real = lhs.scale * rhs.scale / y.scale
    multiplier, shift = rescale_multiplier(op, real, f"{lhs.scale} * {rhs.scale} / {y.scale}")
    if lhs.dtype == "int16":
        require(depth <= INT16_MAX_DEPTH, op, f"int16 depth {depth} is above {INT16_MAX_DEPTH}")
        require(shift <= INT16_MAX_SHIFT, op, f"int16 rescaling by {real} is 2^{INT16_MAX_SHIFT} or more")

    dims, lhs_walk, rhs_walk = broadcast_walk(lhs.shape[:-2], rhs.shape[:-2], batch)
    lead = [0] * (BATCH_RANK - len(dims))
    dims = [1] * len(lead) + dims
    lhs_batch = [s * rows * depth for s in lead + lhs_walk]
    rhs_batch = [s * depth * cols for s in lead + rhs_walk]
    lhs_row, lhs_step, lhs_data = _matrix_strides(lhs, adj_x)
    rhs_col, rhs_step, rhs_data = _matrix_strides(rhs, not adj_y)
    params = BatchMatmulParams(
        *dims,
        *lhs_batch,
        *rhs_batch,
        rows=rows,
        cols=cols,
        depth=depth,
        lhs_row_stride=lhs_row,
        lhs_depth_stride=lhs_step,
        rhs_col_stride=rhs_col,
        rhs_depth_stride=rhs_step,
        lhs_offset=-lhs.zero_point,
        rhs_offset=-rhs.zero_point,
        output_offset=y.zero_point,
        output_multiplier=multiplier,
        output_shift=shift,
    )
    operand_names = ("lhs", "rhs")
    consts = {name: data for name, data in zip(operand_names, (lhs_data, rhs_data)) if data is not None}
    operands = [Arg("const", name) if name in consts else Arg("tensor", i) for name, i in zip(operand_names, op.inputs)]
    kernel = "tg_batch_matmul_s16" if lhs.dtype == "int16" else "tg_batch_matmul_s8"
    return Layer(op, kernel, params, (*operands, *tensor_args(op.outputs[0])), consts)


def batch_matmul_macs(op: Op, graph: Graph) -> int:
    lhs = graph.tensor(op.inputs[0])
    depth = lhs.shape[-2] if op.options.get("adj_x", False) else lhs.shape[-1]
    return graph.tensor(op.outputs[0]).size * depth


def batch_matmul_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    lhs, rhs = args
    if op.options.get("adj_x", False):
        lhs = np.swapaxes(lhs, -1, -2)
    if op.options.get("adj_y", False):
        rhs = np.swapaxes(rhs, -1, -2)
    return np.matmul(lhs, rhs)


OPS = (
    OpDef(
        "BATCH_MATMUL",
        lower_batch_matmul,
        notes="int8 and int16, adj_x/adj_y, broadcast batch dimensions (rank 2 to 5), either input constant",
        slots=(ACTIVATION, ACTIVATION),
        options=Options("BatchMatMulOptions", ("adj_x", "adj_y")),
        macs=batch_matmul_macs,
        float_reference=batch_matmul_float,
    ),
)
