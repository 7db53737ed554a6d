"""tflite-micro's float32 element-wise kernels, with the same float32 operations: expf, expm1f and
logf from the C library (as the interpreter calls them), IEEE square root and division.

EXP, LOG, NEG, SQRT and SQUARE have only these kernels; ABS, RSQRT and ELU also have int8 ones
(activations.py), which hand float32 tensors to float_kernel."""

from __future__ import annotations

import numpy as np

from ..ops.libm import apply
from .registry import Node, kernel

FUNCTIONS = {
    "EXP": lambda x: apply("expf", x),
    "LOG": lambda x: apply("logf", x),
    "NEG": np.negative,
    "SQRT": np.sqrt,  # IEEE square root is correctly rounded, as sqrtf is
    "SQUARE": lambda x: x * x,
    "ABS": np.abs,
    "RSQRT": lambda x: np.float32(1.0) / np.sqrt(x),
    "ELU": lambda x: np.where(x < 0, apply("expm1f", np.minimum(x, 0)), x),
}
FLOAT_ONLY = ("EXP", "LOG", "NEG", "SQRT", "SQUARE")


@kernel(*FLOAT_ONLY)
def float_kernel(node: Node):
    node.require_types(("float32",))
    function = FUNCTIONS[node.kind]

    def run(values):
        with np.errstate(all="ignore"):
            return [np.asarray(function(values[0].astype(np.float32)), np.float32)]

    return run
