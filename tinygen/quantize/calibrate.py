"""The calibration set: load it, and run it through the float executor to observe ranges."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import TinygenError
from ..ir import Graph
from .float_exec import execute
from .ranges import METHODS, TensorStats

BATCH = 64


@dataclass
class CalibrationData:
    x: np.ndarray  # (N, *input shape without the batch axis), float32
    y: np.ndarray | None = None  # labels, when the .npz has them


def load_calibration(path: str | Path, graph: Graph) -> CalibrationData:
    """A .npy of inputs, or an .npz with `x` (and optionally `y`), shaped for the model's input."""
    path = Path(path)
    if not path.exists():
        raise TinygenError(f"calibration data {path} does not exist")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise TinygenError(f"cannot read calibration data {path}: expected a .npy array or an .npz with 'x'") from e
    if isinstance(loaded, np.ndarray):
        x, y = loaded, None
    else:
        with loaded:  # an .npz keeps its file open until closed
            if "x" not in loaded.files:
                raise TinygenError(f"{path} has no array 'x' (it has {', '.join(loaded.files) or 'none'})")
            x, y = loaded["x"], loaded["y"] if "y" in loaded.files else None
    return CalibrationData(shape_inputs(x, graph, str(path)), y)


def shape_inputs(x: np.ndarray, graph: Graph, name: str = "calibration data") -> np.ndarray:
    """(N, *shape) or (N, 1, *shape) samples -> (N, *shape) float32 for the model's single input."""
    shape = graph.tensor(graph.inputs[0]).shape[1:]
    size = int(np.prod(shape, dtype=np.int64))
    if x.ndim == 0 or len(x) == 0 or x[0].size != size:
        raise TinygenError(
            f"{name} has shape {x.shape}; expected (N, {', '.join(map(str, shape))}) "
            f"samples for the model's input {graph.tensor(graph.inputs[0]).shape}"
        )
    if x.dtype.kind not in "fiu":
        raise TinygenError(f"{name} holds {x.dtype} values; expected numbers")
    return x.astype(np.float32).reshape(len(x), *shape)


def batches(x: np.ndarray, progress: bool, label: str) -> Iterator[np.ndarray]:
    starts = range(0, len(x), BATCH)
    if not progress:
        yield from (x[s : s + BATCH] for s in starts)
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:  # stdout stays clean for --json
        task = bar.add_task(label, total=len(x))
        for s in starts:
            yield x[s : s + BATCH]
            bar.advance(task, min(BATCH, len(x) - s))


def observe(graph: Graph, x: np.ndarray, method: str = "minmax", progress: bool = False) -> dict[int, TensorStats]:
    """Statistics of every activation (inputs included) over the calibration set."""
    if method not in METHODS:
        raise TinygenError(f"unknown range method {method!r}; choose one of {', '.join(METHODS)}")
    stats: dict[int, TensorStats] = {}
    for batch in batches(x, progress, "calibrating"):
        for i, value in execute(graph, [batch]).items():
            stats.setdefault(i, TensorStats()).observe_minmax(value)
    if method != "minmax":
        for batch in batches(x, progress, f"calibrating ({method})"):
            for i, value in execute(graph, [batch]).items():
                stats[i].observe_histogram(value)
    return stats
