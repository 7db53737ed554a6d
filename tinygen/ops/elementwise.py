"""ADD and MUL with numpy broadcasting -> tg_add_s8, tg_mul_s8 (tg_add_s16, tg_mul_s16 on int16);
their int32 and float32 forms are binary.py's (tg_add_s32, tg_mul_f32, ...).

Broadcasting is resolved here: the output shape is walked in row-major order, and
each input gets one stride per dimension (0 where it is broadcast). Runs of
dimensions that every input walks contiguously are merged first, so the C loop
usually sees one or two dimensions.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, tensor_args
from ..ir import Graph, Op, Tensor
from ..quantmath import quantize_multiplier
from .checks import require, rescale_multiplier
from .int16 import activation_bounds, activation_io, require_zero_points
from .record import ACTIVATION, OpDef, Options

# TFLM computes wrong results when it has to broadcast at rank 8 or more (measured
# with the installed build); shapes that are equal up to leading 1s work at any rank,
# and merge to one dimension. This is also the C walk's bound, TG_BROADCAST_MAX_RANK.
MAX_BROADCAST_RANK = 7
# ADD lifts both inputs by 2^20 before rescaling them to a common scale (TFLM's int8 choice);
# int16 inputs by 2^15.
ADD_LEFT_SHIFT = 20
ADD_LEFT_SHIFT_S16 = 15
# int8 ADDs of at least this many elements take their second input's contribution from a table of
# 256 words in flash (add_table): about five instructions an element fewer for 1 KB.
ADD_TABLE_MIN_SIZE = 256


@dataclass(frozen=True)
class AddParams:
    C_TYPE = "tg_add_params"
    C_FILE = "tg_elementwise.c"
    rank: int  # of the merged broadcast shape
    size: int  # output elements
    input1_offset: int
    input2_offset: int
    output_offset: int
    left_shift: int
    input1_multiplier: int
    input1_shift: int
    input2_multiplier: int
    input2_shift: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int


@dataclass(frozen=True)
class MulParams:
    C_TYPE = "tg_mul_params"
    C_FILE = "tg_elementwise.c"
    rank: int
    size: int
    input1_offset: int
    input2_offset: int
    output_offset: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int


def broadcast_walk(
    shape1: tuple[int, ...], shape2: tuple[int, ...], out_shape: tuple[int, ...]
) -> tuple[list[int], list[int], list[int]]:
    """(shape, strides1, strides2) walking out_shape row-major, with each input's element strides."""
    rank = len(out_shape)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in (shape1, shape2)]
    dims, strides = [], ([], [])
    for d, extent in enumerate(out_shape):
        if extent == 1:
            continue  # a size-1 output dimension moves nothing
        dims.append(extent)
        for k, shape in enumerate(padded):
            strides[k].append(0 if shape[d] == 1 else int(np.prod(shape[d + 1 :], dtype=np.int64)))
    # Merge dimension d into d + 1 where stepping d is stepping d + 1 all the way, for both inputs.
    d = len(dims) - 2
    while d >= 0:
        if all(s[d] == s[d + 1] * dims[d + 1] for s in strides):
            dims[d : d + 2] = [dims[d] * dims[d + 1]]
            for s in strides:
                del s[d]
        d -= 1
    if not dims:
        return [1], [0], [0]
    return dims, strides[0], strides[1]


def _broadcast(op: Op, graph: Graph):
    (a, b), y = activation_io(op, graph, n_inputs=2)
    try:
        expected = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        expected = None
    require(
        expected == tuple(y.shape),
        op,
        f"input shapes {a.shape} and {b.shape} do not broadcast to the output shape {y.shape}",
    )
    require(y.size > 0, op, "has an empty output")
    rank = len(y.shape)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in (a.shape, b.shape)]
    require(
        padded[0] == padded[1] or rank <= MAX_BROADCAST_RANK,
        op,
        f"broadcasting at rank {rank} is not supported (tflite-micro computes it wrongly above rank "
        f"{MAX_BROADCAST_RANK})",
    )
    dims, strides1, strides2 = broadcast_walk(a.shape, b.shape, y.shape)
    consts = {
        name: np.array(v, dtype=np.int32)
        for name, v in (("shape", dims), ("strides1", strides1), ("strides2", strides2))
    }
    args = (
        Arg("const", "shape"),
        Arg("const", "strides1"),
        Arg("const", "strides2"),
        *tensor_args(op.inputs[0], op.inputs[1], op.outputs[0]),
    )
    act_min, act_max = activation_bounds(op, y)
    common = dict(
        rank=len(dims),
        size=y.size,
        input1_offset=-a.zero_point,
        input2_offset=-b.zero_point,
        output_offset=y.zero_point,
        act_min=act_min,
        act_max=act_max,
    )
    return a, b, y, common, args, consts


