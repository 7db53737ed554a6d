"""Post-training quantization: a float model and calibration inputs -> a full-integer int8 model.

float Graph --observe (calibrate.py, float_exec.py)--> TensorStats per activation
            --range (ranges.py)--> (low, high) --rewrite (quantizer.py)--> int8 Graph
            --write_tflite--> .tflite bytes;  report.py measures what int8 lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..compiler.control_flow import resolve_control_flow
from ..compiler.fold import fold_constants
from ..frontends.tflite_reader import parse_tflite
from ..frontends.tflite_writer import write_tflite
from ..ir import Graph
from .calibrate import CalibrationData, load_calibration, observe
from .quantizer import QuantizedGraph, check_float_graph, is_float_graph, quantize_graph
from .ranges import METHODS
from .report import QuantizationReport, build_report

__all__ = [
    "METHODS",
    "CalibrationData",
    "QuantizationResult",
    "is_float_graph",
    "load_calibration",
    "parameter_bytes",
    "quantize",
]


@dataclass
class QuantizationResult:
    graph: Graph  # the int8 graph, as read back from tflite_bytes
    tflite_bytes: bytes
    quantized: QuantizedGraph
    report: QuantizationReport | None


def quantize(
    graph: Graph,
    data: CalibrationData,
    method: str = "minmax",
    per_channel: bool = True,
    float_io: bool = False,
    report: bool = False,
    progress: bool = False,
) -> QuantizationResult:
    # Loops unrolled (the quantizer calibrates every step), and shape arithmetic (Keras' Flatten)
    # folded: it needs no float reference.
    graph = fold_constants(resolve_control_flow(graph))
    check_float_graph(graph)
    stats = observe(graph, data, method, progress)
    quantized = quantize_graph(graph, {i: s.range(method) for i, s in stats.items()}, per_channel, float_io)
    tflite_bytes = write_tflite(quantized.graph)
    measured = build_report(graph, quantized, data, method, progress) if report else None
    return QuantizationResult(parse_tflite(tflite_bytes), tflite_bytes, quantized, measured)


def parameter_bytes(graph: Graph) -> int:
    """Bytes of the learned constants (weights, biases), leaving out shapes, axes and paddings."""
    return sum(t.nbytes for t in graph.tensors if t.is_constant and (t.dtype == "float32" or t.quant is not None))
