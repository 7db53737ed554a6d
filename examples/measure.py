"""Measure every example and write the figures into its README and the index (examples/README.md).

For each example: the float model's and the int8 model's quality on its test set (top-1 accuracy, or
mean absolute error for a regressor), both run in tflite-micro (tinygen's int8 firmware gives the same
bits: the tests check it), for a streaming model after the last step of each test sequence and as the
steps come in; the memory plan on the Nano 33 BLE; and one inference (one step) under QEMU on
mps2-an386 (its Cortex-M4 stands in for the Nano 33 BLE's): instructions, and milliseconds at the
Nano's 64 MHz at one instruction per cycle (a lower bound). An example with a front end (a model run
once per frame of raw input before the classifier, keyword's audio preprocessor) gets the same plan
and profile for one frame. Run from the repository root (needs the
test extra, QEMU and the Arm toolchain):  python examples/measure.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinygen.compiler.pipeline import load_model  # noqa: E402
from tinygen.reference import Reference  # noqa: E402
from tinygen.values import dequantize, load_samples, load_sequences  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent
CLASS_BOARD, EMULATED_BOARD, CLASS_BOARD_MHZ = "nano33", "mps2-an386", 64


@dataclass(frozen=True)
class FrontEnd:
    """A model the device runs once per `step` of raw input, `step_seconds` apart, keeping state
    between invokes, whose outputs make up the example's model's input; `data` (in the example's
    folder) holds sequences of its inputs."""

    model: Path
    data: str
    step: str
    step_seconds: float


@dataclass(frozen=True)
class Example:
    name: str  # its folder
    stem: str  # <stem>_float.tflite, <stem>_int8.tflite
    task: str  # "classification" (top-1 accuracy) or "regression" (mean absolute error)
    what: str  # one line for the index
    data: str = ""  # the example whose calibration.npz and test.npz it uses ("": its own)
    # A streaming model: test.npz holds sequences, one invoke per step (a `step`), scored at each
    # sequence's last step; `step_seconds` apart on the device.
    step: str = ""
    step_seconds: float = 0.0
    front_end: FrontEnd | None = None

    @property
    def folder(self) -> Path:
        return EXAMPLES / self.name

    @property
    def data_folder(self) -> Path:
        return EXAMPLES / (self.data or self.name)

    def model(self, kind: str) -> Path:
        return self.folder / f"{self.stem}_{kind}.tflite"


EXAMPLES_LIST = [
    Example("sine", "sine", "regression", "y = sin(x): the TinyML hello world, three dense layers"),
    Example("digits", "digits", "classification", "which digit an 8x8 handwritten image shows, a small 2-D CNN"),
    Example("gesture", "gesture", "classification", "activity from 10 s of IMU data (BasicMotions), a 1-D CNN"),
    Example(
        "gesture_lstm",
        "gesture_lstm",
        "classification",
        "the same activities streamed one IMU reading per invoke into an LSTM that keeps its state",
        data="gesture",
        step="reading",
        step_seconds=0.1,
    ),
    Example(
        "keyword",
        "keyword",
        "classification",
        '"yes", "no", silence or unknown in 1 s of audio (synthetic speech): audio front end and a CNN',
        front_end=FrontEnd(
            ROOT / "tests/corpus/tflite-micro/audio_preprocessor_int8.tflite", "frames.npz", "frame", 0.02
        ),
    ),
]


def real_outputs(example: Example, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """The first output of every test sample as real numbers, the model run in tflite-micro, and the
    truth. A streaming model's outputs are (sequences, steps, values), each sequence from reset states."""
    model = load_model(example.model(kind))
    graph = model.graph
    out = graph.tensor(graph.outputs[0])
    reference = Reference(model.tflite_bytes, graph)
    if example.step:
        sequences, truth = load_sequences(example.data_folder / "test.npz", graph)
        runs = reference.run_sequences(sequences)
        return np.stack([[dequantize(out, step[0]).reshape(-1) for step in run] for run in runs]), truth
    samples, truth = load_samples(example.data_folder / "test.npz", graph)
    return np.stack([dequantize(out, sample[0]).reshape(-1) for sample in reference.run_many(samples)]), truth


def quality(example: Example, kind: str) -> float:
    """Top-1 accuracy or mean absolute error on test.npz, the model run in tflite-micro; a streaming
    model's at the last step of each sequence."""
    values, truth = real_outputs(example, kind)
    if example.step:
        values = values[:, -1]
    if example.task == "classification":
        return float(np.mean(values.argmax(axis=-1) == truth))
    return float(np.mean(np.abs(values.reshape(truth.shape) - truth)))


