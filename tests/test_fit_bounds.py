"""The plan's flash and RAM figures bound the real firmware: `tinygen plan` and the fit check before a
build are only worth trusting if no firmware ever needs more than they say. Checked against the ELF
of real builds on every QEMU board (the Arduino boards' cores cannot be built here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinygen import zoo
from tinygen.boards import load_board
from tinygen.compiler.fit import estimate_fit
from tinygen.compiler.pipeline import compile_model, load_model
from tinygen.device.firmware import build_firmware

from .helpers import QEMU_BOARDS, loaded

ROOT = Path(__file__).resolve().parent.parent
MODELS = {
    "sine": lambda: load_model(ROOT / "examples/sine/sine_int8.tflite"),  # the framework dominates
    "gesture": lambda: load_model(ROOT / "examples/gesture/gesture_int8.tflite"),
    "ds_cnn": lambda: loaded(zoo.ds_cnn(seed=2), "ds_cnn"),  # conv, depthwise in place, pool, softmax
    "keyword": lambda: load_model(ROOT / "tests/corpus/tflite-micro/keyword_scrambled.tflite"),  # state
}


# Every board with the smallest model (the firmware's own code decides) and the stateful one; the
# larger models on the Cortex-M4 only, to keep the builds few.
CASES = [(name, board) for name in ("sine", "keyword") for board in QEMU_BOARDS]
CASES += [(name, "mps2-an386") for name in ("gesture", "ds_cnn")]


@pytest.mark.parametrize(("name", "board_id"), CASES)
def test_the_plan_bounds_the_firmware(name, board_id, qemu_ready, tmp_path):
    board = load_board(board_id)
    compiled = compile_model(MODELS[name]())
    fit = estimate_fit(compiled, board)
    build = build_firmware(compiled, board, tmp_path).build
    assert build.flash_bytes <= fit.flash.needed_bytes, (build.flash_bytes, fit.flash.describe())
    assert build.ram_bytes <= fit.ram.needed_bytes, (build.ram_bytes, fit.ram.describe())
