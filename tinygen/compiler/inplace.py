"""In-place execution: let an op's output overwrite an input that dies at that op.

Two kinds, both declared by the op's record (tinygen/ops):
- `in_place`: element-wise ops whose kernels read element i of the input before writing
  element i of the output (and touch nothing else there): the output simply takes the
  input's storage. It costs nothing, so it is applied wherever it is legal (`alias_elementwise`).
- `variants`: other kernels for a layer, some writing over their first input with a small
  scratch buffer for what they still need. Depthwise convolution (MIT TinyEngine's trick) saves
  a few input channels at a time and writes those channels' outputs over them; a stride-1
  convolution with equal input and output shapes keeps a ring of filter-height input rows and
  writes each output row over its input row. `smallest_arena` takes the variants that give the
  smallest arena (the memory end); tinygen/compiler/optimize.py walks from there towards speed.
"""

from __future__ import annotations

import dataclasses

from ..ir import Graph
from ..ops import op_def
from .layer import Layer, LoweredModel, View
from .memory import collect_buffers, plan_memory


def apply_in_place(model: LoweredModel) -> LoweredModel:
    """Element-wise aliasing, then the variants with the smallest arena."""
    return smallest_arena(alias_elementwise(model))


def alias_elementwise(model: LoweredModel) -> LoweredModel:
    layers = list(model.layers)
    storage = _Storage(model)
    for position, layer in enumerate(layers):
        if op_def(layer.op.kind).in_place and layer.kernel:
            source = _dying_input(model.graph, storage, layer, position, same_shape=True)
            if source is not None:
                layers[position] = dataclasses.replace(layer, views=(View(layer.op.outputs[0], source),))
                storage.merge(layer.op.outputs[0], source)
    return LoweredModel(model.graph, layers)


def smallest_arena(model: LoweredModel) -> LoweredModel:
    """Each layer's variant with the smallest arena: take each that does not grow it (two in a row
    may be needed before the peak drops), then restore the lowered kernel where the final plan does
    not need the variant."""
    best = model
    best_arena = plan_memory(best).arena_bytes
    chosen = []
    for position, layer in enumerate(model.layers):
        for variant in layer_variants(layer):
            if not legal(with_layer(best, position, layer), position, variant):
                continue
            trial = with_layer(best, position, variant)
            arena = plan_memory(trial).arena_bytes
            if arena <= best_arena:
                best, best_arena = trial, arena
                chosen.append(position)
    for position in chosen:
        trial = with_layer(best, position, model.layers[position])
        arena = plan_memory(trial).arena_bytes
        if arena <= best_arena:
            best, best_arena = trial, arena
    return best


def layer_variants(layer: Layer) -> tuple[Layer, ...]:
    """The other kernels the layer's record offers for it."""
    record = op_def(layer.op.kind)  # None for a layer lowered by hand (a test's own kernel)
    return record.variants(layer) if record and record.variants and layer.kernel else ()


def legal(model: LoweredModel, position: int, layer: Layer) -> bool:
    """Whether `layer` may run at `position`: a kernel writing over its first input needs that input
    to die there."""
    if not layer.in_place:
        return True
    return _dying_input(model.graph, _Storage(model), layer, position, same_shape=False) == layer.op.inputs[0]


def with_layer(model: LoweredModel, position: int, layer: Layer) -> LoweredModel:
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
