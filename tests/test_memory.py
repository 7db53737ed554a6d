"""The memory planner: plans checked by an independent overlap checker, hand-computed cases,
lower bounds, and bit-exactness after in-place rewrites."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen import zoo
from tinygen.builder import GraphBuilder
from tinygen.compiler.inplace import apply_in_place
from tinygen.compiler.lower import lower
from tinygen.compiler.memory import STRATEGIES, Buffer, _exact_search, plan_memory
from tinygen.compiler.schedule import schedule

from .bitexact import assert_bit_exact
from .gen import window_options


def independent_overlaps(lowered, plan):
    """Recomputes every tensor's lifetime from the graph alone and lists pairs of tensors that
    are alive at the same layer and share arena bytes. A layer's output may share bytes with the
    one input it is declared to overwrite (its storage is that input's), nothing else."""
    graph = lowered.graph
    live = {}
    for position, layer in enumerate(lowered.layers):
        for t in (*layer.op.inputs, *layer.op.outputs):
            if t >= 0 and not graph.tensor(t).is_constant:
                first, last = live.get(t, (position, position))
                live[t] = (min(first, position), max(last, position))
    end = len(lowered.layers) - 1
    for t in graph.inputs:
        live[t] = (0, live.get(t, (0, 0))[1])
    for t in graph.outputs:
        live[t] = (live[t][0], end)
    same_storage = {}
    for layer in lowered.layers:
        for view in layer.views:
            same_storage[view.output] = same_storage.get(view.source, view.source)
    spans = {t: (plan.tensor_offsets[t], plan.tensor_offsets[t] + graph.tensor(t).nbytes) for t in live}
    for position, size in ((p, layer.scratch_bytes) for p, layer in enumerate(lowered.layers) if layer.scratch_bytes):
        live[f"scratch{position}"] = (position, position)
        spans[f"scratch{position}"] = (plan.scratch_offsets[position], plan.scratch_offsets[position] + size)
    found = []
    names = sorted(live, key=str)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if same_storage.get(a, a) == same_storage.get(b, b) and not isinstance(a, str):
                continue  # declared to share storage
            together = live[a][0] <= live[b][1] and live[b][0] <= live[a][1]
            share = spans[a][0] < spans[b][1] and spans[b][0] < spans[a][1]
            if together and share:
                found.append((a, b))
    return found


def compile_zoo(name):
    return apply_in_place(schedule(lower(zoo.MLPERF_TINY[name](seed=0))))


@pytest.mark.parametrize("name", sorted(zoo.MLPERF_TINY))
def test_zoo_plans_have_no_overlaps(name):
    lowered = compile_zoo(name)
    plan = plan_memory(lowered)
    assert independent_overlaps(lowered, plan) == []
    assert plan.overlaps() == []
    assert plan.arena_bytes % 16 == 0
    assert all(off % 16 == 0 for off in plan.offsets.values())


@pytest.mark.parametrize("name", ["ds_cnn", "resnet8"])
def test_in_place_lowers_the_arena_below_the_bound_and_stays_bit_exact(name):
    lowered = compile_zoo(name)
    plan = plan_memory(lowered)
    kernels = {layer.kernel for layer in lowered.layers if layer.in_place}
    assert kernels & {"tg_conv_inplace_s8", "tg_depthwise_inplace_s8", "tg_depthwise_3x3_inplace_s8"}
    assert plan.arena_bytes < plan.lower_bound_bytes
    assert_bit_exact(zoo.MLPERF_TINY[name](seed=0), samples=4)


def _buffers(spec):
    return [Buffer(f"b{i}", size, first, last) for i, (size, first, last) in enumerate(spec)]


def _check_no_overlap(buffers, offsets):
    for i, a in enumerate(buffers):
        for b in buffers[i + 1 :]:
            if a.first <= b.last and b.first <= a.last:
                assert offsets[a.name] + a.size <= offsets[b.name] or offsets[b.name] + b.size <= offsets[a.name]


def test_hand_computed_chain():
    # A chain a -> b -> c: a and c never live together, so c reuses a's bytes.
    buffers = _buffers([(64, 0, 1), (32, 1, 2), (64, 2, 3)])
    for strategy in STRATEGIES.values():
        offsets = strategy(buffers)
        _check_no_overlap(buffers, offsets)
        assert max(offsets[b.name] + b.size for b in buffers) == 96


def test_best_fit_fills_a_gap_greedy_by_size_leaves():
    # A long 32-byte buffer, and short ones that fit around it in time.
    buffers = _buffers([(48, 0, 0), (32, 0, 3), (16, 1, 1), (48, 2, 3)])
    offsets = STRATEGIES["best-fit-in-time"](buffers)
    _check_no_overlap(buffers, offsets)
    assert max(offsets[b.name] + b.size for b in buffers) == 80


def test_exact_search_finds_the_optimum_every_greedy_strategy_misses():
    # Alive together: layer 1 {A, B, E} = 96 bytes, layer 3 {C, D, E} = 96: the bound is 96.
    # Every greedy order strands a 16-byte buffer (112 bytes or more); some order reaches 96.
    buffers = _buffers([(16, 1, 2), (48, 1, 1), (48, 3, 4), (16, 2, 4), (32, 1, 3)])
    for strategy in STRATEGIES.values():
        offsets = strategy(buffers)
        assert max(offsets[b.name] + b.size for b in buffers) >= 112
    exact = _exact_search(buffers, 112)
    _check_no_overlap(buffers, exact)
    assert max(exact[b.name] + b.size for b in buffers) == 96


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(1, 200), st.integers(0, 9), st.integers(0, 4)), min_size=1, max_size=9))
def test_every_strategy_gives_a_valid_plan_at_or_above_the_live_bound(spec):
    buffers = _buffers([(size, first, first + length) for size, first, length in spec])
    bound = max(sum(b.size for b in buffers if b.first <= t <= b.last) for t in range(15))
    for strategy in STRATEGIES.values():
        offsets = strategy(buffers)
        _check_no_overlap(buffers, offsets)
        assert max(offsets[b.name] + b.size for b in buffers) >= bound


