"""Execution order: for branching graphs (ResNet skip connections), the order of the
branches changes which tensors are alive together. This picks, among all orders that
respect the data dependencies, one with the smallest peak of live bytes.

It is a dynamic program over the sets of ops already run (the "frontiers"): a chain has
one such set per step, a graph with a few parallel branches a few times more. Graphs
with too many frontiers keep the model's own order, and so do those where the search tries too
many steps before it knows (an unrolled loop, whose steps' independent parts multiply frontiers).
Ops that use the same state (a variable tensor) keep their order in the model: each reads what
the one before it left there.
"""

from __future__ import annotations

from .layer import LoweredModel
from .memory import storage_views

MAX_FRONTIERS = 20000
MAX_TRIALS = 50000  # frontier steps tried (every model of the corpus needs under 1000)


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
    outputs = [{root(t) for t in layer.op.outputs} for layer in layers]
    inputs = [{root(t) for t in layer.op.inputs if t >= 0 and root(t) in planned} for layer in layers]
    # Sets of layers as bits of an int (frontiers are many: set operations on them must be cheap).
    need_bits = [sum(1 << j for j in need) for need in needs]
    consumer_bits = {r: sum(1 << j for j in users) for r, users in consumers.items()}
    users: list[list[int]] = [[] for _ in layers]  # the layers that need each one
    for j, need in enumerate(needs):
        for i in need:
            users[i].append(j)

    def resident_bytes(made, done: int) -> int:
        return sum(size[r] for r in made if r in pinned or consumer_bits[r] & ~done)

    # frontier -> (peak so far, previous frontier, op run last)
    best: dict[int, tuple[int, int | None, int]] = {0: (0, None, -1)}
    # For the frontiers of the current wave: the roots made so far, the bytes resident, the layers ready.
    made_by = {0: initial}
    resident = {0: resident_bytes(initial, 0)}
    ready = {0: frozenset(i for i, need in enumerate(needs) if not need)}
    wave, trials = [0], 0
    for _ in range(len(layers)):
        next_wave: list[int] = []
        for done in wave:
            peak, base, made = best[done][0], resident[done], made_by[done]
            trials += len(ready[done])
            if trials > MAX_TRIALS:
                return None
            for i in sorted(ready[done]):
                new = outputs[i] - made
                step = base + sum(size[r] for r in new) + layers[i].scratch_bytes
                after = done | 1 << i
                candidate = (max(peak, step), done, i)
                if after not in best:
                    next_wave.append(after)
                    best[after] = candidate
                    made_by[after] = made | new
                    freed = sum(size[r] for r in inputs[i] & made if r not in pinned and not consumer_bits[r] & ~after)
                    resident[after] = base + resident_bytes(new, after) - freed
                    ready[after] = (ready[done] - {i}) | {j for j in users[i] if not need_bits[j] & ~after}
                elif candidate[0] < best[after][0]:
                    best[after] = candidate
        if len(best) > MAX_FRONTIERS:
            return None
        for done in wave:
            del made_by[done], resident[done], ready[done]
        wave = next_wave
    order, state = [], (1 << len(layers)) - 1
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
