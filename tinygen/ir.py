"""The typed graph IR every stage passes around: tensors, ops and their quantization.

A Graph is plain data: frontends build it, passes read it, nothing in here knows
about files, C or boards. Scales are kept as the float32 values the model stores
(as Python floats), because the reference derives its integer multipliers from
those exact values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# dtype names used throughout tinygen, with their numpy types and sizes.
NUMPY_DTYPES = {
    "int8": np.int8,
    "uint8": np.uint8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "uint32": np.uint32,
    "uint64": np.uint64,
    "float32": np.float32,
    "bool": np.bool_,
    # A resource variable's handle (VAR_HANDLE's output): tflite-micro keeps an int32 id there. The
    # reader resolves handles to variable tensors (frontends/resource_variables.py): none is computed.
    "resource": np.int32,
}

ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6")


@dataclass(frozen=True)
class Quant:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per channel."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1

    @staticmethod
    def per_tensor(scale: float, zero_point: int) -> Quant:
        return Quant((float(np.float32(scale)),), (int(zero_point),))


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    quant: Quant | None = None
    data: np.ndarray | None = None  # constant contents, None for activations
    # State that outlives one inference (TFLite's is_variable): an op updates it in place, and it lives
    # in the persistent state region, not the arena (tinygen/compiler/state.py).
    is_variable: bool = False
    # A variable's value at start and after a reset where it is not tflite-micro's fill for is_variable
    # tensors: a resource variable's, as its CALL_ONCE initialisation assigns it or tflite-micro fills it.
    initial: np.ndarray | None = None

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(NUMPY_DTYPES[self.dtype]).itemsize

    @property
    def scale(self) -> float:
        """The per-tensor scale (activations are always per tensor)."""
        assert self.quant is not None, f"tensor {self.name} is not quantized"
        return self.quant.scale[0]

    @property
    def zero_point(self) -> int:
        assert self.quant is not None, f"tensor {self.name} is not quantized"
        return self.quant.zero_point[0]


@dataclass
class Op:
    index: int
    kind: str  # the TFLite builtin name, e.g. "CONV_2D"
    inputs: tuple[int, ...]  # tensor indices; -1 marks an absent optional input
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Graph:
    tensors: list[Tensor]
    ops: list[Op]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    description: str = ""

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    def op_inputs(self, op: Op) -> list[Tensor | None]:
        return [self.tensors[i] if i >= 0 else None for i in op.inputs]

    def op_outputs(self, op: Op) -> list[Tensor]:
        return [self.tensors[i] for i in op.outputs]

    def op_by_index(self, index: int) -> Op:
        """The op with this index (the file's numbering: ops a pass or the reader removed leave gaps)."""
        return next(op for op in self.ops if op.index == index)

    def producers(self) -> dict[int, Op]:
        return {t: op for op in self.ops for t in op.outputs}
