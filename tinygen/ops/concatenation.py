"""CONCATENATION -> tg_concat_s8 (tg_concat_s32, tg_concat_f32 for int32 and float32): interleaved
copies, no rescaling.

Seen as [outer, axis..inner] blocks, the output repeats, for each outer index, one
block from each input in turn; each input's block size is fixed at compile time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, tensor_args
from ..errors import TinygenError
from ..ir import Graph, Op, Tensor
from .checks import int8_io, refuse_float, require
from .record import ACTIVATION, OpDef, Options, Quantization

# TFLM's limits (concatenation.cc in the installed build).
MAX_INPUTS = 10
MAX_RANK = 6
# Element types with a kernel; int8 inputs must share the output's quantization (a copy cannot rescale).
KERNELS = {"int8": "tg_concat_s8", "int32": "tg_concat_s32", "float32": "tg_concat_f32"}


@dataclass(frozen=True)
class ConcatParams:
    C_TYPE = "tg_concat_params"
    C_FILE = "tg_concat.c"
    outer_size: int
    num_inputs: int


def lower_concatenation(op: Op, graph: Graph) -> Layer:
    count = len(op.inputs)
    require(1 <= count <= MAX_INPUTS, op, f"concatenates 1 to {MAX_INPUTS} inputs, not {count}")
    inputs, y = _io(op, graph, count)
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
        if y.dtype == "int8":
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
    params = ConcatParams(outer_size=outer, num_inputs=count)
    return Layer(op, KERNELS[y.dtype], params, args, {"copy_sizes": copy_sizes})


def _io(op: Op, graph: Graph, count: int) -> tuple[list[Tensor], Tensor]:
    """The inputs and the output: int8 (quantized), or all int32, or all float32 as a model computes them."""
    y = graph.tensor(op.outputs[0])
    if y.dtype == "int8":
        return int8_io(op, graph, n_inputs=count)
    inputs = graph.op_inputs(op)[:count]
    require(all(x is not None for x in inputs), op, "missing input")
    if y.dtype == "float32" and any(x.dtype != "float32" for x in inputs):
        refuse_float(op, y)
    require(y.dtype in KERNELS, op, f"output {y.name} is {y.dtype}; tinygen concatenates {', '.join(KERNELS)}")
    for x in inputs:
        require(x.dtype == y.dtype, op, f"input {x.name} is {x.dtype} and the output {y.dtype}")
    return inputs, y


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
        notes="int8 (inputs of equal quantization), int32, float32; up to 10 inputs, rank 1 to 6",
        slots=(ACTIVATION,),
        variadic=True,
        options=Options("ConcatenationOptions", ("axis", "fused_activation_function")),
        float_reference=concatenation_float,
        quantization=Quantization(shared="all"),
    ),
)
