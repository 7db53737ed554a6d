"""The quantization report: per tensor, its range and int8 parameters, and how much signal survives.

SQNR (signal-to-quantization-noise ratio, dB) = 10 log10(sum f^2 / sum (f - q)^2), where f is a
tensor's float value and q its value in the int8 model, over the calibration set. The int8
model is simulated by the float executor (weights dequantized, every tensor rounded to its
grid as it is computed), so errors accumulate through the layers as on the device. A
layer whose SQNR drops sharply from its input's is where accuracy is lost; each int8 bit
is worth about 6 dB, so below ~20 dB a layer keeps fewer than ~3 significant bits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..ir import Graph
from ..scoring import ACCURACY, score
from .calibrate import CalibrationData, batches
from .float_exec import dequantize, execute
from .quantizer import QuantizedGraph


@dataclass
class TensorReport:
    name: str
    kind: str  # "input", the producing op's name, or "weights" / "bias"
    low: float
    high: float
    scale: float  # the largest scale when per channel
    zero_point: int
    sqnr_db: float


@dataclass
class QuantizationReport:
    method: str
    samples: int
    tensors: list[TensorReport]
    float_accuracy: float | None = None  # top-1, when the calibration data has class labels
    int8_accuracy: float | None = None
    float_mae: float | None = None  # mean absolute error, for a regressor's labels (tinygen/scoring.py)
    int8_mae: float | None = None

    def as_json(self) -> dict:
        return asdict(self)


def sqnr_db(signal: float, noise: float) -> float:
    if noise == 0:
        return float("inf")
    return float(10 * np.log10(max(signal, 1e-30) / noise))


def build_report(
    float_graph: Graph, quantized: QuantizedGraph, data: CalibrationData, method: str, progress: bool = False
) -> QuantizationReport:
    int8_graph = quantized.graph
    # An LSTM's hidden state has no values of its own in the float run (they are its output's).
    mapped = {i: j for i, j in quantized.tensor_map.items() if not float_graph.tensor(i).is_variable}
    signal = dict.fromkeys(mapped, 0.0)
    noise = dict.fromkeys(mapped, 0.0)
    low = dict.fromkeys(mapped, np.inf)
    high = dict.fromkeys(mapped, -np.inf)
    float_out, int8_out, labels = [], [], []  # the first output's values where a label scores them
    out = float_graph.outputs[0]
    start = 0
    for batch in batches(data, progress, "measuring SQNR"):
        f = execute(float_graph, batch)
        q = execute(int8_graph, batch, simulate_int8=True)
        for i, j in mapped.items():
            signal[i] += float(np.sum(f[i].astype(np.float64) ** 2))
            noise[i] += float(np.sum((f[i].astype(np.float64) - q[j]) ** 2))
            low[i], high[i] = min(low[i], float(f[i].min())), max(high[i], float(f[i].max()))
        if data.y is not None:
            size = len(batch[0])
            # A sequence is scored at its last step, against its one label.
            picked, count = (slice(size - 1, size), 1) if data.sequences else (slice(None), size)
            labels.append(data.y[start : start + count])
            float_out.append(f[out].reshape(size, -1)[picked])
            int8_out.append(q[mapped[out]].reshape(size, -1)[picked])
            start += count

    producers = float_graph.producers()
    rows = []
    for i, j in mapped.items():
        t = int8_graph.tensor(j)
        kind = producers[i].kind if i in producers else "input"
        rows.append(TensorReport(t.name, kind, low[i], high[i], t.scale, t.zero_point, sqnr_db(signal[i], noise[i])))
    rows += _constant_rows(float_graph, int8_graph)
    report = QuantizationReport(method, data.count, rows)
    if labels:
        truth = np.concatenate(labels)
        scores = score(np.concatenate(float_out), truth), score(np.concatenate(int8_out), truth)
        if scores[0] is not None:
            metric = "accuracy" if scores[0].metric == ACCURACY else "mae"
            setattr(report, f"float_{metric}", scores[0].value)
            setattr(report, f"int8_{metric}", scores[1].value)
    return report


def _constant_rows(float_graph: Graph, int8_graph: Graph) -> list[TensorReport]:
    """Weights and biases: the same measures, on the constants themselves."""
    floats = {t.name: t for t in float_graph.tensors if t.is_constant and t.dtype == "float32"}
    rows = []
    for t in int8_graph.tensors:
        if t.is_constant and t.quant is not None and t.name in floats:
            f = floats[t.name].data.astype(np.float64)
            q = dequantize(t.data, t.quant).astype(np.float64)
            kind = "bias" if t.dtype == "int32" else "weights"
            rows.append(
                TensorReport(
                    t.name,
                    kind,
                    float(f.min()),
                    float(f.max()),
                    max(t.quant.scale),
                    t.quant.zero_point[0],
                    sqnr_db(np.sum(f**2), np.sum((f - q) ** 2)),
                )
            )
    return rows
