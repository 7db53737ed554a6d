"""The other files users hand tinygen, under fuzzing: calibration and sample data (.npy, .npz) and board
profiles (TOML). Whatever they hold, the loaders return or raise a TinygenError, nothing else.
TINYGEN_FUZZ_CASES=20000 runs the long mode."""

from __future__ import annotations

import io
import json
import math
import os
import struct
import zipfile

import numpy as np
import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from tinygen.boards import board_ids, load_board
from tinygen.builder import GraphBuilder
from tinygen.errors import TinygenError
from tinygen.quantize import load_calibration
from tinygen.resources import resource_dir
from tinygen.values import load_samples

CASES = int(os.environ.get("TINYGEN_FUZZ_CASES", "1000"))
DTYPES = ("int8", "uint8", "int16", "int64", "float16", "float32", "float64", "complex64", "bool", "U3", "V4")
HOSTILE = ("", " ", "\x00", "a\nb", "../../etc/passwd", "x" * 5000, "é\u202e", "\ud800", "${HOME}", "[x]")


def _graphs() -> dict[str, object]:
    """A float model with one input, one with two, and an int8 one (samples are quantized to it)."""
    graphs = {}
    models = (("one", [(1, 4)], "float32"), ("two", [(1, 2, 3), (5,)], "float32"), ("int8", [(1, 4)], "int8"))
    for name, shapes, dtype in models:
        g = GraphBuilder()
        quant = {"scale": 0.1, "zero_point": 3} if dtype == "int8" else {}
        inputs = [g.tensor(shape, dtype, name=f"in{k}", **quant) for k, shape in enumerate(shapes)]
        graphs[name] = g.build(inputs, inputs)
    return graphs


def _array(rng: np.random.Generator, shapes: list[tuple[int, ...]]) -> np.ndarray:
    """Numbers of any type and shape, half the time the shape of a model input with or without a sample
    axis; empty ones, NaN and infinities."""
    if rng.random() < 0.5:
        shape = shapes[int(rng.integers(len(shapes)))]
        shape = (int(rng.integers(0, 4)), *shape[int(rng.integers(0, 2)) :])
        dtype = np.dtype(str(rng.choice(["float32", "float64", "int8", "float32"])))
    else:
        shape = tuple(int(d) for d in rng.choice([0, 1, 2, 3, 4, 5, 8], size=int(rng.integers(0, 5))))
        dtype = np.dtype(str(rng.choice(DTYPES)))
    if dtype.kind in "UV":
        return np.zeros(shape, dtype)
    values = rng.normal(0, 100, shape)
    if values.size and rng.random() < 0.3:
        values.flat[int(rng.integers(values.size))] = rng.choice([np.nan, np.inf, -np.inf, 1e300])
    with np.errstate(all="ignore"):
        return values.astype(dtype)


