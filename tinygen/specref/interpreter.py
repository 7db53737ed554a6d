"""The numpy reference interpreter: a TFLite graph run op by op from the int8 spec.

It is the second, independent reference for `tinygen verify` where tflite-micro has no wheel (macOS,
Windows, Arm Linux). It reads only the graph (tensors, quantization, options, constants) and
computes every op from scales and zero points itself (tinygen/specref/*.py, one module per op
family), never through tinygen's compiler. CI checks it against tflite-micro on every op test and on
the corpus (tests/ops/conftest.py, tests/test_corpus.py).
"""

from __future__ import annotations

import numpy as np

from ..errors import TinygenError
from ..ir import NUMPY_DTYPES, Graph, Op
from .registry import KERNELS, Eval, Node, NotCovered


class NumpyReference:
    """Runs a Graph in numpy with the same calls as tinygen.reference.Reference. Every op is prepared
    here, so a model the reference cannot compute is refused now, in one line naming the op."""

    label = "numpy"

    def __init__(self, graph: Graph, name: str = "the model") -> None:
        self.graph, self.name = graph, name
        if any(t.is_variable for t in graph.tensors):
            raise NotCovered(f"the numpy reference does not cover {name} (state kept between invokes)")
        self._steps: list[tuple[Op, Eval]] = [(op, _prepare(op, graph)) for op in graph.ops]

    def run(self, sample: list[np.ndarray]) -> list[np.ndarray]:
        values = self._evaluate(sample)
        return [values[index] for index in self.graph.outputs]

    def run_many(self, samples: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
        """The outputs for each sample (a model it runs keeps no state: a sequence is its samples)."""
        return [self.run(sample) for sample in samples]

    def run_sequences(self, sequences: list[list[list[np.ndarray]]]) -> list[list[list[np.ndarray]]]:
        return [self.run_many(sequence) for sequence in sequences]

    def tensors(self, samples: list[list[np.ndarray]], indices: list[int]) -> dict[int, np.ndarray]:
        """Intermediate tensors after running the samples as a sequence: those of the last."""
        values = self._evaluate(samples[-1])
        return {index: values[index] for index in indices if index in values}

    def _evaluate(self, sample: list[np.ndarray]) -> dict[int, np.ndarray]:
        graph = self.graph
        values = {t.index: t.data for t in graph.tensors if t.is_constant}
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
                values[index] = np.ascontiguousarray(stored).reshape(tensor.shape)
        return values


def covered_ops() -> tuple[str, ...]:
    """The op kinds the numpy reference computes (for some or all of their types)."""
    return tuple(sorted(KERNELS))


def _prepare(op: Op, graph: Graph) -> Eval:
    prepare = KERNELS.get(op.kind)
    node = Node(op, graph)
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
