"""How the numpy reference's kernels are found and what they are given.

A kernel is registered for one or more op kinds with @kernel. It is called once per op with a Node
(the op and its graph: tensors, options, constants) and does what tflite-micro's Prepare does: it
checks the op and computes every constant, then returns the Eval step, a function from the op's input
values (None where an optional input is absent) to its output values, which the interpreter stores
in the output tensors' types and shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from ..errors import TinygenError
from ..ir import Graph, Op, Tensor

Values = list[np.ndarray | None]
Eval = Callable[[Values], list[np.ndarray]]
KERNELS: dict[str, Callable[[Node], Eval]] = {}


class NotCovered(TinygenError):
    """The numpy reference cannot run this model (an op, or an op's types, it does not compute)."""


def kernel(*kinds: str):
    def register(prepare: Callable[[Node], Eval]) -> Callable[[Node], Eval]:
        for kind in kinds:
            KERNELS[kind] = prepare
        return prepare

    return register


@dataclass
class Node:
    op: Op
    graph: Graph

    @property
    def kind(self) -> str:
        return self.op.kind

    @property
    def inputs(self) -> list[Tensor | None]:
        return self.graph.op_inputs(self.op)

    @property
    def outputs(self) -> list[Tensor]:
        return self.graph.op_outputs(self.op)

    def input(self, slot: int) -> Tensor | None:
        """Input `slot`, None where it is absent (-1 or past the op's inputs)."""
        return self.inputs[slot] if slot < len(self.op.inputs) else None

    @property
    def output(self) -> Tensor:
        return self.outputs[0]

    def option(self, name: str, default: Any = None) -> Any:
        return self.op.options.get(name, default)

    def constant(self, slot: int) -> np.ndarray:
        """The values of a constant input (a shape, axes, paddings): the reference reads them once."""
        tensor = self.input(slot)
        if tensor is None or not tensor.is_constant:
            self.refuse(f"input {slot} must be a constant")
        return np.asarray(tensor.data)

    def activation(self) -> str:
        activation = self.option("fused_activation_function", "NONE")
        if activation not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
            self.refuse(f"fused activation {activation} is not covered")
        return activation

    def require_types(self, allowed: tuple[str, ...], *tensors: Tensor | None) -> None:
        for tensor in tensors or (self.inputs[0], self.output):
            if tensor is not None and tensor.dtype not in allowed:
                self.refuse(f"{tensor.dtype} tensors are not covered (only {', '.join(allowed)})")

    def quantized(self, tensor: Tensor) -> tuple[float, int]:
        """(scale, zero point) of a per-tensor quantized tensor; tflite-micro reads the first entries."""
        if tensor.quant is None:
            self.refuse(f"tensor {tensor.index} has no quantization")
        return tensor.quant.scale[0], tensor.quant.zero_point[0]

    def refuse(self, why: str) -> NoReturn:
        raise NotCovered(f"the numpy reference does not cover op {self.op.index} ({self.kind}): {why}")

    def fail(self, why: str) -> NoReturn:
        """What tflite-micro's Eval reports as an error for these values."""
        raise TinygenError(f"op {self.op.index} ({self.kind}) fails in the reference: {why}")
