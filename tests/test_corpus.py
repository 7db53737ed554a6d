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
from tinygen.reference import Reference
from tinygen.specref import NumpyReference
from tinygen.verify import random_samples, verify, verify_sequences

from .corpus.manifest import load
from .crosscheck import same_bits

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


def corpus_model(path) -> LoadedModel:
    """The model as tinygen verifies it; a float model quantized on random calibration data first."""
    loaded = load_model(path)
    if is_float_graph(loaded.graph):
        rng = np.random.default_rng(0)
        inputs = [rng.normal(0, 1, (32, *loaded.graph.tensor(i).shape)).astype(np.float32) for i in loaded.graph.inputs]
        result = quantize(loaded.graph, CalibrationData(inputs if len(inputs) > 1 else inputs[0]))
        loaded = LoadedModel(result.graph, result.tflite_bytes, str(path))
    return loaded


def compiled_corpus_model(path):
    loaded = corpus_model(path)
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
    with HostTarget.build(compiled, tmp_path, sanitize=True) as target:
        result = _verify(target, loaded, compiled, SAMPLES)
    assert result.bit_exact, result.summary()


@pytest.mark.parametrize("model", [m for m in MODELS if m.reference_runs], ids=lambda m: m.name)
def test_numpy_reference_equals_tflite_micro(model):
    """On every model tflite-micro runs (float ones as tinygen quantizes them) the numpy reference's
    outputs are tflite-micro's, over a sequence of invokes (state included); it refuses only models
    tinygen refuses too."""
    path = _present(model)
    try:
        loaded = corpus_model(path)
        numpy_reference = NumpyReference(loaded.graph, model.name)
    except TinygenError as e:  # NotCovered included: every model tinygen verifies must be covered
        assert model.expect == "refused", f"the numpy reference refuses a model tinygen verifies: {e}"
        return
    samples = random_samples(loaded.graph, SAMPLES, seed=2)
    expected = Reference(loaded.tflite_bytes, loaded.graph, model.name).run_many(samples)
    for want_outputs, got_outputs in zip(expected, numpy_reference.run_many(samples)):
        assert all(same_bits(np.asarray(w), g) for w, g in zip(want_outputs, got_outputs))


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
