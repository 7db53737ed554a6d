"""AVERAGE_POOL_2D and MAX_POOL_2D -> tg_avg_pool_s8, tg_max_pool_s8.

Pooling never rescales: TFLM insists the input and output quantization agree, and
averages or maxes the raw int8 values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Layer, tensor_args
from ..ir import Graph, Op, Tensor
from .checks import fused_activation, int8_io, require
from .cstruct import Dims
from .geometry import float_windows, window_padding
from .record import OpDef, Options, Quantization

# TFLM's Prepare tolerance on |input scale - output scale|, compared in double.
SCALE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class PoolParams:
    C_TYPE = "tg_pool_params"
    C_FILE = "tg_pool.c"
    input: Dims
    output: Dims
    filter_h: int
    filter_w: int
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    act_min: int
    act_max: int


def _lower_pool(op: Op, graph: Graph, kernel: str) -> Layer:
    (x,), y = int8_io(op, graph)
    require(len(x.shape) == 4 and len(y.shape) == 4, op, "expects 4-D NHWC tensors")
    require(
        x.shape[0] == y.shape[0] and x.shape[3] == y.shape[3],
        op,
        f"input {x.shape} and output {y.shape} differ in batch or channels",
    )
    require(
        abs(x.scale - y.scale) <= SCALE_TOLERANCE and x.zero_point == y.zero_point,
        op,
        f"input and output quantization must match (scale {x.scale} vs {y.scale}, "
        f"zero point {x.zero_point} vs {y.zero_point}); pooling does not rescale",
    )
    o = op.options
    filter_hw = (o["filter_height"], o["filter_width"])
    require(min(filter_hw) >= 1, op, f"filter size {filter_hw} must be at least 1")
    # With a consistent output size every window overlaps the image, so the average
    # never divides by a zero tap count (which TFLM reports as an error at run time).
    pad_h, pad_w = window_padding(op, x.shape[1:3], filter_hw, y.shape[1:3])
    act_min, act_max = fused_activation(op, y)
    params = PoolParams(
        input=Dims.of(x.shape),
        output=Dims.of(y.shape),
        filter_h=filter_hw[0],
        filter_w=filter_hw[1],
        stride_h=o["stride_h"],
        stride_w=o["stride_w"],
        pad_h=pad_h,
        pad_w=pad_w,
        act_min=act_min,
        act_max=act_max,
    )
    return Layer(op, kernel, params, tensor_args(op.inputs[0], op.outputs[0]))


def lower_average_pool(op: Op, graph: Graph) -> Layer:
    return _lower_pool(op, graph, "tg_avg_pool_s8")


def lower_max_pool(op: Op, graph: Graph) -> Layer:
    return _lower_pool(op, graph, "tg_max_pool_s8")


def average_pool_macs(op: Op, graph: Graph) -> int:
    return graph.tensor(op.outputs[0]).size * op.options["filter_height"] * op.options["filter_width"]


def _filter(op: Op) -> tuple[int, int]:
    return op.options["filter_height"], op.options["filter_width"]


def max_pool_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    return float_windows(args[0], op, out.shape[1:3], _filter(op), fill=-np.inf).max(axis=(4, 5))


def average_pool_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    # The average counts only the taps inside the image, as TFLite does.
    x = args[0]
    total = float_windows(x, op, out.shape[1:3], _filter(op)).sum(axis=(4, 5))
    count = float_windows(np.ones_like(x[:1, ..., :1]), op, out.shape[1:3], _filter(op)).sum(axis=(4, 5))
    return total / count


_OPTIONS = Options(
    "Pool2DOptions", ("padding", "stride_w", "stride_h", "filter_width", "filter_height", "fused_activation_function")
)
OPS = (
    OpDef(
        "AVERAGE_POOL_2D",
        lower_average_pool,
        notes="SAME/VALID, any stride and window",
        options=_OPTIONS,
        macs=average_pool_macs,
        float_reference=average_pool_float,
        quantization=Quantization(shared="first"),
    ),
    OpDef(
        "MAX_POOL_2D",
        lower_max_pool,
        notes="SAME/VALID, any stride and window",
        options=_OPTIONS,
        float_reference=max_pool_float,
        quantization=Quantization(shared="first"),
    ),
)
