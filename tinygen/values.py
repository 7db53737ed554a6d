"""Real values and the integers a model's input and output tensors hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import TinygenError
from .ir import NUMPY_DTYPES, Graph, Tensor


def quantize_input(t: Tensor, x: np.ndarray) -> np.ndarray:
    """Real values as the input tensor holds them: int8 with its scale and zero point (rounding half
    away from zero, as TFLite does), or float as it is."""
    x = np.asarray(x)
    if x.size != t.size:
        raise TinygenError(
            f"input has {x.size} values {list(x.shape)}; the model's input {t.name!r} takes {t.size} {list(t.shape)}"
        )
    if t.dtype == "float32" or x.dtype == NUMPY_DTYPES[t.dtype]:
        return x.astype(NUMPY_DTYPES[t.dtype]).reshape(t.shape)  # already in the tensor's type
    if np.isnan(x).any():
        raise TinygenError(f"input for {t.name!r} holds NaN values, which have no {t.dtype} value")
    scaled = x.astype(np.float64) / t.scale
    q = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) + t.zero_point
    info = np.iinfo(NUMPY_DTYPES[t.dtype])
    return np.clip(q, info.min, info.max).astype(NUMPY_DTYPES[t.dtype]).reshape(t.shape)


def dequantize(t: Tensor, q: np.ndarray) -> np.ndarray:
    if t.dtype == "float32" or t.quant is None:
        return np.asarray(q, dtype=np.float32)
    return ((q.astype(np.float32) - t.zero_point) * t.scale).astype(np.float32)


def load_samples(path: str | Path, graph: Graph) -> tuple[list[list[np.ndarray]], np.ndarray | None]:
    """Samples from a .npy (single-input models) or .npz (one array per input, by name or in order;
    `x` for a single input; labels `y`), each input's values in its tensor's type: real numbers are
    quantized with the input's scale and zero point, arrays already in the tensor's type go as they are."""
    from .quantize.calibrate import check_labels, load_arrays, match_samples

    arrays, labels = load_arrays(path, graph)
    per_input = []
    for x, index in zip(arrays, graph.inputs):
        t = graph.tensor(index)
        per_input.append([quantize_input(t, s) for s in match_samples(x, t, f"{path} ({t.name})")])
    counts = {len(samples) for samples in per_input}
    if len(counts) > 1:
        raise TinygenError(f"{path}: the inputs hold different numbers of samples ({sorted(counts)})")
    check_labels(labels, counts.pop(), path)
    return [list(sample) for sample in zip(*per_input)], labels


def load_sequences(path: str | Path, graph: Graph) -> tuple[list[list[list[np.ndarray]]], np.ndarray | None]:
    """Sequences of samples for a model that keeps state between invokes, from a .npy or .npz as
    load_samples reads them: an array whose first axis is time, (T, *input shape), is one sequence
    of T steps; one more axis in front, (N, T, *input shape), makes N sequences. The labels `y` as
    they are."""
    from .quantize.calibrate import load_arrays, match_samples

    arrays, labels = load_arrays(path, graph)
    per_input = []
    for x, index in zip(arrays, graph.inputs):
        t = graph.tensor(index)
        name = f"{path} ({t.name})"
        sequences = x if holds_sequences(x, t.shape) else x[None]
        per_input.append([[quantize_input(t, s) for s in match_samples(seq, t, name)] for seq in sequences])
    layouts = {tuple(len(sequence) for sequence in sequences) for sequences in per_input}
    if len(layouts) > 1:
        raise TinygenError(f"{path}: the inputs hold different numbers of sequences or steps")
    return [[list(step) for step in zip(*steps)] for steps in zip(*per_input)], labels


def holds_sequences(x: np.ndarray, shape: tuple[int, ...]) -> bool:
    """(N, T, *shape), or (N, T, *shape[1:]) for an input with a batch axis of 1; an array that reads
    as samples, (T, *shape), is one sequence."""
    if x.shape[1:] == shape:
        return False
    if x.ndim == len(shape) + 2 and x.shape[2:] == shape:
        return True
    return bool(shape) and shape[0] == 1 and x.ndim == len(shape) + 1 and x.shape[2:] == shape[1:]
