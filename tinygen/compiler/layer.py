"""What lowering produces: one Layer per op, naming a C kernel and its compile-time arguments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ir import Graph, Op


@dataclass(frozen=True)
class Arg:
    """One argument of a kernel call, after the params struct.

    kind "tensor": the storage of a graph tensor (arena, flash, or the state region for a
    variable); "tensors": a const array of pointers to several tensors' storage (ref: a tuple
    of tensor indices); "const": one of the layer's compile-time arrays; "scratch": the layer's
    scratch area in the arena; "state": one of the layer's own state buffers (ref: its index in
    Layer.state), in the state region; "null": an absent optional input (for example a missing bias).
    """

    kind: str
    ref: int | str | tuple[int, ...] | None = None


@dataclass(frozen=True)
class View:
    """An output that lives in a source tensor's storage, `offset` bytes in.

    Without a kernel the view is an alias: the output is those bytes (RESHAPE, SQUEEZE, a
    SPLIT along the outermost axis). With one, the kernel writes its output over its input
    (in-place variants, chosen by the planner where the input dies at that layer)."""

    output: int
    source: int
    offset: int = 0


@dataclass(frozen=True)
class StateBuffer:
    """Bytes a kernel keeps from one invoke to the next (a noise estimate, a ring of past inputs).

    It lives in the persistent state region, apart from the arena; tg_model_init() and
    tg_model_reset_state() set it to `reset`: a byte every byte is set to, or an array whose bytes
    it takes (exactly `nbytes` of them, kept in flash)."""

    name: str  # what it holds, for the plan and the report: "noise_estimate"
    nbytes: int
    reset: int | np.ndarray = 0

    def __post_init__(self) -> None:
        if isinstance(self.reset, np.ndarray) and self.reset.nbytes != self.nbytes:
            raise ValueError(f"state {self.name}: a reset value of {self.reset.nbytes} bytes for {self.nbytes}")


@dataclass
class Layer:
    op: Op
    kernel: str | None  # the C function; None when nothing runs (the outputs are views of inputs)
    params: Any = None  # a frozen dataclass mirroring the kernel's C params struct (C_TYPE), in C_FILE
    args: tuple[Arg, ...] = ()
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    scratch_bytes: int = 0
    views: tuple[View, ...] = ()  # outputs that live in an input's storage
    state: tuple[StateBuffer, ...] = ()  # the kernel's own state, passed as Arg("state", i)

    @property
    def in_place(self) -> bool:
        """A kernel that writes its output over an input."""
        return self.kernel is not None and bool(self.views)

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


def alias(op: Op, source: int | None = None, offset: int = 0) -> Layer:
    """A layer that runs nothing: its output is `source`'s bytes from `offset` (the first input by default)."""
    return Layer(op, None, views=(View(op.outputs[0], op.inputs[0] if source is None else source, offset),))