def test_branch_order_lowers_the_peak():
    """Two branches, each a big tensor reduced to a small one, written in the worst order:
    both big tensors alive together. Running each branch to its end first halves the peak."""
    g = GraphBuilder()
    q = {"scale": 0.05, "zero_point": 0}
    rng = np.random.default_rng(0)

    def conv(src, channels):
        w = g.const(rng.integers(-127, 128, (channels, 1, 1, g.tensors[src].shape[3])), "int8", scale=0.01, axis=0)
        y = g.tensor((1, 8, 8, channels), **q)
        g.op(
            "CONV_2D",
            [src, w, -1],
            [y],
            **window_options("VALID"),
        )
        return y

    x = g.tensor((1, 8, 8, 2), **q)  # 128 bytes
    a_big, b_big = conv(x, 64), conv(x, 64)  # 4096 bytes each
    a_small, b_small = conv(a_big, 2), conv(b_big, 2)  # 128 bytes each
    out = g.tensor((1, 8, 8, 2), **q)
    g.op("ADD", [a_small, b_small], [out], fused_activation_function="NONE")
    graph = g.build([x], [out])
    lowered = lower(graph)
    scheduled = schedule(lowered)
    assert [layer.op.index for layer in scheduled.layers] == [0, 2, 1, 3, 4]
    # As written, at op 2: both big tensors + a_small; scheduled, at most x + a_small + one big. Reducing
    # a big tensor takes its im2col columns (tg_conv_s8's scratch) too.
    columns = lowered.layers[2].scratch_bytes
    assert plan_memory(lowered).lower_bound_bytes == 4096 + 4096 + 128 + columns
    assert plan_memory(scheduled).arena_bytes == 128 + 128 + 4096 + columns
    assert_bit_exact(graph, samples=4)
