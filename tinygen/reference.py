"""The independent reference: the tflite-micro interpreter (the `tinygen[verify]` extra)."""
from __future__ import annotations

import math

import numpy as np

from .errors import TinygenError
from .ir import Graph, Op
from .ops.elementwise import add_output_multiplier
from .ops.softmax import softmax_scaling

INSTALL_HINT = ("the reference interpreter tflite-micro is not installed: pip install 'tinygen[verify]' "
                "(it has Linux x86_64 wheels only)")


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
        config = runtime.InterpreterConfig.kPreserveAllTensors if preserve_all else \
            runtime.InterpreterConfig.kAllocationRecording
        try:
            self.interpreter = runtime.Interpreter.from_bytes(tflite_bytes, arena_size=arena,
                                                              intrepreter_config=config)
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
    """Refuse what is known to crash the interpreter's process instead of raising."""
    for op in graph.ops:
        if op.kind == "DEPTHWISE_CONV_2D" and (len(op.inputs) < 3 or op.inputs[2] < 0):
            raise TinygenError(f"op {op.index} (DEPTHWISE_CONV_2D) has no bias; tflite-micro crashes on that, "
                               "so it cannot be verified")
        if op.kind == "ADD" and _add_aborts(graph, op):
            raise TinygenError(f"op {op.index} (ADD) has an output scale too small for its inputs' scales; "
                               "tflite-micro aborts on that, so it cannot be verified")
        if op.kind == "SOFTMAX" and _softmax_always_aborts(graph, op):
            raise TinygenError(f"op {op.index} (SOFTMAX) aborts tflite-micro on every input (its beta * input "
                               "scale is too small), so it cannot be verified")


def _add_aborts(graph: Graph, op: Op) -> bool:
    """TFLM's ADD Prepare aborts unless its output multiplier is below 1."""
    tensors = [graph.tensor(i) for i in (*op.inputs[:2], op.outputs[0])]
    return all(t.quant is not None for t in tensors) and add_output_multiplier(*(t.scale for t in tensors)) >= 1


def _softmax_always_aborts(graph: Graph, op: Op) -> bool:
    """TFLM aborts a SOFTMAX row whose exps sum to 512 or more (and at prepare on a multiplier <= 1).

    Whether a row gets there depends on the data (512 equal values always do), so this only
    catches what aborts for every input: even the most spread row, one 127 and the rest -128,
    sums to 512. A deep, flat softmax can still abort the interpreter on particular inputs.
    """
    x = graph.tensor(op.inputs[0])
    if x.dtype != "int8" or x.quant is None:
        return False
    beta = op.options.get("beta", 0.0)
    scaling = softmax_scaling(beta, x.scale)
    if scaling is None:
        return True
    depth = x.shape[-1]
    smallest_exp = math.exp(-255 * beta * x.scale) if -255 >= scaling[2] else 0.0
    return 1 + (depth - 1) * smallest_exp >= 512
