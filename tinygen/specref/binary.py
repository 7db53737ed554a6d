"""Element-wise ops on two inputs with numpy-style broadcasting: ADD, SUB, MUL, SQUARED_DIFFERENCE,
MAXIMUM, MINIMUM (DIV and PRELU are in divide.py).

ADD and SUB bring both inputs to a common scale first: each is shifted left (20 bits for int8, 15
for int16) and multiplied by its scale over twice the larger input scale, then the sum or difference
is multiplied by twice that scale over 2^shift times the output scale. All multipliers are derived in
double from the float32 scales; QuantizeMultiplierSmallerThanOneExp aborts unless each is below 1.
"""

from __future__ import annotations

import numpy as np

from .arith import INT32_MAX, activation_bounds, mbqm, quantize_multiplier, saturate, wrap32
from .registry import Node, kernel

MAX_RANK = 7  # tflite-micro's broadcasting computes wrong results from rank 8


def broadcast_inputs(node: Node, types: tuple[str, ...]):
    """The two inputs, checked: one type among `types`, shapes that broadcast to the output's."""
    a, b = node.inputs[0], node.inputs[1]
    node.require_types(types, a, b, node.output)
    if a.dtype != b.dtype:
        node.refuse(f"inputs of types {a.dtype} and {b.dtype} are not covered")
    check_broadcast(node, a, b)
    return a, b


def check_broadcast(node: Node, a, b) -> None:
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        node.refuse(f"shapes {a.shape} and {b.shape} do not broadcast")
    if shape != node.output.shape or len(shape) > MAX_RANK:
        node.refuse(f"shapes {a.shape} and {b.shape} to output {node.output.shape} are not covered (rank <= 7)")


def smaller_than_one(node: Node, real: float) -> tuple[int, int]:
    """QuantizeMultiplierSmallerThanOneExp, which aborts tflite-micro unless 0 < real < 1."""
    if not 0.0 < real < 1.0:
        node.fail(f"a rescale factor of {real:g} aborts tflite-micro (it must lie in (0, 1))")
    return quantize_multiplier(real)


def int32_bounds(activation: str) -> tuple[int, int]:
    """A fused activation on unquantized int32 values."""
    return {"NONE": (-(1 << 31), INT32_MAX), "RELU": (0, INT32_MAX), "RELU6": (0, 6), "RELU_N1_TO_1": (-1, 1)}[
        activation
    ]


def _common_scale(node: Node, a, b, left_shift: int, output_factor):
    """ADD, SUB, SQUARED_DIFFERENCE's rescaling: each input to twice the larger scale (in int32),
    and the output multiplier from output_factor(twice_max)."""
    (sa, za), (sb, zb) = node.quantized(a), node.quantized(b)
    twice_max = 2.0 * float(max(np.float32(sa), np.float32(sb)))
    ma, mb = smaller_than_one(node, sa / twice_max), smaller_than_one(node, sb / twice_max)

    def scaled(values):
        x, y = (np.asarray(v, np.int64) for v in values[:2])
        return mbqm((x - za) << left_shift, *ma), mbqm((y - zb) << left_shift, *mb)

    return scaled, output_factor(twice_max)


@kernel("ADD", "SUB")
def add_sub(node: Node):
    a, b = broadcast_inputs(node, ("int8", "int16", "int32"))
    y, activation = node.output, node.activation()
    sign = 1 if node.kind == "ADD" else -1
    if y.dtype == "int32":
        if a.quant or y.quant:
            node.fail("int32 tensors must not be quantized")
        low, high = int32_bounds(activation)
        return lambda values: [np.clip(wrap32(values[0].astype(np.int64) + sign * values[1]), low, high)]
    left_shift = 20 if y.dtype == "int8" else 15
    scale_out, zero_out = node.quantized(y)
    scaled, real = _common_scale(node, a, b, left_shift, lambda twice_max: twice_max / (2**left_shift * scale_out))
    out_multiplier = smaller_than_one(node, real)
    low, high = activation_bounds(activation, scale_out, zero_out, y.dtype)

    def run(values):
        x, z = scaled(values)
        return [np.clip(mbqm(wrap32(x + sign * z), *out_multiplier) + zero_out, low, high)]

    return run


@kernel("SQUARED_DIFFERENCE")
def squared_difference(node: Node):
    a, b = broadcast_inputs(node, ("int8", "int16", "int32"))
    y = node.output
    if y.dtype == "int32":
        return lambda values: [wrap32((values[0].astype(np.int64) - values[1]) ** 2)]
    left_shift = 7 if y.dtype == "int8" else 0
    scale_out, zero_out = node.quantized(y)
    if y.dtype == "int16" and (zero_out or node.quantized(a)[1] or node.quantized(b)[1]):
        node.fail("int16 zero points must be 0")
    power = float(np.float32(1 << (2 * left_shift)) * np.float32(scale_out))  # a float32 product in the reference
    scaled, real = _common_scale(node, a, b, left_shift, lambda twice_max: twice_max * twice_max / power)
    out_multiplier = quantize_multiplier(real)

    def run(values):
        x, z = scaled(values)
        difference = wrap32(x - z)
        return [saturate(mbqm(wrap32(difference * difference), *out_multiplier) + zero_out, y.dtype)]

    return run


@kernel("MUL")
def mul(node: Node):
    a, b = broadcast_inputs(node, ("int8", "int16"))
    y = node.output
    (sa, za), (sb, zb), (so, zo) = node.quantized(a), node.quantized(b), node.quantized(y)
    if y.dtype == "int16" and (za or zb or zo):
        node.fail("int16 zero points must be 0")
    multiplier = quantize_multiplier(float(sa) * float(sb) / float(so))
    low, high = activation_bounds(node.activation(), so, zo, y.dtype)

    def run(values):
        product = (values[0].astype(np.int64) - za) * (values[1].astype(np.int64) - zb)
        return [np.clip(mbqm(product, *multiplier) + zo, low, high)]

    return run


@kernel("MAXIMUM", "MINIMUM")
def maximum_minimum(node: Node):
    """Raw stored values compared, whatever their quantization: `a > b ? a : b` (a NaN first loses)."""
    broadcast_inputs(node, ("float32", "int8", "int16", "int32", "int64"))
    first_wins = np.greater if node.kind == "MAXIMUM" else np.less
    return lambda values: [np.where(first_wins(values[0], values[1]), values[0], values[1])]