def add_output_multiplier(scale1: float, scale2: float, output_scale: float, left_shift: int = ADD_LEFT_SHIFT) -> float:
    """ADD's last rescale, from the inputs' shared scale (twice the larger) to the output's.
    TFLM aborts the process unless it is below 1."""
    return 2.0 * max(scale1, scale2) / ((1 << left_shift) * output_scale)


def _add_left_shift(output: Tensor) -> int:
    return ADD_LEFT_SHIFT_S16 if output.dtype == "int16" else ADD_LEFT_SHIFT


def _plain_form(op: Op, graph: Graph, kernel: str, int32_activation: bool) -> Layer | None:
    """The int32 or float32 form of ADD or MUL (no quantization), None for the quantized ones."""
    from . import binary  # binary.py builds on this module: imported here, not at the top

    dtype = graph.tensor(op.outputs[0]).dtype
    if dtype == "float32":
        return binary.float_layer(op, graph, kernel)
    if dtype == "int32":
        return binary.int32_layer(op, graph, kernel, act=int32_activation)
    return None


def lower_add(op: Op, graph: Graph) -> Layer:
    # tflite-micro's int32 ADD clamps to the int32 range whatever its fused activation.
    plain = _plain_form(op, graph, "tg_add", int32_activation=False)
    if plain is not None:
        return plain
    a, b, y, common, args, consts = _broadcast(op, graph)
    # TFLM's Prepare, in double: both inputs go to a scale of twice the larger one, then to the output's.
    twice_max = 2.0 * max(a.scale, b.scale)
    left_shift = _add_left_shift(y)
    output_real = add_output_multiplier(a.scale, b.scale, y.scale, left_shift)
    require(
        output_real < 1.0,
        op,
        f"output scale {y.scale} is too small for inputs of scale {a.scale} and "
        f"{b.scale} (tflite-micro aborts on this model)",
    )
    m1, s1 = quantize_multiplier(a.scale / twice_max)
    m2, s2 = quantize_multiplier(b.scale / twice_max)
    mo, so = quantize_multiplier(output_real)
    params = AddParams(
        left_shift=left_shift,
        input1_multiplier=m1,
        input1_shift=s1,
        input2_multiplier=m2,
        input2_shift=s2,
        output_multiplier=mo,
        output_shift=so,
        **common,
    )
    if y.dtype == "int16":
        return Layer(op, "tg_add_s16", params, args, consts)
    table = add_table(params) if y.size >= ADD_TABLE_MIN_SIZE else None
    if table is not None:
        consts["table"] = table
    *walk, in1, in2, out = args
    table_arg = Arg("const", "table") if table is not None else Arg("null")
    return Layer(op, "tg_add_s8", params, (*walk, table_arg, in1, in2, out), consts)


def _smmulr(a: int, b: int) -> int:
    """SMMULR: the high word of a * b, rounded (+ 2^31 before the shift)."""
    return (a * b + (1 << 31)) >> 32


