"""Measure every example and write the figures into its README and the index (examples/README.md).

For each example: the float model's and the int8 model's quality on its test set (top-1 accuracy, or
mean absolute error for a regressor), both run in tflite-micro (tinygen's int8 firmware gives the same
bits: the tests check it); the memory plan on the Nano 33 BLE; and one inference under QEMU on
mps2-an386 (its Cortex-M4 stands in for the Nano 33 BLE's): instructions, and milliseconds at the
Nano's 64 MHz at one instruction per cycle (a lower bound). Run from the repository root (needs the
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
from tinygen.values import dequantize, load_samples  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent
CLASS_BOARD, EMULATED_BOARD, CLASS_BOARD_MHZ = "nano33", "mps2-an386", 64


@dataclass(frozen=True)
class Example:
    name: str  # its folder
    stem: str  # <stem>_float.tflite, <stem>_int8.tflite
    task: str  # "classification" (top-1 accuracy) or "regression" (mean absolute error)
    what: str  # one line for the index

    @property
    def folder(self) -> Path:
        return EXAMPLES / self.name

    def model(self, kind: str) -> Path:
        return self.folder / f"{self.stem}_{kind}.tflite"


EXAMPLES_LIST = [
    Example("sine", "sine", "regression", "y = sin(x): the TinyML hello world, three dense layers"),
    Example("gesture", "gesture", "classification", "activity from 10 s of IMU data (BasicMotions), a 1-D CNN"),
]


def quality(example: Example, kind: str) -> float:
    """Top-1 accuracy or mean absolute error on test.npz, the model run in tflite-micro."""
    model = load_model(example.model(kind))
    graph = model.graph
    samples, truth = load_samples(example.folder / "test.npz", graph)
    outputs = Reference(model.tflite_bytes, graph).run_many(samples)
    values = np.stack([dequantize(graph.tensor(graph.outputs[0]), out[0]).reshape(-1) for out in outputs])
    if example.task == "classification":
        return float(np.mean(values.argmax(axis=-1) == truth))
    return float(np.mean(np.abs(values.reshape(truth.shape) - truth)))


def tinygen_json(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "tinygen", "-q", *args, "--json"], capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"tinygen {' '.join(args)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def measure(example: Example) -> dict:
    int8 = str(example.model("int8"))
    plan = tinygen_json("plan", int8, "--board", CLASS_BOARD)
    profile = tinygen_json("profile", int8, "--board", EMULATED_BOARD, "--clock-mhz", str(CLASS_BOARD_MHZ))
    return {
        "float": quality(example, "float"),
        "int8": quality(example, "int8"),
        "float_bytes": example.model("float").stat().st_size,
        "int8_bytes": example.model("int8").stat().st_size,
        "arena": plan["arena_bytes"],
        "weights": plan["weights_bytes"],
        "flash": plan["flash_bytes"],
        "ram": plan["ram_bytes"],
        "instructions": profile["total"],
        "ms": profile["ms"],
    }


def metric(example: Example, value: float) -> str:
    return f"{value:.2%}" if example.task == "classification" else f"MAE {value:.4f}"


def results_block(example: Example, m: dict) -> str:
    name = "top-1 accuracy" if example.task == "classification" else "mean absolute error"
    return "\n".join(
        [
            "| | float | int8 (tinygen) |",
            "|---|---:|---:|",
            f"| {name} on test.npz | {metric(example, m['float'])} | {metric(example, m['int8'])} |",
            f"| model file | {m['float_bytes']:,} bytes | {m['int8_bytes']:,} bytes |",
            "",
            f"On the Nano 33 BLE (`tinygen plan --board {CLASS_BOARD}`): arena {m['arena']:,} bytes, weights "
            f"{m['weights']:,} bytes; the firmware needs about {m['flash']:,} bytes of flash and {m['ram']:,} "
            f"bytes of RAM with the Arduino core. One inference on {EMULATED_BOARD} (QEMU, Cortex-M4): "
            f"{m['instructions']:,} instructions, about {m['ms']:.2f} ms at {CLASS_BOARD_MHZ} MHz "
            "(one instruction per cycle: a lower bound).",
        ]
    )


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
            f"{metric(example, m['int8'])} | {m['arena']:,} | {m['weights']:,} | {m['instructions']:,} |"
        )
        print(f"{example.name}: {m}")
    write_between(EXAMPLES / "README.md", "index", "\n".join(index))


if __name__ == "__main__":
    main()
