"""Every tflite-micro run in the tests also checks tinygen's numpy reference: on the same model and
inputs its outputs must equal the interpreter's, bit for bit (tests/conftest.py installs this for the
whole session). Models with an op the numpy reference does not cover are counted, not checked."""

from __future__ import annotations

from collections import Counter

import numpy as np

from tinygen.errors import TinygenError
from tinygen.reference import Reference
from tinygen.specref import NotCovered, NumpyReference

CHECKED: Counter = Counter()  # models checked equal, and runs (samples)
NOT_COVERED: Counter = Counter()  # why a model was not checked (the refusal's op kind)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def check_numpy_reference(reference: Reference, samples, expected) -> None:
    """The numpy reference's outputs for `samples` must be tflite-micro's `expected`."""
    try:
        numpy_reference = NumpyReference(reference.graph, reference.name)
    except NotCovered as e:
        NOT_COVERED[str(e).split("(", 1)[-1].split(")", 1)[0]] += 1
        return
    try:
        got = numpy_reference.run_many(samples)
    except TinygenError as e:
        raise AssertionError(f"tflite-micro ran {reference.name}, the numpy reference refused it: {e}") from None
    for s, (want_outputs, got_outputs) in enumerate(zip(expected, got)):
        for i, (want, have) in enumerate(zip(want_outputs, got_outputs)):
            if not same_bits(np.asarray(want), have):
                raise AssertionError(
                    f"the numpy reference differs from tflite-micro on {reference.name}, sample {s}, output {i}: "
                    f"{np.asarray(want).reshape(-1)[:8]} vs {np.asarray(have).reshape(-1)[:8]}"
                )
    CHECKED["models"] += 1
    CHECKED["samples"] += len(samples)


def install(monkeypatch) -> None:
    """Wrap Reference.run_sequences (run and run_many call it) so that each run also checks the numpy
    reference, sequence by sequence: each from the initial state, as tflite-micro runs it."""
    original = Reference.run_sequences

    def run_sequences(self, sequences):
        expected = original(self, sequences)
        for sequence, outputs in zip(sequences, expected):
            check_numpy_reference(self, sequence, outputs)
        return expected

    monkeypatch.setattr(Reference, "run_sequences", run_sequences)


def counts() -> dict:
    """The counters, to hand from a pytest-xdist worker to the controller."""
    return {"checked": dict(CHECKED), "not_covered": dict(NOT_COVERED)}


def add(counted: dict) -> None:
    """A worker's counters, added to this process's."""
    CHECKED.update(counted["checked"])
    NOT_COVERED.update(counted["not_covered"])


def summary() -> str | None:
    if not CHECKED and not NOT_COVERED:
        return None
    line = f"numpy reference: equal to tflite-micro on {CHECKED['models']} models ({CHECKED['samples']} samples)"
    if NOT_COVERED:
        line += "; not covered: " + ", ".join(f"{kind} ({n})" for kind, n in NOT_COVERED.most_common())
    return line
