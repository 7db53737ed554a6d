"""The quantizer on small generated float graphs: the float executor against tflite-micro's float
kernels, TFLite's int8 constraints, range methods, calibration files, the CLI and error messages."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from tinygen.cli import main
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.quantize import CalibrationData, load_calibration, quantize
from tinygen.quantize.float_exec import execute
from tinygen.quantize.ranges import TensorStats, quant_params

from .bitexact import assert_bit_exact
from .quant_models import GRAPHS, conv_softmax, elementwise_tanh, inputs_for, pool_mean_logistic, run_tflm


@pytest.fixture(scope="module")
def quantized():
    """Each test graph quantized once, with int8 and with float I/O."""
    results = {}
    for name, make in GRAPHS.items():
        graph = make()
        data = CalibrationData(inputs_for(graph, 64))
        results[name] = (graph, quantize(graph, data, report=True), quantize(graph, data, float_io=True))
    return results


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_float_executor_matches_tflite_micro_float(name):
    graph = GRAPHS[name]()
    x = inputs_for(graph, 6)
    want = run_tflm(write_tflite(graph), graph, x)
    got = execute(graph, [x])[graph.outputs[0]].reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_int8_model_runs_in_tflite_micro_close_to_float(quantized, name):
    graph, result, float_io = quantized[name]
    x = inputs_for(graph, 64, seed=7)
    want = execute(graph, [x])[graph.outputs[0]].reshape(len(x), -1)

    def sqnr(got):
        return 10 * np.log10(np.sum(want**2) / np.sum((want - got.reshape(want.shape)) ** 2))

    for r in (result, float_io):
        assert sqnr(run_tflm(r.tflite_bytes, r.graph, x)) > 24, name
    # The report's simulation loses as much signal as the real int8 model does.
    simulated = execute(result.graph, [x], simulate_int8=True)[result.graph.outputs[0]]
    assert abs(sqnr(simulated) - sqnr(run_tflm(result.tflite_bytes, result.graph, x))) < 2


@pytest.mark.parametrize("name", sorted(GRAPHS))
@pytest.mark.parametrize("float_io", [False, True], ids=["int8-io", "float-io"])
def test_quantized_graphs_compile_bit_exact(quantized, name, float_io):
    assert_bit_exact(quantized[name][2 if float_io else 1].graph, samples=8)


def _by_kind(graph, kind):
    return [op for op in graph.ops if op.kind == kind]


def test_fixed_output_parameters(quantized):
    for name, kind, scale, zero_point in (
        ("conv_softmax", "SOFTMAX", 1 / 256, -128),
        ("pool_mean_logistic", "LOGISTIC", 1 / 256, -128),
        ("elementwise_tanh", "TANH", 1 / 128, 0),
    ):
        graph = quantized[name][1].graph
        out = graph.tensor(_by_kind(graph, kind)[0].outputs[0])
        assert (out.scale, out.zero_point) == (np.float32(scale), zero_point)


def test_shared_quantization(quantized):
    for name in GRAPHS:
        graph = quantized[name][1].graph
        for op in graph.ops:
            if op.kind in ("RESHAPE", "AVERAGE_POOL_2D", "MAX_POOL_2D", "PAD", "PADV2", "RELU6", "CONCATENATION"):
                activations = [graph.tensor(i) for i in (*op.inputs, *op.outputs) if not graph.tensor(i).is_constant]
                assert len({t.quant for t in activations}) == 1, f"{name}: {op.kind} rescales"


def test_weights_and_bias(quantized):
    graph = quantized["conv_softmax"][1].graph
    for kind, axis, channels in (("CONV_2D", 0, 6), ("DEPTHWISE_CONV_2D", 3, 12), ("FULLY_CONNECTED", 0, 10)):
        op = _by_kind(graph, kind)[0]
        x, w, b = (graph.tensor(i) for i in op.inputs)
        assert w.dtype == "int8" and w.quant.axis == axis and len(w.quant.scale) == channels
        assert set(w.quant.zero_point) == {0} and w.data.min() >= -127
        # each channel's largest weight uses the whole int8 range
        assert np.all(
            np.abs(w.data).max(axis=tuple(a for a in range(4 if kind != "FULLY_CONNECTED" else 2) if a != axis)) == 127
        )
        assert b.dtype == "int32" and set(b.quant.zero_point) == {0}
        np.testing.assert_allclose(b.quant.scale, np.float32(x.scale) * np.asarray(w.quant.scale), rtol=1e-6)


def test_per_tensor_weights():
    graph = conv_softmax()
    result = quantize(graph, CalibrationData(inputs_for(graph, 32)), per_channel=False)
    for op in result.graph.ops:
        if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            assert len(result.graph.tensor(op.inputs[1]).quant.scale) == 1
    run_tflm(result.tflite_bytes, result.graph, inputs_for(graph, 2))


def test_depthwise_without_bias_gets_a_zero_bias(quantized):
    graph = quantized["pool_mean_logistic"][1].graph
    op = _by_kind(graph, "DEPTHWISE_CONV_2D")[0]
    assert len(op.inputs) == 3 and not graph.tensor(op.inputs[2]).data.any()


def test_a_bias_too_large_for_int32_raises_the_weight_scale():
    graph = elementwise_tanh()
    conv = graph.ops[0]
    graph.tensor(conv.inputs[2]).data[:] = 1e6  # with tiny weights, input_scale * weight_scale cannot hold it
    graph.tensor(conv.inputs[1]).data[:] *= 1e-6
    result = quantize(graph, CalibrationData(inputs_for(graph, 16)))
    bias = result.graph.tensor(result.graph.ops[0].inputs[2])
    np.testing.assert_allclose(bias.data * np.asarray(bias.quant.scale), 1e6, rtol=1e-6)


def test_float_io_edges(quantized):
    graph = quantized["conv_softmax"][2].graph
    assert graph.ops[0].kind == "QUANTIZE" and graph.ops[-1].kind == "DEQUANTIZE"
    assert {graph.tensor(i).dtype for i in (*graph.inputs, *graph.outputs)} == {"float32"}


def test_report_rows(quantized):
    report = quantized["conv_softmax"][1].report
    kinds = [t.kind for t in report.tensors]
    assert kinds[:2] == ["input", "CONV_2D"] and "weights" in kinds and "bias" in kinds
    assert all(t.sqnr_db > 20 for t in report.tensors)
    assert report.samples == 64 and report.float_accuracy is None


def _stats(values: np.ndarray, histogram: bool = True) -> TensorStats:
    stats = TensorStats()
    stats.observe_minmax(values)
    if histogram:
        stats.observe_histogram(values)
    return stats


def test_range_methods_on_an_outlier():
    values = np.concatenate([np.random.default_rng(0).normal(0, 1, 100_000), [80.0]])
    stats = _stats(values)
    assert stats.range("minmax")[1] == 80.0
    assert 3 < stats.range("percentile")[1] < 6


def test_mse_beats_minmax_on_a_long_tail():
    values = np.random.default_rng(1).exponential(1.0, 200_000)
    stats = _stats(values)

    def error(low, high):
        scale, zero = quant_params(low, high)
        q = (np.clip(np.round(values / scale) + zero, -128, 127) - zero) * scale
        return np.mean((values - q) ** 2)

    mse_low, mse_high = stats.range("mse")
    assert mse_low == 0.0 and mse_high < values.max()
    assert error(mse_low, mse_high) < error(*stats.range("minmax"))


def test_ranges_hold_zero_exactly():
    assert _stats(np.array([2.0, 5.0]), histogram=False).range("minmax") == (0.0, 5.0)
    scale, zero = quant_params(-1.3, 2.9)
    assert -128 <= zero <= 127 and abs(-128 - (-1.3 / scale) - zero) < 0.5


def test_calibration_files(tmp_path):
    graph = pool_mean_logistic()
    x = inputs_for(graph, 5)
    np.save(tmp_path / "plain.npy", x)
    np.save(tmp_path / "batched.npy", x[:, None])
    np.savez(tmp_path / "labelled.npz", x=x, y=np.arange(5))
    for name in ("plain.npy", "batched.npy", "labelled.npz"):
        data = load_calibration(tmp_path / name, graph)
        np.testing.assert_array_equal(data.x, x)
    assert load_calibration(tmp_path / "labelled.npz", graph).y.tolist() == [0, 1, 2, 3, 4]
    np.save(tmp_path / "wrong.npy", x[:, :3])
    with pytest.raises(TinygenError, match=r"expected \(N, 10, 10, 2\)"):
        load_calibration(tmp_path / "wrong.npy", graph)
    np.savez(tmp_path / "nox.npz", inputs=x)
    with pytest.raises(TinygenError, match="no array 'x'"):
        load_calibration(tmp_path / "nox.npz", graph)


def test_unsupported_and_already_quantized(quantized):
    graph = conv_softmax()
    graph.ops[-1].kind = "LOG_SOFTMAX"
    with pytest.raises(TinygenError, match="LOG_SOFTMAX.*cannot be quantized"):
        quantize(graph, CalibrationData(inputs_for(graph, 2)))
    with pytest.raises(TinygenError, match="float32 models"):
        quantize(quantized["conv_softmax"][1].graph, CalibrationData(inputs_for(graph, 2)))


@pytest.fixture
def float_model(tmp_path):
    graph = conv_softmax()
    path = tmp_path / "float.tflite"
    path.write_bytes(write_tflite(graph))
    np.savez(tmp_path / "calib.npz", x=inputs_for(graph, 32), y=np.zeros(32, int))
    return path, tmp_path / "calib.npz"


def test_cli_quantize_with_report(float_model):
    model, calib = float_model
    runner = CliRunner()
    result = runner.invoke(main, ["quantize", str(model), "--calibration", str(calib), "--report", "--method", "mse"])
    assert result.exit_code == 0, result.output
    assert "SQNR" in result.output and "top-1" in result.output and (model.parent / "float_int8.tflite").exists()
    out = model.parent / "q.tflite"
    result = runner.invoke(main, ["quantize", str(model), "--calibration", str(calib), "-o", str(out), "--json"])
    info = json.loads(result.output)
    assert info["output"] == str(out) and info["report"]["method"] == "minmax"
    assert info["parameter_bytes"]["float"] > 3.5 * info["parameter_bytes"]["int8"]


def test_cli_float_model_needs_calibration(float_model, tmp_path):
    model, calib = float_model
    runner = CliRunner()
    result = runner.invoke(main, ["build", str(model), "--board", "host", "--no-compile", "-o", str(tmp_path / "p")])
    assert result.exit_code == 1 and "float model; pass --calibration" in result.output
    result = runner.invoke(
        main,
        [
            "build",
            str(model),
            "--board",
            "host",
            "--no-compile",
            "-o",
            str(tmp_path / "p"),
            "--calibration",
            str(calib),
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["quantize", str(model)])
    assert result.exit_code == 2 and "--calibration" in result.output


def test_keras_without_tensorflow(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # makes `import tensorflow` fail
    model = tmp_path / "m.keras"
    model.write_bytes(b"")
    result = CliRunner().invoke(main, ["quantize", str(model), "--calibration", str(model)])
    # The environment lacks a tool: exit 3, and what to install.
    assert result.exit_code == 3 and "needs TensorFlow: pip install tensorflow-cpu" in result.output


def test_a_regressor_is_scored_by_its_mean_absolute_error(tmp_path):
    """examples/sine: one float output per sample and float labels. Top-1 of one value says nothing;
    the report gives the mean absolute error, float and int8, as the example's README measures it."""
    from pathlib import Path

    from tinygen.frontends.tflite_reader import parse_tflite

    sine = Path(__file__).resolve().parent.parent / "examples/sine"
    graph = parse_tflite((sine / "sine_float.tflite").read_bytes())
    data = load_calibration(sine / "calibration.npz", graph)
    report = quantize(graph, data, report=True).report
    assert report.float_accuracy is None and report.int8_accuracy is None
    truth = np.load(sine / "calibration.npz")["y"].reshape(-1)
    predicted = execute(graph, [data.inputs[0]])[graph.outputs[0]].reshape(-1)
    assert report.float_mae == pytest.approx(float(np.mean(np.abs(predicted - truth))), rel=1e-6)
    assert 0 < report.int8_mae < 0.1
