"""PRELU: x where x >= 0, alpha * x below, with alpha broadcast against x -> tg_prelu_s8, tg_prelu_s16.

Each branch has its own rescale to the output: input scale / output scale for x >= 0, input scale *
alpha scale / output scale for the product. alpha is int8 for int8 and int16 inputs alike, and one
scale serves every channel: tflite-micro reads only the first, so alpha quantized per channel is
taken only when its channels share one scale and zero point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Layer
from ..ir import Graph, Op
from .binary import KERNEL_SUFFIXES, TYPE_RANGES, broadcast, refuse_float, require_quantized
from .checks import require, rescale_multiplier
from .elementwise import elementwise_macs
from .record import ACTIVATION, OpDef


@dataclass(frozen=True)
class PreluParams:
    C_TYPE = "tg_prelu_params"
    C_FILE = "tg_binary.c"
    rank: int
    size: int
    input_offset: int
    alpha_offset: int
    output_offset: int
    positive_multiplier: int
    positive_shift: int
    negative_multiplier: int
    negative_shift: int
    act_min: int
    act_max: int


def lower_prelu(op: Op, graph: Graph) -> Layer:
    x, alpha = graph.op_inputs(op)[:2]
    y = graph.op_outputs(op)[0]
    require(x is not None and alpha is not None, op, "missing input")
    refuse_float(op, graph, [x, alpha, y])
    require(y.dtype in ("int8", "int16"), op, f"output {y.name} is {y.dtype}; PRELU takes int8 or int16")
    require(x.dtype == y.dtype, op, f"input of {x.dtype} with an output of {y.dtype}")
    require(alpha.dtype == "int8", op, f"alpha {alpha.name} is {alpha.dtype}; it must be int8")
    require(alpha.quant is not None, op, f"alpha {alpha.name} needs quantization")
    require(
        len(set(alpha.quant.scale)) == 1 and len(set(alpha.quant.zero_point)) == 1,
        op,
        "alpha has a scale per channel; tflite-micro uses the first one for every channel",
    )
    require_quantized(op, (x, y))
    require(alpha.scale > 0 and -128 <= alpha.zero_point <= 127, op, f"alpha {alpha.name} has invalid quantization")
    positive = rescale_multiplier(op, x.scale / y.scale, f"{x.scale} / {y.scale}")
    negative = rescale_multiplier(op, x.scale * alpha.scale / y.scale, f"{x.scale} * {alpha.scale} / {y.scale}")
    walk = broadcast(op, graph)
    act_min, act_max = TYPE_RANGES[y.dtype]
    params = PreluParams(
        rank=walk.rank,
        size=walk.size,
        input_offset=-x.zero_point,
        alpha_offset=-alpha.zero_point,
        output_offset=y.zero_point,
        positive_multiplier=positive[0],
        positive_shift=positive[1],
        negative_multiplier=negative[0],
        negative_shift=negative[1],
        act_min=act_min,
        act_max=act_max,
    )
    return walk.layer(op, f"tg_prelu_{KERNEL_SUFFIXES[y.dtype]}", params)


OPS = (
    OpDef(
        "PRELU",
        lower_prelu,
        notes="int8 and int16 input, int8 alpha (one scale) broadcast against it; up to rank 7",
        slots=(ACTIVATION, ACTIVATION),
        macs=elementwise_macs,
        float_reference=lambda op, args, out: np.where(args[0] >= 0, args[0], args[0] * args[1]),
        in_place=True,
    ),
)
