"""What a firmware talks about on its serial port (firmware/talk/): the model's name, the input it
runs on its own until a tool takes the link, and the names of its first output's values."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from ..compiler.codegen import c_values
from ..compiler.pipeline import CompiledModel
from ..ir import NUMPY_DTYPES, Graph
from ..labels import read_labels
from ..resources import render

BYTES_PER_LINE = 16


@dataclass(frozen=True)
class Demo:
    inputs: list[bytes | None] | None = None  # per model input its bytes; None: the real value 0
    origin: str = "the real value 0 in every element"
    labels: list[str] = field(default_factory=list)


def load_demo(graph: Graph, input_path: str | None = None, labels_path: str | None = None) -> Demo:
    """The first sample of input_path (.npy, or .npz with one array per input), in the tensors' types,
    and the labels of labels_path (one per line)."""
    from ..values import load_samples

    inputs, origin = None, Demo.origin
    if input_path:
        samples, _ = load_samples(input_path, graph)
        inputs = [
            np.ascontiguousarray(x, dtype=NUMPY_DTYPES[graph.tensor(t).dtype]).tobytes()
            for t, x in zip(graph.inputs, samples[0])
        ]
        origin = f"the first sample of {Path(input_path).name}"
    return Demo(inputs, origin, read_labels(labels_path, graph) if labels_path else [])


def demo_source(compiled: CompiledModel, demo: Demo | None = None) -> str:
    """tg_demo.c for the firmware."""
    demo = demo or Demo()
    graph = compiled.model.graph
    given = demo.inputs or [None] * len(graph.inputs)
    inputs = [
        {
            "bytes": len(data) if data else graph.tensor(t).nbytes,
            "origin": demo.origin,
            "body": c_values(np.frombuffer(data, np.uint8), indent="    ", per_line=BYTES_PER_LINE) if data else "",
        }
        for t, data in zip(graph.inputs, given)
    ]
    return render(
        "tg_demo.c.j2",
        version=__version__,
        model_name=Path(compiled.model.source).stem,
        inputs=inputs,
        labels=demo.labels,
    )
