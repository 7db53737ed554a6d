"""In-place execution: let an op's output overwrite an input that dies at that op.

Two kinds, both declared by the op's record (tinygen/ops):
- `in_place`: element-wise ops whose kernels read element i of the input before writing
  element i of the output (and touch nothing else there): the output simply takes the
  input's storage. It costs nothing, so it is applied wherever it is legal.
- `in_place_variant`: kernel variants that save what they still need in a small scratch
  buffer, applied only where they lower the arena (they cost a copy). Depthwise
  convolution (MIT TinyEngine's trick) saves a few input channels at a time and writes
  those channels' outputs over them; a stride-1 convolution with equal input and output
  shapes keeps a ring of filter-height input rows and writes each output row over its input row.
"""

from __future__ import annotations

import dataclasses

from ..ir import Graph
from ..ops import op_def
from .layer import Layer, LoweredModel, View
from .memory import collect_buffers, plan_memory


def apply_in_place(model: LoweredModel) -> LoweredModel:
    layers = list(model.layers)
    storage = _Storage(model)
    for position, layer in enumerate(layers):
        if op_def(layer.op.kind).in_place and layer.kernel:
            source = _dying_input(model.graph, storage, layer, position, same_shape=True)
            if source is not None:
                layers[position] = dataclasses.replace(layer, views=(View(layer.op.outputs[0], source),))
                storage.merge(layer.op.outputs[0], source)
    # Variants that cost a copy: take each one that does not grow the arena (two in a row
    # may be needed before the peak drops), then drop those the final plan does not need.
    best = LoweredModel(model.graph, layers)
    best_arena = plan_memory(best).arena_bytes
    chosen = []
    for position, layer in enumerate(layers):
        rewrite = _scratch_variant(layer)
        if rewrite is None or _dying_input(best.graph, _Storage(best), layer, position, False) != layer.op.inputs[0]:
            continue
        trial = _with_layer(best, position, rewrite)
        arena = plan_memory(trial).arena_bytes
        if arena <= best_arena:
            best, best_arena = trial, arena
            chosen.append(position)
    for position in chosen:
        trial = _with_layer(best, position, layers[position])
        arena = plan_memory(trial).arena_bytes
        if arena <= best_arena:
            best, best_arena = trial, arena
    return best


def _with_layer(model: LoweredModel, position: int, layer: Layer) -> LoweredModel:
    layers = list(model.layers)
    layers[position] = layer
    return LoweredModel(model.graph, layers)


class _Storage:
    """Which buffer each activation lives in and the last layer that uses each buffer, kept current as
    outputs take their inputs' storage (recomputing every buffer at each layer would cost quadratic
    time, and unrolled loops make long models)."""

    def __init__(self, model: LoweredModel) -> None:
        self.root: dict[int, int] = {}
        self.members: dict[int, set[int]] = {}
        self.last: dict[int, int] = {}
        self.holds_output: dict[int, bool] = {}
        outputs = set(model.graph.outputs)
        for name, buffer in collect_buffers(model).items():
            if not name.startswith("t"):
                continue  # scratch
            root = int(name[1:])
            self.members[root] = set(buffer.tensors)
            self.last[root] = buffer.last
            self.holds_output[root] = bool(self.members[root] & outputs)
            self.root.update(dict.fromkeys(buffer.tensors, root))

    def root_of(self, tensor: int) -> int:
        return self.root.get(tensor, tensor)

    def dies_at(self, tensor: int, position: int) -> bool:
        """Its buffer is planned (not a constant or state), used last here, and holds no model output."""
        root = self.root_of(tensor)
        return self.last.get(root) == position and not self.holds_output[root]

    def merge(self, output: int, source: int) -> None:
        """The output's buffer (with its views) now lives in the source's."""
        old, new = self.root_of(output), self.root_of(source)
        moved = self.members.pop(old)
        self.root.update(dict.fromkeys(moved, new))
        self.members[new] |= moved
        self.last[new] = max(self.last[new], self.last.pop(old))
        self.holds_output[new] = self.holds_output[new] or self.holds_output.pop(old)


def _dying_input(graph: Graph, storage: _Storage, layer: Layer, position: int, same_shape: bool) -> int | None:
    """An activation input of the layer whose storage is not used after it (nor is a model output)."""
    output = graph.tensor(layer.op.outputs[0])
    for t in layer.op.inputs:
        if t < 0 or graph.tensor(t).is_constant:
            continue
        # Another input in the same storage (the same tensor twice, or a view of it) would be
        # overwritten while the kernel still reads it.
        others = [i for i in layer.op.inputs if i >= 0 and i != t] + [t] * (layer.op.inputs.count(t) - 1)
        if any(storage.root_of(i) == storage.root_of(t) for i in others):
            continue
        tensor = graph.tensor(t)
        if tensor.dtype != output.dtype or tensor.nbytes < output.nbytes:
            continue
        if same_shape and tensor.shape != output.shape:
            continue
        if storage.dies_at(t, position):
            return t
    return None


def _scratch_variant(layer: Layer) -> Layer | None:
    """The layer's in-place kernel variant with its scratch size, if its op has one that applies."""
    variant = op_def(layer.op.kind).in_place_variant
    return variant(layer) if variant and layer.kernel else None
