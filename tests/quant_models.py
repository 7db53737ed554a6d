"""Small float32 graphs that together use every op the quantizer handles, and a tflite-micro runner."""

from __future__ import annotations

import numpy as np

from tinygen.builder import GraphBuilder
from tinygen.frontends.tflite_reader import parse_tflite
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.ir import Graph

WINDOW = {"dilation_w_factor": 1, "dilation_h_factor": 1}


class FloatBuilder(GraphBuilder):
    def __init__(self, seed: int) -> None:
        super().__init__("quantizer test")
        self.rng = np.random.default_rng(seed)

    def act(self, *shape: int) -> int:
        return self.tensor(shape, "float32")

    def weights(self, *shape: int, std: float = 0.3) -> int:
        return self.const(self.rng.normal(0, std, shape).astype(np.float32), "float32")

    def ints(self, values) -> int:
        return self.const(np.asarray(values, np.int32), "int32")


def conv_softmax(seed: int = 0) -> Graph:
    """conv (RELU6) -> depthwise (x2, stride 2, RELU) -> average pool -> reshape -> fully connected -> softmax."""
    b = FloatBuilder(seed)
    x, h1, h2, h3, h4, h5, y = (
        b.act(1, 8, 8, 3),
        b.act(1, 8, 8, 6),
        b.act(1, 4, 4, 12),
        b.act(1, 2, 2, 12),
        b.act(1, 48),
        b.act(1, 10),
        b.act(1, 10),
    )
    b.op(
        "CONV_2D",
        [x, b.weights(6, 3, 3, 3), b.weights(6, std=0.1)],
        [h1],
        padding="SAME",
        stride_w=1,
        stride_h=1,
        fused_activation_function="RELU6",
        **WINDOW,
    )
    b.op(
        "DEPTHWISE_CONV_2D",
        [h1, b.weights(1, 3, 3, 12), b.weights(12, std=0.1)],
        [h2],
        padding="SAME",
        stride_w=2,
        stride_h=2,
        depth_multiplier=2,
        fused_activation_function="RELU",
        **WINDOW,
    )
    b.op(
        "AVERAGE_POOL_2D",
        [h2],
        [h3],
        padding="VALID",
        stride_w=2,
        stride_h=2,
        filter_width=2,
        filter_height=2,
        fused_activation_function="NONE",
    )
    b.op("RESHAPE", [h3, b.ints([1, 48])], [h4])
    b.op(
        "FULLY_CONNECTED",
        [h4, b.weights(10, 48), b.weights(10, std=0.1)],
        [h5],
        fused_activation_function="NONE",
        keep_num_dims=False,
    )
    b.op("SOFTMAX", [h5], [y], beta=1.0)
    return _round_trip(b.build([x], [y]))


def pool_mean_logistic(seed: int = 1) -> Graph:
    """dilated conv -> max pool (SAME) -> pad -> mean -> fully connected (no bias) -> logistic;
    the depthwise conv has no bias, which the quantizer must add."""
    b = FloatBuilder(seed)
    x, h1, h2, h3, h4, h5, h6, y = (
        b.act(1, 10, 10, 2),
        b.act(1, 6, 6, 4),
        b.act(1, 6, 6, 4),
        b.act(1, 3, 3, 4),
        b.act(1, 5, 5, 4),
        b.act(1, 4),
        b.act(1, 3),
        b.act(1, 3),
    )
    b.op(
        "CONV_2D",
        [x, b.weights(4, 3, 3, 2)],
        [h1],
        padding="VALID",
        stride_w=1,
        stride_h=1,
        fused_activation_function="NONE",
        dilation_w_factor=2,
        dilation_h_factor=2,
    )
    b.op(
        "DEPTHWISE_CONV_2D",
        [h1, b.weights(1, 3, 3, 4)],
        [h2],
        padding="SAME",
        stride_w=1,
        stride_h=1,
        depth_multiplier=1,
        fused_activation_function="RELU_N1_TO_1",
        **WINDOW,
    )
    b.op(
        "MAX_POOL_2D",
        [h2],
        [h3],
        padding="SAME",
        stride_w=2,
        stride_h=2,
        filter_width=3,
        filter_height=3,
        fused_activation_function="NONE",
    )
    b.op("PAD", [h3, b.ints([[0, 0], [1, 1], [1, 1], [0, 0]])], [h4])
    b.op("MEAN", [h4, b.ints([1, 2])], [h5], keep_dims=False)
    b.op("FULLY_CONNECTED", [h5, b.weights(3, 4, std=2.0)], [h6], fused_activation_function="NONE", keep_num_dims=False)
    b.op("LOGISTIC", [h6], [y])
    return _round_trip(b.build([x], [y]))


