"""Bit-exact verification: the compiled model against the tflite-micro reference."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import TinygenError
from .ir import Graph
from .compiler.pipeline import CompiledModel
from .reference import Reference
from .device.host import HostModel, build_host

# A device run: samples in (each a list of one array per model input), outputs out.
RunFn = Callable[[list[list[np.ndarray]]], list[list[np.ndarray]]]


@dataclass
class VerifyResult:
    samples: int
    outputs_compared: int
    mismatches: int  # outputs (per sample, per model output) with at least one differing value
    max_abs_diff: float
    first_bad_sample: int | None = None
    first_bad_layer: str | None = None  # "layer 3 (CONV_2D)" when traced

    @property
    def bit_exact(self) -> bool:
        return self.mismatches == 0

    def summary(self) -> str:
        line = (f"{self.samples} samples, {self.mismatches} of {self.outputs_compared} outputs mismatch, "
                f"max abs difference {self.max_abs_diff:g}: {'bit-exact' if self.bit_exact else 'NOT bit-exact'}")
        if self.first_bad_layer:
            line += f"; first differing layer: {self.first_bad_layer} (sample {self.first_bad_sample})"
        return line

    def as_json(self) -> dict:
        return {"samples": self.samples, "mismatches": self.mismatches, "bit_exact": self.bit_exact,
                "max_abs_diff": self.max_abs_diff, "first_bad_layer": self.first_bad_layer}


def random_samples(graph: Graph, count: int, seed: int) -> list[list[np.ndarray]]:
    """Uniform int8 inputs over the whole range; float inputs spread over the quantized range
    of the QUANTIZE op that consumes them (or [-1, 1) without one)."""
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(count):
        sample = []
        for index in graph.inputs:
            t = graph.tensor(index)
            if t.dtype == "float32":
                low, high = _float_input_range(graph, index)
                sample.append(rng.uniform(low, high, t.shape).astype(np.float32))
            else:
                info = np.iinfo(t.dtype)
                sample.append(rng.integers(info.min, info.max, t.shape, endpoint=True, dtype=t.dtype))
        samples.append(sample)
    return samples


def _float_input_range(graph: Graph, index: int) -> tuple[float, float]:
    for op in graph.ops:
        if op.kind == "QUANTIZE" and op.inputs[0] == index:
            q = graph.tensor(op.outputs[0])
            return q.scale * (-128 - q.zero_point), q.scale * (127 - q.zero_point)
    return -1.0, 1.0


def compare(graph: Graph, reference: Reference, run: RunFn, samples: list[list[np.ndarray]]) -> VerifyResult:
    device_outputs = run(samples)
    if len(device_outputs) != len(samples) or any(len(o) != len(graph.outputs) for o in device_outputs):
        raise TinygenError(f"the model returned {len(device_outputs)} results for {len(samples)} samples "
                           f"(each should hold {len(graph.outputs)} outputs)")
    mismatches, max_diff, first_bad = 0, 0.0, None
    for s, (sample, got) in enumerate(zip(samples, device_outputs)):
        expected = reference.run(sample)
        for want, have in zip(expected, got):
            diff = np.abs(want.astype(np.float64) - np.asarray(have).astype(np.float64).reshape(want.shape))
            if want.dtype.kind == "f":
                differs = not np.array_equal(want.view(np.uint32), np.asarray(have, dtype=np.float32).view(np.uint32)
                                             .reshape(want.shape))
            else:
                differs = bool(diff.max(initial=0) > 0)
            if differs:
                mismatches += 1
                first_bad = s if first_bad is None else first_bad
            max_diff = max(max_diff, float(diff.max(initial=0)))
    outputs = len(samples) * len(graph.outputs)
    return VerifyResult(len(samples), outputs, mismatches, max_diff, first_bad)


def first_differing_layer(graph: Graph, tflite_bytes: bytes, sample: list[np.ndarray],
                          traced_layers: list[int], traces: list[np.ndarray]) -> str | None:
    """The first layer (in execution order) whose output differs from the reference's intermediate.
    traced_layers are op indices, in execution order."""
    reference = Reference(tflite_bytes, graph, preserve_all=True)
    reference.run(sample)
    for layer, got in zip(traced_layers, traces):
        op = graph.ops[layer]
        want = reference.tensor(op.outputs[0])
        if not np.array_equal(want.reshape(-1).view(np.uint8), np.asarray(got).reshape(-1).view(np.uint8)):
            return f"layer {layer} ({op.kind})"
    return None


def verify_on_host(compiled: CompiledModel, samples: list[list[np.ndarray]], workdir: Path,
                   sanitize: bool = False) -> VerifyResult:
    """Compile the model for the host, run the samples, compare; trace the first mismatch to a layer."""
    model = compiled.model
    graph = model.graph
    binary = build_host(compiled.generated, workdir, sanitize=sanitize)
    traced = [layer.op.index for layer in compiled.lowered.layers if layer.kernel]
    host = HostModel(binary, graph, traced)
    result = compare(graph, Reference(model.tflite_bytes, graph), lambda s: host.run(s).outputs, samples)
    if not result.bit_exact:
        bad = samples[result.first_bad_sample]
        traces = host.run([bad], trace=True).traces[0]
        result.first_bad_layer = first_differing_layer(graph, model.tflite_bytes, bad, traced, traces)
    return result
