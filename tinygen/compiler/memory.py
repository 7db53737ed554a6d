"""Static memory plan: every activation and scratch buffer gets a fixed offset in one arena.

1. Buffers. Each non-constant tensor owns a buffer unless its layer says it shares an
   input's storage (RESHAPE always; in-place kernels, see inplace.py): then both live in
   one buffer, as large as the larger, alive as long as either. Each layer's scratch area
   is a buffer alive during that layer only.
2. Lifetimes, in execution order: from the layer that writes a buffer (0 for model
   inputs) to the last layer that reads it (the last layer for model outputs).
3. Placement. Several strategies each place every buffer so that no two buffers alive
   at the same layer share a byte; the smallest arena wins:
   - greedy by size (TFLM's planner): largest first, each at its lowest free offset;
   - greedy by conflicts: buffers that overlap the most bytes in time first;
   - best fit in time: in order of first use, each in the tightest gap that holds it;
   - exact: for a handful of buffers, every placement order, pruned by the best so far.
4. The lower bound is the largest sum of buffers alive at one layer, with in-place
   sharing undone: no plan without in-place execution can go below it.
Constant tensors stay in flash and are not planned. State that outlives one inference (variable
tensors, kernels' own state) is not in the arena: it has its own region (state.py), in the plan.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from .layer import LoweredModel
from .state import StatePlan, plan_state

ALIGNMENT = 16
EXACT_SEARCH_MAX_BUFFERS = 8


@dataclass(frozen=True)
class Buffer:
    name: str
    size: int
    first: int  # first layer (execution position) that uses it
    last: int  # last layer that uses it
    tensors: tuple[int, ...] = ()  # the tensors stored in it; empty for scratch


@dataclass
class MemoryPlan:
    arena_bytes: int
    lower_bound_bytes: int
    strategy: str
    buffers: dict[str, Buffer]
    offsets: dict[str, int]  # buffer name -> arena offset
    tensor_offsets: dict[int, int]  # tensor index -> arena offset
    scratch_offsets: dict[int, int]  # layer position -> arena offset of its scratch
    views: dict[int, tuple[int, int]]  # tensor -> (the tensor whose storage it lives in, byte offset there)
    state: StatePlan = field(default_factory=StatePlan)  # the persistent region, apart from the arena

    @property
    def state_bytes(self) -> int:
        return self.state.bytes

    def root(self, tensor: int) -> int:
        """The tensor whose storage holds this one (itself, unless it is a view)."""
        return self.views.get(tensor, (tensor, 0))[0]

    def live_bytes(self, layer: int) -> int:
        """Bytes of the buffers alive while the layer at this position runs."""
        return sum(b.size for b in self.buffers.values() if b.first <= layer <= b.last)

    def overlaps(self) -> list[tuple[str, str]]:
        return find_overlaps(self.buffers, self.offsets)


def find_overlaps(buffers: dict[str, Buffer], offsets: dict[str, int]) -> list[tuple[str, str]]:
    """Pairs of buffers alive together that share bytes (a correct plan has none)."""
    items = sorted(buffers.values(), key=lambda b: b.name)
    return [
        (a.name, b.name)
        for a, b in itertools.combinations(items, 2)
        if _live_together(a, b) and _share_bytes(offsets[a.name], a.size, offsets[b.name], b.size)
    ]


def storage_views(model: LoweredModel, in_place: bool = True) -> dict[int, tuple[int, int]]:
    """tensor index -> (the tensor whose storage it lives in, byte offset there); absent when its own.

    With in_place=False only aliases (layers that run nothing) share storage: the layout before
    in-place rewrites (collect_buffers then also leaves out the scratch that in-place variants need)."""
    views: dict[int, tuple[int, int]] = {}
    for layer in model.layers:
        if layer.kernel is not None and not in_place:
            continue
        for view in layer.views:
            root, offset = views.get(view.source, (view.source, 0))
            views[view.output] = (root, offset + view.offset)
    return views


def storage_roots(model: LoweredModel, in_place: bool = True) -> dict[int, int]:
    """tensor index -> the tensor whose storage it lives in (absent when its own)."""
    return {t: root for t, (root, _) in storage_views(model, in_place).items()}


def collect_buffers(model: LoweredModel, in_place: bool = True) -> dict[str, Buffer]:
    graph = model.graph
    views = storage_views(model, in_place)
    last = max(len(model.layers) - 1, 0)
    spans: dict[int, list[int]] = {}
    members: dict[int, set[int]] = {}

    def touch(tensor: int, position: int) -> None:
        root = views.get(tensor, (tensor, 0))[0]
        if graph.tensor(root).is_constant or graph.tensor(root).is_variable:
            return
        span = spans.setdefault(root, [position, position])
        span[0], span[1] = min(span[0], position), max(span[1], position)
        members.setdefault(root, set()).add(tensor)

    for i in graph.inputs:
        touch(i, 0)
    for position, layer in enumerate(model.layers):
        for t in (*layer.op.inputs, *layer.op.outputs):
            if t >= 0:
                touch(t, position)
    for i in graph.outputs:
        touch(i, last)

    buffers = {}
    for root, (first, end) in spans.items():
        size = max(views.get(t, (t, 0))[1] + graph.tensor(t).nbytes for t in members[root])
        buffers[f"t{root}"] = Buffer(f"t{root}", size, first, end, tuple(sorted(members[root])))
    for position, layer in enumerate(model.layers):
        if layer.scratch_bytes and (in_place or not layer.in_place):
            buffers[f"scratch{position}"] = Buffer(f"scratch{position}", layer.scratch_bytes, position, position)
    return buffers


def peak_live_bytes(buffers: dict[str, Buffer], layers: int) -> int:
    return max(
        (sum(b.size for b in buffers.values() if b.first <= i <= b.last) for i in range(max(layers, 1))), default=0
    )


def plan_memory(model: LoweredModel) -> MemoryPlan:
    buffers = collect_buffers(model)
    lower_bound = peak_live_bytes(collect_buffers(model, in_place=False), len(model.layers))
    items = list(buffers.values())
    best_name, best = "", {}
    for name, strategy in STRATEGIES.items():
        offsets = strategy(items)
        if not best_name or _arena(items, offsets) < _arena(items, best):
            best_name, best = name, offsets
    if len(items) <= EXACT_SEARCH_MAX_BUFFERS and _arena(items, best) > _align(
        peak_live_bytes(buffers, len(model.layers))
    ):
        exact = _exact_search(items, _arena(items, best))
        if exact is not None:
            best_name, best = "exact", exact

    views = storage_views(model)
    tensor_offsets = {t: best[b.name] + views.get(t, (t, 0))[1] for b in items for t in b.tensors}
    scratch = {int(b.name[len("scratch") :]): best[b.name] for b in items if b.name.startswith("scratch")}
    return MemoryPlan(
        _arena(items, best), lower_bound, best_name, buffers, best, tensor_offsets, scratch, views, plan_state(model)
    )


# --- placement strategies: buffers in, offsets out ---

Placement = Callable[[list[Buffer]], dict[str, int]]


def _first_fit(buf: Buffer, placed: list[tuple[Buffer, int]]) -> int:
    """The lowest aligned offset where buf overlaps no placed buffer alive at the same time."""
    offset = 0
    for start, end in sorted((off, off + b.size) for b, off in placed if _live_together(buf, b)):
        if _share_bytes(offset, buf.size, start, end - start):
            offset = max(offset, _align(end))
    return offset


def _best_fit(buf: Buffer, placed: list[tuple[Buffer, int]]) -> int:
    """The aligned gap between conflicting buffers that leaves the least room over; else the top."""
    busy = sorted((off, off + b.size) for b, off in placed if _live_together(buf, b))
    best, best_room, cursor = None, None, 0
    for start, end in busy:
        room = start - cursor
        if room >= buf.size and (best_room is None or room < best_room):
            best, best_room = cursor, room
        cursor = max(cursor, _align(end))
    return best if best is not None else cursor


def _place_in_order(order: list[Buffer], fit=_first_fit) -> dict[str, int]:
    placed: list[tuple[Buffer, int]] = []
    for buf in order:
        placed.append((buf, fit(buf, placed)))
    return {b.name: off for b, off in placed}


def greedy_by_size(buffers: list[Buffer]) -> dict[str, int]:
    return _place_in_order(sorted(buffers, key=lambda b: (-b.size, b.first, b.name)))


def greedy_by_conflicts(buffers: list[Buffer]) -> dict[str, int]:
    def pressure(b: Buffer) -> int:
        return sum(o.size for o in buffers if _live_together(b, o))

    return _place_in_order(sorted(buffers, key=lambda b: (-pressure(b), -b.size, b.name)))


def best_fit_in_time(buffers: list[Buffer]) -> dict[str, int]:
    return _place_in_order(sorted(buffers, key=lambda b: (b.first, -b.size, b.name)), fit=_best_fit)


STRATEGIES: dict[str, Placement] = {
    "greedy-by-size": greedy_by_size,
    "greedy-by-conflicts": greedy_by_conflicts,
    "best-fit-in-time": best_fit_in_time,
}


def _exact_search(buffers: list[Buffer], bound: int) -> dict[str, int] | None:
    """Every placement order with first fit, abandoning an order once it reaches the best arena."""
    best: dict[str, int] | None = None

    def extend(placed: list[tuple[Buffer, int]], rest: list[Buffer], top: int) -> None:
        nonlocal best, bound
        if not rest:
            best, bound = {b.name: off for b, off in placed}, top
            return
        for i, buf in enumerate(rest):
            offset = _first_fit(buf, placed)
            end = _align(offset + buf.size)
            if max(top, end) < bound:
                extend([*placed, (buf, offset)], rest[:i] + rest[i + 1 :], max(top, end))

    extend([], buffers, 0)
    return best


def _arena(buffers: list[Buffer], offsets: dict[str, int]) -> int:
    return _align(max((offsets[b.name] + b.size for b in buffers), default=0))


def _live_together(a: Buffer, b: Buffer) -> bool:
    return a.first <= b.last and b.first <= a.last


def _share_bytes(a_off: int, a_size: int, b_off: int, b_size: int) -> bool:
    return a_off < b_off + b_size and b_off < a_off + a_size


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
