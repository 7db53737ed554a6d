"""A float reference executor in numpy: runs a Graph on a batch of inputs at once.

It serves two purposes: collecting activation ranges on the calibration set, and
simulating the int8 model (every quantized tensor rounded to its int8 grid as it is
computed, weights dequantized) for the quantization report. It aims to be correct and
vectorized, not bit-exact: the bit-exact int8 reference is tflite-micro.

Models have batch 1; the executor replaces that leading 1 with the batch it is given.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import TinygenError
from ..ir import Graph, Op, Quant, Tensor


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
        run = OPS.get(op.kind)
        if run is None:
            raise TinygenError(f"op {op.index} ({op.kind}) is not supported by the float executor; "
                               f"supported ops: {', '.join(sorted(OPS))}")
        args = [None if i < 0 else values[i] if i in values else _constant(graph.tensor(i)) for i in op.inputs]
        out = graph.tensor(op.outputs[0])
        y = run(op, args, out)
        y = _activation(op.options.get("fused_activation_function", "NONE"), y)
        settle(op.outputs[0], y.reshape(_batched(out, y.shape[0])))
    return values


def _batched(t: Tensor, batch: int) -> tuple[int, ...]:
    if not t.shape or t.shape[0] != 1:
        raise TinygenError(f"tensor {t.name} has shape {t.shape}; the float executor needs batch-1 tensors")
    return (batch, *t.shape[1:])


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


def _window_padding(size: int, stride: int, window: int, out: int) -> tuple[int, int]:
    """(before, after) zero padding so that `out` windows fit; TFLite puts the odd one after."""
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def _windows(x: np.ndarray, op: Op, out: Tensor, kh: int, kw: int, fill: float = 0.0) -> np.ndarray:
    """(B, OH, OW, C, kh, kw) views of the padded input under each output position."""
    o = op.options
    dh, dw = o.get("dilation_h_factor", 1), o.get("dilation_w_factor", 1)
    sh, sw = o["stride_h"], o["stride_w"]
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    oh, ow = out.shape[1], out.shape[2]
    ph, pw = _window_padding(x.shape[1], sh, eh, oh), _window_padding(x.shape[2], sw, ew, ow)
    x = np.pad(x, ((0, 0), ph, pw, (0, 0)), constant_values=fill)
    win = sliding_window_view(x, (eh, ew), axis=(1, 2))
    return win[:, ::sh, ::sw][:, :oh, :ow, :, ::dh, ::dw]


def _conv(op, args, out):
    x, w, b = (args + [None])[:3]
    cout, kh, kw, cin = w.shape
    if cin != x.shape[3]:
        raise TinygenError(f"op {op.index} (CONV_2D): grouped convolution is not supported")
    win = _windows(x, op, out, kh, kw)
    y = np.tensordot(win, w.transpose(3, 1, 2, 0), axes=([3, 4, 5], [0, 1, 2]))
    return y if b is None else y + b


def _depthwise(op, args, out):
    x, w, b = (args + [None])[:3]
    _, kh, kw, cout = w.shape
    c = x.shape[3]
    win = _windows(x, op, out, kh, kw)
    y = np.einsum("bhwckl,klcm->bhwcm", win, w.reshape(kh, kw, c, cout // c), optimize=True)
    y = y.reshape(*y.shape[:3], cout)
    return y if b is None else y + b


def _fully_connected(op, args, out):
    x, w, b = (args + [None])[:3]
    y = x.reshape(-1, w.shape[1]) @ w.T
    y = y if b is None else y + b
    return y.reshape(x.shape[0], -1)


def _pool(op, args, out):
    x = args[0]
    kh, kw = op.options["filter_height"], op.options["filter_width"]
    if op.kind == "MAX_POOL_2D":
        return _windows(x, op, out, kh, kw, fill=-np.inf).max(axis=(4, 5))
    # The average counts only the taps inside the image, as TFLite does.
    total = _windows(x, op, out, kh, kw).sum(axis=(4, 5))
    count = _windows(np.ones_like(x[:1, ..., :1]), op, out, kh, kw).sum(axis=(4, 5))
    return total / count


def _mean(op, args, out):
    x, axes = args
    axes = tuple(sorted({int(a) % x.ndim for a in np.atleast_1d(axes)}))
    if 0 in axes:
        raise TinygenError(f"op {op.index} (MEAN) reduces over the batch axis")
    return x.mean(axis=axes, keepdims=bool(op.options.get("keep_dims")))


def _pad(op, args, out):
    x, paddings = args[:2]
    fill = float(args[2].reshape(-1)[0]) if len(args) > 2 and args[2] is not None else 0.0
    paddings = np.asarray(paddings).reshape(-1, 2)
    if paddings[0].any():
        raise TinygenError(f"op {op.index} ({op.kind}) pads the batch axis")
    return np.pad(x, [tuple(p) for p in paddings], constant_values=fill)


def _concatenation(op, args, out):
    axis = op.options["axis"] % args[0].ndim
    if axis == 0:
        raise TinygenError(f"op {op.index} (CONCATENATION) concatenates along the batch axis")
    batch = max(a.shape[0] for a in args)
    return np.concatenate([np.broadcast_to(a, (batch, *a.shape[1:])) for a in args], axis=axis)


def _softmax(op, args, out):
    z = args[0] * op.options.get("beta", 1.0)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _elementwise(fn: Callable) -> Callable:
    return lambda op, args, out: fn(*args)


OPS: dict[str, Callable[[Op, list, Tensor], np.ndarray]] = {
    "CONV_2D": _conv,
    "DEPTHWISE_CONV_2D": _depthwise,
    "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": _pool,
    "MAX_POOL_2D": _pool,
    "MEAN": _mean,
    "PAD": _pad,
    "PADV2": _pad,
    "CONCATENATION": _concatenation,
    "SOFTMAX": _softmax,
    "RESHAPE": lambda op, args, out: args[0],  # the caller gives it the output's shape
    "ADD": _elementwise(np.add),
    "MUL": _elementwise(np.multiply),
    "LOGISTIC": _elementwise(lambda x: 1 / (1 + np.exp(-x))),
    "TANH": _elementwise(np.tanh),
    "RELU": _elementwise(lambda x: np.maximum(x, 0)),
    "RELU6": _elementwise(lambda x: np.clip(x, 0, 6)),
    "QUANTIZE": _elementwise(lambda x: x),  # values are real numbers here; settle() rounds
    "DEQUANTIZE": _elementwise(lambda x: x),
}
