"""Custom ops' flexbuffer options (tinygen/frontends/custom_options.py): written and read back, and
every damaged or unexpected map refused in one line (model files come from strangers)."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from flatbuffers import flexbuffers

from tinygen.builder import GraphBuilder
from tinygen.errors import TinygenError
from tinygen.frontends.custom_options import read_custom_options
from tinygen.frontends.tflite_reader import parse_tflite
from tinygen.frontends.tflite_writer import write_tflite

KEYS = ("end_index", "start_index")


def energy_model(**options) -> bytes:
    g = GraphBuilder()
    x = g.tensor((16,), "int16")
    y = g.tensor((8,), "uint32")
    g.op("CUSTOM:SignalEnergy", [x], [y], **options)
    return write_tflite(g.build([x], [y]))


def test_options_round_trip_through_a_model_file():
    graph = parse_tflite(energy_model(start_index=2, end_index=7))
    assert graph.ops[0].kind == "CUSTOM:SignalEnergy"
    assert graph.ops[0].options == {"start_index": 2, "end_index": 7}


def test_the_map_is_written_as_tflite_micro_reads_it():
    """tflite-micro takes the i-th value of the sorted map: the writer's bytes must read that way."""
    raw = flexbuffers.Dumps({"start_index": 2, "end_index": 7})
    values = [v.AsInt for v in flexbuffers.GetRoot(raw).AsMap.Values]
    assert values == [7, 2]  # end_index sorts first


def test_bools_and_ints():
    raw = flexbuffers.Dumps({"a": True, "b": -3})
    assert read_custom_options(raw, ("a", "b"), "op") == {"a": True, "b": -3}


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "has no custom options"),
        (
            flexbuffers.Dumps({"start_index": 1}),
            r"hold the keys \('start_index'\); .* exactly \('end_index', 'start_index'\)",
        ),
        (flexbuffers.Dumps({"end_index": 1, "start_index": 2, "x": 3}), "reads them by position"),
        (flexbuffers.Dumps({"end_index": 1.5, "start_index": 2}), "end_index is not an integer or a bool"),
        (flexbuffers.Dumps({"end_index": "7", "start_index": 2}), "end_index is not an integer or a bool"),
        (flexbuffers.Dumps([1, 2]), "not a flexbuffer map"),
        (b"\xff" * 9, "not a readable flexbuffer map|not a flexbuffer map"),
        (b"\x00" * 5000, "at most 4096"),
    ],
)
def test_damaged_options_are_one_line(raw, message):
    with pytest.raises(TinygenError, match=message):
        read_custom_options(raw, KEYS, "op 0 (CUSTOM:SignalEnergy)")


def test_random_bytes_never_crash():
    rng = np.random.default_rng(0)
    for size in range(1, 64):
        raw = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        with contextlib.suppress(TinygenError):  # anything else fails the test
            read_custom_options(raw, KEYS, "op")


def test_a_model_with_damaged_options_is_refused_when_read():
    good = energy_model(start_index=2, end_index=7)
    options = flexbuffers.Dumps({"end_index": 7, "start_index": 2})
    damaged = good.replace(options, flexbuffers.Dumps({"end_index": 7, "start_indey": 2}))
    assert damaged != good
    with pytest.raises(TinygenError, match=r"op 0 \(CUSTOM:SignalEnergy\): its custom options hold the keys"):
        parse_tflite(damaged)
