"""The four MLPerf Tiny architectures, int8, with random weights and plausible quantization.

Layer shapes follow the MLPerf Tiny reference models (mlcommons/tiny, benchmark/training):
keyword spotting DS-CNN, visual wake words MobileNetV1-0.25, image classification
ResNet-8 and the anomaly detection autoencoder. Weights are random; each activation's
scale is set from a running estimate of its standard deviation, so values spread over
the int8 range instead of saturating. Used by tests, benchmarks and the quick start.
"""

from __future__ import annotations

import math

import numpy as np

from .builder import GraphBuilder
from .ir import Graph
from .ops.geometry import output_size


class Net:
    """Appends int8 layers to a GraphBuilder, tracking each activation's real-valued std."""

    def __init__(self, name: str, input_shape: tuple[int, ...], seed: int) -> None:
        self.g = GraphBuilder(description=f"tinygen zoo: {name} (random weights)")
        self.rng = np.random.default_rng(seed)
        self.std: dict[int, float] = {}
        self.input = self._activation(input_shape, std=1.0, relu=False)

    def _activation(self, shape, std: float, relu: bool) -> int:
        # ReLU outputs fill [0, 6 std]; others [-4 std, 4 std].
        if relu:
            scale, zero_point = 6 * std / 255, -128
        else:
            scale, zero_point = 8 * std / 255, int(self.rng.integers(-8, 9))
        t = self.g.tensor(shape, scale=scale, zero_point=zero_point)
        self.std[t] = std
        return t

    def _weights(self, shape, fan_in: int, axis: int) -> tuple[int, np.ndarray]:
        w = self.rng.normal(0, math.sqrt(2 / fan_in), shape)
        channels = shape[axis]
        moved = np.moveaxis(w, axis, 0).reshape(channels, -1)
        scales = np.maximum(np.abs(moved).max(axis=1), 1e-6) / 127
        q = np.clip(np.round(w / np.expand_dims(scales, tuple(a for a in range(len(shape)) if a != axis))), -127, 127)
        return self.g.const(q, "int8", scale=scales, zero_point=0, axis=axis), scales

    def _bias(self, channels: int, input_scale: float, weight_scales: np.ndarray) -> int:
        real = self.rng.normal(0, 0.1, channels)
        return self.g.const(
            np.round(real / (input_scale * weight_scales)), "int32", scale=input_scale * weight_scales, zero_point=0
        )

    def _scale(self, t: int) -> float:
        return self.g.tensors[t].quant.scale[0]

    def conv(
        self, x: int, filters: int, kernel: tuple[int, int], stride: int = 1, relu: bool = True, padding: str = "SAME"
    ) -> int:
        _, h, w, c = self.g.tensors[x].shape
        fan_in = kernel[0] * kernel[1] * c
        weights, scales = self._weights((filters, *kernel, c), fan_in, axis=0)
        out = (1, output_size(padding, h, kernel[0], stride), output_size(padding, w, kernel[1], stride), filters)
        y = self._activation(out, self.std[x] * (1.0 if relu else 1.4), relu)
        self.g.op(
            "CONV_2D",
            [x, weights, self._bias(filters, self._scale(x), scales)],
            [y],
            padding=padding,
            stride_h=stride,
            stride_w=stride,
            dilation_h_factor=1,
            dilation_w_factor=1,
            fused_activation_function="RELU" if relu else "NONE",
        )
        return y

    def depthwise(self, x: int, stride: int = 1) -> int:
        _, h, w, c = self.g.tensors[x].shape
        weights, scales = self._weights((1, 3, 3, c), 9, axis=3)
        out = (1, output_size("SAME", h, 3, stride), output_size("SAME", w, 3, stride), c)
        y = self._activation(out, self.std[x], relu=True)
        self.g.op(
            "DEPTHWISE_CONV_2D",
            [x, weights, self._bias(c, self._scale(x), scales)],
            [y],
            padding="SAME",
            stride_h=stride,
            stride_w=stride,
            depth_multiplier=1,
            dilation_h_factor=1,
            dilation_w_factor=1,
            fused_activation_function="RELU",
        )
        return y

    def dense(self, x: int, units: int, relu: bool) -> int:
        depth = self.g.tensors[x].shape[-1]
        weights, scales = self._weights((units, depth), depth, axis=0)
        y = self._activation((1, units), self.std[x] * (1.0 if relu else 1.4), relu)
        self.g.op(
            "FULLY_CONNECTED",
            [x, weights, self._bias(units, self._scale(x), scales)],
            [y],
            fused_activation_function="RELU" if relu else "NONE",
            keep_num_dims=False,
        )
        return y

    def add_relu(self, a: int, b: int) -> int:
        y = self._activation(self.g.tensors[a].shape, math.hypot(self.std[a], self.std[b]), relu=True)
        self.g.op("ADD", [a, b], [y], fused_activation_function="RELU")
        return y

    def global_average_pool(self, x: int) -> int:
        """Average over the whole feature map, then flatten: [1, h, w, c] -> [1, c]."""
        _, h, w, c = self.g.tensors[x].shape
        q = self.g.tensors[x].quant
        pooled = self.g.tensor((1, 1, 1, c), scale=q.scale[0], zero_point=q.zero_point[0])
        self.std[pooled] = self.std[x]
        self.g.op(
            "AVERAGE_POOL_2D",
            [x],
            [pooled],
            padding="VALID",
            stride_h=h,
            stride_w=w,
            filter_height=h,
            filter_width=w,
            fused_activation_function="NONE",
        )
        flat = self.g.tensor((1, c), scale=q.scale[0], zero_point=q.zero_point[0])
        self.std[flat] = self.std[x]
        self.g.op("RESHAPE", [pooled, self.g.const(np.array([1, c]), "int32")], [flat])
        return flat

    def softmax(self, x: int) -> int:
        y = self.g.tensor(self.g.tensors[x].shape, scale=1 / 256, zero_point=-128)
        self.g.op("SOFTMAX", [x], [y], beta=1.0)
        return y

    def build(self, output: int) -> Graph:
        return self.g.build([self.input], [output])


