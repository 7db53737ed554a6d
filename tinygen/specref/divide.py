"""DIV (int32 and int8) and PRELU (int8 and int16 input, int8 alpha)."""

from __future__ import annotations

import numpy as np

from .arith import INT32_MIN, activation_bounds, mbqm, quantize_multiplier, rdbp, saturate, srdhm, trunc_div, wrap32
from .binary import broadcast_inputs, check_broadcast, int32_bounds
from .fixedpoint import count_leading_zeros, reciprocal
from .registry import Node, kernel


def leading_sign_bits(x: np.ndarray) -> np.ndarray:
    """CountLeadingSignBits of int32 values (31 for 0 and -1)."""
    x = np.asarray(x, np.int64)
    return count_leading_zeros(np.where(x < 0, ~x, x)) - 1


@kernel("DIV")
def div(node: Node):
    a, b = broadcast_inputs(node, ("int8", "int32"))
    y, activation = node.output, node.activation()
    if y.dtype == "int32":
        low, high = int32_bounds(activation)

        def divide(values):
            numerator, divisor = np.broadcast_arrays(values[0].astype(np.int64), values[1].astype(np.int64))
            if np.any(divisor == 0):
                node.fail("division by zero")
            if np.any((numerator == INT32_MIN) & (divisor == -1)):
                node.fail("INT32_MIN / -1 (the interpreter's process dies of SIGFPE)")
            return [np.clip(trunc_div(numerator, divisor), low, high)]

        return divide
    (sa, za), (sb, zb), (so, zo) = node.quantized(a), node.quantized(b), node.quantized(y)
    multiplier, shift = quantize_multiplier(float(sa) / (float(sb) * float(so)))
    low, high = activation_bounds(activation, so, zo, "int8")

    def run(values):
        numerator, divisor = np.broadcast_arrays(values[0].astype(np.int64) - za, values[1].astype(np.int64) - zb)
        numerator, divisor = np.where(divisor < 0, -numerator, numerator), np.abs(divisor)
        inverse, recip_shift = reciprocal(divisor, 31)
        headroom = leading_sign_bits(numerator)
        quotient = srdhm(wrap32(numerator << headroom), inverse)
        result = rdbp(srdhm(quotient, multiplier), recip_shift + headroom - shift)
        return [np.clip(result + zo, low, high)]

    return run


@kernel("PRELU")
def prelu(node: Node):
    """v = x - z_in; v >= 0: v rescaled by s_in / s_out; else v (alpha - z_alpha) rescaled by
    s_in s_alpha / s_out. alpha's first scale and zero point serve every channel."""
    x, alpha, y = node.inputs[0], node.inputs[1], node.output
    node.require_types(("int8", "int16"), x, y)
    node.require_types(("int8",), alpha)
    check_broadcast(node, x, alpha)
    (sx, zx), (sa, za), (so, zo) = node.quantized(x), node.quantized(alpha), node.quantized(y)
    positive = quantize_multiplier(float(sx) / float(so))
    negative = quantize_multiplier(float(sx) * float(sa) / float(so))

    def run(values):
        v = values[0].astype(np.int64) - zx
        scaled = np.where(v >= 0, mbqm(v, *positive), mbqm(wrap32(v * (values[1].astype(np.int64) - za)), *negative))
        return [saturate(scaled + zo, y.dtype)]

    return run
