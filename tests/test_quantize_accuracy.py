"""Quantizing real models on real data: int8 within 1 point of float, parameters ~4x smaller,
and the int8 models compiled bit-exact. Models: examples/digits (its train.py) and
tests/fixtures/train_models.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinygen.compiler.pipeline import load_model
from tinygen.quantize import CalibrationData, parameter_bytes, quantize

from .bitexact import assert_bit_exact
from .quant_models import run_tflm

FIXTURES = Path(__file__).parent / "fixtures"
DIGITS = Path(__file__).parent.parent / "examples" / "digits"


def _digits():
    with np.load(DIGITS / "calibration.npz") as train, np.load(DIGITS / "test.npz") as test:
        return DIGITS / "digits_float.tflite", (train["x"], train["y"], test["x"], test["y"])


def _basic_motions():
    data = np.load(FIXTURES / "basic_motions.npz")
    return FIXTURES / "basic_motions.tflite", (data["x"], data["y"], data["x_test"], data["y_test"])


CASES = {"digits": _digits, "basic_motions": _basic_motions}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    """(float model, int8 result, test split); calibrated on the training split."""
    path, (x_train, y_train, x_test, y_test) = CASES[request.param]()
    model = load_model(path)
    return model, quantize(model.graph, CalibrationData(x_train, y_train)), x_test, y_test


def _accuracy(tflite_bytes, graph, x, y) -> float:
    return float(np.mean(run_tflm(tflite_bytes, graph, x).reshape(len(x), -1).argmax(-1) == y))


def test_int8_accuracy_within_one_point_of_float(case):
    model, result, x_test, y_test = case
    float_accuracy = _accuracy(model.tflite_bytes, model.graph, x_test, y_test)
    int8_accuracy = _accuracy(result.tflite_bytes, result.graph, x_test, y_test)
    assert float_accuracy >= 0.9
    assert int8_accuracy >= float_accuracy - 0.01, (float_accuracy, int8_accuracy)


def test_parameters_at_least_3_9x_smaller(case):
    model, result, _, _ = case
    assert parameter_bytes(model.graph) >= 3.9 * parameter_bytes(result.graph)


def test_int8_fixture_bit_exact_on_real_inputs(case):
    _, result, x_test, _ = case
    graph = result.graph
    inp = graph.tensor(graph.inputs[0])
    samples = [
        [np.clip(np.round(x / inp.scale) + inp.zero_point, -128, 127).astype(np.int8).reshape(inp.shape)]
        for x in x_test[:24]
    ]
    assert_bit_exact(graph, inputs=samples)
