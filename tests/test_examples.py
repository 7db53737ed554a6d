"""The examples (examples/): each int8 model is tinygen's quantization of its float model, it verifies
bit for bit against tflite-micro on the host (every test sample) and in QEMU (a handful), and its
README's accuracy and arena are the ones tflite-micro and the planner measure today. The CI workflow
users copy runs as written."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tinygen.compiler.pipeline import load_model
from tinygen.reference import Reference
from tinygen.values import load_sequences

from .helpers import run_cli
from .sketches import NANO33, build_sketch, need, run_program

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
QEMU_SAMPLES = 3


@pytest.fixture(params=measure.EXAMPLES_LIST, ids=NAMES)
def example(request):
    return request.param


def test_every_example_folder_is_measured():
    folders = sorted(p.name for p in EXAMPLES.iterdir() if (p / "train.py").is_file())
    assert folders == sorted(NAMES)


def test_the_int8_model_is_tinygens_quantization_of_the_float_one(example, tmp_path):
    out = tmp_path / "int8.tflite"
    code, _, err = run_cli(
        "quantize", example.model("float"), "--calibration", example.data_folder / "calibration.npz", "-o", out
    )
    assert code == 0, err
    assert out.read_bytes() == example.model("int8").read_bytes()


def test_the_readme_states_what_tflite_micro_measures(example):
    """Float and int8 quality on test.npz, both run in tflite-micro, as the README's table says; for a
    streaming model, also as the steps come in."""
    readme = (example.folder / "README.md").read_text()
    row = next(line for line in readme.splitlines() if "test.npz |" in line)
    stated = [cell.strip() for cell in row.strip("|").split("|")[1:]]
    measured = [measure.metric(example, measure.quality(example, kind)) for kind in ("float", "int8")]
    assert stated == measured
    if example.step:
        assert measure.over_time_line(example, measure.accuracy_over_time(example)) in readme.splitlines()


def test_the_readme_states_the_arena(example):
    readme = (example.folder / "README.md").read_text()
    stated = re.search(r"^On the Nano 33 BLE .*?: arena ([\d,]+) bytes", readme, re.M).group(1)
    plan = measure.tinygen_json("plan", str(example.model("int8")), "--board", measure.CLASS_BOARD)
    assert int(stated.replace(",", "")) == plan["arena_bytes"]


def test_the_int8_model_verifies_on_the_host(example):
    code, out, err = run_cli(
        "verify", example.model("int8"), "--board", "host", "--data", example.data_folder / "test.npz", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["bit_exact"]
    if example.task == "classification":  # a streaming model's at each sequence's last step
        assert result["device_accuracy"] == measure.quality(example, "int8")
    else:  # a regressor: the mean absolute error, never the top-1 of one value
        assert "device_accuracy" not in result
        assert result["device_mae"] == pytest.approx(measure.quality(example, "int8"), rel=1e-5)


def test_the_int8_model_verifies_in_qemu(example, qemu_ready, tmp_path):
    """A handful of the test samples (sequences, for a streaming model): the host checks them all."""
    with np.load(example.data_folder / "test.npz") as test:
        np.savez(tmp_path / "few.npz", x=test["x"][:QEMU_SAMPLES], y=test["y"][:QEMU_SAMPLES])
    code, out, err = run_cli("verify", example.model("int8"), "--board", "mps2-an386", "--data", tmp_path / "few.npz")
    assert code == 0, err
    if example.step:
        assert out.startswith(f"{QEMU_SAMPLES} sequences of ")


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


FRONT_ENDED = [example for example in measure.EXAMPLES_LIST if example.front_end]


@pytest.fixture(params=FRONT_ENDED, ids=[example.name for example in FRONT_ENDED])
def front_ended(request):
    return request.param


def _verify_front_end(example, board: str, data: Path) -> dict:
    code, out, err = run_cli("verify", example.front_end.model, "--board", board, "--data", data, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["bit_exact"]
    return result


def test_the_front_end_verifies_frame_by_frame_on_the_host(front_ended):
    frames = front_ended.folder / front_ended.front_end.data
    with np.load(frames) as data:
        count, steps = data["x"].shape[:2]
    assert _verify_front_end(front_ended, "host", frames)["sequences"] == [steps] * count


def test_the_front_end_verifies_frame_by_frame_in_qemu(front_ended, qemu_ready, tmp_path):
    with np.load(front_ended.folder / front_ended.front_end.data) as data:
        np.savez(tmp_path / "one.npz", x=data["x"][:1])
        steps = data["x"].shape[1]
    assert _verify_front_end(front_ended, "mps2-an386", tmp_path / "one.npz")["sequences"] == [steps]


def test_the_classifier_sees_the_front_ends_features(front_ended):
    """The test features are the front end's outputs over the frames, run in tflite-micro from reset
    state: the classifier was trained and is tested on what the device computes."""
    model = load_model(front_ended.front_end.model)
    sequences, _ = load_sequences(front_ended.folder / front_ended.front_end.data, model.graph)
    runs = Reference(model.tflite_bytes, model.graph).run_sequences(sequences)
    with np.load(front_ended.data_folder / "test.npz") as test:
        features = test["x"][: len(runs)]
    assert np.array_equal(np.stack([[step[0].reshape(-1) for step in run] for run in runs]), features[..., 0])


def test_the_readme_states_the_front_ends_arena(front_ended):
    readme = (front_ended.folder / "README.md").read_text()
    step = front_ended.front_end.step
    stated = re.search(rf"^The front end .*?once per {step} .*?: arena ([\d,]+) bytes", readme, re.M).group(1)
    plan = measure.tinygen_json("plan", str(front_ended.front_end.model), "--board", measure.CLASS_BOARD)
    assert int(stated.replace(",", "")) == plan["arena_bytes"]


def test_the_keyword_sketch_runs_both_models_as_tflite_micro_does(tmp_path):
    """KeywordSpotter.ino with the front end's and the classifier's Arduino libraries (tinygen export
    --prefix): on the host against the stand-in Arduino core it prints the label and score that
    tflite-micro gives for its clip through both models; it also builds for the Nano 33 BLE."""
    keyword = EXAMPLES / "keyword"
    front_end = next(example for example in FRONT_ENDED if example.name == "keyword").front_end.model
    libraries = []
    for model, name, *args in (
        (front_end, "AudioFrontEnd", "--prefix", "frontend"),
        (keyword / "keyword_int8.tflite", "KeywordModel", "--prefix", "keyword", "--labels", keyword / "labels.txt"),
    ):
        code, out, err = run_cli("export", model, "--board", "nano33", "-o", tmp_path / name, *args, "--json")
        assert code == 0, err
        libraries.append(Path(json.loads(out)["output"]))
    sketch = keyword / "KeywordSpotter"
    printed = run_program(build_sketch(sketch, libraries, tmp_path / "host"))

    clip = np.array(re.findall(r"-?\d+", (sketch / "clip.h").read_text().split("{", 1)[1]), np.int16)
    frames = [clip[k * 320 : k * 320 + 480].reshape(1, 480) for k in range(49)]
    assert len(clip) == 48 * 320 + 480
    preprocessor = load_model(front_end)
    (run,) = Reference(preprocessor.tflite_bytes, preprocessor.graph).run_sequences([[[frame] for frame in frames]])
    features = np.stack([step[0].reshape(40) for step in run]).reshape(1, 49, 40, 1)
    classifier = load_model(keyword / "keyword_int8.tflite")
    (scores,) = Reference(classifier.tflite_bytes, classifier.graph).run([features])
    out = classifier.graph.tensor(classifier.graph.outputs[0])
    best = int(np.argmax(scores))
    label = (keyword / "labels.txt").read_text().split()[best]
    score = (int(scores.reshape(-1)[best]) - out.zero_point) * out.scale
    assert printed.startswith(f"label: {label}, score: {score:.4f}, ")
    build_sketch(sketch, libraries, tmp_path / "nano33", need(NANO33))
