"""SUB, SQUARED_DIFFERENCE, MAXIMUM and MINIMUM with numpy broadcasting -> firmware/tg_binary.c.

- SUB: int8 and int16 with ADD's rescaling, the second input subtracted; int32 a - b.
- SQUARED_DIFFERENCE: int8 and int16, the same rescaled difference squared; int32 (a - b)^2.
- MAXIMUM, MINIMUM: int8, int16 and int32 raw values compared, so inputs and output share one
  quantization; float32 too.

The broadcast walk is elementwise.py's. What every op of the family checks and builds (one element
type for all tensors, quantization, activation bounds, the walk's arguments) is here too, for
div.py, prelu.py and elementwise.py's int32 and float32 forms of ADD and MUL.

float32 kernels compute a model's own float arithmetic (tflite-micro's audio preprocessor scales
its features in float): IEEE single precision, one rounding per op as tflite-micro's kernels round,
then the fused activation's bounds as std::min(std::max(x, low), high) applies them (NaN passes,
infinities stop at the largest float when there is no activation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, tensor_args
from ..ir import ACTIVATIONS, Graph, Op, Tensor
from ..quantmath import activation_range, quantize_multiplier
from .checks import int8_io, require, rescale_multiplier
from .elementwise import ADD_LEFT_SHIFT, MAX_BROADCAST_RANK, broadcast_walk, elementwise_macs
from .record import ACTIVATION, OpDef, Options, Quantization

TYPE_RANGES = {"int8": (-128, 127), "int16": (-(2**15), 2**15 - 1), "int32": (-(2**31), 2**31 - 1)}
KERNEL_SUFFIXES = {"int8": "s8", "int16": "s16", "int32": "s32", "float32": "f32"}
FLOAT32_MAX = float(np.finfo(np.float32).max)
# tflite-micro's float bounds of each fused activation (CalculateActivationRange).
FLOAT_ACTIVATIONS = {
    "NONE": (-FLOAT32_MAX, FLOAT32_MAX),
    "RELU": (0.0, FLOAT32_MAX),
    "RELU_N1_TO_1": (-1.0, 1.0),
    "RELU6": (0.0, 6.0),
}
# Both inputs are lifted by 2^LEFT_SHIFT before going to a shared scale: ADD's choice per type.
SUB_LEFT_SHIFTS = {"int8": ADD_LEFT_SHIFT, "int16": 15}
# SQUARED_DIFFERENCE lifts less: 255^2 * 2^(2 * 7) still fits int32 (int16 values need no lift).
SQUARED_DIFFERENCE_LEFT_SHIFTS = {"int8": 7, "int16": 0}


@dataclass(frozen=True)
class MinMaxParams:
    C_TYPE = "tg_minmax_params"
    C_FILE = "tg_binary.c"
    rank: int  # of the merged broadcast shape
    size: int  # output elements


@dataclass(frozen=True)
class Int32ArithParams:
    C_TYPE = "tg_int32_arith_params"
    C_FILE = "tg_binary.c"
    rank: int
    size: int
    act_min: int
    act_max: int


@dataclass(frozen=True)
class FloatArithParams:
    C_TYPE = "tg_float_arith_params"
    C_FILE = "tg_binary.c"
    rank: int
    size: int
    act_min: float
    act_max: float


@dataclass(frozen=True)
class DifferenceParams:
    C_TYPE = "tg_difference_params"
    C_FILE = "tg_binary.c"
    rank: int
    size: int
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
class Walk:
    """The broadcast walk of a binary op: its rank and size, the kernel's arguments and const arrays."""

    rank: int
    size: int
    args: tuple[Arg, ...]
    consts: dict[str, np.ndarray]

    def layer(self, op: Op, kernel: str, params) -> Layer:
        return Layer(op, kernel, params, self.args, self.consts)


