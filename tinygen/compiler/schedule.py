"""Execution order: for branching graphs (ResNet skip connections), the order of the
branches changes which tensors are alive together. This picks, among all orders that
respect the data dependencies, one with the smallest peak of live bytes.

It is a dynamic program over the sets of ops already run (the "frontiers"): a chain has
one such set per step, a graph with a few parallel branches a few times more. Graphs
with too many frontiers keep the model's own order. Ops that use the same state (a variable
tensor) keep their order in the model: each reads what the one before it left there.
"""

from __future__ import annotations

from .layer import LoweredModel
from .memory import storage_views

MAX_FRONTIERS = 20000


def schedule(model: LoweredModel) -> LoweredModel:
    order = best_order(model)
    if order is None or order == list(range(len(model.layers))):
        return model
    return LoweredModel(model.graph, [model.layers[i] for i in order])


def best_order(model: LoweredModel) -> list[int] | None:
    graph, layers = model.graph, model.layers
    views = storage_views(model, in_place=False)

    def root(t: int) -> int:
        return views.get(t, (t, 0))[0]

    planned = {root(t.index) for t in graph.tensors if not (t.is_constant or t.is_variable)}
    size = dict.fromkeys(planned, 0)
    for t in range(len(graph.tensors)):
        if root(t) in size:
            size[root(t)] = max(size[root(t)], views.get(t, (t, 0))[1] + graph.tensor(t).nbytes)
    consumers: dict[int, set[int]] = {r: set() for r in planned}
    producers: dict[int, int] = {}
    for i, layer in enumerate(layers):
        for t in layer.op.inputs:
            if t >= 0 and root(t) in planned:
                consumers[root(t)].add(i)
        for t in layer.op.outputs:
            producers.setdefault(root(t), i)
    pinned = {root(t) for t in graph.outputs}  # alive to the end
    needs = [
        {producers[root(t)] for t in layer.op.inputs if t >= 0 and root(t) in producers} - {i}
        for i, layer in enumerate(layers)
    ]
    for i, j in state_order(model):
        needs[j].add(i)
    initial = frozenset(root(t) for t in graph.inputs)

    def resident(done: frozenset[int]) -> int:
        made = initial | {root(t) for i in done for t in layers[i].op.outputs}
        return sum(size[r] for r in made if r in pinned or not consumers[r] <= done)

    # frontier -> (peak so far, previous frontier, op run last)
    best: dict[frozenset[int], tuple[int, frozenset[int] | None, int]] = {frozenset(): (0, None, -1)}
    wave = [frozenset()]
    for _ in range(len(layers)):
        next_wave: list[frozenset[int]] = []
        for done in wave:
            peak, base = best[done][0], resident(done)
            made = initial | {root(t) for i in done for t in layers[i].op.outputs}
            for i in range(len(layers)):
                if i in done or not needs[i] <= done:
                    continue
                new = {root(t) for t in layers[i].op.outputs} - made
                step = base + sum(size[r] for r in new) + layers[i].scratch_bytes
                after = done | {i}
                candidate = (max(peak, step), done, i)
                if after not in best:
                    next_wave.append(after)
                    best[after] = candidate
                elif candidate[0] < best[after][0]:
                    best[after] = candidate
        if len(best) > MAX_FRONTIERS:
            return None
        wave = next_wave
    order, state = [], frozenset(range(len(layers)))
    while state:
        _, previous, op = best[state]
        order.append(op)
        state = previous
    return order[::-1]


def state_order(model: LoweredModel) -> list[tuple[int, int]]:
    """(i, j) pairs of layers where j must run after i: consecutive users of one variable tensor."""
    last_user: dict[int, int] = {}
    pairs = []
    for j, layer in enumerate(model.layers):
        for t in {t for t in (*layer.op.inputs, *layer.op.outputs) if t >= 0 and model.graph.tensor(t).is_variable}:
            if t in last_user:
                pairs.append((last_user[t], j))
            last_user[t] = j
    return pairs
