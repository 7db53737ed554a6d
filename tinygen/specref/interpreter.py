"""The numpy reference interpreter: a TFLite graph run op by op from the int8 spec.

It is the second, independent reference for `tinygen verify` where tflite-micro has no wheel (macOS,
Windows, Arm Linux). It reads only the graph (tensors, quantization, options, constants) and
computes every op from scales and zero points itself (tinygen/specref/*.py, one module per op
family), never through tinygen's compiler. CI checks it against tflite-micro on every op test and on
the corpus (tests/ops/conftest.py, tests/test_corpus.py).

State, as a fresh tflite-micro interpreter keeps it: each sequence starts from the initial state and
carries it from one invoke to the next. Variable tensors (SVDF's memory, LSTM's hidden and cell states,
resource variables) start at the value the model gives them (what CALL_ONCE assigns, as the reader
resolved it), else an int8 variable at its zero point and any other at 0; kernels update them in
place. A kernel's own state (Node.memory) is emptied at the start of each sequence.
"""

from __future__ import annotations

import numpy as np

from ..errors import TinygenError
from ..ir import NUMPY_DTYPES, Graph, Op, Tensor
from .registry import KERNELS, Eval, Node, NotCovered


class NumpyReference:
    """Runs a Graph in numpy with the same calls as tinygen.reference.Reference. Every op is prepared
    here, so a model the reference cannot compute is refused now, in one line naming the op."""

    label = "numpy"

    def __init__(self, graph: Graph, name: str = "the model") -> None:
        self.graph, self.name = graph, name
        self._nodes = [Node(op, graph) for op in graph.ops]
        self._steps: list[tuple[Op, Eval]] = [(node.op, _prepare(node)) for node in self._nodes]
        self._state: dict[int, np.ndarray] = {}

    def run(self, sample: list[np.ndarray]) -> list[np.ndarray]:
        return self.run_many([sample])[0]

    def run_many(self, samples: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
        """The outputs for each sample, run as one sequence from the initial state."""
        self._reset()
        outputs = []
        for sample in samples:
            values = self._evaluate(sample)
            outputs.append([values[index].copy() for index in self.graph.outputs])
        return outputs

    def run_sequences(self, sequences: list[list[list[np.ndarray]]]) -> list[list[list[np.ndarray]]]:
        return [self.run_many(sequence) for sequence in sequences]

    def tensors(self, samples: list[list[np.ndarray]], indices: list[int]) -> dict[int, np.ndarray]:
        """Intermediate tensors after running the samples as one sequence: those of the last step."""
        self._reset()
        for sample in samples:
            values = self._evaluate(sample)
        return {index: values[index].copy() for index in indices if index in values}

    def _reset(self) -> None:
        """The state a fresh interpreter starts from."""
        self._state = {t.index: _initial_value(t) for t in self.graph.tensors if t.is_variable}
        for node in self._nodes:
            node.memory.clear()

    def _evaluate(self, sample: list[np.ndarray]) -> dict[int, np.ndarray]:
        graph = self.graph
        values = {t.index: t.data for t in graph.tensors if t.is_constant}
        values.update(self._state)  # the same arrays: kernels update a variable in place
        for index, value in zip(graph.inputs, sample):
            tensor = graph.tensor(index)
            values[index] = np.asarray(value).astype(NUMPY_DTYPES[tensor.dtype], copy=False).reshape(tensor.shape)
        for op, evaluate in self._steps:
            try:
                results = evaluate([values.get(i) if i >= 0 else None for i in op.inputs])
            except NotCovered:
                raise
            except TinygenError as e:  # what tflite-micro's Invoke reports as an error
                raise TinygenError(f"the numpy reference refused {self.name}: {e}") from None
            for index, result in zip(op.outputs, results):
                tensor = graph.tensor(index)
                stored = np.asarray(result).astype(NUMPY_DTYPES[tensor.dtype], copy=False)
                if index in self._state:  # an op that writes a variable as its output
                    self._state[index][...] = stored.reshape(tensor.shape)
                else:
                    values[index] = np.ascontiguousarray(stored).reshape(tensor.shape)
        return values


def covered_ops() -> tuple[str, ...]:
    """The op kinds the numpy reference computes (for some or all of their types)."""
    return tuple(sorted(KERNELS))


def _initial_value(tensor: Tensor) -> np.ndarray:
    dtype = NUMPY_DTYPES[tensor.dtype]
    if tensor.initial is not None:
        return np.array(tensor.initial, dtype).reshape(tensor.shape)
    fill = tensor.quant.zero_point[0] if tensor.dtype == "int8" and tensor.quant is not None else 0
    return np.full(tensor.shape, fill, dtype)


def _prepare(node: Node) -> Eval:
    prepare = KERNELS.get(node.kind)
    if prepare is None:
        node.refuse("the op is not covered")
    evaluate = prepare(node)
    return _checked(node, evaluate)


def _checked(node: Node, evaluate: Eval) -> Eval:
    """Each result must fill its output tensor exactly (tflite-micro writes the tensor's own size)."""
    sizes = [t.size for t in node.outputs]

    def run(inputs):
        results = evaluate(inputs)
        if [np.size(r) for r in results] != sizes:
            raise NotCovered(
                f"op {node.op.index} ({node.kind}): results of sizes {[np.size(r) for r in results]} "
                f"for outputs of sizes {sizes}"
            )
        return results

    return run
