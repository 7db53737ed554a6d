"""REDUCE_MAX, REDUCE_MIN and SUM over constant axes -> tg_reduce_max_s8, tg_reduce_min_s8, tg_mean_s8.

The reduced axes become MEAN's [outer, reduce_a, middle, reduce_b, inner] view (mean.reduced_view).
REDUCE_MAX/MIN compare raw int8 values, so tflite-micro requires the output to keep the input's
quantization. SUM is MEAN without the division: the same kernel, with the multiplier of
input scale / output scale alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Layer, tensor_args
from ..ir import Graph, Op, Tensor
from .checks import int8_io, require, rescale_multiplier
from .mean import MAX_COUNT, MeanParams, reduced_view
from .record import ACTIVATION, PARAM, OpDef, Options, Quantization


@dataclass(frozen=True)
class ReduceParams:
    C_TYPE = "tg_reduce_params"
    C_FILE = "tg_reduce.c"
    outer: int
    reduce_a: int
    middle: int
    reduce_b: int
    inner: int


def reduced_axes(op: Op, graph: Graph, x: Tensor, y: Tensor) -> set[int]:
    """The op's axes (input 1) resolved as tflite-micro does: negatives from the end, duplicates
    once; checked to be a constant int32 tensor in range, with the output shape keep_dims gives."""
    require(len(op.inputs) == 2, op, "expects an input and an axis tensor")
    axis = graph.tensor(op.inputs[1])
    require(axis.is_constant and axis.dtype == "int32", op, "the axes must be a constant int32 tensor")
    rank = len(x.shape)
    values = axis.data.reshape(-1).tolist()
    require(all(-rank <= a < rank for a in values), op, f"axes {values} are out of range for a rank-{rank} input")
    axes = {a % rank for a in values}
    require(all(d > 0 for d in x.shape), op, f"input shape {x.shape} has an empty dimension")
    if op.options.get("keep_dims", False):
        expected = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    else:
        expected = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    require(y.shape == expected, op, f"output shape {y.shape} should be {expected}")
    return axes


def reduction_view(op: Op, graph: Graph, x: Tensor, y: Tensor) -> tuple[int, int, int, int, int]:
    """x as [outer, reduce_a, middle, reduce_b, inner] for the op's axes."""
    axes = reduced_axes(op, graph, x, y)
    view = reduced_view(x.shape, axes)
    require(
        view is not None,
        op,
        f"reducing axes {sorted(axes)} of {x.shape} is not supported "
        "(the reduced dims must form at most two contiguous runs)",
    )
    return view


def _lower_extreme(kernel: str):
    def lower(op: Op, graph: Graph) -> Layer:
        (x,), y = int8_io(op, graph)
        view = reduction_view(op, graph, x, y)
        require(
            (x.scale, x.zero_point) == (y.scale, y.zero_point),
            op,
            f"output quantization ({y.scale}, {y.zero_point}) must equal the input's ({x.scale}, {x.zero_point})",
        )
        return Layer(op, kernel, ReduceParams(*view), tensor_args(op.inputs[0], op.outputs[0]))

    return lower


def lower_sum(op: Op, graph: Graph) -> Layer:
    (x,), y = int8_io(op, graph)
    outer, reduce_a, middle, reduce_b, inner = reduction_view(op, graph, x, y)
    count = reduce_a * reduce_b
    require(count <= MAX_COUNT, op, f"the sum is over {count} elements; at most {MAX_COUNT} are supported")
    multiplier, shift = rescale_multiplier(op, x.scale / y.scale, f"{x.scale} / {y.scale}")
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


def _float_reduction(reduce):
    """A float reference for a reduction of batch-first values. The model's batch is 1, so
    reducing over axis 0 leaves each sample as it is: the batch axis is kept."""

    def run(op: Op, args: list, out: Tensor) -> np.ndarray:
        x, axes = args
        axes = {int(a) % x.ndim for a in np.atleast_1d(axes)}
        return reduce(x, axis=tuple(sorted(axes - {0})), keepdims=bool(op.options.get("keep_dims")))

    return run


def _reduction(name: str, lower, reduce, notes: str, quantization: Quantization) -> OpDef:
    return OpDef(
        name,
        lower,
        notes=notes,
        slots=(ACTIVATION, PARAM),
        options=Options("ReducerOptions", ("keep_dims",)),
        float_reference=_float_reduction(reduce),
        quantization=quantization,
    )


AXES_NOTE = "over constant axes forming at most two contiguous runs"
OPS = (
    _reduction(
        "REDUCE_MAX",
        _lower_extreme("tg_reduce_max_s8"),
        np.max,
        f"{AXES_NOTE}; output quantization equals the input's",
        Quantization(shared="first"),
    ),
    _reduction(
        "REDUCE_MIN",
        _lower_extreme("tg_reduce_min_s8"),
        np.min,
        f"{AXES_NOTE}; output quantization equals the input's",
        Quantization(shared="first"),
    ),
    _reduction("SUM", lower_sum, np.sum, f"{AXES_NOTE}; runs MEAN's kernel without the division", Quantization()),
)
