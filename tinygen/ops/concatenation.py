"""CONCATENATION -> tg_concat_s8: interleaved byte copies, no rescaling.

Seen as [outer, axis..inner] blocks, the output repeats, for each outer index, one
block from each input in turn; each input's block size is fixed at compile time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, tensor_args
from ..errors import TinygenError
from ..ir import Graph, Op, Tensor
from .checks import int8_io, require
from .record import ACTIVATION, OpDef, Options, Quantization

# TFLM's limits (concatenation.cc in the installed build).
MAX_INPUTS = 10
MAX_RANK = 6


@dataclass(frozen=True)
class ConcatParams:
    C_TYPE = "tg_concat_params"
    C_FILE = "tg_concat.c"
    outer_size: int
    num_inputs: int


def lower_concatenation(op: Op, graph: Graph) -> Layer:
    count = len(op.inputs)
    require(1 <= count <= MAX_INPUTS, op, f"concatenates 1 to {MAX_INPUTS} inputs, not {count}")
    inputs, y = int8_io(op, graph, n_inputs=count)
    require(
        op.options.get("fused_activation_function", "NONE") == "NONE",
        op,
        "a fused activation is not allowed (tflite-micro rejects it)",
    )
    rank = len(y.shape)
    require(1 <= rank <= MAX_RANK, op, f"supports ranks 1 to {MAX_RANK}, not {rank}")
    axis = op.options.get("axis", 0)
    axis = axis + rank if axis < 0 else axis
    require(0 <= axis < rank, op, f"axis {op.options.get('axis')} is out of range for rank {rank}")
    for x in inputs:
        require(
            len(x.shape) == rank and x.shape[:axis] == y.shape[:axis] and x.shape[axis + 1 :] == y.shape[axis + 1 :],
            op,
            f"input shape {x.shape} does not fit output {y.shape} along axis {axis}",
        )
        # TFLM's Prepare compares exactly: concatenation is a copy and cannot rescale.
        require(
            x.scale == y.scale and x.zero_point == y.zero_point,
            op,
            f"input {x.name} quantization ({x.scale}, {x.zero_point}) differs from the output's "
            f"({y.scale}, {y.zero_point})",
        )
    require(
        sum(x.shape[axis] for x in inputs) == y.shape[axis],
        op,
        f"input sizes along axis {axis} do not add up to the output's {y.shape[axis]}",
    )
    outer = int(np.prod(y.shape[:axis], dtype=np.int64))
    copy_sizes = np.array([int(np.prod(x.shape[axis:], dtype=np.int64)) for x in inputs], dtype=np.int32)
    args = (Arg("const", "copy_sizes"), Arg("tensors", tuple(op.inputs)), *tensor_args(op.outputs[0]))
    return Layer(op, "tg_concat_s8", ConcatParams(outer_size=outer, num_inputs=count), args, {"copy_sizes": copy_sizes})


def concatenation_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    axis = op.options["axis"] % args[0].ndim
    if axis == 0:
        raise TinygenError(f"op {op.index} (CONCATENATION) concatenates along the batch axis")
    batch = max(a.shape[0] for a in args)
    return np.concatenate([np.broadcast_to(a, (batch, *a.shape[1:])) for a in args], axis=axis)


OPS = (
    OpDef(
        "CONCATENATION",
        lower_concatenation,
        notes="up to 10 inputs of equal quantization, rank 1 to 6",
        slots=(ACTIVATION,),
        variadic=True,
        options=Options("ConcatenationOptions", ("axis", "fused_activation_function")),
        float_reference=concatenation_float,
        quantization=Quantization(shared="all"),
    ),
)
