"""Streaming in the tools: `verify --data` and `invoke` take sequences (a first axis of time) for a
model that keeps state between invokes, and feed them step by step from a reset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tinygen.frontends.tflite_writer import write_tflite
from tinygen.reference import Reference
from tinygen.values import quantize_input

from .helpers import run_cli
from .ops.test_svdf import svdf_model

STEPS = 5


@pytest.fixture(scope="module")
def svdf_file(tmp_path_factory):
    graph = svdf_model(np.random.default_rng(11), input_size=6, units=3, rank=2, memory=4)
    path = tmp_path_factory.mktemp("streaming") / "svdf.tflite"
    path.write_bytes(write_tflite(graph))
    return path, graph


def real_sequence(graph, steps: int, seed: int = 0) -> np.ndarray:
    """Real values for the model's input, shaped (steps, *input shape): a first axis of time."""
    t = graph.tensor(graph.inputs[0])
    return np.random.default_rng(seed).uniform(-3, 3, (steps, *t.shape)).astype(np.float32)


def test_verify_compares_every_step_of_each_sequence(svdf_file, tmp_path):
    path, graph = svdf_file
    np.save(tmp_path / "one.npy", real_sequence(graph, STEPS))
    code, out, err = run_cli("verify", path, "--board", "host", "--data", tmp_path / "one.npy", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["bit_exact"] and result["samples"] == STEPS and result["sequences"] == [STEPS]
    # (N, T, *shape): N sequences, each from a reset.
    np.save(tmp_path / "three.npy", np.stack([real_sequence(graph, STEPS, seed) for seed in range(3)]))
    code, out, err = run_cli("verify", path, "--board", "host", "--data", tmp_path / "three.npy")
    assert code == 0, err
    assert out.startswith(f"3 sequences of {STEPS} steps ({3 * STEPS} samples), 0 of {3 * STEPS} outputs mismatch")


def test_invoke_feeds_a_sequence_step_by_step(svdf_file, tmp_path):
    path, graph = svdf_file
    sequence = real_sequence(graph, STEPS)
    np.save(tmp_path / "x.npy", sequence)
    code, out, err = run_cli("invoke", path, "--board", "host", "--input", tmp_path / "x.npy", "--json")
    assert code == 0, err
    steps = json.loads(out)["steps"]
    # tflite-micro on the same steps, from a fresh interpreter: the state carries over.
    t = graph.tensor(graph.inputs[0])
    reference = Reference(path.read_bytes(), graph)
    inputs = [[quantize_input(t, x)] for x in sequence]
    expected = reference.run_many(inputs)
    assert [s["outputs"][0]["raw"] for s in steps] == [e[0].reshape(-1).tolist() for e in expected]
    fresh = reference.run_many(inputs[1:2])[0][0]  # the second step's input as the first of a new sequence
    assert steps[1]["outputs"][0]["raw"] != fresh.reshape(-1).tolist()
    code, out, err = run_cli("invoke", path, "--board", "host", "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npz")
    assert code == 0, err
    assert out.count("step ") == 2 * STEPS and out.startswith("step 0 output 0 [1, 3]: raw ")
    (y,) = np.load(tmp_path / "y.npz").values()
    assert y.shape == (STEPS, 1, 3)


def test_invoke_runs_one_sequence(svdf_file, tmp_path):
    path, graph = svdf_file
    np.save(tmp_path / "two.npy", np.stack([real_sequence(graph, 2), real_sequence(graph, 2)]))
    code, _, err = run_cli("invoke", path, "--board", "host", "--input", tmp_path / "two.npy")
    assert code == 1 and "holds 2 sequences; invoke runs one" in err


def test_a_model_without_state_reads_sequences_as_samples(tmp_path):
    path = Path(__file__).parent / "fixtures" / "digits_cnn_int8.tflite"
    x = np.random.default_rng(0).integers(-128, 128, (2, 4, 8, 8, 1), dtype=np.int8)  # (N, T, *shape[1:])
    np.save(tmp_path / "x.npy", x)
    code, out, err = run_cli("verify", path, "--board", "host", "--data", tmp_path / "x.npy", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["bit_exact"] and result["samples"] == 8 and "sequences" not in result


@pytest.mark.usefixtures("qemu_ready")
def test_verify_streams_over_the_link(svdf_file, tmp_path):
    path, graph = svdf_file
    np.save(tmp_path / "two.npy", np.stack([real_sequence(graph, 3, seed) for seed in range(2)]))
    code, out, err = run_cli("verify", path, "--board", "mps2-an386", "--data", tmp_path / "two.npy", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["bit_exact"] and result["sequences"] == [3, 3]
