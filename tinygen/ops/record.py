"""The op record: everything tinygen knows about one TFLite op, in one place.

Each module in tinygen/ops/ exports OPS, a tuple of OpDef records, one per TFLite op it
handles. Every stage that needs per-op knowledge asks the registry (tinygen.ops.REGISTRY)
instead of keeping a table of its own:

| field             | used by                                                        |
|-------------------|----------------------------------------------------------------|
| options           | the .tflite reader and writer (which options table, which fields) |
| slots             | the quantizer (which input is the weight, the bias), in-place rewrites, inspect |
| optional_inputs, outputs | the validator: how many inputs and outputs the op may have  |
| lower             | lowering: the C kernel call, its params struct, compile-time constants |
| macs              | inspect, plan and profile reports                              |
| float_reference   | the quantizer's float executor (calibration, simulated int8)   |
| quantization      | the quantizer: shared or fixed output parameters, weight axis  |
| in_place          | the in-place pass: element-wise output may take a dying input's storage |
| variants          | the in-place pass and the variant choice: other kernels for the layer |
| reference_guard   | verify: models known to crash the reference interpreter are refused |
| notes             | the README's ops table (scripts/update-docs.py)                |
| fold              | constant folding: the op evaluated exactly at compile time      |
| float_exact       | float islands: tflite-micro's float kernel, reproduced bit for bit |
| activates_output  | the float executor: the fused activation applies to the outputs |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..compiler.layer import Layer
    from ..ir import Graph, Op, Tensor

# The role of an input slot.
ACTIVATION = "activation"  # computed on the device (or a model input)
WEIGHTS = "weights"  # a constant filter, quantized symmetric int8 along the record's weight axis
BIAS = "bias"  # a constant int32 vector at input scale x weight scale
PARAM = "param"  # a constant that configures the op: a shape, axes, paddings, a pad value
ROLES = (ACTIVATION, WEIGHTS, BIAS, PARAM)


@dataclass(frozen=True)
class Options:
    """The op's TFLite options table and the fields tinygen reads (snake_case, as in the schema):
    scalars (enums by name, see tinygen/frontends/tflite_schema.py) and int vectors (as tuples).
    A custom op (kind "CUSTOM:<code>") has no table: `flexbuffer` names the keys of the flexbuffer
    map in its custom_options, in the map's (sorted) order (tinygen/frontends/custom_options.py)."""

    table: str | None = None
    fields: tuple[str, ...] = ()
    vectors: tuple[str, ...] = ()
    flexbuffer: tuple[str, ...] = ()


@dataclass(frozen=True)
class Quantization:
    """How the quantizer chooses the int8 parameters around a float op.

    shared: "none" (the output gets its own range), "first" (the output shares the first
    input's parameters: the op moves values without rescaling them), or "all" (every
    activation input and the output share one set). fixed_output: (scale, zero point) the
    int8 kernel requires of its output. weight_axis: the output-channel axis of the WEIGHTS slot.
    bias_required: the int8 op needs a BIAS input even where the float one has none (tflite-micro's
    depthwise kernel crashes without), so the quantizer adds a zero bias.
    """

    shared: str = "none"
    fixed_output: tuple[float, int] | None = None
    weight_axis: int | None = None
    bias_required: bool = False
    # The int8 graph computes the op as another: op -> (kind, inputs, options) (SQUARE as MUL(x, x)).
    rewrite: Callable[[Op], tuple[str, tuple[int, ...], dict]] | None = None
    # The int8 op's inputs, for an op whose operands follow rules of their own (SVDF's int16 memory and
    # time weights): (the quantizer's rewrite, op) -> the input tensor indices in the int8 graph. The
    # rewrite offers activation(i), ranges (the calibrated (low, high) of each activation) and the builder b.
    operands: Callable[[Any, Op], list[int]] | None = None


def no_macs(op: Op, graph: Graph) -> int:
    return 0


@dataclass(frozen=True)
class OpDef:
    name: str  # the TFLite builtin op name
    lower: Callable[[Op, Graph], Layer]
    slots: tuple[str, ...] = (ACTIVATION,)  # role of each input slot
    variadic: bool = False  # the last slot's role repeats (CONCATENATION)
    # The input slots that may be -1 or, at the end, left out (a bias, RESHAPE's shape, an LSTM's peepholes).
    optional_inputs: tuple[int, ...] = ()
    outputs: int | None = 1  # how many outputs; None where the options say (SPLIT, UNPACK)
    options: Options = field(default_factory=Options)
    macs: Callable[[Op, Graph], int] = no_macs
    # (op, input values with constants as real numbers, first output tensor) -> the float output, batch
    # first (a list of them for ops with several outputs)
    float_reference: Callable[[Op, list, Tensor], np.ndarray] | None = None
    quantization: Quantization = field(default_factory=Quantization)
    # The kernel reads input element i before writing output element i and nothing after it,
    # so the output may live in a same-shaped input that dies here.
    in_place: bool = False
    # Other kernels for a lowered layer, with the same results and other instructions or memory: in place
    # over its first input (views set), with or without scratch. The compiler chooses among the lowered
    # layer and these (tinygen/compiler/optimize.py); () where none applies.
    variants: Callable[[Layer], tuple[Layer, ...]] | None = None
    # Why tflite-micro would crash (not just fail) on this op, or None: verify refuses such models.
    reference_guard: Callable[[Op, Graph], str | None] | None = None
    notes: str = ""  # one line for the README's ops table: what is supported, how it runs
    # Exact evaluation at compile time: (op, its input tensors, None where absent) -> each output's
    # values, or None when it needs values that are not constants. See tinygen/compiler/fold.py.
    # Where the values depend on the output tensor (its type, its quantization: QUANTIZE, CAST), an
    # output's entry may be a function of that tensor giving them.
    fold: Callable[[Op, list[Tensor | None]], list[np.ndarray] | None] | None = None
    # tflite-micro's float32 kernel for the op, exactly (float32 in, float32 out, the same C library
    # calls): where a converter left the op in float between a DEQUANTIZE and a QUANTIZE, tinygen
    # computes that whole island as one int8 table (tinygen/compiler/islands.py).
    float_exact: Callable[[np.ndarray], np.ndarray] | None = None
    internal: bool = False  # a tinygen op that no .tflite file holds (made by a compiler pass)
    # The float executor applies the fused activation option to the float reference's outputs, except
    # where the option is the op's own inner activation (an LSTM's cell activation).
    activates_output: bool = True

    def __post_init__(self) -> None:
        unknown = set(self.slots) - set(ROLES)
        if unknown:
            raise ValueError(f"{self.name}: unknown slot roles {sorted(unknown)}")

    def role(self, slot: int) -> str | None:
        """The role of input slot `slot`, or None past the op's slots."""
        if slot < len(self.slots):
            return self.slots[slot]
        return self.slots[-1] if self.variadic and self.slots else None

    def slot_of(self, role: str) -> int | None:
        """The first input slot with this role."""
        return self.slots.index(role) if role in self.slots else None
