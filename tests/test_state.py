"""State that outlives one inference: the persistent region, tg_model_reset_state(), the RESET message.

A fixture kernel (tests/fixtures/state_kernel) keeps state both ways a kernel can: in a variable
tensor (reset to its int8 zero point, as tflite-micro does) and in a state buffer of its own (reset
from an array its lowering gives). Its outputs are computed here independently, step by step.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tinygen.boards import load_board
from tinygen.compiler.codegen import generate
from tinygen.compiler.fit import estimate_fit
from tinygen.compiler.layer import Arg, Layer, LoweredModel, StateBuffer
from tinygen.compiler.memory import plan_memory
from tinygen.compiler.optimize import choose_variants
from tinygen.compiler.pipeline import CompiledModel, LoadedModel
from tinygen.compiler.validate import validate
from tinygen.device.firmware import build_firmware
from tinygen.device.host import HostTarget, build_host
from tinygen.device.link_target import LinkTarget
from tinygen.errors import TinygenError
from tinygen.ir import Graph, Op, Quant, Tensor
from tinygen.reports.report import plan_summary

FIXTURE = Path(__file__).parent / "fixtures" / "state_kernel"
SIZE = 8
HISTORY_ZERO_POINT = -3  # the variable starts (and resets) at this value
COUNT_START = 5  # the kernel's own buffer starts (and resets) at this value


@dataclass(frozen=True)
class StateKernelParams:
    C_TYPE = "tg_test_state_params"
    C_FILE = "tg_test_state.c"
    size: int


def state_model(activations: int = 1) -> LoweredModel:
    """input -> TEST_STATE (history: a variable; count: the kernel's own state) -> output; with
    activations > 1, more int8 tensors before it so that the arena has something in it."""
    q = Quant.per_tensor(0.5, 0)
    tensors = [
        Tensor(0, "input", (1, SIZE), "int8", q),
        Tensor(1, "history", (1, SIZE), "int8", Quant.per_tensor(0.5, HISTORY_ZERO_POINT), is_variable=True),
        Tensor(2, "output", (1, SIZE), "int8", q),
    ]
    graph = Graph(tensors, [Op(0, "TEST_STATE", (0, 1), (2,))], (0,), (2,))
    layer = Layer(
        graph.ops[0],
        "tg_test_state_s8",
        StateKernelParams(SIZE),
        (Arg("tensor", 0), Arg("tensor", 1), Arg("state", 0), Arg("tensor", 2)),
        state=(StateBuffer("count", 4, np.array([COUNT_START], np.int32)),),
    )
    return LoweredModel(graph, [layer])


def compiled_state_model() -> CompiledModel:
    lowered = state_model()
    plan = plan_memory(lowered)
    model = LoadedModel(lowered.graph, b"state fixture", "state.tflite")
    generated = generate(lowered, plan, model.source, model.model_hash)
    fixture = {p.name: p.read_text() for p in FIXTURE.iterdir()}
    kernel_files = {**generated.kernel_files, **fixture}
    _, choice = choose_variants(lowered)
    return CompiledModel(model, lowered, plan, dataclasses.replace(generated, kernel_files=kernel_files), choice)


def expected(sequence: list[np.ndarray]) -> list[np.ndarray]:
    history, count, outputs = np.full((1, SIZE), HISTORY_ZERO_POINT, np.int64), COUNT_START, []
    for x in sequence:
        y = (x.astype(np.int64) + history + count).astype(np.uint8).astype(np.int8)  # int8, wrapping
        outputs.append(y)
        history, count = y.astype(np.int64), count + 1
    return outputs


def sequences(count: int, steps: int, seed: int = 0) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[rng.integers(-128, 128, (1, SIZE), dtype=np.int8) for _ in range(steps)] for _ in range(count)]


def test_state_lives_apart_from_the_arena():
    plan = plan_memory(state_model())
    assert all(1 not in b.tensors for b in plan.buffers.values())  # the variable is not an arena buffer
    assert [(s.name, s.nbytes, s.offset) for s in plan.state.slots] == [("t1", SIZE, 0), ("layer0.0", 4, 16)]
    assert plan.state_bytes == 32  # each slot 16-byte aligned
    assert plan.state.slots[0].reset == HISTORY_ZERO_POINT & 0xFF


def test_fit_plan_and_report_count_the_state():
    compiled = compiled_state_model()
    board = load_board("mps2-an386")
    fit = estimate_fit(compiled, board)
    without = dataclasses.replace(compiled.plan, state=dataclasses.replace(compiled.plan.state, slots=()))
    fit_without = estimate_fit(dataclasses.replace(compiled, plan=without), board)
    assert fit.state_bytes == 32 and fit.ram.needed_bytes - fit_without.ram.needed_bytes == 32
    summary = plan_summary(compiled, board)
    assert summary["state_bytes"] == 32 and [s["name"] for s in summary["state"]] == ["t1", "layer0.0"]
    header = compiled.generated.files["model.h"]
    assert "#define TG_MODEL_STATE_BYTES 32u" in header and "void tg_model_reset_state(void);" in header


def test_host_carries_the_state_and_resets_it(tmp_path):
    compiled = compiled_state_model()
    binary = build_host(compiled.generated, tmp_path, sanitize=True)
    host = HostTarget(binary, compiled.model.graph, [0])
    runs = sequences(3, 4)
    # Sequences of one length go through one process that calls tg_model_reset_state() between them.
    for got, sequence in zip(host.run_sequences(runs), runs):
        assert [o[0].tolist() for o in got] == [y.tolist() for y in expected(sequence)]
    # Carried state: the same input twice gives two different outputs.
    again = host.run([runs[0][0], runs[0][0]])
    assert not np.array_equal(again[0][0], again[1][0])
    assert host.trace(runs[1])[0].tolist() == expected(runs[1])[-1].tolist()  # the last step's layer output


def test_variables_only_as_op_inputs():
    graph = state_model().graph
    add = dataclasses.replace(graph, ops=[Op(0, "ADD", (0, 1), (2,))])
    validate(add)  # a variable read by an op is available from the start
    with pytest.raises(TinygenError, match="model input/output history is a variable tensor"):
        validate(dataclasses.replace(add, outputs=(1,)))
    with pytest.raises(TinygenError, match=r"op 0 \(RELU\) writes variable tensor history"):
        validate(dataclasses.replace(graph, ops=[Op(0, "RELU", (0,), (1,))]))


@pytest.mark.usefixtures("qemu_ready")
def test_firmware_resets_the_state_over_the_link(tmp_path):
    compiled = compiled_state_model()
    board = load_board("mps2-an386")
    elf = build_firmware(compiled, board, tmp_path).build.elf
    runs = sequences(2, 3, seed=1)
    with LinkTarget.open(board, compiled.model.graph, elf=elf, stateful=True) as target:
        target.check_model(compiled.model.model_hash)
        for sequence in [*runs, runs[0]]:  # each run starts with a RESET
            assert [o[0].tolist() for o in target.run(sequence)] == [y.tolist() for y in expected(sequence)]
        target.run_one(runs[0][0])  # without a reset the state carries on
        assert target.run_one(runs[0][0])[0].tolist() != expected(runs[0][:1])[0].tolist()
