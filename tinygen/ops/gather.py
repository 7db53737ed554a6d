"""GATHER: slices of the input picked along an axis by int32 indices.

Constant indices make a copy plan (one block per index, runs of evenly spaced indices fused): when
that is a single block it runs as a strided copy, or a view. Other gathers, and every gather with
indices computed on the device, run tg_gather, which reads the indices at run time and never
leaves the input: an index out of range (tflite-micro fails the invoke) gives zero bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Layer, tensor_args
from ..ir import NUMPY_DTYPES, Graph, Op
from .checks import require
from .movement import Block, Movement, Plan, check_dtypes, movement_op, normalized_axis, optimized, plan_layer
from .record import ACTIVATION, Options

GATHER_DTYPES = ("float32", "int8")  # tflite-micro's Prepare


@dataclass(frozen=True)
class GatherParams:
    C_TYPE = "tg_gather_params"
    C_FILE = "tg_movement.c"
    batch_size: int
    outer_size: int
    axis_size: int
    coord_size: int
    inner_bytes: int


@dataclass(frozen=True)
class Geometry:
    """The input as [batch, outer, axis, inner], the indices as [batch, coords]."""

    batch: int
    outer: int
    axis: int
    coords: int
    inner: int
    out_shape: tuple[int, ...]


def _batch_dims(op: Op, indices_rank: int) -> int:
    batch_dims = op.options.get("batch_dims", 0)
    return batch_dims + indices_rank if batch_dims < 0 else batch_dims


def geometry(op: Op, shape: tuple[int, ...], indices_shape: tuple[int, ...]) -> Geometry:
    """tflite-micro's Prepare: the axis and batch_dims checks, and the output shape it computes."""
    rank = len(shape)
    require(rank >= 1, op, "gathers from a scalar")
    axis = normalized_axis(op, op.options.get("axis", 0), rank)
    batch_dims = _batch_dims(op, len(indices_shape))
    require(0 <= batch_dims <= axis, op, f"batch_dims {op.options.get('batch_dims')} must lie in [0, axis {axis}]")
    require(batch_dims <= len(indices_shape), op, f"batch_dims {batch_dims} exceeds the indices' rank")
    require(
        shape[:batch_dims] == tuple(indices_shape[:batch_dims]),
        op,
        f"the first {batch_dims} dimensions of the input {shape} and the indices {indices_shape} differ",
    )

    def size(dims) -> int:
        return int(np.prod(dims, dtype=np.int64))

    out_shape = (*shape[:axis], *indices_shape[batch_dims:], *shape[axis + 1 :])
    return Geometry(
        batch=size(shape[:batch_dims]),
        outer=size(shape[batch_dims:axis]),
        axis=shape[axis],
        coords=size(indices_shape[batch_dims:]),
        inner=size(shape[axis + 1 :]),
        out_shape=tuple(int(d) for d in out_shape),
    )


def gather_plan(op: Op, shapes, params) -> Plan:
    (shape,), (indices,) = shapes, params
    require(indices.dtype == np.int32, op, f"indices are {indices.dtype}; tflite-micro gathers with int32 only")
    g = geometry(op, tuple(shape), indices.shape)
    flat = indices.reshape(g.batch, g.coords)
    bad = flat[(flat < 0) | (flat >= g.axis)]
    require(bad.size == 0, op, f"index {bad[:1].tolist()} is outside the axis of size {g.axis}")
    dims = ((g.outer, g.axis * g.inner, g.coords * g.inner), (g.inner, 1, 1))
    blocks = tuple(
        Block(0, (b * g.outer * g.axis + int(flat[b, k])) * g.inner, (b * g.outer * g.coords + k) * g.inner, dims)
        for b in range(g.batch)
        for k in range(g.coords)
    )
    return Plan(blocks, (g.out_shape,))


def lower_gather(op: Op, graph: Graph) -> Layer:
    x, indices, y = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    check_dtypes(op, [x, y], GATHER_DTYPES)
    require(indices.dtype == "int32", op, f"indices are {indices.dtype}; tflite-micro gathers with int32 only")
    g = geometry(op, tuple(x.shape), tuple(indices.shape))
    require(tuple(y.shape) == g.out_shape, op, f"output shape {y.shape} is not {g.out_shape}")
    require(y.size > 0, op, "has an empty output")
    if indices.is_constant:
        plan = gather_plan(op, [x.shape], [indices.data])
        if len(optimized(plan).blocks) == 1:
            return plan_layer(op, graph, plan, (op.inputs[0],))
    itemsize = np.dtype(NUMPY_DTYPES[x.dtype]).itemsize
    params = GatherParams(g.batch, g.outer, g.axis, g.coords, g.inner * itemsize)
    return Layer(op, "tg_gather", params, tensor_args(op.inputs[0], op.inputs[1], op.outputs[0]))


def _input_rank(op: Op, params: list, output_rank: int) -> int:
    indices = params[0]
    return output_rank - indices.ndim + 1 + _batch_dims(op, indices.ndim)


OPS = (
    movement_op(
        "GATHER",
        Movement(gather_plan, GATHER_DTYPES, params=((1, "indices"),), input_rank=_input_rank),
        "int8, float32; int32 indices, constant or computed (out of range: zeros)",
        lower=lower_gather,
        slots=(ACTIVATION, ACTIVATION),  # the indices may be computed
        options=Options("GatherOptions", ("axis", "batch_dims")),
    ),
)
