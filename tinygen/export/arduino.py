"""The Arduino library: src/ (the model, its kernels, and a C++ class with real-valued inputs and
outputs), examples/ (sketches for the Nano 33 BLE) and library.properties.

The folder is what the Arduino IDE's "Add .ZIP Library" installs from a zip, and what arduino-cli
builds. The examples are RunModel (the model on a bundled input; label, score and microseconds over
Serial) and, for models that read a window of motion, IMUGesture (the same on the BLE Sense's IMU).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from ..compiler.codegen import c_float, c_values
from ..compiler.pipeline import CompiledModel
from ..errors import TinygenError
from ..escape import terminal
from ..ir import Graph, Tensor
from ..resources import render
from .prefix import prefixed

# Arduino's library specification allows these (and spaces, which an #include would not survive).
LIBRARY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
# A window of IMU readings per time step: acceleration x, y, z, then angular rate x, y, z.
IMU_CHANNELS = (3, 6)
IMU_LIBRARY = "Arduino_LSM9DS1"
SAMPLE_PER_LINE = 6  # float literals per line of sample_input.h: lines under 120 characters


@dataclass(frozen=True)
class BundledInput:
    """RunModel's input: real values for each model input, and where they came from (for a comment)."""

    values: list[np.ndarray]
    origin: str


def check_library_name(name: str) -> str:
    if not LIBRARY_NAME.match(name):
        raise TinygenError(
            f"{terminal(name)!r} cannot name an Arduino library: use letters, digits, '_', '-' and '.', starting "
            "with a letter or digit (the name comes from -o NAME.zip)"
        )
    return name


def header_clash(name: str, paths) -> str | None:
    """The file among paths that the library's own NAME.h or NAME.cpp would meet in src/, compared
    without case: a case-insensitive file system (macOS, Windows) keeps only one of Model.h and model.h."""
    taken = {path.lower(): path for path in paths}
    for suffix in (".h", ".cpp"):
        clash = taken.get(f"src/{name}{suffix}".lower())
        if clash:
            return clash
    return None


def default_library_name(stem: str, paths) -> str:
    """A library name from the model file's stem that clashes with none of paths: the stem itself,
    else the stem with "_library" (model.tflite -> model_library, beside the model's model.h)."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", stem).lstrip("_.-") or "model"
    return name if header_clash(name, paths) is None else f"{name}_library"


@dataclass(frozen=True)
class ImuNormalization:
    """How the IMUGesture sketch turns IMU readings into the model's input: every interval_ms a reading,
    each channel standardized as (reading - mean) / std, as the training data was."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    interval_ms: int = 100


def read_normalization(path: str | Path, graph: Graph) -> ImuNormalization:
    """normalization.json: {"mean": [...], "std": [...], "interval_ms": 100 (optional)}, one mean and
    one std per channel of the model's IMU window."""
    window = imu_window(graph)
    if window is None:
        raise TinygenError(
            "--normalization shapes the IMUGesture sketch, which needs a model whose one input is a window "
            "of (steps, 3) or (steps, 6) IMU readings"
        )
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TinygenError(f"{path} is not JSON: {e}") from None
    channels = window[1]
    if not isinstance(data, dict):
        raise TinygenError(f'{path} must hold an object: {{"mean": [...], "std": [...]}}')
    values = {}
    for key in ("mean", "std"):
        numbers = data.get(key)
        if not (isinstance(numbers, list) and len(numbers) == channels and all(_finite(n) for n in numbers)):
            raise TinygenError(f"{path}: '{key}' must be a list of {channels} finite numbers, one per channel")
        values[key] = tuple(float(n) for n in numbers)
    if min(values["std"]) <= 0:
        raise TinygenError(f"{path}: every 'std' must be positive")
    interval = data.get("interval_ms", 100)
    if not (isinstance(interval, int) and not isinstance(interval, bool) and 1 <= interval <= 60_000):
        raise TinygenError(f"{path}: 'interval_ms' must be a whole number of milliseconds, 1 to 60000")
    return ImuNormalization(values["mean"], values["std"], interval)


