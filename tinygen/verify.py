"""Bit-exact verification: a compiled model on any target against a reference (tflite-micro, or the
numpy reference where tflite-micro cannot be imported; see tinygen/reference.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compiler.pipeline import CompiledModel
from .device.target import Sample, Target
from .errors import TinygenError
from .ir import NUMPY_DTYPES, Graph
from .reference import open_reference
from .scoring import Score, describe, score
from .values import dequantize


@dataclass
class VerifyResult:
    samples: int
    outputs_compared: int
    mismatches: int  # outputs (per sample, per model output) with at least one differing value
    max_abs_diff: float
    first_bad_sample: int | None = None
    first_bad_layer: str | None = None  # "layer 3 (CONV_2D)" when traced
    device_score: Score | None = None  # against the labels, when the data has them (tinygen/scoring.py)
    reference_score: Score | None = None
    sequences: list[int] | None = None  # a model with state: the steps of each sequence, each from a reset
    reference: str = "tflite-micro"  # which reference the outputs were compared with

    @property
    def bit_exact(self) -> bool:
        return self.mismatches == 0

    def where(self, sample: int) -> str:
        """A sample's place: "sample 7", or "sequence 1, step 3" for a model run in sequences."""
        if not self.sequences:
            return f"sample {sample}"
        for n, steps in enumerate(self.sequences):
            if sample < steps:
                return f"sequence {n}, step {sample}"
            sample -= steps
        raise IndexError(sample)

    def summary(self) -> str:
        runs = f"{self.samples} samples"
        if self.sequences:
            lengths = sorted(set(self.sequences))
            steps = f"{lengths[0]}" if len(lengths) == 1 else f"{lengths[0]} to {lengths[-1]}"
            runs = f"{len(self.sequences)} sequence{'s' if len(self.sequences) > 1 else ''} of {steps} steps ({runs})"
        line = (
            f"{runs}, {self.mismatches} of {self.outputs_compared} outputs mismatch, "
            f"max abs difference {self.max_abs_diff:g}: {'bit-exact' if self.bit_exact else 'NOT bit-exact'} "
            f"(reference: {self.reference})"
        )
        if self.first_bad_layer:
            line += f"; first differing layer: {self.first_bad_layer} ({self.where(self.first_bad_sample)})"
        if self.device_score is not None:
            line += (
                f"\n{describe(self.device_score.metric)} on device {self.device_score.show()}, "
                f"{self.reference} {self.reference_score.show()}"
            )
        return line

    def as_json(self) -> dict:
        data = {
            "samples": self.samples,
            "mismatches": self.mismatches,
            "bit_exact": self.bit_exact,
            "max_abs_diff": self.max_abs_diff,
            "first_bad_layer": self.first_bad_layer,
            "reference": self.reference,
        }
        if self.sequences:
            data["sequences"] = self.sequences
            if self.first_bad_sample is not None:
                data["first_bad"] = self.where(self.first_bad_sample)
        if self.device_score is not None:  # device_accuracy and reference_accuracy, or device_mae and ...
            metric = self.device_score.metric
            data[f"device_{metric}"] = self.device_score.value
            data[f"reference_{metric}"] = self.reference_score.value
        return data


def random_samples(graph: Graph, count: int, seed: int) -> list[list[np.ndarray]]:
    """Integer inputs uniform over their type's range; float inputs spread over the quantized range
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
            info = np.iinfo(NUMPY_DTYPES[q.dtype])  # int8 or int16
            return q.scale * (info.min - q.zero_point), q.scale * (info.max - q.zero_point)
    return -1.0, 1.0


def compare_outputs(graph: Graph, expected: list[Sample], device_outputs: list[Sample]) -> VerifyResult:
    """Each sample's outputs against the expected ones, bit for bit."""
    if len(device_outputs) != len(expected) or any(len(o) != len(graph.outputs) for o in device_outputs):
        raise TinygenError(
            f"the model returned {len(device_outputs)} results for {len(expected)} samples "
            f"(each should hold {len(graph.outputs)} outputs)"
        )
    mismatches, max_diff, first_bad = 0, 0.0, None
    for s, (want_outputs, got) in enumerate(zip(expected, device_outputs)):
        for want, have in zip(want_outputs, got):
            diff = np.abs(want.astype(np.float64) - np.asarray(have).astype(np.float64).reshape(want.shape))
            if want.dtype.kind == "f":
                differs = not np.array_equal(
                    want.view(np.uint32), np.asarray(have, dtype=np.float32).view(np.uint32).reshape(want.shape)
                )
            else:  # exactly: 64-bit values differ below float64's resolution
                differs = not np.array_equal(want, np.asarray(have).reshape(want.shape))
            if differs:
                mismatches += 1
                first_bad = s if first_bad is None else first_bad
            max_diff = max(max_diff, float(diff.max(initial=0)))
    outputs = len(expected) * len(graph.outputs)
    return VerifyResult(len(expected), outputs, mismatches, max_diff, first_bad)


