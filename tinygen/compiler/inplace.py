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

from ..ops import op_def
from .layer import Layer, LoweredModel, View
from .memory import collect_buffers, plan_memory, storage_roots


def apply_in_place(model: LoweredModel) -> LoweredModel:
    layers = list(model.layers)
    for position, layer in enumerate(layers):
        if op_def(layer.op.kind).in_place and layer.kernel:
            source = _dying_input(LoweredModel(model.graph, layers), position, same_shape=True)
            if source is not None:
                layers[position] = dataclasses.replace(layer, views=(View(layer.op.outputs[0], source),))
    # Variants that cost a copy: take each one that does not grow the arena (two in a row
    # may be needed before the peak drops), then drop those the final plan does not need.
    best = LoweredModel(model.graph, layers)
    best_arena = plan_memory(best).arena_bytes
    chosen = []
    for position, layer in enumerate(layers):
        rewrite = _scratch_variant(layer)
        if rewrite is None or _dying_input(best, position, same_shape=False) != layer.op.inputs[0]:
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


def _dying_input(model: LoweredModel, position: int, same_shape: bool) -> int | None:
    """An activation input of the layer whose storage is not used after it (nor is a model output)."""
    graph, layer = model.graph, model.layers[position]
    output = graph.tensor(layer.op.outputs[0])
    roots = storage_roots(model)
    buffers = {t: b for b in collect_buffers(model).values() for t in b.tensors}
    for t in layer.op.inputs:
        if t < 0 or graph.tensor(t).is_constant:
            continue
        # Another input in the same storage (the same tensor twice, or a view of it) would be
        # overwritten while the kernel still reads it.
        others = [i for i in layer.op.inputs if i >= 0 and i != t] + [t] * (layer.op.inputs.count(t) - 1)
        if any(roots.get(i, i) == roots.get(t, t) for i in others):
            continue
        tensor = graph.tensor(t)
        if tensor.dtype != output.dtype or tensor.nbytes < output.nbytes:
            continue
        if same_shape and tensor.shape != output.shape:
            continue
        buffer = buffers.get(roots.get(t, t))
        if buffer is not None and buffer.last == position and not set(buffer.tensors) & set(graph.outputs):
            return t
    return None


def _scratch_variant(layer: Layer) -> Layer | None:
    """The layer's in-place kernel variant with its scratch size, if its op has one that applies."""
    variant = op_def(layer.op.kind).in_place_variant
    return variant(layer) if variant and layer.kernel else None
