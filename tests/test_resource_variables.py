"""Resource variables (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE, initialised by CALL_ONCE): each one
state in the state region, against tflite-micro over sequences of invokes, each from a new
interpreter (tflite-micro's reset() does not run CALL_ONCE again; tg_model_reset_state() does the
equivalent of a new interpreter)."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.boards import load_board
from tinygen.compiler.pipeline import LoadedModel, compile_model
from tinygen.device.host import HostTarget
from tinygen.device.target import open_target
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_reader import parse_tflite
from tinygen.reference import Reference
from tinygen.verify import random_samples, verify_sequences

from .resource_models import running_sum

INITIAL = np.array([[-20, -10, 0, 10, 20, 30]])


def model(data: bytes) -> LoadedModel:
    return LoadedModel(parse_tflite(data), data, "running_sum.tflite")


def sequences(loaded: LoadedModel, count: int = 3, steps: int = 5) -> list[list[list[np.ndarray]]]:
    samples = random_samples(loaded.graph, count * steps, seed=2)
    return [samples[i : i + steps] for i in range(0, len(samples), steps)]


@pytest.mark.parametrize("initial", [None, INITIAL], ids=["zero point", "CALL_ONCE"])
def test_a_running_sum_over_sequences(initial, tmp_path):
    loaded = model(running_sum(initial))
    compiled = compile_model(loaded)
    slot = compiled.plan.state.slots[0]
    assert slot.nbytes == 6 and compiled.plan.state_bytes == 16  # one variable, apart from the arena
    if initial is None:
        assert slot.reset == 7  # tflite-micro's fill: the zero point's byte
    else:
        assert slot.reset.tolist() == INITIAL.tolist()
        assert "memcpy(tg_state + 0u, tg_state0_reset, 6u);" in compiled.generated.files["model.c"]
    with HostTarget.build(compiled, tmp_path, sanitize=True) as host:
        result = verify_sequences(host, compiled, sequences(loaded))
        assert result.bit_exact and result.samples == 15, result.summary()
        # The layers that have an output (READ_VARIABLE, ADD) trace like any other, at the last step.
        run = sequences(loaded)[0]
        traced = host.trace(run)
        want = Reference(loaded.tflite_bytes, loaded.graph).tensors(run, [3, 1])
        assert [t.tolist() for t in traced] == [want[3].tolist(), want[1].tolist()]


@pytest.mark.usefixtures("qemu_ready")
def test_the_firmware_resets_to_what_call_once_assigns(tmp_path):
    loaded = model(running_sum(INITIAL))
    compiled = compile_model(loaded)
    with open_target(compiled, load_board("mps2-an386"), workdir=tmp_path) as target:
        result = verify_sequences(target, compiled, sequences(loaded, count=2, steps=3))
    assert result.bit_exact and result.samples == 6, result.summary()


@pytest.mark.parametrize(
    "data, message",
    [
        (running_sum(INITIAL, init_computes=True), r"CALL_ONCE's subgraph 1 holds ADD \(op 0\)"),
        (running_sum(INITIAL, call_once_first=False), r"op \d \(CALL_ONCE\) runs after the variables are used"),
        (running_sum(assign=False), "resource variable /acc is read but never assigned"),
        (running_sum(INITIAL[:, :3]), r"holds int8 \[1, 6\] and int8 \[1, 3\]"),
    ],
    ids=["computing init", "late CALL_ONCE", "never assigned", "two shapes"],
)
def test_refusals(data, message):
    with pytest.raises(TinygenError, match=message):
        compile_model(model(data))
