"""The variant choice: per layer, which of the kernels its record offers runs, in place or not.

Two ends: `memory` takes the variants with the smallest arena (inplace.smallest_arena), `speed` the
ones with the fewest estimated instructions (costs.py) wherever they are legal. `balanced` (the
default) walks from the memory end towards speed while the arena fits the board's RAM:

1. From the memory end, each layer's move is its fastest legal variant, where that saves more than
   MIN_SAVING of its instructions; each move is costed alone: instructions saved, arena bytes added.
2. Moves that add no bytes first, then by instructions saved per byte added (ties: the earlier
   layer), each taken if the whole plan, re-planned with it, still fits the budget.

The budget is the board's RAM less its reserves (stack, heap, framework) and the state region.
One memory plan per layer and per move: cheap next to code generation, and deterministic.
Without a board there is no budget: balanced takes the speed end. `memory` still takes the moves
that add no bytes (the arena stays the smallest, the instructions fall).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..boards import Board
from ..errors import TinygenError
from .costs import CostModel, cost_model
from .inplace import layer_variants, legal, smallest_arena, with_layer
from .layer import Layer, LoweredModel
from .memory import plan_memory

OPTIMIZE = ("balanced", "speed", "memory")
# A move must save at least this share of the layer's estimated instructions: smaller differences are
# below what the cost model resolves (tests/test_costs.py), and the memory end's variant stays.
MIN_SAVING = 0.01


@dataclass(frozen=True)
class LayerChoice:
    kernel: str | None
    estimated: int  # instructions of the chosen kernel
    alternatives: tuple[tuple[str, int], ...]  # every kernel the layer could run, with its estimate
    reason: str  # "only", "fastest", "smaller": why this one


@dataclass(frozen=True)
class Choice:
    optimize: str
    budget_bytes: int | None  # arena bytes the board leaves; None without a board
    arena_bytes: int
    fits: bool | None  # the arena within the budget; None without one
    layers: tuple[LayerChoice, ...]  # one per layer, in execution order

    @property
    def estimated(self) -> int:
        return sum(layer.estimated for layer in self.layers)

    def describe(self) -> str:
        budget = "no RAM budget" if self.budget_bytes is None else f"arena budget {self.budget_bytes:,} bytes"
        line = f"--optimize {self.optimize}: about {self.estimated:,} instructions (estimated), {budget}"
        if self.fits is False:
            line += f"; the {self.arena_bytes:,}-byte arena does not fit it"
        return line

    def as_json(self) -> dict:
        return {
            "optimize": self.optimize,
            "budget_bytes": self.budget_bytes,
            "arena_bytes": self.arena_bytes,
            "fits": self.fits,
            "estimated_instructions": self.estimated,
        }


def arena_budget(board: Board | None, state_bytes: int) -> int | None:
    """Arena bytes the board's RAM leaves after its reserves and the state region."""
    return None if board is None or board.native else board.ram_available_bytes - state_bytes


def choose_variants(
    model: LoweredModel, optimize: str = "balanced", board: Board | None = None, costs: CostModel | None = None
) -> tuple[LoweredModel, Choice]:
    if optimize not in OPTIMIZE:
        raise TinygenError(f"--optimize must be one of {', '.join(OPTIMIZE)}, not {optimize!r}")
    costs = costs or cost_model(board)
    base = model.layers
    state = smallest_arena(model)
    plan = plan_memory(state)
    budget = arena_budget(board, plan.state_bytes)
    arena = plan.arena_bytes

    def cost(layer: Layer) -> int:
        return costs.estimate(layer, model.graph) if layer.kernel else 0

    moves = []
    for position, layer in enumerate(state.layers):
        options = [o for o in (base[position], *layer_variants(base[position])) if o.kernel != layer.kernel]
        options = [o for o in options if legal(with_layer(state, position, base[position]), position, o)]
        fastest = min(options, key=cost, default=None)
        if fastest is None or cost(layer) - cost(fastest) <= MIN_SAVING * cost(layer):
            continue
        added = plan_memory(with_layer(state, position, fastest)).arena_bytes - arena
        moves.append((cost(layer) - cost(fastest), max(added, 0), position, fastest))
    # Free moves first, then by instructions saved per byte; the earlier layer on a tie.
    moves.sort(key=lambda m: (m[1] > 0, -m[0] / max(m[1], 1), m[2]))
    limit = _arena_limit(optimize, budget, arena)
    for _saved, _added, position, fastest in moves:
        if not legal(with_layer(state, position, base[position]), position, fastest):
            continue
        trial = with_layer(state, position, fastest)
        trial_arena = plan_memory(trial).arena_bytes
        if limit is None or trial_arena <= limit:
            state, arena = trial, trial_arena
    layers = tuple(_layer_choice(base[p], state.layers[p], cost) for p in range(len(base)))
    fits = None if budget is None else arena <= budget
    return state, Choice(optimize, budget, arena, fits, layers)


def _arena_limit(optimize: str, budget: int | None, smallest: int) -> int | None:
    """The largest arena a move may lead to: none for speed, the smallest for memory, the budget for
    balanced (or the smallest, where even that does not fit)."""
    if optimize == "speed" or (optimize == "balanced" and budget is None):
        return None
    return smallest if optimize == "memory" or budget is None else max(budget, smallest)


def _layer_choice(lowered: Layer, chosen: Layer, cost) -> LayerChoice:
    options = (lowered, *layer_variants(lowered))
    alternatives = tuple((o.kernel, cost(o)) for o in options)
    fastest = min(c for _, c in alternatives)
    reason = "only" if len(options) == 1 else "fastest" if cost(chosen) <= fastest else "smaller"
    return LayerChoice(chosen.kernel, cost(chosen), alternatives, reason)
