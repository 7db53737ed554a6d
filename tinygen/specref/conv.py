"""CONV_2D and DEPTHWISE_CONV_2D, int8 and 16x8 (int16 activations, int8 weights).

Each output is the sum over the window's taps inside the image (padding taps are skipped, so they
add 0, not the zero point) of weight times input. int8 subtracts the input zero point first and ignores
the weights' zero point; 16x8 ignores every zero point. The sum gets the bias and is requantized per
output channel by s_in * s_w[c] / s_out (in double). The sums are computed as float64 matrix products:
every partial sum is an integer far below 2^53, so they are exact in any order.
"""

from __future__ import annotations

import numpy as np
import tflite

from .arith import activation_bounds, mbqm, mbqm64, quantize_multiplier, wrap32
from .registry import Node, kernel

INT32_CODE = tflite.TensorType.INT32  # quantized_bias_type is read as the schema's type code


def same_padding(size: int, stride: int, dilation: int, kernel_size: int, padding: str) -> tuple[int, int]:
    """(output size, top/left padding) as ComputePaddingHeightWidth gives them."""
    effective = (kernel_size - 1) * dilation + 1
    out = (size + stride - 1) // stride if padding == "SAME" else (size + stride - effective) // stride
    return out, max((out - 1) * stride + effective - size, 0) // 2


