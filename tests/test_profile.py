"""`tinygen profile`: per-layer counts that add up, in a named unit, repeatable under QEMU."""

import json
import shutil

import pytest
from click.testing import CliRunner

from tinygen import zoo
from tinygen.cli import main
from tinygen.compiler.pipeline import LoadedModel, compile_model
from tinygen.device.target import Counts
from tinygen.frontends.tflite_reader import parse_tflite
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.reports.profile import build_profile


def compiled_autoencoder():
    data = write_tflite(zoo.autoencoder(seed=2))
    return compile_model(LoadedModel(parse_tflite(data), data, "autoencoder.tflite"))


def test_profile_rows_macs_and_total():
    compiled = compiled_autoencoder()
    n = len(compiled.lowered.layers)
    profile = build_profile(compiled, Counts("cycles", [1000 * i for i in range(1, n + 1)]), clock_hz=1_000_000)
    data = profile.as_json()
    assert data["unit"] == "cycles" and data["total"] == 1000 * n * (n + 1) // 2
    assert [row["op"] for row in data["layers"]] == ["FULLY_CONNECTED"] * 10
    assert data["layers"][0] == {"index": 0, "op": "FULLY_CONNECTED", "count": 1000, "macs": 640 * 128, "ms": 1.0}
    assert sum(row["count"] for row in data["layers"]) == data["total"]
    # Cycles at 1 MHz: one millisecond per thousand, measured.
    assert data["ms"] == data["total"] / 1000 and data["ms_basis"] == "measured cycles"


def test_emulator_milliseconds_are_labelled_an_estimate():
    compiled = compiled_autoencoder()
    n = len(compiled.lowered.layers)
    profile = build_profile(compiled, Counts("instructions", [64_000] * n), clock_hz=64_000_000)
    data = profile.as_json()
    assert data["ms"] == n * 1.0 and "estimate" in data["ms_basis"]


@pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="needs arm-none-eabi-gcc and qemu-system-arm",
)
def test_profile_on_qemu_is_repeatable_and_adds_up(tmp_path, monkeypatch):
    pytest.importorskip("platformio")
    monkeypatch.setenv("TINYGEN_CACHE_DIR", str(tmp_path / "cache"))
    model = tmp_path / "autoencoder.tflite"
    model.write_bytes(write_tflite(zoo.autoencoder(seed=2)))
    runs = [CliRunner().invoke(main, ["profile", str(model), "--board", "mps2-an386", "--json"]) for _ in range(2)]
    assert all(r.exit_code == 0 for r in runs), runs[0].stderr
    assert runs[0].stdout == runs[1].stdout  # -icount: identical counts run to run
    data = json.loads(runs[0].stdout)
    assert data["unit"] == "instructions"
    assert sum(row["count"] for row in data["layers"]) == data["total"]
    # Each layer does real work: at least one instruction per MAC would be far too few for C.
    assert all(row["count"] > row["macs"] / 4 for row in data["layers"])
    table = CliRunner().invoke(main, ["profile", str(model), "--board", "mps2-an386"])
    assert table.exit_code == 0 and "instructions" in table.stdout and "total" in table.stdout
    assert f"{data['total']:,}" in table.stdout
    assert "ms at 25 MHz: estimated at one instruction per cycle" in table.stdout
    at_64 = CliRunner().invoke(main, ["profile", str(model), "--board", "mps2-an386", "--json", "--clock-mhz", "64"])
    assert json.loads(at_64.stdout)["ms"] == pytest.approx(data["total"] / 64_000, abs=1e-4)
