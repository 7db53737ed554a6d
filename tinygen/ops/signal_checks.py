"""What every lowering of tflite-micro's signal-library ops checks: the tensors' counts, types and
ranks as the kernels' Prepare does, and each custom option's range.

The options come from a flexbuffer map in the model file (read by tinygen/frontends/custom_options.py),
so any value is possible: each is checked against the range where the kernel's arithmetic is defined
(a shift of a 32-bit value by 32 or more is undefined in C and C++) before it reaches C.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Op, Tensor
from .checks import require

INT32_MAX = 2**31 - 1


def signal_io(op: Op, graph: Graph, inputs: int, outputs: int) -> tuple[list[Tensor], list[Tensor]]:
    """The op's input and output tensors, as many as tflite-micro's kernel takes."""
    require(
        len(op.inputs) == inputs and len(op.outputs) == outputs and min(op.inputs, default=0) >= 0,
        op,
        f"has {len(op.inputs)} inputs and {len(op.outputs)} outputs; tflite-micro's kernel takes "
        f"{inputs} and {outputs}",
    )
    return [graph.tensor(i) for i in op.inputs], [graph.tensor(i) for i in op.outputs]


def typed(op: Op, t: Tensor, dtype: str, rank: int | None = None) -> Tensor:
    """t, checked to be of dtype (and of rank, where given)."""
    require(t.dtype == dtype, op, f"tensor {t.name} is {t.dtype}; tflite-micro's kernel takes {dtype} there")
    if rank is not None:
        require(len(t.shape) == rank, op, f"tensor {t.name} has rank {len(t.shape)}; the kernel needs {rank}")
    return t


def option(op: Op, key: str, low: int, high: int, why: str = "") -> int:
    """An integer custom option, checked to lie in [low, high]."""
    require(key in op.options, op, f"has no option {key}")
    value = int(op.options[key])
    require(
        low <= value <= high,
        op,
        f"option {key} is {value}; it must be in {low}..{high}" + (f" ({why})" if why else ""),
    )
    return value


def constant_values(op: Op, t: Tensor, what: str) -> np.ndarray:
    """A constant input's values (flattened); tinygen checks what they index at compile time."""
    require(t.is_constant, op, f"{what} {t.name} must be a constant (tinygen checks the indices it holds)")
    return t.data.reshape(-1).astype(np.int64)
