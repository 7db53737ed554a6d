"""The examples (examples/): each int8 model is tinygen's quantization of its float model, it verifies
bit for bit against tflite-micro on the host and in QEMU, and its README's figures are the ones
tflite-micro measures today. The CI workflow users copy runs as written."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .helpers import run_cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _measure():
    spec = importlib.util.spec_from_file_location("examples_measure", EXAMPLES / "measure.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


measure = _measure()
NAMES = [example.name for example in measure.EXAMPLES_LIST]


@pytest.fixture(params=measure.EXAMPLES_LIST, ids=NAMES)
def example(request):
    return request.param


def test_every_example_folder_is_measured():
    folders = sorted(p.name for p in EXAMPLES.iterdir() if (p / "train.py").is_file())
    assert folders == sorted(NAMES)


def test_the_int8_model_is_tinygens_quantization_of_the_float_one(example, tmp_path):
    out = tmp_path / "int8.tflite"
    code, _, err = run_cli(
        "quantize", example.model("float"), "--calibration", example.folder / "calibration.npz", "-o", out
    )
    assert code == 0, err
    assert out.read_bytes() == example.model("int8").read_bytes()


def test_the_readme_states_what_tflite_micro_measures(example):
    """Float and int8 quality on test.npz, both run in tflite-micro, as the README's table says."""
    readme = (example.folder / "README.md").read_text()
    row = next(line for line in readme.splitlines() if "on test.npz" in line)
    stated = [cell.strip() for cell in row.strip("|").split("|")[1:]]
    measured = [measure.metric(example, measure.quality(example, kind)) for kind in ("float", "int8")]
    assert stated == measured


def test_the_int8_model_verifies_on_the_host(example):
    code, out, err = run_cli(
        "verify", example.model("int8"), "--board", "host", "--data", example.folder / "test.npz", "--json"
    )
    assert code == 0, err
    assert '"bit_exact": true' in out


def test_the_int8_model_verifies_in_qemu(example, qemu_ready):
    code, _, err = run_cli(
        "verify", example.model("int8"), "--board", "mps2-an386", "--data", example.folder / "test.npz"
    )
    assert code == 0, err


def test_the_ci_workflow_runs_as_written(qemu_ready, tmp_path):
    """Every tinygen step of examples/ci/verify-model.yml, in a repository holding the gesture example."""
    workflow = yaml.safe_load((EXAMPLES / "ci/verify-model.yml").read_text())
    steps = [step["run"] for step in workflow["jobs"]["verify"]["steps"] if "tinygen " in step.get("run", "")]
    assert len(steps) == 3
    for name in ("gesture_int8.tflite", "test.npz"):
        shutil.copy(EXAMPLES / "gesture" / name, tmp_path / name)
    environment = {**os.environ, **workflow["env"], "MODEL": "gesture_int8.tflite"}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"  # where tinygen is
    for command in steps:
        done = subprocess.run(["bash", "-ec", command], cwd=tmp_path, env=environment, capture_output=True, text=True)
        assert done.returncode == 0, f"{command}: {done.stderr}"
    assert re.search(r'"total": \d+', (tmp_path / "profile.json").read_text())