def elementwise_tanh(seed: int = 2) -> Graph:
    """1x1 conv -> RELU and RELU6 branches -> concatenation -> PADV2 -> MUL and ADD by constants -> tanh."""
    b = FloatBuilder(seed)
    x, h1, h2, h3, h4, h5, h6, h7, y = (
        b.act(1, 4, 4, 3),
        b.act(1, 4, 4, 3),
        b.act(1, 4, 4, 3),
        b.act(1, 4, 4, 3),
        b.act(1, 4, 4, 6),
        b.act(1, 4, 6, 6),
        b.act(1, 4, 6, 6),
        b.act(1, 4, 6, 6),
        b.act(1, 4, 6, 6),
    )
    b.op(
        "CONV_2D",
        [x, b.weights(3, 1, 1, 3, std=3.0), b.weights(3)],
        [h1],
        padding="VALID",
        stride_w=1,
        stride_h=1,
        fused_activation_function="NONE",
        **WINDOW,
    )
    b.op("RELU", [h1], [h2])
    b.op("RELU6", [h1], [h3])
    b.op("CONCATENATION", [h2, h3], [h4], axis=3, fused_activation_function="NONE")
    b.op("PADV2", [h4, b.ints([[0, 0], [0, 0], [1, 1], [0, 0]]), b.const(np.float32([0.5]), "float32")], [h5])
    b.op("MUL", [h5, b.weights(1, 1, 1, 6, std=0.5)], [h6], fused_activation_function="NONE")
    b.op("ADD", [h6, b.weights(1, 1, 1, 6)], [h7], fused_activation_function="NONE")
    b.op("TANH", [h7], [y])
    return _round_trip(b.build([x], [y]))


GRAPHS = {"conv_softmax": conv_softmax, "pool_mean_logistic": pool_mean_logistic, "elementwise_tanh": elementwise_tanh}


def _round_trip(graph: Graph) -> Graph:
    return parse_tflite(write_tflite(graph))


def inputs_for(graph: Graph, count: int, seed: int = 0) -> np.ndarray:
    shape = graph.tensor(graph.inputs[0]).shape[1:]
    return np.random.default_rng(seed).normal(0, 1, (count, *shape)).astype(np.float32)


def run_tflm(tflite_bytes: bytes, graph: Graph, x: np.ndarray) -> np.ndarray:
    """Outputs of tflite-micro for each sample, in real numbers. (tinygen.reference.Reference
    takes int8 models; this also runs float ones.) Int8 inputs are quantized first."""
    from tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(tflite_bytes, arena_size=1 << 20)
    inp, out = graph.tensor(graph.inputs[0]), graph.tensor(graph.outputs[0])
    results = []
    for sample in x:
        sample = sample.reshape(inp.shape)
        if inp.dtype == "int8":
            sample = np.clip(np.round(sample / inp.scale) + inp.zero_point, -128, 127).astype(np.int8)
        interpreter.set_input(sample, 0)
        interpreter.invoke()
        y = np.array(interpreter.get_output(0))
        results.append((y.astype(np.float64) - out.zero_point) * out.scale if out.dtype == "int8" else y)
    return np.concatenate(results)