def add_table(p: AddParams) -> np.ndarray | None:
    """tg_add_s8's table where its fast path holds (the conditions of add_fast_of in
    firmware/tg_elementwise.c): entry y + 128 is what that path adds to x 2^20 for the other
    input's value y (x: the input lifted exactly): the exact input's offset 2^20 plus the other's
    lifted value, doubled. None where the fast path does not hold."""
    inputs = ((p.input1_multiplier, p.input1_shift), (p.input2_multiplier, p.input2_shift))
    exact = [(m, s) == (1 << 30, 0) for m, s in inputs]
    out_r = -p.output_shift
    if p.left_shift != ADD_LEFT_SHIFT or not any(exact) or p.output_multiplier <= 0 or not 1 <= out_r <= 23:
        return None
    x_offset, y_offset = (p.input1_offset, p.input2_offset) if exact[0] else (p.input2_offset, p.input1_offset)
    y = np.arange(-128, 128, dtype=np.int64)
    if all(exact):
        lifted = (y + y_offset) << 20
    else:
        m, s = (p.input2_multiplier, p.input2_shift) if exact[0] else (p.input1_multiplier, p.input1_shift)
        if m <= 0 or not -31 <= s <= -1:
            return None
        r = -s
        b = np.array([_smmulr(int(v) << 21, m) for v in y + y_offset], dtype=np.int64)
        lifted = 2 * ((b + (b >> 31) + (1 << (r - 1))) >> r)
    return (lifted + (x_offset << 20)).astype(np.int32)


def lower_mul(op: Op, graph: Graph) -> Layer:
    plain = _plain_form(op, graph, "tg_mul", int32_activation=True)
    if plain is not None:
        return plain
    a, b, y, common, args, consts = _broadcast(op, graph)
    if y.dtype == "int16":
        require_zero_points(op, [a, b, y], "tflite-micro's int16 MUL requires it")
    multiplier, shift = rescale_multiplier(op, a.scale * b.scale / y.scale, f"{a.scale} * {b.scale} / {y.scale}")
    params = MulParams(output_multiplier=multiplier, output_shift=shift, **common)
    return Layer(op, _kernel("tg_mul", y), params, args, consts)


def _kernel(name: str, output: Tensor) -> str:
    return f"{name}_s16" if output.dtype == "int16" else f"{name}_s8"


def elementwise_macs(op: Op, graph: Graph) -> int:
    return graph.tensor(op.outputs[0]).size


def add_guard(op: Op, graph: Graph) -> str | None:
    """TFLM's ADD Prepare aborts unless its output multiplier is below 1."""
    tensors = [graph.tensor(i) for i in (*op.inputs[:2], op.outputs[0])]
    if not all(t.quant is not None for t in tensors):
        return None
    if add_output_multiplier(*(t.scale for t in tensors), _add_left_shift(tensors[2])) >= 1:
        return "has an output scale too small for its inputs' scales; tflite-micro aborts on that"
    return None


def _binary(fn):
    return lambda op, args, out: fn(args[0], args[1])


def _int32_fold(compute, activation: bool):
    """The int32 form folded (a loop counter's step): binary.py's fold, with the fused activation's
    clamp where the kernel applies it (MUL; tflite-micro's int32 ADD clamps to the int32 range only)."""

    def fold(op: Op, inputs: list[Tensor | None]) -> list[np.ndarray] | None:
        from .binary import int32_fold  # binary.py builds on this module: imported here, not at the top

        return int32_fold(compute)(op if activation else dataclasses.replace(op, options={}), inputs)

    return fold


OPS = (
    OpDef(
        "ADD",
        lower_add,
        notes="int8 and int16, int32 and float32, with TFLM's broadcasting (up to rank 7)",
        slots=(ACTIVATION, ACTIVATION),
        options=Options("AddOptions", ("fused_activation_function",)),
        macs=elementwise_macs,
        float_reference=_binary(np.add),
        in_place=True,
        reference_guard=add_guard,
        fold=_int32_fold(np.add, activation=False),
    ),
    OpDef(
        "MUL",
        lower_mul,
        notes="int8 and int16, int32 and float32, with TFLM's broadcasting (up to rank 7)",
        slots=(ACTIVATION, ACTIVATION),
        options=Options("MulOptions", ("fused_activation_function",)),
        macs=elementwise_macs,
        float_reference=_binary(np.multiply),
        in_place=True,
        fold=_int32_fold(np.multiply, activation=True),
    ),
)
