"""Compile a Graph for the host (with sanitizers) and compare it with tflite-micro."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from tinygen.compiler.pipeline import LoadedModel, compile_model
from tinygen.device.host import HostTarget, build_host
from tinygen.frontends.tflite_reader import parse_tflite
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.ir import Graph
from tinygen.reference import Reference
from tinygen.verify import VerifyResult, compare_outputs, random_samples


def verify_graph(
    graph: Graph,
    samples: int = 16,
    seed: int = 0,
    sanitize: bool = True,
    inputs: list[list[np.ndarray]] | None = None,
    steps: int | None = None,
    optimize: str = "memory",
    costs=None,
) -> VerifyResult:
    """Writes the graph as .tflite, reads it back (so the reader is exercised too), compiles
    the C with tinygen's warnings as errors (and ASan/UBSan), and compares every output. The samples
    run as one sequence, or (for a model with state) as sequences of `steps` consecutive invokes, each
    from the initial state: the C resets it between them, the reference starts a new interpreter.
    The memory end by default: it runs the in-place kernels wherever they apply (the fastest variants
    are the out-of-place kernels every other layer runs); `costs` replaces the cost model."""
    data = write_tflite(graph)
    model = LoadedModel(parse_tflite(data), data, "test.tflite")
    compiled = compile_model(model, optimize=optimize, costs=costs)
    batch = inputs if inputs is not None else random_samples(model.graph, samples, seed)
    sequences = [batch] if steps is None else [batch[i : i + steps] for i in range(0, len(batch), steps)]
    with tempfile.TemporaryDirectory(prefix="tinygen-test-") as tmp:
        binary = build_host(compiled.generated, Path(tmp), sanitize=sanitize)
        outputs = HostTarget(binary, model.graph).run_sequences(sequences)
    expected = Reference(data, model.graph).run_sequences(sequences)
    return compare_outputs(model.graph, _flat(expected), _flat(outputs))


def _flat(sequences: list[list]) -> list:
    return [step for sequence in sequences for step in sequence]


def assert_bit_exact(graph: Graph, **kwargs) -> VerifyResult:
    result = verify_graph(graph, **kwargs)
    assert result.bit_exact, result.summary()
    return result
