"""Control flow resolved at compile time (tinygen/compiler/control_flow.py): int8 WHILE loops and
IFs, written as tflite-micro runs them (its interpreter runs the loop, tinygen the unrolled graph),
and the refusals of what cannot be resolved before the device runs. The Keras 3 recurrent layers
(float, quantized by tinygen) are corpus models (tests/corpus/manifest.toml)."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.builder import GraphBuilder
from tinygen.compiler.control_flow import MAX_STEPS
from tinygen.compiler.fit import layer_flash_bytes
from tinygen.compiler.pipeline import compile_model
from tinygen.errors import TinygenError
from tinygen.ir import Graph
from tinygen.reports.summary import describe_model

from .bitexact import assert_bit_exact
from .helpers import loaded

SCALE, ZERO_POINT, WIDTH = 0.05, 3, 8


def _subgraph(build, inputs: list[tuple], outputs) -> Graph:
    """A subgraph whose inputs are tensors of these (shape, dtype, quant) and whose outputs
    `build(builder, inputs)` returns."""
    b = GraphBuilder()
    ins = [b.tensor(shape, dtype, **quant) for shape, dtype, quant in inputs]
    return b.build(ins, build(b, ins) if outputs is None else outputs)


ACTIVATION = ((1, WIDTH), "int8", {"scale": SCALE, "zero_point": ZERO_POINT})
COUNTER = ((), "int32", {})


def _cell(b: GraphBuilder, x: int, seed: int = 0) -> int:
    """RELU(FULLY_CONNECTED(x)), typed as x: a loop carries it from step to step unchanged in type."""
    rng = np.random.default_rng(seed)
    w = b.const(rng.integers(-127, 128, (WIDTH, WIDTH)), "int8", scale=0.01)
    bias = b.const(rng.integers(-300, 300, WIDTH), "int32", scale=SCALE * 0.01)
    y = b.tensor((1, WIDTH), "int8", scale=SCALE, zero_point=ZERO_POINT)
    b.op("FULLY_CONNECTED", [x, w, bias], [y], fused_activation_function="RELU")
    return y


def loop_model(
    limit, condition_reads_input: bool = False, body_runs: int | None = None, invariant: bool = False
) -> Graph:
    """x -> WHILE(counter < limit) { counter += 1; x = relu(fc(x)) } -> x, as a converter writes a
    fixed-length RNN: the counter starts at a constant 0 and the limit is a constant of the condition;
    the loop also carries the model's input through unchanged (as a converter carries the sequence).
    `condition_reads_input`: the limit is a model input instead (a trip count known only at run time).
    `body_runs`: the body holds a WHILE that runs this subgraph (2: itself).
    `invariant`: each step adds relu(fc'(input)), the same in every step, to its x."""
    carried = [COUNTER, ACTIVATION, COUNTER, ACTIVATION]

    def condition(b, ins):
        limit_tensor = ins[2] if condition_reads_input else b.const(np.array(limit), "int32")
        out = b.tensor((), "bool")
        b.op("LESS", [ins[0], limit_tensor], [out])
        return [out]

    def body(b, ins):
        one = b.const(np.array(1), "int32")
        counter = b.tensor((), "int32")
        b.op("ADD", [ins[0], one], [counter], fused_activation_function="NONE")
        y = _cell(b, ins[1])
        if invariant:
            total = b.tensor(*ACTIVATION[:2], **ACTIVATION[2])
            b.op("ADD", [y, _cell(b, ins[3], seed=3)], [total], fused_activation_function="NONE")
            y = total
        if body_runs is not None:
            inner = [b.tensor(shape, dtype, **quant) for shape, dtype, quant in carried]
            b.op("WHILE", [counter, y, *ins[2:]], inner, cond_subgraph_index=1, body_subgraph_index=body_runs)
            counter, y = inner[0], inner[1]
        return [counter, y, *ins[2:]]

    b = GraphBuilder()
    x = b.tensor(*ACTIVATION[:2], **ACTIVATION[2])
    limit_value = b.tensor((), "int32") if condition_reads_input else b.const(np.array(limit), "int32")
    start = b.const(np.array(0), "int32")
    outs = [b.tensor(shape, dtype, **quant) for shape, dtype, quant in carried]
    b.op("WHILE", [start, x, limit_value, x], outs, cond_subgraph_index=1, body_subgraph_index=2)
    graph = b.build([x, limit_value] if condition_reads_input else [x], [outs[1]])
    graph.subgraphs = {1: _subgraph(condition, carried, None), 2: _subgraph(body, carried, None)}
    return graph


@pytest.mark.parametrize("steps", [1, 5])
def test_an_int8_loop_is_unrolled_bit_exact(steps):
    assert_bit_exact(loop_model(steps), samples=4)


def test_the_steps_share_their_weights_in_flash():
    """Unrolled steps read the body's constants, not copies: flash holds them once whatever the
    trip count, and the code generator defines the steps' alike arrays and params once."""
    short, long = (compile_model(loaded(loop_model(n), f"loop{n}")) for n in (2, 12))
    assert len(long.lowered.layers) == 6 * len(short.lowered.layers)
    assert sum(layer_flash_bytes(long)) == sum(layer_flash_bytes(short))
    weights = long.lowered.graph
    fc_weights = [t for t in weights.tensors if t.is_constant and t.dtype == "int8" and t.shape == (WIDTH, WIDTH)]
    assert len(fc_weights) == 1
    source = long.generated.files["model.c"]
    assert source.count("static const tg_fully_connected_params ") == 1


def test_the_arena_does_not_grow_with_the_steps():
    short, long = (compile_model(loaded(loop_model(n), f"loop{n}")) for n in (2, 12))
    assert long.plan.arena_bytes == short.plan.arena_bytes


@pytest.mark.parametrize(
    "graph, message",
    [
        (lambda: loop_model(3, condition_reads_input=True), "a value computed on the device, so the trip count"),
        (lambda: loop_model(3, body_runs=2), "runs subgraph 2 from within itself \\(recursion\\)"),
        (lambda: loop_model(MAX_STEPS + 1), f"runs more than {MAX_STEPS} steps"),
    ],
)
def test_loops_tinygen_cannot_unroll_are_refused_with_the_reason(graph, message):
    with pytest.raises(TinygenError, match=message):
        compile_model(loaded(graph(), "loop"))


def _if_model(condition: bool | None) -> Graph:
    """IF(condition) then: relu(fc(x)) else: relu(fc'(x)); `None`: the condition is a model input."""
    b = GraphBuilder()
    x = b.tensor(*ACTIVATION[:2], **ACTIVATION[2])
    flag = b.tensor((), "bool") if condition is None else b.const(np.array(condition), "bool")
    y = b.tensor(*ACTIVATION[:2], **ACTIVATION[2])
    b.op("IF", [flag, x], [y], then_subgraph_index=1, else_subgraph_index=2)
    graph = b.build([x, flag] if condition is None else [x], [y])
    graph.subgraphs = {
        1: _subgraph(lambda sb, ins: [_cell(sb, ins[0], seed=1)], [ACTIVATION], None),
        2: _subgraph(lambda sb, ins: [_cell(sb, ins[0], seed=2)], [ACTIVATION], None),
    }
    return graph


@pytest.mark.parametrize("condition", [True, False])
def test_an_if_on_a_constant_is_inlined_bit_exact(condition):
    result = assert_bit_exact(_if_model(condition), samples=3)
    assert result.samples == 3


def test_an_if_on_a_computed_condition_is_refused():
    with pytest.raises(TinygenError, match="IF\\): its condition .* is computed on the device"):
        compile_model(loaded(_if_model(None), "branch"))


def test_inspect_says_whether_a_loop_unrolls():
    statuses = {op["op"]: (op["status"], op.get("reason")) for op in describe_model(loop_model(3))["ops"]}
    assert statuses["WHILE"] == ("unrolled", None)
    refused = {op["op"]: (op["status"], op.get("reason")) for op in describe_model(loop_model(3, True))["ops"]}
    assert refused["WHILE"][0] == "unsupported" and "known only at run time" in refused["WHILE"][1]


def test_a_loop_invariant_is_computed_once():
    """What every step computes alike from the same inputs (the converter's int8 loops quantize the
    whole carried sequence in every step) becomes one layer."""
    graph = loop_model(4, invariant=True)
    compiled = compile_model(loaded(graph, "invariant"))
    assert [layer.op.kind for layer in compiled.lowered.layers].count("FULLY_CONNECTED") == 4 + 1
    assert_bit_exact(graph, samples=3)
