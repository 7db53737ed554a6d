"""Per-layer profile of a compiled model from a device's counts: op, output shape, MACs, count,
share of the total, MACs per unit, milliseconds. The unit (cycles on a chip, instructions under QEMU)
travels with the numbers; the total is the sum of the layers. Milliseconds are measured cycles at the
board's clock on a chip; under QEMU an estimate from the instructions (ESTIMATE_BASIS says how).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..compiler.pipeline import CompiledModel
from ..device.target import Counts
from .analysis import op_macs


@dataclass(frozen=True)
class LayerProfile:
    index: int  # the op's index in the model (as `tinygen inspect` numbers it)
    op: str
    output_shape: tuple[int, ...]
    macs: int
    count: int


# Under QEMU there are no cycles: one instruction per cycle is the assumption, a lower bound (loads,
# taken branches and multi-cycle instructions make a real Cortex-M slower).
ESTIMATE_BASIS = "estimated at one instruction per cycle (a lower bound: a real core needs more)"


@dataclass(frozen=True)
class Profile:
    unit: str
    layers: list[LayerProfile]  # the layers that run, in execution order
    clock_hz: int  # the clock the milliseconds are at

    @property
    def measured(self) -> bool:
        return self.unit == "cycles"

    @property
    def basis(self) -> str:
        return "measured cycles" if self.measured else ESTIMATE_BASIS

    def milliseconds(self, count: int) -> float:
        return 1000.0 * count / self.clock_hz

    @property
    def total(self) -> int:
        return sum(layer.count for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def as_json(self) -> dict:
        return {
            "unit": self.unit,
            "total": self.total,
            "clock_hz": self.clock_hz,
            "ms": round(self.milliseconds(self.total), 4),
            "ms_basis": self.basis,
            "layers": [
                {
                    "index": p.index,
                    "op": p.op,
                    "count": p.count,
                    "macs": p.macs,
                    "ms": round(self.milliseconds(p.count), 4),
                }
                for p in self.layers
            ],
        }


def build_profile(compiled: CompiledModel, counts: Counts, clock_hz: int) -> Profile:
    graph = compiled.model.graph
    layers = [
        LayerProfile(
            layer.op.index,
            layer.op.kind,
            tuple(graph.tensor(layer.op.outputs[0]).shape) if layer.op.outputs else (),
            op_macs(layer.op, graph),
            count,
        )
        for layer, count in zip(compiled.lowered.layers, counts.layers)
        if layer.kernel
    ]
    return Profile(counts.unit, layers, clock_hz)
