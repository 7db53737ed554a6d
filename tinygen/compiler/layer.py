"""What lowering produces: one Layer per op, naming a C kernel and its compile-time arguments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ir import Graph, Op


@dataclass(frozen=True)
class Arg:
    """One argument of a kernel call, after the params struct.

    kind "tensor": the storage of a graph tensor (arena or flash); "tensors": a const
    array of pointers to several tensors' storage (ref: a tuple of tensor indices);
    "const": one of the layer's compile-time arrays; "scratch": the layer's scratch area
    in the arena; "null": an absent optional input (for example a missing bias).
    """

    kind: str
    ref: int | str | tuple[int, ...] | None = None


@dataclass
class Layer:
    op: Op
    kernel: str | None  # the C function; None when nothing runs (RESHAPE: the output is the input)
    params: Any = None  # a frozen dataclass mirroring the kernel's C params struct (C_TYPE), in C_FILE
    args: tuple[Arg, ...] = ()
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    scratch_bytes: int = 0
    # A tensor index: the output lives in that input's storage (RESHAPE always; in-place
    # kernels when the planner finds it lowers the peak and the input dies here).
    shares_storage_with: int | None = None

    def tensor_refs(self) -> list[int]:
        """Every tensor the kernel call points at, in argument order."""
        refs: list[int] = []
        for arg in self.args:
            refs += [arg.ref] if arg.kind == "tensor" else list(arg.ref) if arg.kind == "tensors" else []
        return refs


@dataclass
class LoweredModel:
    graph: Graph
    layers: list[Layer]

    @property
    def kernels(self) -> list[str]:
        return sorted({layer.kernel for layer in self.layers if layer.kernel})


def tensor_args(*indices: int) -> tuple[Arg, ...]:
    return tuple(Arg("tensor", i) if i >= 0 else Arg("null") for i in indices)
