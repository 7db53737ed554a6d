"""MEAN -> tg_mean_s8: the int8 mean over constant axes, requantized to the output's parameters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Layer, tensor_args
from ..errors import TinygenError
from ..ir import Graph, Op, Tensor
from ..quantmath import quantize_multiplier
from .checks import int8_io, require
from .record import ACTIVATION, PARAM, OpDef, Options

# Sums are int32 and the kernel adds -zero_point * count up front: bounded by 255 * 2^23 < 2^31.
MAX_COUNT = 1 << 23


@dataclass(frozen=True)
class MeanParams:
    C_TYPE = "tg_mean_params"
    C_FILE = "tg_mean.c"
    outer: int
    reduce_a: int
    middle: int
    reduce_b: int
    inner: int
    sum_offset: int
    multiplier: int
    shift: int
    output_offset: int


def mean_multiplier(input_scale: float, output_scale: float, count: int) -> tuple[int, int]:
    """input_scale / output_scale / count as (multiplier, shift), the way TFLM folds in 1/count.

    The multiplier of s_in / s_out is shifted left by floor(log2(count)) (capped at 32, and so
    that the final shift stays >= -31) and divided by count with truncation; it is not the
    quantized multiplier of the exact quotient.
    """
    multiplier, shift = quantize_multiplier(input_scale / output_scale)
    extra = min(count.bit_length() - 1, 32, 31 + shift)
    return (multiplier << extra) // count, shift - extra


def reduced_view(shape: tuple[int, ...], axes: set[int]) -> tuple[int, int, int, int, int] | None:
    """shape as [outer, reduce_a, middle, reduce_b, inner], or None if the reduced dims form more than two runs.

    Unit dims are dropped and neighbouring dims of the same kind merged; the row-major order of
    the kept dims is the output order whether keep_dims is set or not.
    """
    runs: list[list] = []  # [reduced, size]
    for axis, size in enumerate(shape):
        if size == 1:
            continue
        reduced = axis in axes
        if runs and runs[-1][0] == reduced:
            runs[-1][1] *= size
        else:
            runs.append([reduced, size])
    if not runs or runs[0][0]:
        runs.insert(0, [False, 1])
    if len(runs) > 5:
        return None
    return tuple([size for _, size in runs] + [1] * (5 - len(runs)))


def lower_mean(op: Op, graph: Graph) -> Layer:
    (x,), y = int8_io(op, graph)
    require(len(op.inputs) == 2, op, "expects an input and an axis tensor")
    axis = graph.tensor(op.inputs[1])
    require(axis.is_constant and axis.dtype == "int32", op, "the axes must be a constant int32 tensor")
    rank = len(x.shape)
    require(
        all(-rank <= int(a) < rank for a in axis.data.reshape(-1)),
        op,
        f"axes {axis.data.reshape(-1).tolist()} are out of range for a rank-{rank} input",
    )
    axes = {int(a) % rank for a in axis.data.reshape(-1)}
    require(all(d > 0 for d in x.shape), op, f"input shape {x.shape} has an empty dimension")
    if op.options.get("keep_dims", False):
        expected = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    else:
        expected = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    require(y.shape == expected, op, f"output shape {y.shape} should be {expected}")
    view = reduced_view(x.shape, axes)
    require(
        view is not None,
        op,
        f"reducing axes {sorted(axes)} of {x.shape} is not supported "
        "(the reduced dims must form at most two contiguous runs)",
    )
    count = view[1] * view[3]
    require(count <= MAX_COUNT, op, f"the mean is over {count} elements; at most {MAX_COUNT} are supported")
    multiplier, shift = mean_multiplier(x.scale, y.scale, count)
    outer, reduce_a, middle, reduce_b, inner = view
    params = MeanParams(
        outer=outer,
        reduce_a=reduce_a,
        middle=middle,
        reduce_b=reduce_b,
        inner=inner,
        sum_offset=-x.zero_point * count,
        multiplier=multiplier,
        shift=shift,
        output_offset=y.zero_point,
    )
    return Layer(op, "tg_mean_s8", params, tensor_args(op.inputs[0], op.outputs[0]))


def mean_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    x, axes = args
    axes = tuple(sorted({int(a) % x.ndim for a in np.atleast_1d(axes)}))
    if 0 in axes:
        raise TinygenError(f"op {op.index} (MEAN) reduces over the batch axis")
    return x.mean(axis=axes, keepdims=bool(op.options.get("keep_dims")))


OPS = (
    OpDef(
        "MEAN",
        lower_mean,
        notes="over constant axes forming at most two contiguous runs",
        slots=(ACTIVATION, PARAM),
        options=Options("ReducerOptions", ("keep_dims",)),
        float_reference=mean_float,
    ),
)
