"""A float reference executor in numpy: runs a Graph on a batch of inputs at once.

Each op's float reference lives in its record (tinygen/ops). The executor serves two
purposes: collecting activation ranges on the calibration set, and simulating the int8
model (every quantized tensor rounded to its int8 grid as it is computed, weights
dequantized) for the quantization report. It aims to be correct and
vectorized, not bit-exact: the bit-exact int8 reference is tflite-micro. Each op computes in float64
and rounds its result to float32, so that the same model and data calibrate to the same bytes on any
machine.

Models have batch 1; the executor replaces that leading 1 with the batch it is given. For a model
that keeps state between invokes, the batch is consecutive steps: an op with a variable input gets
None there and computes the state itself along the batch, from zero; its reference returns
{tensor index: values} with the state's values at each step, which calibration observes like any
activation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..errors import TinygenError
from ..ir import Graph, Op, Quant, Tensor
from ..ops import REGISTRY, op_def


def dequantize(data: np.ndarray, quant: Quant | None) -> np.ndarray:
    """A constant's real values: scale * (q - zero_point), per channel along quant.axis."""
    if quant is None or data.dtype == np.float32:
        return data.astype(np.float32)
    shape = [1] * data.ndim
    if quant.per_channel:
        shape[quant.axis] = -1
    scale = np.asarray(quant.scale, dtype=np.float64).reshape(shape)
    zero = np.asarray(quant.zero_point, dtype=np.float64).reshape(shape)
    return ((data.astype(np.float64) - zero) * scale).astype(np.float32)


def fake_quantize(x: np.ndarray, quant: Quant) -> np.ndarray:
    """Round to the tensor's int8 grid and back: what an int8 tensor can hold of x."""
    s, z = quant.scale[0], quant.zero_point[0]
    return ((np.clip(np.round(x / s) + z, -128, 127) - z) * s).astype(np.float32)


def execute(graph: Graph, inputs: Sequence[np.ndarray], simulate_int8: bool = False) -> dict[int, np.ndarray]:
    """Every tensor's value for a batch: inputs are batch-first float arrays, one per graph input.

    With simulate_int8 the graph is an int8 one: constants are dequantized, and every
    quantized activation (inputs included) is rounded to its grid.
    """
    values: dict[int, np.ndarray] = {}

    def settle(index: int, value: np.ndarray) -> None:
        t = graph.tensor(index)
        if simulate_int8 and t.quant is not None and t.dtype == "int8":
            value = fake_quantize(value, t.quant)
        values[index] = value.astype(np.float32)

    for index, x in zip(graph.inputs, inputs):
        settle(index, np.asarray(x, dtype=np.float32).reshape(_batched(graph.tensor(index), len(x))))
    for op in graph.ops:
        run = _reference(op.kind)
        if run is None:
            raise TinygenError(
                f"op {op.index} ({op.kind}) is not supported by the float executor; "
                f"supported ops: {', '.join(float_ops())}"
            )
        args = [_wide(_argument(graph, values, i)) for i in op.inputs]
        results = run(op, args, graph.tensor(op.outputs[0]))
        # One array, one per output (SPLIT, UNPACK), or by tensor (the outputs and the state an op keeps).
        if isinstance(results, dict):
            state = {i: v for i, v in results.items() if i not in op.outputs}
            results = [results[i] for i in op.outputs]
        else:
            state = {}
        activation = op.options.get("fused_activation_function", "NONE") if op_def(op.kind).activates_output else "NONE"
        for index, y in zip(op.outputs, results if isinstance(results, (list, tuple)) else [results]):
            y = _activation(activation, y)
            settle(index, y.reshape(_batched(graph.tensor(index), y.shape[0])))
        for index, y in state.items():
            settle(index, y.reshape(_batched(graph.tensor(index), y.shape[0])))
    return values


def _argument(graph: Graph, values: dict[int, np.ndarray], index: int) -> np.ndarray | None:
    """An op's input: computed, a constant, or None (absent, or a variable: the op's own state)."""
    if index < 0 or graph.tensor(index).is_variable:
        return None
    return values[index] if index in values else _constant(graph.tensor(index))


def _wide(value: np.ndarray | None) -> np.ndarray | None:
    """A float32 value as float64 for the op: each op computes in float64 and its result is rounded
    to float32 once (settle), so that sums do not depend on the order a BLAS kernel takes (OpenBLAS
    picks its kernel by CPU: AVX2 and AVX-512 machines summed float32 matmuls differently, and the
    calibrated ranges, hence the int8 model's bytes, with them)."""
    return value.astype(np.float64) if value is not None and value.dtype == np.float32 else value


def _batched(t: Tensor, batch: int) -> tuple[int, ...]:
    """The tensor's shape for a batch: the batch replaces a leading 1, else comes in front."""
    if t.shape and t.shape[0] == 1:
        return (batch, *t.shape[1:])
    return (batch, *t.shape)


def _constant(t: Tensor) -> np.ndarray:
    if t.data is None:
        raise TinygenError(f"tensor {t.name} is read before it is computed")
    if t.dtype in ("int32", "int64") and t.quant is None:
        return t.data  # shapes, axes, paddings
    return dequantize(t.data, t.quant)


def _activation(kind: str, y: np.ndarray) -> np.ndarray:
    if kind == "NONE":
        return y
    if kind == "RELU":
        return np.maximum(y, 0)
    if kind == "RELU6":
        return np.clip(y, 0, 6)
    if kind == "RELU_N1_TO_1":
        return np.clip(y, -1, 1)
    if kind == "TANH":
        return np.tanh(y)
    raise TinygenError(f"fused activation {kind} is not supported")


def _reference(kind: str) -> Callable[[Op, list, Tensor], np.ndarray] | None:
    record = op_def(kind)
    return record.float_reference if record else None


def float_ops() -> list[str]:
    """The ops the executor can run: those whose record has a float reference."""
    return sorted(name for name, record in REGISTRY.items() if record.float_reference)