def _finite(n) -> bool:
    return isinstance(n, (int, float)) and not isinstance(n, bool) and math.isfinite(n)


def imu_window(graph: Graph) -> tuple[int, int] | None:
    """(time steps, channels) when the model's one input is a window of IMU readings: after dropping
    the axes of size 1, a (steps, 3) or (steps, 6) array. Images (h, w, 3) have three axes."""
    if len(graph.inputs) != 1:
        return None
    axes = [d for d in graph.tensor(graph.inputs[0]).shape if d != 1]
    if len(axes) == 2 and axes[1] in IMU_CHANNELS:
        return axes[0], axes[1]
    return None


def zeros(graph: Graph) -> BundledInput:
    return BundledInput([np.zeros(graph.tensor(t).shape, np.float32) for t in graph.inputs], "zeros")


def arduino_library(
    compiled: CompiledModel,
    name: str,
    prefix: str,
    labels: list[str] | None = None,
    sample: BundledInput | None = None,
    normalization: ImuNormalization | None = None,
) -> dict[str, str]:
    """The library's files (path inside the library folder -> text), every tg_ name as prefix_."""
    check_library_name(name)
    graph = compiled.model.graph
    context = {
        "version": __version__,
        "source": Path(compiled.model.source).name,
        "name": name,
        "namespace": prefix,
        "labels": labels or [],
    }
    files = {f"src/{n}": text for n, text in {**compiled.generated.kernel_files, **compiled.generated.files}.items()}
    clash = header_clash(name, files)
    if clash:
        raise TinygenError(
            f"an Arduino library named {name} would have src/{name}.h beside the model's {clash}, and a "
            "case-insensitive file system (macOS, Windows) keeps only one; name it otherwise with -o, e.g. "
            f"-o {default_library_name(name, files)}.zip"
        )
    files[f"src/{name}.h"] = render("arduino/library.h.j2", **context)
    files[f"src/{name}.cpp"] = render("arduino/library.cpp.j2", **context)
    files["examples/RunModel/RunModel.ino"] = render("arduino/RunModel.ino.j2", **context, inputs=graph.inputs)
    files["examples/RunModel/sample_input.h"] = render(
        "arduino/sample_input.h.j2", version=__version__, inputs=_sample_arrays(graph, sample or zeros(graph))
    )
    window = imu_window(graph)
    if window:
        steps, channels = window
        normalization = normalization or ImuNormalization((0.0,) * channels, (1.0,) * channels)
        files["examples/IMUGesture/IMUGesture.ino"] = render(
            "arduino/IMUGesture.ino.j2",
            **context,
            steps=steps,
            channels=channels,
            mean=", ".join(map(c_float, normalization.mean)),
            std=", ".join(map(c_float, normalization.std)),
            interval_ms=normalization.interval_ms,
        )
    files = prefixed(files, prefix)
    files["library.properties"] = render(
        "arduino/library.properties.j2",
        **context,
        inputs=", ".join(_describe(graph.tensor(t)) for t in graph.inputs),
        outputs=", ".join(_describe(graph.tensor(t)) for t in graph.outputs),
        arena_bytes=compiled.plan.arena_bytes,
        depends=[IMU_LIBRARY] if window else [],
    )
    return files


def examples(files: dict[str, str]) -> list[str]:
    """The example sketches among a library's files."""
    return sorted(Path(path).parent.name for path in files if path.startswith("examples/") and path.endswith(".ino"))


def _sample_arrays(graph: Graph, sample: BundledInput) -> list[dict]:
    arrays = []
    for index, values in zip(graph.inputs, sample.values):
        t = graph.tensor(index)
        arrays.append(
            {
                "name": t.name,
                "shape": list(t.shape),
                "origin": sample.origin,
                "count": t.size,
                "body": c_values(np.asarray(values, np.float32).reshape(-1), indent="    ", per_line=SAMPLE_PER_LINE),
            }
        )
    return arrays


def _describe(t: Tensor) -> str:
    return f"{t.dtype} {list(t.shape)}"
