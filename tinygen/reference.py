"""The independent reference: the tflite-micro interpreter (the `tinygen[verify]` extra)."""

from __future__ import annotations

import numpy as np

from .errors import TinygenError
from .ir import Graph
from .ops import op_def

INSTALL_HINT = (
    "the reference interpreter tflite-micro is not installed: pip install 'tinygen[verify]' "
    "(it has Linux x86_64 wheels only)"
)


def _runtime():
    try:
        from tflite_micro import runtime
    except ImportError as e:
        raise TinygenError(INSTALL_HINT) from e
    return runtime


class Reference:
    """Runs a .tflite model in tflite-micro, optionally keeping every intermediate tensor."""

    def __init__(self, tflite_bytes: bytes, graph: Graph, preserve_all: bool = False) -> None:
        runtime = _runtime()
        _check_reference_can_run(graph)
        self.graph = graph
        # Generous: with every tensor preserved, the arena holds all of them at once.
        arena = 4 * sum(t.nbytes for t in graph.tensors if not t.is_constant) + (1 << 20)
        config = (
            runtime.InterpreterConfig.kPreserveAllTensors
            if preserve_all
            else runtime.InterpreterConfig.kAllocationRecording
        )
        try:
            self.interpreter = runtime.Interpreter.from_bytes(tflite_bytes, arena_size=arena, intrepreter_config=config)
        except (RuntimeError, ValueError) as e:
            raise TinygenError(f"tflite-micro refused the model: {e}") from e

    def run(self, sample: list[np.ndarray]) -> list[np.ndarray]:
        for i, (index, value) in enumerate(zip(self.graph.inputs, sample)):
            self.interpreter.set_input(np.asarray(value).reshape(self.graph.tensor(index).shape), i)
        self.interpreter.invoke()
        return [np.array(self.interpreter.get_output(i)) for i in range(len(self.graph.outputs))]

    def tensor(self, index: int) -> np.ndarray:
        """An intermediate tensor after run(); needs preserve_all=True."""
        if not 0 <= index < len(self.graph.tensors):
            raise IndexError(index)  # an out-of-range index crashes the interpreter
        return np.array(self.interpreter.GetTensor(index, 0)["tensor_data"])


def _check_reference_can_run(graph: Graph) -> None:
    """Refuse what is known to crash the interpreter's process instead of raising (each op's record knows)."""
    for op in graph.ops:
        record = op_def(op.kind)
        reason = record.reference_guard(op, graph) if record and record.reference_guard else None
        if reason:
            raise TinygenError(f"op {op.index} ({op.kind}) {reason}, so it cannot be verified")