def verify(
    target: Target,
    compiled: CompiledModel,
    samples: list[Sample],
    labels: np.ndarray | None = None,
    progress: bool = False,
    reference: str = "auto",
) -> VerifyResult:
    """Every sample through the target and through the reference (`reference`: auto, tflite-micro or
    numpy; auto takes tflite-micro where it can be imported), outputs compared bit for bit. A
    mismatch is traced to the first differing layer where the target can trace; with labels, the
    top-1 accuracy of both on the first output. The samples run as one sequence from the initial
    state on both sides (which matters only for a model that keeps state between invokes)."""
    return verify_sequences(target, compiled, [samples], labels, progress, reference)


def verify_sequences(
    target: Target,
    compiled: CompiledModel,
    sequences: list[list[Sample]],
    labels: np.ndarray | None = None,
    progress: bool = False,
    reference: str = "auto",
) -> VerifyResult:
    """verify() for a model with state: each sequence from the initial state (the target resets it,
    the reference starts a new interpreter), every step's outputs compared. Labels are one per step,
    or one per sequence for its last step."""
    model = compiled.model
    graph = model.graph
    chosen = open_reference(model.tflite_bytes, graph, name=model.source, choice=reference)
    scored = None if labels is None else _labelled_steps(labels, [len(sequence) for sequence in sequences])
    outputs = [step for sequence in target.run_sequences(sequences, progress=progress) for step in sequence]
    expected = [step for sequence in chosen.run_sequences(sequences) for step in sequence]
    result = compare_outputs(graph, expected, outputs)
    result.reference = chosen.label
    if len(sequences) > 1 or compiled.plan.state_bytes:
        result.sequences = [len(sequence) for sequence in sequences]
    if not result.bit_exact:
        run = _prefix(sequences, result.first_bad_sample)  # the bad step and the steps before it
        traces = target.trace(run)
        if traces is not None:
            traced = [layer.op.index for layer in compiled.lowered.layers if layer.kernel and layer.op.outputs]
            result.first_bad_layer = first_differing_layer(graph, chosen, run, traced, traces)
    if labels is not None:
        first = graph.tensor(graph.outputs[0])
        real = [dequantize(first, outputs[s][0]) for s in scored], [dequantize(first, expected[s][0]) for s in scored]
        result.device_score, result.reference_score = (score(np.stack(values), labels) for values in real)
    return result


def _labelled_steps(labels: np.ndarray, lengths: list[int]) -> list[int]:
    """The steps the labels are for: every step, or with one label per sequence, each one's last step
    (a streaming classifier's answer once it has seen the whole sequence)."""
    if len(labels) == sum(lengths):
        return list(range(sum(lengths)))
    if len(labels) == len(lengths):
        return [int(end) - 1 for end in np.cumsum(lengths)]
    raise TinygenError(
        f"{len(labels)} labels for {len(lengths)} sequences of {sum(lengths)} steps: give one label per step "
        "or one per sequence"
    )


def _prefix(sequences: list[list[Sample]], sample: int) -> list[Sample]:
    """The steps of the sequence that holds flat sample `sample`, up to and including it."""
    for sequence in sequences:
        if sample < len(sequence):
            return sequence[: sample + 1]
        sample -= len(sequence)
    raise IndexError(sample)


def first_differing_layer(
    graph: Graph, reference, samples: list[Sample], traced_layers: list[int], traces: list[np.ndarray]
) -> str | None:
    """The first layer (in execution order) whose output differs from the reference's intermediate,
    in the last of the samples (run as a sequence). traced_layers are op indices, in execution order."""
    wanted = {layer: graph.op_by_index(layer).outputs[0] for layer in traced_layers}
    intermediates = reference.tensors(samples, sorted(set(wanted.values())))
    for layer, got in zip(traced_layers, traces):
        op = graph.op_by_index(layer)
        want = intermediates[wanted[layer]]
        if not np.array_equal(want.reshape(-1).view(np.uint8), np.asarray(got).reshape(-1).view(np.uint8)):
            return f"layer {layer} ({op.kind})"
    return None
