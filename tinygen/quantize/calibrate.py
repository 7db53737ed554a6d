"""The calibration set: load it, and run it through the float executor to observe ranges."""

from __future__ import annotations

import math
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import activity
from ..errors import TinygenError, warn
from ..ir import Graph, Tensor
from ..values import holds_sequences
from .float_exec import execute
from .ranges import METHODS, TensorStats

BATCH = 64


@dataclass
class CalibrationData:
    """Sample inputs: for each model input, an (N, *input shape) float array (one array alone for a
    single-input model), and optionally N labels. For a model that keeps state between invokes,
    `sequences` may split the N samples into consecutive sequences (their lengths), each run from the
    initial state; the labels are then one per sequence, for its last step."""

    x: np.ndarray | list[np.ndarray]
    y: np.ndarray | None = None
    sequences: tuple[int, ...] | None = None

    @property
    def inputs(self) -> list[np.ndarray]:
        return list(self.x) if isinstance(self.x, (list, tuple)) else [self.x]

    @property
    def count(self) -> int:
        return len(self.inputs[0])


def load_calibration(path: str | Path, graph: Graph) -> CalibrationData:
    """Sample inputs from a file: a .npy array (single-input models), or an .npz with `x` (single
    input), or with one array per model input, named after the inputs or in input order; `y`
    (labels) optional. Each array is (N, *input shape), with or without the input's batch axis of 1.
    For a model that keeps state between invokes, (N, T, *input shape) is N sequences of T steps
    (labels: one per sequence)."""
    arrays, y = load_arrays(path, graph)
    arrays, sequences = _unroll_sequences(arrays, graph, path)
    names = [graph.tensor(i).name for i in graph.inputs]
    inputs = [shape_inputs(x, graph.tensor(i), f"{path} ({name})") for x, i, name in zip(arrays, graph.inputs, names)]
    counts = {len(x) for x in inputs}
    if len(counts) > 1:
        raise TinygenError(f"{path}: the inputs hold different numbers of samples ({sorted(counts)})")
    if sequences:
        check_labels(y, len(sequences), path, "sequences")
    else:
        check_labels(y, len(inputs[0]), path)
    return CalibrationData(inputs[0] if len(inputs) == 1 else inputs, y, sequences)


def _unroll_sequences(
    arrays: list[np.ndarray], graph: Graph, path: str | Path
) -> tuple[list[np.ndarray], tuple[int, ...] | None]:
    """For a model with state whose first input holds (N, T, ...) sequences: every input's steps one
    after the other, (N * T, ...), and the sequences' lengths; other data as it is."""
    first = graph.tensor(graph.inputs[0])
    if not any(t.is_variable for t in graph.tensors) or not holds_sequences(arrays[0], first.shape):
        return arrays, None
    count, steps = arrays[0].shape[:2]
    if any(x.shape[:2] != (count, steps) for x in arrays):
        raise TinygenError(f"{path}: the inputs hold different numbers of sequences or steps")
    return [x.reshape(count * steps, *x.shape[2:]) for x in arrays], (steps,) * count


def check_labels(y: np.ndarray | None, count: int, path: str | Path, unit: str = "samples") -> None:
    """Labels `y`, when given: numbers, one per sample or sequence (a class index, or a row of scores)."""
    if y is None:
        return
    if y.dtype.kind not in "fiub" or y.ndim == 0:
        raise TinygenError(f"{path}: labels 'y' must be an array of numbers, one per sample; got {y.dtype} {y.shape}")
    if len(y) != count:
        raise TinygenError(f"{path}: {len(y)} labels for {count} {unit}")


def _arrays_for_inputs(files: dict[str, np.ndarray], names: list[str], path: Path) -> list[np.ndarray]:
    """One array per model input, from an .npz's arrays (labels removed)."""
    if len(names) == 1 and "x" in files:
        return [files["x"]]
    if all(name in files for name in names):
        return [files[name] for name in names]
    positional = [f"arr_{n}" for n in range(len(names))]  # np.savez(path, a, b) names them so
    if all(name in files for name in positional):
        return [files[name] for name in positional]
    if len(names) == 1:
        raise TinygenError(f"{path} has no array 'x' (nor {names[0]!r}); it has {', '.join(files) or 'none'}")
    raise TinygenError(
        f"{path} has no arrays for the model's inputs ({', '.join(names)}): give one per input, by name or "
        f"saved in input order (np.savez(path, a, b)); it has {', '.join(files) or 'none'}"
    )


def shape_inputs(x: np.ndarray, tensor: Tensor, name: str = "calibration data") -> np.ndarray:
    """Samples for one model input as float32 (N, *shape without a leading batch axis of 1): finite
    numbers only; a warning when the input is the same value everywhere."""
    with np.errstate(over="ignore"):  # beyond float32 is infinite, and refused below
        samples = match_samples(x, tensor, name).astype(np.float32)
    finite = np.isfinite(samples)
    if not finite.all():
        nan, inf = int(np.isnan(samples).sum()), int((~finite).sum() - np.isnan(samples).sum())
        raise TinygenError(
            f"{name} holds {nan:,} NaN and {inf:,} infinite values among {samples.size:,}; "
            "calibration needs finite numbers"
        )
    if samples.min() == samples.max():
        warn(
            f"{name} is {float(samples.flat[0]):g} everywhere: the input's int8 range comes from that one value "
            "and 0, so other inputs will saturate"
        )
    shape = tuple(tensor.shape)
    return samples.reshape(len(samples), *(shape[1:] if shape and shape[0] == 1 else shape))