def accuracy_over_time(example: Example, kind: str = "int8") -> list[tuple[float, float]]:
    """A streaming classifier's top-1 accuracy after each quarter of the sequences: (seconds, accuracy)."""
    values, truth = real_outputs(example, kind)
    steps = values.shape[1]
    return [
        (step * example.step_seconds, float(np.mean(values[:, step - 1].argmax(axis=-1) == truth)))
        for step in (steps // 4, steps // 2, 3 * steps // 4, steps)
    ]


def tinygen_json(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "tinygen", "-q", *args, "--json"], capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"tinygen {' '.join(args)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def plan_and_profile(model: Path) -> tuple[dict, dict]:
    plan = tinygen_json("plan", str(model), "--board", CLASS_BOARD)
    profile = tinygen_json("profile", str(model), "--board", EMULATED_BOARD, "--clock-mhz", str(CLASS_BOARD_MHZ))
    return plan, profile


def measure(example: Example) -> dict:
    plan, profile = plan_and_profile(example.model("int8"))
    front_end = None
    if example.front_end:
        front_plan, front_profile = plan_and_profile(example.front_end.model)
        front_end = {
            "arena": front_plan["arena_bytes"],
            "state": front_plan["state_bytes"],
            "weights": front_plan["weights_bytes"],
            "flash": front_plan["flash_bytes"],
            "instructions": front_profile["total"],
            "ms": front_profile["ms"],
        }
    return {
        "float": quality(example, "float"),
        "int8": quality(example, "int8"),
        "float_bytes": example.model("float").stat().st_size,
        "int8_bytes": example.model("int8").stat().st_size,
        "arena": plan["arena_bytes"],
        "weights": plan["weights_bytes"],
        "flash": plan["flash_bytes"],
        "ram": plan["ram_bytes"],
        "state": plan["state_bytes"],
        "instructions": profile["total"],
        "ms": profile["ms"],
        "over_time": accuracy_over_time(example) if example.step else None,
        "front_end": front_end,
    }


def metric(example: Example, value: float) -> str:
    return f"{value:.2%}" if example.task == "classification" else f"MAE {value:.4f}"


def results_block(example: Example, m: dict) -> str:
    name = "top-1 accuracy" if example.task == "classification" else "mean absolute error"
    if example.step:
        name += " after the last step"
    data = f"../{example.data}/" if example.data else ""
    state = f", state kept between invokes {m['state']:,} bytes" if m["state"] else ""
    invoke = f"One invoke (one {example.step})" if example.step else "One inference"
    lines = [
        "| | float | int8 (tinygen) |",
        "|---|---:|---:|",
        f"| {name} on {data}test.npz | {metric(example, m['float'])} | {metric(example, m['int8'])} |",
        f"| model file | {m['float_bytes']:,} bytes | {m['int8_bytes']:,} bytes |",
        "",
        f"On the Nano 33 BLE (`tinygen plan --board {CLASS_BOARD}`): arena {m['arena']:,} bytes{state}, weights "
        f"{m['weights']:,} bytes; the firmware needs about {m['flash']:,} bytes of flash and {m['ram']:,} "
        f"bytes of RAM with the Arduino core. {invoke} on {EMULATED_BOARD} (QEMU, Cortex-M4): "
        f"{m['instructions']:,} instructions, about {m['ms']:.2f} ms at {CLASS_BOARD_MHZ} MHz "
        "(one instruction per cycle: a lower bound).",
    ]
    if m["over_time"]:
        lines += ["", over_time_line(example, m["over_time"])]
    if m["front_end"]:
        lines += ["", front_end_line(example.front_end, m["front_end"])]
    return "\n".join(lines)


def front_end_line(front_end: FrontEnd, f: dict) -> str:
    every = front_end.step_seconds * 1000
    return (
        f"The front end (`{front_end.model.relative_to(ROOT)}`), once per {front_end.step} "
        f"(every {every:g} ms), on the Nano 33 BLE: arena {f['arena']:,} bytes, state kept between invokes "
        f"{f['state']:,} bytes, weights {f['weights']:,} bytes; its firmware alone needs about {f['flash']:,} "
        f"bytes of flash. One {front_end.step} on {EMULATED_BOARD}: {f['instructions']:,} instructions, about "
        f"{f['ms']:.2f} ms at {CLASS_BOARD_MHZ} MHz ({f['ms'] / every:.0%} of the time between {front_end.step}s)."
    )


def over_time_line(example: Example, over_time: list[tuple[float, float]]) -> str:
    after = ", ".join(f"{accuracy:.1%} after {seconds:g} s" for seconds, accuracy in over_time)
    return f"int8 top-1 accuracy on the test sequences as the {example.step}s come in: {after}."


def write_between(path: Path, name: str, text: str) -> None:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    current = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if not pattern.search(current):
        raise SystemExit(f"{path} has no {begin} ... {end} section")
    path.write_text(pattern.sub(lambda _: f"{begin}\n{text}\n{end}", current), encoding="utf-8")


def main() -> None:
    index = [
        "| example | what | float | int8 | arena | weights | instructions |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for example in EXAMPLES_LIST:
        m = measure(example)
        write_between(example.folder / "README.md", "results", results_block(example, m))
        index.append(
            f"| [{example.name}]({example.name}/) | {example.what} | {metric(example, m['float'])} | "
            f"{metric(example, m['int8'])} | {m['arena']:,} | {m['weights']:,} | {m['instructions']:,}"
            + (f" per {example.step}" if example.step else "")
            + (f" + {m['front_end']['instructions']:,} per {example.front_end.step} |" if m["front_end"] else " |")
        )
        print(f"{example.name}: {m}")
    write_between(EXAMPLES / "README.md", "index", "\n".join(index))


if __name__ == "__main__":
    main()