def _npy_bytes(rng: np.random.Generator, shapes: list[tuple[int, ...]]) -> bytes:
    buffer = io.BytesIO()
    roll = rng.random()
    if roll < 0.1:  # an object array: pickled, which tinygen never loads
        np.save(buffer, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    elif roll < 0.2:  # a header claiming a huge shape over a few bytes
        header = repr({"descr": "<f4", "fortran_order": False, "shape": (2**40, int(rng.integers(0, 9)))})
        header = header.encode() + b" " * (118 - len(header)) + b"\n"
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\x00" * 16
    else:
        np.save(buffer, _array(rng, shapes), allow_pickle=False)
    data = bytearray(buffer.getvalue())
    if rng.random() < 0.3 and data:  # damage: flipped bytes or a cut
        if rng.random() < 0.5:
            data = data[: int(rng.integers(len(data)))]
        else:
            for p in rng.integers(0, len(data), 4):
                data[p] = int(rng.integers(256))
    return bytes(data)


def _npz_bytes(rng: np.random.Generator, names: list[str], shapes: list[tuple[int, ...]]) -> bytes:
    buffer = io.BytesIO()
    keys = [*names, "x", "y", "arr_0", "arr_1", "other"]
    with zipfile.ZipFile(buffer, "w") as archive:
        for key in rng.choice(keys, size=int(rng.integers(0, 4)), replace=False):  # y: labels
            archive.writestr(f"{key}.npy", _npy_bytes(rng, shapes))
    data = bytearray(buffer.getvalue())
    if rng.random() < 0.2 and data:
        for p in rng.integers(0, len(data), 4):
            data[p] = int(rng.integers(256))
    return bytes(data)


@pytest.mark.filterwarnings("error::RuntimeWarning")  # numpy's warning of a value made up (NaN to int) fails
def test_data_files_load_or_get_one_line(tmp_path):
    rng = np.random.default_rng(20260411)
    graphs = _graphs()
    outcomes = {"loaded": 0, "refused": 0}
    for case in range(CASES):
        name = list(graphs)[case % len(graphs)]
        graph = graphs[name]
        names = [graph.tensor(i).name for i in graph.inputs]
        shapes = [graph.tensor(i).shape for i in graph.inputs]
        suffix = ".npy" if rng.random() < 0.5 else ".npz"
        path = tmp_path / f"data{case % 7}{suffix}"
        path.write_bytes(_npy_bytes(rng, shapes) if suffix == ".npy" else _npz_bytes(rng, names, shapes))
        loader = load_calibration if graph.tensor(graph.inputs[0]).dtype == "float32" else load_samples
        try:
            loader(path, graph)
            outcomes["loaded"] += 1
        except TinygenError:
            outcomes["refused"] += 1
        except Exception as e:
            pytest.fail(f"case {case} ({name}, {suffix}): {type(e).__name__}: {e}")
    print(f"\n{CASES} data files: {outcomes}")
    assert outcomes["loaded"] and outcomes["refused"]


# --- board profiles ---


def _toml_value(value) -> str:
    """TOML for a value (tables inline): enough to write back any board file, mutated."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string (a lone surrogate is invalid in both)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


def _random_value(rng: np.random.Generator):
    choices = [
        lambda: int(rng.integers(1, 2**20)),  # plausible: the file may still load
        lambda: str(rng.choice(["cortex-m4", "host", "none", "systick", "cmsdk", "x"])),
        lambda: int(rng.choice([0, -1, 1, 2**31, 2**32, 2**63 - 1, -(2**63)])),
        lambda: float(rng.choice([0.5, -1.0, math.nan, math.inf])),
        lambda: bool(rng.random() < 0.5),
        lambda: str(rng.choice(HOSTILE)),
        lambda: [str(rng.choice(HOSTILE)), int(rng.integers(-5, 5))],
        lambda: {"k": str(rng.choice(HOSTILE))},
    ]
    return choices[int(rng.integers(len(choices)))]()


def _mutate_table(table: dict, rng: np.random.Generator) -> None:
    """One change somewhere in a board's tables: a key removed, retyped, set to a hostile value, or added."""
    keys = list(table)
    key = keys[int(rng.integers(len(keys)))] if keys else None
    if isinstance(table.get(key), dict) and table[key] and rng.random() < 0.6:
        _mutate_table(table[key], rng)
    elif key is not None and rng.random() < 0.25:
        del table[key]
    elif key is not None and rng.random() < 0.8:
        table[key] = _random_value(rng)
    else:
        table[str(rng.choice(["extra", "path", "id", "emulator", "platformio"]))] = _random_value(rng)


def test_board_files_load_or_get_one_line(tmp_path):
    rng = np.random.default_rng(4242)
    sources = {board_id: (resource_dir("boards") / f"{board_id}.toml").read_text() for board_id in board_ids()}
    outcomes = {"loaded": 0, "refused": 0}
    for case in range(CASES):
        board_id = board_ids()[case % len(sources)]
        if rng.random() < 0.25:  # bytes of the file damaged: invalid TOML, invalid UTF-8
            data = bytearray(sources[board_id].encode())
            for p in rng.integers(0, len(data), int(rng.integers(1, 6))):
                data[p] = int(rng.integers(256))
        else:
            table = tomllib.loads(sources[board_id])
            for _ in range(int(rng.integers(1, 3))):
                _mutate_table(table, rng)
            data = "\n".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in table.items()).encode("utf-8", "replace")
        path = tmp_path / f"{board_id}.toml"
        path.write_bytes(bytes(data))
        try:
            load_board(path)
            outcomes["loaded"] += 1
        except TinygenError:
            outcomes["refused"] += 1
        except Exception as e:
            pytest.fail(f"case {case} ({board_id}): {type(e).__name__}: {e}\n{bytes(data)[:2000]!r}")
    print(f"\n{CASES} board files: {outcomes}")
    assert outcomes["loaded"] and outcomes["refused"]
