"""Models others wrote (tests/corpus/manifest.toml): each compiles bit-exact with tflite-micro, or is
refused with the reason the manifest gives. Float models are quantized by tinygen first."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from tinygen.boards import load_board
from tinygen.compiler.pipeline import LoadedModel, compile_model, load_model
from tinygen.device.host import HostTarget
from tinygen.device.target import open_target
from tinygen.errors import TinygenError
from tinygen.quantize import CalibrationData, is_float_graph, quantize
from tinygen.verify import random_samples, verify, verify_sequences

from .corpus.manifest import load

MANIFEST, MODELS = load()
SAMPLES = 4


def _present(model):
    if not model.path.exists():
        pytest.skip(f"{model.name} is fetched, not committed: run scripts/fetch-corpus.py")
    if model.fetched:
        expected = MANIFEST["fetch"][model.name][2]
        assert hashlib.sha256(model.path.read_bytes()).hexdigest() == expected, (
            f"{model.path} is not the published file"
        )
    return model.path


def compiled_corpus_model(path):
    """The model as tinygen compiles it; a float model quantized on random calibration data first."""
    loaded = load_model(path)
    if is_float_graph(loaded.graph):
        rng = np.random.default_rng(0)
        inputs = [rng.normal(0, 1, (32, *loaded.graph.tensor(i).shape)).astype(np.float32) for i in loaded.graph.inputs]
        result = quantize(loaded.graph, CalibrationData(inputs if len(inputs) > 1 else inputs[0]))
        loaded = LoadedModel(result.graph, result.tflite_bytes, str(path))
    return loaded, compile_model(loaded)


def _reference_runs(path) -> bool:
    from tflite_micro import runtime

    try:
        interpreter = runtime.Interpreter.from_bytes(path.read_bytes(), arena_size=16 << 20)
        interpreter.invoke()
    except RuntimeError:
        return False
    return True


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_corpus_model(model, tmp_path):
    path = _present(model)
    assert _reference_runs(path) == model.reference_runs, "tflite-micro's verdict on this model changed"
    if model.expect == "refused":
        with pytest.raises(TinygenError, match=model.refusal):
            compiled_corpus_model(path)
        return
    loaded, compiled = compiled_corpus_model(path)
    with HostTarget.build(compiled, tmp_path) as target:
        result = _verify(target, loaded, compiled, SAMPLES)
    assert result.bit_exact, result.summary()


@pytest.mark.parametrize(
    "model, board_id", [(m, b) for m in MODELS for b in m.qemu], ids=lambda v: getattr(v, "name", v)
)
def test_corpus_model_on_qemu(model, board_id, qemu_ready, tmp_path):
    path = _present(model)
    loaded, compiled = compiled_corpus_model(path)
    with open_target(compiled, load_board(board_id), workdir=tmp_path) as target:
        result = _verify(target, loaded, compiled, 2)
    assert result.bit_exact, result.summary()


def _verify(target, loaded, compiled, steps: int):
    """`steps` random samples; for a model that keeps state between invokes, two sequences of `steps`
    consecutive invokes, each from a reset."""
    if not compiled.plan.state_bytes:
        result = verify(target, compiled, random_samples(loaded.graph, steps, seed=1))
        assert result.samples == steps
        return result
    samples = random_samples(loaded.graph, 2 * steps, seed=1)
    result = verify_sequences(target, compiled, [samples[:steps], samples[steps:]])
    assert result.sequences == [steps, steps] and result.samples == 2 * steps
    return result