def broadcast(op: Op, graph: Graph) -> Walk:
    """Checks that the inputs broadcast to the output and walks them (elementwise.broadcast_walk)."""
    a, b = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1])
    y = graph.tensor(op.outputs[0])
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
    # Measured with the installed build: these ops compute wrongly when they broadcast at rank 8 or more,
    # and some (SUB, DIV, PRELU) even with equal shapes, where ADD and MUL are fine.
    require(
        len(y.shape) <= MAX_BROADCAST_RANK,
        op,
        f"rank {len(y.shape)} is not supported (tflite-micro computes {op.kind} wrongly above rank "
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
    return Walk(len(dims), y.size, args, consts)


def refuse_float(op: Op, graph: Graph, tensors: list[Tensor]) -> None:
    """A float32 op: int8_io explains that tinygen compiles quantized models."""
    if all(t.dtype == "float32" for t in tensors):
        int8_io(op, graph, n_inputs=len(tensors) - 1)


def binary_io(op: Op, graph: Graph, dtypes: tuple[str, ...]) -> tuple[Tensor, Tensor, Tensor]:
    """Both inputs and the output, of one element type among dtypes."""
    a, b = graph.op_inputs(op)[:2]
    y = graph.op_outputs(op)[0]
    require(a is not None and b is not None, op, "missing input")
    if "float32" not in dtypes:
        refuse_float(op, graph, [a, b, y])
    require(y.dtype in dtypes, op, f"output {y.name} is {y.dtype}; {op.kind} takes {' or '.join(dtypes)}")
    require(a.dtype == b.dtype == y.dtype, op, f"inputs of {a.dtype} and {b.dtype} with an output of {y.dtype}")
    return a, b, y


def require_quantized(op: Op, tensors: tuple[Tensor, ...]) -> None:
    """Per-tensor quantization with a positive scale and a zero point of the tensor's type."""
    for t in tensors:
        require(t.quant is not None and not t.quant.per_channel, op, f"tensor {t.name} needs per-tensor quantization")
        require(t.scale > 0, op, f"tensor {t.name} has scale {t.scale}; scales must be positive")
        low, high = TYPE_RANGES[t.dtype]
        require(low <= t.zero_point <= high, op, f"tensor {t.name} has zero point {t.zero_point} outside {t.dtype}")


def require_unquantized(op: Op, tensors: tuple[Tensor, ...]) -> None:
    for t in tensors:
        require(
            t.quant is None,
            op,
            f"tensor {t.name} is quantized; {t.dtype} {op.kind} computes on plain integers (tflite-micro refuses it)",
        )


def activation_bounds(op: Op, y: Tensor) -> tuple[int, int]:
    """The fused activation's clamp in the output's values (plain integers when y is not quantized)."""
    activation = op.options.get("fused_activation_function", "NONE")
    require(activation in ACTIVATIONS, op, f"fused activation {activation} is not supported")
    scale, zero_point = (y.scale, y.zero_point) if y.quant is not None else (1.0, 0)
    return activation_range(activation, scale, zero_point, *TYPE_RANGES[y.dtype])


def int32_layer(op: Op, graph: Graph, kernel: str, act: bool = True) -> Layer:
    """The int32 form of an arithmetic op: no quantization, the fused activation's clamp (if any)."""
    a, b, y = binary_io(op, graph, ("int32",))
    require_unquantized(op, (a, b, y))
    walk = broadcast(op, graph)
    act_min, act_max = activation_bounds(op, y) if act else TYPE_RANGES["int32"]
    return walk.layer(op, f"{kernel}_s32", Int32ArithParams(walk.rank, walk.size, act_min, act_max))


def float_layer(op: Op, graph: Graph, kernel: str, act: bool = True) -> Layer:
    """The float32 form of an arithmetic op (quantization parameters, if any, are ignored as
    tflite-micro ignores them), with the fused activation's float bounds."""
    binary_io(op, graph, ("float32",))
    activation = op.options.get("fused_activation_function", "NONE") if act else "NONE"
    require(activation in FLOAT_ACTIVATIONS, op, f"fused activation {activation} is not supported")
    walk = broadcast(op, graph)
    return walk.layer(op, f"{kernel}_f32", FloatArithParams(walk.rank, walk.size, *FLOAT_ACTIVATIONS[activation]))


def difference_params(
    walk: Walk, a: Tensor, b: Tensor, y: Tensor, left_shift: int, output: tuple[int, int], act: tuple[int, int]
) -> DifferenceParams:
    """Params of a rescaled difference; output is its (multiplier, shift) to the output scale."""
    return DifferenceParams(
        rank=walk.rank,
        size=walk.size,
        input1_offset=-a.zero_point,
        input2_offset=-b.zero_point,
        output_offset=y.zero_point,
        left_shift=left_shift,
        **_shared_scale_multipliers(a, b),
        output_multiplier=output[0],
        output_shift=output[1],
        act_min=act[0],
        act_max=act[1],
    )


def _twice_max_scale(a: Tensor, b: Tensor) -> float:
    return 2.0 * max(a.scale, b.scale)  # in double, from the float32 scales


def _shared_scale_multipliers(a: Tensor, b: Tensor) -> dict[str, int]:
    """Each input to the shared scale, twice the larger input scale (both multipliers are at most 1/2)."""
    m1, s1 = quantize_multiplier(a.scale / _twice_max_scale(a, b))
    m2, s2 = quantize_multiplier(b.scale / _twice_max_scale(a, b))
    return dict(input1_multiplier=m1, input1_shift=s1, input2_multiplier=m2, input2_shift=s2)


def sub_output_multiplier(a: Tensor, b: Tensor, y: Tensor) -> float:
    """SUB's last rescale, from the shared scale to the output's; TFLM aborts unless it is below 1."""
    return _twice_max_scale(a, b) / ((1 << SUB_LEFT_SHIFTS[y.dtype]) * y.scale)


def sub_guard(op: Op, graph: Graph) -> str | None:
    """TFLM's SUB Prepare aborts unless its output multiplier is below 1."""
    a, b, y = (graph.tensor(i) for i in (*op.inputs[:2], op.outputs[0]))
    quantized = y.dtype in SUB_LEFT_SHIFTS and all(t.quant is not None and t.scale > 0 for t in (a, b, y))
    if quantized and sub_output_multiplier(a, b, y) >= 1:
        return "has an output scale too small for its inputs' scales; tflite-micro aborts on that"
    return None


def lower_sub(op: Op, graph: Graph) -> Layer:
    a, b, y = binary_io(op, graph, ("int8", "int16", "int32"))
    if y.dtype == "int32":
        return int32_layer(op, graph, "tg_sub")
    require_quantized(op, (a, b, y))
    real = sub_output_multiplier(a, b, y)
    require(
        real < 1.0,
        op,
        f"output scale {y.scale} is too small for inputs of scale {a.scale} and {b.scale} "
        "(tflite-micro aborts on this model)",
    )
    walk = broadcast(op, graph)
    params = difference_params(
        walk, a, b, y, SUB_LEFT_SHIFTS[y.dtype], quantize_multiplier(real), activation_bounds(op, y)
    )
    return walk.layer(op, f"tg_sub_{KERNEL_SUFFIXES[y.dtype]}", params)


def lower_squared_difference(op: Op, graph: Graph) -> Layer:
    a, b, y = binary_io(op, graph, ("int8", "int16", "int32"))
    if y.dtype == "int32":
        return int32_layer(op, graph, "tg_squared_difference", act=False)
    require_quantized(op, (a, b, y))
    if y.dtype == "int16":
        require(
            a.zero_point == b.zero_point == y.zero_point == 0,
            op,
            "int16 tensors need zero point 0 (tflite-micro refuses others)",
        )
    left_shift = SQUARED_DIFFERENCE_LEFT_SHIFTS[y.dtype]
    real = _twice_max_scale(a, b) ** 2 / ((1 << (2 * left_shift)) * y.scale)
    output = rescale_multiplier(op, real, f"(2 * max({a.scale}, {b.scale}))^2 / {y.scale}")
    walk = broadcast(op, graph)
    params = difference_params(walk, a, b, y, left_shift, output, TYPE_RANGES[y.dtype])
    return walk.layer(op, f"tg_squared_difference_{KERNEL_SUFFIXES[y.dtype]}", params)


def same_quantization(t: Tensor, u: Tensor) -> bool:
    """Equal scale and zero point, or both unquantized."""
    if t.quant is None or u.quant is None:
        return t.quant is None and u.quant is None
    return (t.quant.scale, t.quant.zero_point) == (u.quant.scale, u.quant.zero_point)


def _lower_minmax(kernel: str) -> Callable[[Op, Graph], Layer]:
    def lower(op: Op, graph: Graph) -> Layer:
        a, b, y = binary_io(op, graph, ("int8", "int16", "int32", "float32"))
        require(
            y.dtype == "float32" or (same_quantization(a, y) and same_quantization(b, y)),
            op,
            "inputs and output must share one quantization (tflite-micro compares the raw values)",
        )
        require(y.quant is None or not y.quant.per_channel, op, f"tensor {y.name} needs per-tensor quantization")
        walk = broadcast(op, graph)
        return walk.layer(op, f"{kernel}_{KERNEL_SUFFIXES[y.dtype]}", MinMaxParams(walk.rank, walk.size))

    return lower


def wrap_int32(values: np.ndarray) -> np.ndarray:
    """int64 values modulo 2^32, as the reference's int32 arithmetic wraps."""
    return (values + 2**31) % 2**32 - 2**31


def int32_fold(compute: Callable[[np.ndarray, np.ndarray], np.ndarray | None]):
    """A fold for the int32 form: compute(a, b) on int64 values (None where it cannot), wrapped and clamped."""

    def fold(op: Op, inputs: list[Tensor | None]) -> list[np.ndarray] | None:
        a, b = inputs[:2]
        plain = all(t is not None and t.is_constant and t.dtype == "int32" and t.quant is None for t in (a, b))
        activation = op.options.get("fused_activation_function", "NONE")
        if not plain or activation not in ACTIVATIONS:
            return None
        result = compute(a.data.astype(np.int64), b.data.astype(np.int64))
        if result is None:
            return None
        return [np.clip(wrap_int32(result), *activation_range(activation, 1.0, 0, *TYPE_RANGES["int32"]))]

    return fold


def _minmax_fold(compare: Callable[[np.ndarray, np.ndarray], np.ndarray]):
    def fold(op: Op, inputs: list[Tensor | None]) -> list[np.ndarray] | None:
        a, b = inputs[:2]
        if a is None or b is None or not (a.is_constant and b.is_constant) or a.dtype != b.dtype:
            return None
        return [compare(a.data, b.data)]

    return fold


def _binary(fn):
    return lambda op, args, out: fn(args[0], args[1])


OPS = (
    OpDef(
        "SUB",
        lower_sub,
        notes="int8, int16 (ADD's rescaling), int32; broadcasting up to rank 7",
        slots=(ACTIVATION, ACTIVATION),
        options=Options("SubOptions", ("fused_activation_function",)),
        macs=elementwise_macs,
        float_reference=_binary(np.subtract),
        in_place=True,
        reference_guard=sub_guard,
        fold=int32_fold(np.subtract),
    ),
    OpDef(
        "SQUARED_DIFFERENCE",
        lower_squared_difference,
        notes="int8, int16 (zero points 0), int32; broadcasting up to rank 7",
        slots=(ACTIVATION, ACTIVATION),
        options=Options("SquaredDifferenceOptions"),
        macs=elementwise_macs,
        float_reference=_binary(lambda a, b: (a - b) ** 2),
        in_place=True,
        fold=int32_fold(lambda a, b: wrap_int32(a - b) ** 2),
    ),
    OpDef(
        "MAXIMUM",
        _lower_minmax("tg_maximum"),
        notes="int8, int16, int32 (inputs and output share quantization), float32; broadcasting up to rank 7",
        slots=(ACTIVATION, ACTIVATION),
        options=Options("MaximumMinimumOptions"),
        macs=elementwise_macs,
        float_reference=_binary(np.maximum),
        quantization=Quantization(shared="all"),
        in_place=True,
        fold=_minmax_fold(np.maximum),
    ),
    OpDef(
        "MINIMUM",
        _lower_minmax("tg_minimum"),
        notes="int8, int16, int32 (inputs and output share quantization), float32; broadcasting up to rank 7",
        slots=(ACTIVATION, ACTIVATION),
        options=Options("MaximumMinimumOptions"),
        macs=elementwise_macs,
        float_reference=_binary(np.minimum),
        quantization=Quantization(shared="all"),
        in_place=True,
        fold=_minmax_fold(np.minimum),
    ),
)
