"""tflite-micro's audio preprocessor (the micro_speech example's feature extractor, its signal-library
ops) end to end: both published models bit-exact with tflite-micro over sequences of consecutive
30 ms frames (the spectral subtraction's noise estimate carried from frame to frame, reset between
sequences), on a swept tone with noise and on a word spoken by espeak-ng; on the host under the
sanitizers and on every emulated board."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinygen.boards import load_board
from tinygen.compiler.pipeline import compile_model, load_model
from tinygen.device.host import HostTarget
from tinygen.device.target import open_target
from tinygen.reference import Reference
from tinygen.verify import verify_sequences

from .audio import framed, frames, spoken_word
from .helpers import QEMU_BOARDS

CORPUS = Path(__file__).parent / "corpus" / "tflite-micro"
MODELS = ["audio_preprocessor_int8", "audio_preprocessor_float"]
FRAME, HOP, SHAPE = 480, 320, (1, 480)  # 30 ms windows every 20 ms at 16 kHz


@pytest.fixture(scope="module")
def word(tmp_path_factory) -> list[list[np.ndarray]]:
    audio = spoken_word("yes", tmp_path_factory.mktemp("espeak"))
    if audio is None:
        pytest.skip("needs espeak-ng (scripts/install-deps.sh installs it)")
    return framed(audio, FRAME, HOP, SHAPE)


def sequences(word: list[list[np.ndarray]], sweep_frames: int) -> list[list[list[np.ndarray]]]:
    return [frames(FRAME, sweep_frames, seed=11, shape=SHAPE), word]


@pytest.mark.parametrize("name", MODELS)
def test_on_the_host(name, word, tmp_path):
    loaded = load_model(CORPUS / f"{name}.tflite")
    compiled = compile_model(loaded)
    runs = sequences(word, 40)
    with HostTarget.build(compiled, tmp_path, sanitize=True) as target:
        result = verify_sequences(target, compiled, runs)
    assert result.bit_exact and result.sequences == [len(run) for run in runs], result.summary()


# The int8 model on every emulated core; the float model, whose only float op is its last MUL, on a
# core with a single-precision FPU and on one without (software float).
ON_BOARDS = [("audio_preprocessor_int8", b) for b in QEMU_BOARDS]
ON_BOARDS += [("audio_preprocessor_float", b) for b in ("mps2-an386", "lm3s6965evb")]


@pytest.mark.parametrize("name, board_id", ON_BOARDS)
def test_on_emulated_boards(name, board_id, word, qemu_ready, tmp_path):
    loaded = load_model(CORPUS / f"{name}.tflite")
    compiled = compile_model(loaded)
    runs = sequences(word, 8)
    with open_target(compiled, load_board(board_id), workdir=tmp_path) as target:
        result = verify_sequences(target, compiled, runs)
    assert result.bit_exact and result.sequences == [len(run) for run in runs], result.summary()


def test_the_outputs_depend_on_the_frames_before():
    """What the tests above check is the carried state too: in tflite-micro, one frame repeated gives
    features that move from step to step as the noise estimate learns it."""
    loaded = load_model(CORPUS / "audio_preprocessor_int8.tflite")
    frame = frames(FRAME, 3, seed=2, shape=SHAPE)[1]
    outputs = Reference(loaded.tflite_bytes, loaded.graph).run_many([frame] * 6)
    assert len({out[0].tobytes() for out in outputs}) > 1
