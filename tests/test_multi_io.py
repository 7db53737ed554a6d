"""Models with several inputs and outputs, and inputs without a batch axis: quantizer, verify, invoke."""

import json

import numpy as np
import pytest

from tinygen.errors import TinygenError
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.quantize import CalibrationData, load_calibration, quantize

from .bitexact import assert_bit_exact
from .helpers import run_cli
from .quant_models import FloatBuilder


def two_in_two_out():
    """a + b, and [a, b] concatenated on channels: two inputs, two outputs."""
    b = FloatBuilder(3)
    x1, x2 = b.tensor((1, 4, 4, 2), "float32", name="left"), b.tensor((1, 4, 4, 2), "float32", name="right")
    total = b.tensor((1, 4, 4, 2), "float32", name="total")
    both = b.tensor((1, 4, 4, 4), "float32", name="both")
    b.op("ADD", [x1, x2], [total], fused_activation_function="NONE")
    b.op("CONCATENATION", [x1, x2], [both], axis=3, fused_activation_function="NONE")
    return b.build([x1, x2], [total, both])


def rank1_input():
    """An input of shape [40] (no batch axis), as audio front ends often have."""
    b = FloatBuilder(4)
    x, y = b.tensor((40,), "float32", name="features"), b.act(1, 8)
    b.op(
        "FULLY_CONNECTED",
        [x, b.weights(8, 40), b.weights(8)],
        [y],
        fused_activation_function="RELU",
        keep_num_dims=False,
    )
    return b.build([x], [y])


def _samples(count, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1, (count, 4, 4, 2)).astype(np.float32), rng.normal(0, 1, (count, 4, 4, 2)).astype(np.float32)


def test_two_inputs_quantize_and_verify_bit_exact():
    graph = two_in_two_out()
    result = quantize(graph, CalibrationData(list(_samples(32))))
    assert len(result.graph.inputs) == 2 and len(result.graph.outputs) == 2
    assert_bit_exact(result.graph, samples=8)


def test_calibration_files_for_several_inputs(tmp_path):
    graph = two_in_two_out()
    left, right = _samples(5)
    np.savez(tmp_path / "named.npz", right=right, left=left)  # by name, in any order
    np.savez(tmp_path / "ordered.npz", left, right)  # np.savez's arr_0, arr_1: in input order
    for name in ("named.npz", "ordered.npz"):
        data = load_calibration(tmp_path / name, graph)
        np.testing.assert_array_equal(data.inputs[0], left)
        np.testing.assert_array_equal(data.inputs[1], right)
    np.save(tmp_path / "one.npy", left)
    with pytest.raises(TinygenError, match=r"holds one array; the model has 2 inputs \(left, right\)"):
        load_calibration(tmp_path / "one.npy", graph)
    np.savez(tmp_path / "short.npz", left=left, right=right[:3])
    with pytest.raises(TinygenError, match=r"different numbers of samples \(\[3, 5\]\)"):
        load_calibration(tmp_path / "short.npz", graph)


def test_rank1_input_samples_with_and_without_a_sample_axis(tmp_path):
    graph = rank1_input()
    x = np.random.default_rng(1).normal(0, 1, (6, 40)).astype(np.float32)
    np.save(tmp_path / "many.npy", x)
    np.save(tmp_path / "one.npy", x[0])
    assert load_calibration(tmp_path / "many.npy", graph).count == 6
    assert load_calibration(tmp_path / "one.npy", graph).count == 1  # one sample, not 40
    np.save(tmp_path / "wrong.npy", x[:, :39])
    with pytest.raises(
        TinygenError,
        match=r"has shape \(6, 39\); the model's input 'features' is \[40\]: "
        r"expected \(N, 40\)",
    ):
        load_calibration(tmp_path / "wrong.npy", graph)
    assert_bit_exact(quantize(graph, CalibrationData(x)).graph, samples=4)


def test_cli_with_two_inputs_and_outputs(tmp_path):
    model = tmp_path / "two.tflite"
    model.write_bytes(write_tflite(two_in_two_out()))
    left, right = _samples(40)
    np.savez(tmp_path / "calib.npz", left=left, right=right)
    code, _, err = run_cli("quantize", model, "--calibration", tmp_path / "calib.npz", "-o", tmp_path / "q.tflite")
    assert code == 0, err
    np.savez(tmp_path / "data.npz", left[:4], right[:4])
    code, out, err = run_cli(
        "verify", tmp_path / "q.tflite", "--board", "host", "--data", tmp_path / "data.npz", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["bit_exact"] and json.loads(out)["samples"] == 4
    np.savez(tmp_path / "x.npz", left=left[0], right=right[0])
    code, out, err = run_cli(
        "invoke", tmp_path / "q.tflite", "--board", "host", "--input", tmp_path / "x.npz", "-o", tmp_path / "y.npz"
    )
    assert code == 0, err
    outputs = np.load(tmp_path / "y.npz")
    assert sorted(outputs.files) == ["both", "total"]
    assert outputs["total"].shape == (1, 4, 4, 2) and outputs["both"].shape == (1, 4, 4, 4)
    np.testing.assert_allclose(outputs["total"][0], left[0] + right[0], atol=0.1)  # int8 a + b, near the float sum
