"""The board talks back: tinygen firmware prints a banner and result lines on its serial port while no
tool uses the link, the first frame silences it and TALK hands the port back; `tinygen monitor` reads
the lines and warns when the inputs drift from what the model was calibrated on."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from tinygen.boards import load_board
from tinygen.compiler.pipeline import compile_model, load_model
from tinygen.device import qemu
from tinygen.device.demo import load_demo
from tinygen.device.firmware import build_firmware
from tinygen.device.monitor import Baseline, Result, Watch, parse_result
from tinygen.reference import Reference
from tinygen.values import dequantize, load_samples

from .helpers import run_cli

ROOT = Path(__file__).resolve().parent.parent
GESTURE = ROOT / "examples/gesture"
MODEL = GESTURE / "gesture_int8.tflite"
LABELS = (GESTURE / "labels.txt").read_text().split()


def test_a_result_line_parses_and_a_stray_line_does_not():
    line = "result top=3 score=-0.0125 us=1234 in_min=-128 in_max=127 in_mean=-87.21 in_sat=12/64 label=two words"
    assert parse_result(line) == Result(3, -0.0125, 1234, -128.0, 127.0, -87.21, 12, 64, "two words")
    assert parse_result("result top=3 score=1.0") is None
    assert parse_result("tinygen: mps2-an386 runs x (0123abcd): ...") is None


def test_the_monitor_warns_once_when_inputs_drift():
    baseline = Baseline(scale=0.5, zero_point=0, hash="0123abcd" + "0" * 8, calibration_means=(-1.0, 1.0))
    watch = Watch(baseline)
    calm = Result(1, 0.9, 100, -20, 20, 0.5, 0, 600, None)
    assert watch.add(calm) == [] and watch.summary()["warnings"] == []
    clipped = Result(1, 0.9, 100, -128, 127, 30.0, 60, 600, None)  # 10% at the limits, mean 15 real
    warnings = watch.add(clipped)
    assert len(warnings) == 2 and "5.0% of input values sit at the int8 limits" in warnings[0]
    assert "[-64, 63.5]" in warnings[0] and "outside the calibration samples' means [-1, 1]" in warnings[1]
    assert watch.add(clipped) == []  # said once
    assert watch.check_banner("tinygen: nano33 runs other (89abcdef): input ...").startswith("the board runs another")
    assert watch.check_banner("tinygen: nano33 runs this (0123abcd): input ...") is None


def _input_quantized(scale: float, zero_point: int):
    """A stand-in graph whose input 0 has this quantization (all Baseline.of reads)."""
    from types import SimpleNamespace

    tensor = SimpleNamespace(scale=scale, zero_point=zero_point, quant=True)
    return SimpleNamespace(inputs=[0], tensor=lambda index: tensor)


def test_a_limit_counts_as_clipping_only_beyond_the_calibrated_range():
    """Inputs calibrated on [0, 1] (0.0 is -128, 1.0 is 127): values at -128 are the calibrated minimum,
    not clipping; the same limits for data calibrated on [0.2, 1] (the range holds 0) are beyond it."""
    graph = _input_quantized(1 / 255, -128)
    at_zero = Result(0, 0.9, 100, -128, 100, -60.0, 30, 60, None, in_low=30)  # half the values are 0.0
    for calibration, warned in [([0.0, 0.5, 1.0], False), ([0.2, 0.5, 1.0], True), (None, False)]:
        data = None if calibration is None else [np.array(calibration, np.float32).reshape(3, 1)]
        watch = Watch(Baseline.of(graph, None, data))
        assert any("int8 limits" in w for w in watch.add(at_zero)) == warned, calibration
    # Without calibration data, the limit that is not real 0 clips; so do both where 0 is inside.
    high = Result(0, 0.9, 100, 0, 127, 60.0, 30, 60, None, in_low=0)
    assert "int8 limits" in Watch(Baseline.of(graph, None, None)).add(high)[0]
    assert "int8 limits" in Watch(Baseline.of(_input_quantized(0.1, 0), None, None)).add(at_zero)[0]


@pytest.fixture(scope="module")
def talking_firmware(tmp_path_factory):
    """The gesture example on mps2-an386, its first test recording bundled, with labels."""
    sample = tmp_path_factory.mktemp("demo") / "first.npy"
    np.save(sample, np.load(GESTURE / "test.npz")["x"][:1])
    compiled = compile_model(load_model(MODEL))
    demo = load_demo(compiled.model.graph, str(sample), str(GESTURE / "labels.txt"))
    workdir = tmp_path_factory.mktemp("firmware")
    elf = build_firmware(compiled, load_board("mps2-an386"), workdir, demo=demo).build.elf
    return compiled, sample, elf


def _read_until(port, needle: bytes, timeout_s: float) -> bytes:
    received, deadline = b"", time.monotonic() + timeout_s
    while needle not in received and time.monotonic() < deadline:
        received += port.read(256)
    return received


def test_the_firmware_prints_what_tflite_micro_computes(qemu_ready, talking_firmware):
    serial = pytest.importorskip("serial")
    compiled, sample, elf = talking_firmware
    graph = compiled.model.graph
    with qemu.start_serial(load_board("mps2-an386"), elf) as emulator:
        port = serial.serial_for_url(emulator.url, timeout=0.1)
        text = _read_until(port, b"\nresult", 20) + _read_until(port, b"\n", 5)
        port.close()
    lines = text.decode().splitlines()
    assert lines[0].startswith("tinygen: mps2-an386 runs gesture_int8 (") and "input int8 [1, 100, 6]" in lines[0]
    result = parse_result(next(line for line in lines if line.startswith("result")))
    (x,) = load_samples(sample, graph)[0][0]
    (y,) = Reference(compiled.model.tflite_bytes, graph).run([x])
    scores = dequantize(graph.tensor(graph.outputs[0]), y).reshape(-1)
    top = int(np.argmax(y))
    assert (result.top, result.label) == (top, LABELS[top])
    assert result.score == pytest.approx(float(scores[top]), abs=5e-5)
    assert (result.in_min, result.in_max, result.in_count) == (x.min(), x.max(), x.size)
    assert result.in_mean == pytest.approx(float(x.mean()), abs=0.005)
    assert result.in_saturated == int(np.sum((x == -128) | (x == 127))) and result.in_low == int(np.sum(x == -128))


def test_a_tool_silences_it_and_talk_hands_the_port_back(qemu_ready, talking_firmware):
    serial = pytest.importorskip("serial")
    from tinygen.device.link.client import LinkClient

    _, _, elf = talking_firmware
    with qemu.start_serial(load_board("mps2-an386"), elf) as emulator:
        port = serial.serial_for_url(emulator.url, timeout=0.05)
        assert b"\nresult" in _read_until(port, b"\nresult", 20)
        client = LinkClient(port, "QEMU", timeout_s=5)
        assert client.echo(b"still there") == b"still there"  # lines before the reply are skipped
        time.sleep(2.5)  # two result periods
        port.reset_input_buffer()
        time.sleep(1.5)
        assert port.read(4096) == b""  # silent while the tool holds the link
        client.talk()
        assert b"tinygen: mps2-an386 runs" in _read_until(port, b"\nresult", 10)
        port.close()


def test_monitor_in_the_emulator(qemu_ready, talking_firmware, tmp_path):
    _, sample, _ = talking_firmware
    calibration = GESTURE / "calibration.npz"
    code, out, err = run_cli(
        "monitor", MODEL, "--board", "mps2-an386", "--demo-input", sample, "--calibration", calibration,
        "--labels", GESTURE / "labels.txt", "--count", "2", "--json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["results"] == 2 and report["warnings"] == []
    assert report["top"] == {LABELS[report["lines"][0]["top"]]: 2}
    # The latency is the invoke's instructions at the board's clock, as profile estimates it.
    code, out, err = run_cli("profile", MODEL, "--board", "mps2-an386", "--json")
    assert code == 0, err
    profile = json.loads(out)
    expected_us = profile["total"] / profile["clock_hz"] * 1e6
    for line in report["lines"]:
        assert line["us"] == pytest.approx(expected_us, rel=0.02)
    # Ten times the motion: the inputs leave the calibrated range, and the monitor says so.
    wild = tmp_path / "wild.npy"
    np.save(wild, np.load(sample) * 10)
    code, out, err = run_cli(
        "monitor", MODEL, "--board", "mps2-an386", "--demo-input", wild, "--calibration", calibration,
        "--count", "1", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert any("inputs drift" in w for w in json.loads(out)["warnings"])


def test_bad_labels_or_demo_input_get_one_line(tmp_path):
    (tmp_path / "labels.txt").write_text("only\ntwo\n")
    project = ("build", MODEL, "--board", "mps2-an386", "-o", tmp_path / "p")
    code, _, err = run_cli(*project, "--labels", tmp_path / "labels.txt")
    assert code == 1 and "holds 2 labels" in err and err.count("\n") == 1 and not (tmp_path / "p").exists()
    np.save(tmp_path / "wrong.npy", np.zeros((1, 7), np.float32))
    code, _, err = run_cli(*project, "--demo-input", tmp_path / "wrong.npy")
    assert code == 1 and err.count("\n") == 1 and not (tmp_path / "p").exists()
    code, _, err = run_cli("monitor", MODEL)
    assert code == 2 and "give --port, or MODEL and --board" in err