def channel_multipliers(node: Node, x, w, y, channels: int, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Per output channel (M, shift) for s_in * s_w[c] / s_out, in double; one weight scale serves all."""
    if w.quant is None or len(w.quant.scale) not in (1, channels):
        node.fail(f"the weights need 1 or {channels} scales")
    if w.quant.per_channel and w.quant.axis != axis:
        node.refuse(f"weights quantized along axis {w.quant.axis} are not covered (axis {axis})")
    scales = w.quant.scale if len(w.quant.scale) == channels else w.quant.scale * channels
    s_in, s_out = node.quantized(x)[0], node.quantized(y)[0]
    pairs = [quantize_multiplier(float(s_in) * float(s) / float(s_out)) for s in scales]
    return np.array([p[0] for p in pairs], np.int64), np.array([p[1] for p in pairs], np.int64)


def windows(x: np.ndarray, kh: int, kw: int, stride: tuple[int, int], dilation: tuple[int, int], pads, out_hw):
    """[N, OH, OW, KH, KW, C] views of the zero-padded input: the taps of each output pixel."""
    (pt, pl), (oh, ow), (sh, sw), (dh, dw) = pads, out_hw, stride, dilation
    n, h, w, c = x.shape
    need_h, need_w = (oh - 1) * sh + (kh - 1) * dh + 1, (ow - 1) * sw + (kw - 1) * dw + 1
    padded = np.zeros((n, max(need_h, pt + h), max(need_w, pl + w), c), x.dtype)
    padded[:, pt : pt + h, pl : pl + w] = x
    padded = padded[:, :need_h, :need_w]
    view = np.lib.stride_tricks.sliding_window_view(padded, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(1, 2))
    return view[:, ::sh, ::sw, :, ::dh, ::dw].transpose(0, 1, 2, 4, 5, 3)


class Requantize:
    """The end of every convolution: bias, requantization per channel, zero point, activation clamp.
    Sums kept in int64 (`wide`) are requantized with the int64 MBQM, int32 ones with the int32 one."""

    def __init__(self, node: Node, x, w, y, channels: int, axis: int, wide: bool):
        self.multipliers, self.shifts = channel_multipliers(node, x, w, y, channels, axis)
        self.low, self.high = activation_bounds(node.activation(), *node.quantized(y), y.dtype)
        self.zero_out = 0 if x.dtype == "int16" else node.quantized(y)[1]
        self.wide = wide

    def __call__(self, sums: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
        total = sums.astype(np.int64) + (0 if bias is None else bias.astype(np.int64))
        if self.wide:
            scaled = mbqm64(total, self.multipliers, self.shifts)
        else:
            scaled = mbqm(wrap32(total), self.multipliers, self.shifts)
        return np.clip(scaled + self.zero_out, self.low, self.high)


def _conv_checks(node: Node):
    x, w, y = node.inputs[0], node.inputs[1], node.output
    node.require_types(("int8", "int16"), x, y)
    node.require_types(("int8",), w)
    if x.dtype != y.dtype or len(x.shape) != 4 or len(w.shape) != 4 or len(y.shape) != 4:
        node.refuse("only 4-D int8 or 16x8 convolutions are covered")
    if not w.is_constant:
        node.refuse("computed weights are not covered")
    stride = (node.option("stride_h", 1), node.option("stride_w", 1))
    dilation = (node.option("dilation_h_factor", 1), node.option("dilation_w_factor", 1))
    if min(*stride, *dilation) < 1:
        node.refuse(f"strides {stride} and dilations {dilation} are not covered")
    padding = node.option("padding", "SAME")
    _, kh, kw, _ = w.shape
    pads = tuple(same_padding(x.shape[1 + a], stride[a], dilation[a], (kh, kw)[a], padding)[1] for a in range(2))
    return x, w, y, stride, dilation, pads


def sums_in_int64(node: Node, x, bias) -> bool:
    """16x8 CONV_2D and FULLY_CONNECTED sum in int64 with an int64 bias, in int32 with an int32 one,
    and without a bias as the options' quantized_bias_type says (int64 unless it names int32)."""
    if bias is not None and bias.dtype not in (("int32", "int64") if x.dtype == "int16" else ("int32",)):
        node.fail(f"a {bias.dtype} bias is not supported")
    if x.dtype != "int16":
        return False
    return bias.dtype == "int64" if bias is not None else node.option("quantized_bias_type") != INT32_CODE


def _input_offset(node: Node, x) -> int:
    return 0 if x.dtype == "int16" else node.quantized(x)[1]


@kernel("CONV_2D")
def conv_2d(node: Node):
    x, w, y, stride, dilation, pads = _conv_checks(node)
    out_c, kh, kw, group_depth = w.shape
    if x.shape[3] % group_depth or out_c % (x.shape[3] // group_depth):
        node.fail(f"{x.shape[3]} input channels do not split into groups of {group_depth}")
    groups = x.shape[3] // group_depth
    requantize = Requantize(node, x, w, y, out_c, 0, sums_in_int64(node, x, node.input(2)))
    zero_in = _input_offset(node, x)
    # Per group, a [taps x group depth, group outputs] matrix: each output pixel is one matrix product.
    weights = [part.reshape(out_c // groups, -1).T for part in np.split(w.data.astype(np.float64), groups)]

    def run(values):
        shifted = values[0].astype(np.float64) - zero_in
        taps = windows(shifted, kh, kw, stride, dilation, pads, y.shape[1:3])
        n, oh, ow = taps.shape[:3]
        sums = [
            taps[..., g * group_depth : (g + 1) * group_depth].reshape(n * oh * ow, -1) @ weights[g]
            for g in range(groups)
        ]
        bias = values[2] if len(values) > 2 else None
        return [requantize(np.concatenate(sums, axis=1).reshape(n, oh, ow, out_c), bias)]

    return run


@kernel("DEPTHWISE_CONV_2D")
def depthwise_conv_2d(node: Node):
    """Output channel ic * multiplier + m reads input channel ic; weights [1, KH, KW, C_out] quantized
    along axis 3. 16x8 always sums in int64 (tflite-micro reads the bias as int64)."""
    x, w, y, stride, dilation, pads = _conv_checks(node)
    _, kh, kw, out_c = w.shape
    multiplier = out_c // x.shape[3]
    if out_c != x.shape[3] * multiplier:
        node.refuse(f"{out_c} output channels from {x.shape[3]} input channels are not covered")
    bias = node.input(2)
    if bias is not None and bias.dtype != ("int64" if x.dtype == "int16" else "int32"):
        node.refuse(f"a {bias.dtype} bias is not covered (tflite-micro reads int32 for int8, int64 for 16x8)")
    requantize = Requantize(node, x, w, y, out_c, 3, wide=x.dtype == "int16")
    zero_in = _input_offset(node, x)
    weights = w.data.astype(np.float64).reshape(kh, kw, out_c)

    def run(values):
        shifted = values[0].astype(np.float64) - zero_in
        if multiplier > 1:
            shifted = np.repeat(shifted, multiplier, axis=-1)
        taps = windows(shifted, kh, kw, stride, dilation, pads, y.shape[1:3])
        sums = sum(taps[:, :, :, i, j, :] * weights[i, j] for i in range(kh) for j in range(kw))
        return [requantize(sums, values[2] if len(values) > 2 else None)]

    return run
