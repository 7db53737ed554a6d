"""Static memory plan: every activation and scratch buffer gets a fixed offset in one arena.

Steps:
1. Buffers: each non-constant tensor that is not an alias owns a buffer; an alias
   (RESHAPE output) shares its source's buffer, which then lives as long as either.
   Each layer's scratch area is a buffer that lives during that layer only.
2. Lifetimes, in layer order: from the layer that writes a buffer (0 for model
   inputs) to the last layer that reads it (the last layer for model outputs).
3. Placement, greedy by size as TFLM's planner does: largest first, each at the
   lowest 16-byte-aligned offset where it overlaps no placed buffer whose lifetime
   overlaps its own.
The arena is the highest end offset. Constant tensors stay in flash.
"""
from __future__ import annotations

from dataclasses import dataclass

from .layer import LoweredModel

ALIGNMENT = 16


@dataclass(frozen=True)
class Buffer:
    name: str
    size: int
    first: int  # first layer index that uses it
    last: int  # last layer index that uses it


@dataclass
class MemoryPlan:
    arena_bytes: int
    tensor_offsets: dict[int, int]  # tensor index -> arena offset (aliases included)
    scratch_offsets: dict[int, int]  # layer index -> arena offset of its scratch
    buffers: dict[str, Buffer]
    offsets: dict[str, int]  # buffer name -> offset

    def overlaps(self) -> list[tuple[str, str]]:
        """Pairs of buffers that are live together and share bytes (a correct plan has none)."""
        found = []
        items = sorted(self.buffers.values(), key=lambda b: b.name)
        for i, a in enumerate(items):
            for b in items[i + 1:]:
                if _live_together(a, b) and _share_bytes(self.offsets[a.name], a.size, self.offsets[b.name], b.size):
                    found.append((a.name, b.name))
        return found


def storage_roots(model: LoweredModel) -> dict[int, int]:
    """tensor index -> the tensor whose storage it uses (itself unless an alias)."""
    roots = {}
    for layer in model.layers:
        if layer.alias:
            source = layer.op.inputs[0]
            roots[layer.op.outputs[0]] = roots.get(source, source)
    return roots


def plan_memory(model: LoweredModel) -> MemoryPlan:
    graph = model.graph
    roots = storage_roots(model)
    last_layer = max(len(model.layers) - 1, 0)
    spans: dict[int, list[int]] = {}

    def touch(tensor: int, layer: int) -> None:
        root = roots.get(tensor, tensor)
        if graph.tensor(root).is_constant:
            return
        span = spans.setdefault(root, [layer, layer])
        span[0], span[1] = min(span[0], layer), max(span[1], layer)

    for i in graph.inputs:
        touch(i, 0)
    for index, layer in enumerate(model.layers):
        for t in (*layer.op.inputs, *layer.op.outputs):
            if t >= 0:
                touch(t, index)
    for i in graph.outputs:
        touch(i, last_layer)

    buffers = {f"t{root}": Buffer(f"t{root}", graph.tensor(root).nbytes, *span) for root, span in spans.items()}
    for index, layer in enumerate(model.layers):
        if layer.scratch_bytes:
            buffers[f"scratch{index}"] = Buffer(f"scratch{index}", layer.scratch_bytes, index, index)
    offsets = _place_greedy_by_size(list(buffers.values()))
    arena = max((offsets[b.name] + b.size for b in buffers.values()), default=0)
    arena = _align(arena)
    tensor_offsets = {root: offsets[f"t{root}"] for root in spans}
    tensor_offsets.update({t: tensor_offsets[root] for t, root in roots.items() if root in tensor_offsets})
    scratch_offsets = {int(name[7:]): off for name, off in offsets.items() if name.startswith("scratch")}
    return MemoryPlan(arena, tensor_offsets, scratch_offsets, buffers, offsets)


def _place_greedy_by_size(buffers: list[Buffer]) -> dict[str, int]:
    placed: list[tuple[Buffer, int]] = []
    offsets = {}
    for buf in sorted(buffers, key=lambda b: (-b.size, b.first, b.name)):
        conflicts = sorted((off, off + other.size) for other, off in placed if _live_together(buf, other))
        offset = 0
        for start, end in conflicts:
            if _share_bytes(offset, buf.size, start, end - start):
                offset = max(offset, _align(end))
        offsets[buf.name] = offset
        placed.append((buf, offset))
    return offsets


def _live_together(a: Buffer, b: Buffer) -> bool:
    return a.first <= b.last and b.first <= a.last


def _share_bytes(a_off: int, a_size: int, b_off: int, b_size: int) -> bool:
    return a_off < b_off + b_size and b_off < a_off + a_size


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
