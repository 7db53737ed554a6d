"""TRANSPOSE_CONV, int8 and 16x8: every input pixel times every tap is added into the output pixel
it lands on (input position * stride - padding + tap); what lands outside the output is dropped."""

from __future__ import annotations

import numpy as np

from .conv import Requantize, same_padding
from .registry import Node, kernel


@kernel("TRANSPOSE_CONV")
def transpose_conv(node: Node):
    """Slots: output_shape (never read), weights [C_out, KH, KW, C_in], input, optional bias. The
    padding is the convolution's with the output size in place of the input size; int8 subtracts the
    input zero point, 16x8 ignores it (and the output's)."""
    w, x, y = node.inputs[1], node.inputs[2], node.output
    node.require_types(("int8", "int16"), x, y)
    node.require_types(("int8",), w)
    if x.dtype != y.dtype or len(x.shape) != 4 or len(w.shape) != 4 or len(y.shape) != 4 or not w.is_constant:
        node.refuse("only 4-D int8 or 16x8 transposed convolutions with constant weights are covered")
    out_c, kh, kw, in_c = w.shape
    if in_c != x.shape[3] or out_c != y.shape[3] or x.shape[0] != y.shape[0]:
        node.refuse(f"weights {w.shape} do not fit input {x.shape} and output {y.shape}")
    stride = (node.option("stride_h", 1), node.option("stride_w", 1))
    padding = node.option("padding", "SAME")
    pads = [same_padding(y.shape[1 + a], stride[a], 1, (kh, kw)[a], padding)[1] for a in range(2)]
    bias = node.input(3)
    if bias is not None and bias.dtype not in (("int64", "int16") if x.dtype == "int16" else ("int32",)):
        node.refuse(f"a {bias.dtype} bias is not covered (tflite-micro reads a 16x8 bias as int64 or int16)")
    if min(stride) < 1:
        node.refuse(f"strides {stride} are not covered")
    requantize = Requantize(node, x, w, y, out_c, 0, wide=x.dtype == "int16")
    zero_in = 0 if x.dtype == "int16" else node.quantized(x)[1]
    weights = w.data.astype(np.float64)
    n, h, width = x.shape[:3]
    _, oh, ow, _ = y.shape

    def landing(size_in: int, size_out: int, axis: int, tap: int):
        """Input indices whose products with this tap land inside the output, and where."""
        positions = np.arange(size_in) * stride[axis] - pads[axis] + tap
        inside = (positions >= 0) & (positions < size_out)
        return np.nonzero(inside)[0], positions[inside]

    def run(values):
        shifted = values[2].astype(np.float64) - zero_in
        sums = np.zeros((n, oh, ow, out_c), np.float64)
        for fy in range(kh):
            rows, out_rows = landing(h, oh, 0, fy)
            for fx in range(kw):
                cols, out_cols = landing(width, ow, 1, fx)
                products = shifted[:, rows][:, :, cols] @ weights[:, fy, fx, :].T
                sums[:, out_rows[:, None], out_cols[None, :]] += products
        bias_values = values[3] if len(values) > 3 else None
        if bias_values is not None and x.dtype == "int16":
            bias_values = bias_values.astype(np.int64)  # an int16 bias is widened to int64
        return [requantize(sums, bias_values)]

    return run
