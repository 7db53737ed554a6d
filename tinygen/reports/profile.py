"""Per-layer profile of a compiled model from a device's counts: op, output shape, MACs, count,
share of the total, MACs per unit. The unit (cycles on a chip, instructions under QEMU) travels
with the numbers; the total is the sum of the layers.
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


@dataclass(frozen=True)
class Profile:
    unit: str
    layers: list[LayerProfile]  # the layers that run, in execution order

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
            "layers": [{"index": p.index, "op": p.op, "count": p.count, "macs": p.macs} for p in self.layers],
        }


def build_profile(compiled: CompiledModel, counts: Counts) -> Profile:
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
    return Profile(counts.unit, layers)
