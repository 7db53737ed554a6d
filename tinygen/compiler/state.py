"""State that outlives one inference: the persistent region, apart from the reused arena.

Two kinds of state, both planned here:
- variable tensors (TFLite's is_variable: SVDF's activation history, an LSTM's cell state): the
  ops that take one read and update it in place on every invoke;
- a kernel's own state buffers, declared by its lowering in Layer.state and passed to the kernel
  as Arg("state", i).
Every slot is alive for the whole program, so each has its own 16-byte-aligned bytes: the region's
size is the sum. tg_model_init() and tg_model_reset_state() set every slot to its reset value:
for a variable tensor what tflite-micro writes when it starts and on reset() (its zero point for
int8, else 0); for a kernel's buffer the value its lowering gave.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..ir import Graph, Tensor
from .layer import LoweredModel

ALIGNMENT = 16


@dataclass(frozen=True)
class StateSlot:
    name: str  # "t4" for a variable tensor, "layer3.noise" for a kernel's buffer
    nbytes: int
    offset: int  # in the state region
    reset: int | np.ndarray  # a byte every byte is set to, or the bytes to copy
    what: str  # for plans and reports; holds names from the model: escape it where it lands


@dataclass(frozen=True)
class StatePlan:
    slots: tuple[StateSlot, ...] = ()
    tensor_offsets: dict[int, int] = field(default_factory=dict)  # variable tensor -> offset
    layer_offsets: dict[tuple[int, int], int] = field(default_factory=dict)  # (layer position, buffer) -> offset

    @property
    def bytes(self) -> int:
        return max((_align(s.offset + s.nbytes) for s in self.slots), default=0)

    def as_json(self) -> list[dict]:
        return [{"name": s.name, "bytes": s.nbytes, "offset": s.offset, "what": s.what} for s in self.slots]


def variable_reset(t: Tensor) -> int | np.ndarray:
    """What a variable starts from and returns to on reset: its `initial` value where it has one (a
    resource variable; a fill byte where all its bytes are one), else the byte tflite-micro fills an
    is_variable tensor with (MicroInterpreterGraph::ResetTensorData): an int8 tensor's zero point, 0
    for every other type."""
    if t.initial is not None:
        raw = np.ascontiguousarray(t.initial).reshape(-1).view(np.uint8)
        return int(raw[0]) if raw.size and (raw == raw[0]).all() else t.initial
    if t.dtype == "int8" and t.quant is not None:
        return t.zero_point & 0xFF
    return 0


def variables(model: LoweredModel) -> list[int]:
    """The variable tensors the layers use, by index."""
    graph = model.graph
    used = {t for layer in model.layers for t in (*layer.op.inputs, *layer.op.outputs) if t >= 0}
    return sorted(t for t in used if graph.tensor(t).is_variable)


def plan_state(model: LoweredModel) -> StatePlan:
    slots: list[StateSlot] = []
    tensor_offsets: dict[int, int] = {}
    layer_offsets: dict[tuple[int, int], int] = {}
    offset = 0

    def place(name: str, nbytes: int, reset: int | np.ndarray, what: str) -> int:
        nonlocal offset
        start = offset
        slots.append(StateSlot(name, nbytes, start, reset, what))
        offset = _align(start + nbytes)
        return start

    graph = model.graph
    for t in variables(model):
        tensor = graph.tensor(t)
        tensor_offsets[t] = place(f"t{t}", tensor.nbytes, variable_reset(tensor), describe_variable(graph, t))
    for position, layer in enumerate(model.layers):
        for i, buffer in enumerate(layer.state):
            what = f"layer {position} ({layer.op.kind}) {buffer.name}"
            layer_offsets[(position, i)] = place(f"layer{position}.{i}", buffer.nbytes, buffer.reset, what)
    return StatePlan(tuple(slots), tensor_offsets, layer_offsets)


def describe_variable(graph: Graph, index: int) -> str:
    t = graph.tensor(index)
    return f'variable t{index} "{t.name}" {t.dtype} {list(t.shape)}'


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
