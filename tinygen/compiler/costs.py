"""Estimated instructions of a layer: a linear model per kernel, its coefficients measured under QEMU.

A layer's cost is a sum of coefficients times features of its shape (FEATURES: one call, output
pixels, input and output elements, MACs, scratch bytes), one set of coefficients per C kernel and per kind of core:
"dsp" (the Cortex-M4, M7 and M33 fast paths, measured on mps2-an386) and "portable" (the portable C
path of the Cortex-M3, measured on lm3s6965evb). benchmarks/costs.py measures them on models of
varied shapes and writes costs.json beside this module; tests/test_costs.py checks the estimates
against the emulator on layers of the MLPerf Tiny models. A kernel it has not measured takes the
"*" entry, fitted on every layer measured.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from ..boards import Board
from ..ir import Graph
from ..ops import op_def
from .layer import Layer

COSTS_JSON = Path(__file__).with_name("costs.json")
FEATURES = ("calls", "pixels", "inputs", "outputs", "macs", "scratch")
ANY_KERNEL = "*"


def layer_features(layer: Layer, graph: Graph) -> tuple[int, ...]:
    """The layer's FEATURES: 1, output pixels (elements over the last axis), the first input's and the
    first output's elements, the op's MACs, and the kernel's scratch bytes (what an in-place variant
    saves of its input: a 1x1 in-place convolution keeps no rows and costs what the plain one does)."""
    first = layer.op.inputs[0] if layer.op.inputs else -1
    inputs = graph.tensor(first).size if first >= 0 else 0
    if layer.op.outputs:
        output = graph.tensor(layer.op.outputs[0])
        outputs, pixels = output.size, output.size // max(output.shape[-1] if output.shape else 1, 1)
    else:  # an op that only updates state (ASSIGN_VARIABLE)
        outputs, pixels = 0, 0
    record = op_def(layer.op.kind)  # None for a layer lowered by hand (a test's own kernel)
    macs = record.macs(layer.op, graph) if record else 0
    return (1, pixels, inputs, outputs, macs, layer.scratch_bytes)


def core_kind(board: Board | None) -> str:
    """Which coefficients a board takes: "dsp" where its kernels take the DSP paths, else "portable"."""
    return "dsp" if board is not None and board.dsp else "portable"


@dataclass(frozen=True)
class CostModel:
    kernels: dict[str, tuple[float, ...]]  # kernel -> one coefficient per feature

    def estimate(self, layer: Layer, graph: Graph) -> int:
        """Estimated instructions of the layer's kernel call; 0 for a layer that runs nothing."""
        if not layer.kernel:
            return 0
        coefficients = self.kernels.get(layer.kernel, self.kernels[ANY_KERNEL])
        return max(0, round(sum(c * f for c, f in zip(coefficients, layer_features(layer, graph)))))


@functools.cache
def _load() -> dict:
    return json.loads(COSTS_JSON.read_text())


def cost_model(board: Board | None) -> CostModel:
    """The shipped coefficients for the board's kind of core (the portable path without a board)."""
    data = _load()
    if tuple(data["features"]) != FEATURES:
        raise ValueError(f"{COSTS_JSON}: features {data['features']}, expected {list(FEATURES)}")
    table = data["cores"][core_kind(board)]
    return CostModel({kernel: tuple(c) for kernel, c in table.items()})