def match_samples(x: np.ndarray, tensor: Tensor, name: str) -> np.ndarray:
    """x as (N, *shape) samples of the input, in x's own dtype. Accepted: (N, *shape); (N, *shape[1:])
    when the input has a batch axis of 1; and a single sample, shaped shape or shape[1:]."""
    shape = tuple(tensor.shape)
    if x.dtype.kind not in "fiub":
        raise TinygenError(f"{name} holds {x.dtype} values; expected numbers")
    batched = shape[1:] if shape and shape[0] == 1 else None
    if x.shape[1:] == shape or (batched is not None and x.ndim == len(shape) and x.shape[1:] == batched):
        samples = x  # a sample axis in front
    elif x.shape == shape or (batched is not None and x.shape == batched):
        samples = x[None]  # one sample
    else:
        options = [f"(N, {', '.join(map(str, shape))})"]
        if batched is not None:
            options.insert(0, f"(N, {', '.join(map(str, batched))})" if batched else "(N,)")
        raise TinygenError(
            f"{name} has shape {x.shape}; the model's input {tensor.name!r} is {list(shape)}: "
            f"expected {' or '.join(options)}"
        )
    if len(samples) == 0:
        raise TinygenError(f"{name} holds no samples")
    return samples.reshape(len(samples), *shape)


def load_arrays(path: str | Path, graph: Graph) -> tuple[list[np.ndarray], np.ndarray | None]:
    """The arrays of a .npy or .npz file, one per model input (in input order), and the labels `y`.
    An .npz names them `x` (single input), after the inputs, or arr_0, arr_1, ... (np.savez's order)."""
    path = Path(path)
    if not path.exists():
        raise TinygenError(f"{path} does not exist")
    try:
        loaded = _read_arrays(path)
    except Exception as e:  # numpy and zipfile raise anything from EOFError to tokenize errors on damaged files
        raise TinygenError(f"cannot read {path}: expected a .npy array or an .npz of arrays") from e
    names = [graph.tensor(i).name for i in graph.inputs]
    if isinstance(loaded, np.ndarray):
        if len(names) != 1:
            raise TinygenError(
                f"{path} holds one array; the model has {len(names)} inputs ({', '.join(names)}): "
                "give an .npz with one array per input"
            )
        return [loaded], None
    y = loaded.pop("y", None)
    return _arrays_for_inputs(loaded, names, path), y


def _read_arrays(path: Path) -> np.ndarray | dict[str, np.ndarray]:
    """A .npy's array, or every array of an .npz by name (each member read here, inside the caller's try).
    numpy allocates the array a header announces before reading it: each header is checked first."""
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            _check_header(f, path.stat().st_size, path.name)
        return np.load(path, allow_pickle=False)
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            with archive.open(info) as member:
                _check_header(member, info.file_size, info.filename)
    with np.load(path, allow_pickle=False) as loaded:  # an .npz keeps its file open until closed
        return {name: loaded[name] for name in loaded.files}


def _check_header(f, size: int, name: str) -> None:
    """The array a .npy header announces must fit in the bytes that follow the header."""
    version = np.lib.format.read_magic(f)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read_header(f)
    announced = math.prod(shape) * dtype.itemsize
    if announced > size - f.tell():
        raise ValueError(f"{name} announces {announced:,} bytes of data in {size:,} bytes")


def batches(data: CalibrationData, progress: bool, label: str) -> Iterator[list[np.ndarray]]:
    """The inputs in batches (one array per model input in each): BATCH samples, or one sequence (the
    float executor runs a model's state along a batch, from the initial state)."""
    inputs = data.inputs
    ends = np.cumsum(data.sequences) if data.sequences else range(BATCH, len(inputs[0]) + BATCH, BATCH)
    starts = range(len(ends))
    if progress:
        starts = activity.counted(starts, len(starts), label)
    for n in starts:
        start, end = ends[n - 1] if n else 0, ends[n]
        yield [x[start:end] for x in inputs]


def observe(
    graph: Graph, data: CalibrationData, method: str = "minmax", progress: bool = False
) -> dict[int, TensorStats]:
    """Statistics of every activation (inputs included) over the calibration set."""
    if method not in METHODS:
        raise TinygenError(f"unknown range method {method!r}; choose one of {', '.join(METHODS)}")
    stats: dict[int, TensorStats] = {}
    for batch in batches(data, progress, "calibrating"):
        for i, value in execute(graph, batch).items():
            stats.setdefault(i, TensorStats()).observe_minmax(value)
    if method != "minmax":
        for batch in batches(data, progress, f"calibrating ({method})"):
            for i, value in execute(graph, batch).items():
                stats[i].observe_histogram(value)
    return stats
