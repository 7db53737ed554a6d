"""SQUARE, NEG, EXP, LOG, SQRT: ops tflite-micro runs in float32 only.

tinygen compiles int8 models, so these have no kernel of their own. Converters leave them in float
between a DEQUANTIZE and a QUANTIZE (a "float island"), and there tinygen computes the island as
one int8 table from tflite-micro's float kernels, reproduced here exactly (float_exact; see
tinygen/compiler/islands.py). Anywhere else they are refused. SQUARE also quantizes: the
quantizer writes it as MUL(x, x), which tflite-micro runs in int8.
"""

from __future__ import annotations

import numpy as np

from ..compiler.layer import Layer
from ..ir import Graph, Op, Tensor
from .checks import require
from .libm import apply
from .record import OpDef, Quantization


def lower_float_only(op: Op, graph: Graph) -> Layer:
    require(
        False,
        op,
        f"tflite-micro runs {op.kind} in float32 only; tinygen compiles it between a DEQUANTIZE and a QUANTIZE "
        "of int8 tensors (as a table), not here",
    )


def _f32(fn):
    def exact(x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(fn(np.asarray(x, np.float32)), np.float32)

    return exact


def square_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    return args[0] * args[0]


def square_as_mul(op: Op) -> tuple[str, tuple[int, ...], dict]:
    return "MUL", (op.inputs[0], op.inputs[0]), {"fused_activation_function": "NONE"}


_NOTE = "float32 in tflite-micro: compiled only as part of a float island (one int8 table)"
OPS = (
    OpDef(
        "SQUARE",
        lower_float_only,
        notes="float32 in tflite-micro: a float island's table; quantized as MUL(x, x)",
        float_reference=square_float,
        quantization=Quantization(rewrite=square_as_mul),
        float_exact=_f32(lambda x: x * x),
    ),
    OpDef("NEG", lower_float_only, notes=_NOTE, float_exact=_f32(np.negative)),
    OpDef("EXP", lower_float_only, notes=_NOTE, float_exact=lambda x: apply("expf", x)),
    OpDef("LOG", lower_float_only, notes=_NOTE, float_exact=lambda x: apply("logf", x)),
    OpDef("SQRT", lower_float_only, notes=_NOTE, float_exact=_f32(np.sqrt)),  # IEEE sqrt is exact
)