def ds_cnn(seed: int = 0) -> Graph:
    """Keyword spotting: DS-CNN on 49x10 MFCC features, 12 classes."""
    net = Net("DS-CNN keyword spotting", (1, 49, 10, 1), seed)
    x = net.conv(net.input, 64, (10, 4), stride=2)
    for _ in range(4):
        x = net.conv(net.depthwise(x), 64, (1, 1))
    return net.build(net.softmax(net.dense(net.global_average_pool(x), 12, relu=False)))


def mobilenet_v1_025(seed: int = 0) -> Graph:
    """Visual wake words: MobileNetV1 with width 0.25 on 96x96 RGB, 2 classes."""
    net = Net("MobileNetV1-0.25 visual wake words", (1, 96, 96, 3), seed)
    x = net.conv(net.input, 8, (3, 3), stride=2)
    blocks = [
        (1, 16),
        (2, 32),
        (1, 32),
        (2, 64),
        (1, 64),
        (2, 128),
        (1, 128),
        (1, 128),
        (1, 128),
        (1, 128),
        (1, 128),
        (2, 256),
        (1, 256),
    ]
    for stride, filters in blocks:
        x = net.conv(net.depthwise(x, stride), filters, (1, 1))
    return net.build(net.softmax(net.dense(net.global_average_pool(x), 2, relu=False)))


def resnet8(seed: int = 0) -> Graph:
    """Image classification: ResNet-8 on 32x32 RGB (CIFAR-10), 10 classes."""
    net = Net("ResNet-8 image classification", (1, 32, 32, 3), seed)
    x = net.conv(net.input, 16, (3, 3))
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = net.conv(x, filters, (3, 3), stride=stride)
        y = net.conv(y, filters, (3, 3), relu=False)
        shortcut = x if stride == 1 else net.conv(x, filters, (1, 1), stride=stride, relu=False)
        x = net.add_relu(y, shortcut)
    return net.build(net.softmax(net.dense(net.global_average_pool(x), 10, relu=False)))


def autoencoder(seed: int = 0) -> Graph:
    """Anomaly detection: the fully connected autoencoder on 640 log-mel features."""
    net = Net("FC autoencoder anomaly detection", (1, 640), seed)
    x = net.input
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = net.dense(x, units, relu=True)
    return net.build(net.dense(x, 640, relu=False))


MLPERF_TINY = {"ds_cnn": ds_cnn, "mobilenet_v1_025": mobilenet_v1_025, "resnet8": resnet8, "autoencoder": autoencoder}
