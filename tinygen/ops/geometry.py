"""Output sizes and padding of windowed ops (convolution, pooling), as TFLite defines them, and the
windows their float references compute over."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import TinygenError

INT32_MAX = 2**31 - 1


def output_size(padding: str, in_size: int, filter_size: int, stride: int, dilation: int = 1) -> int:
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        return (in_size + stride - 1) // stride
    return (in_size - effective + stride) // stride


def leading_padding(stride: int, dilation: int, in_size: int, filter_size: int, out_size: int) -> int:
    """Top/left padding: half the total, rounded down (the odd pixel goes bottom/right)."""
    effective = (filter_size - 1) * dilation + 1
    total = (out_size - 1) * stride + effective - in_size
    return max(total // 2, 0)


def window_padding(
    op,
    in_hw: tuple[int, int],
    filter_hw: tuple[int, int],
    out_hw: tuple[int, int],
    dilation_hw: tuple[int, int] = (1, 1),
) -> tuple[int, int]:
    """Check the model's output size against the op's options and return (pad_h, pad_w)."""
    o = op.options
    strides = (o["stride_h"], o["stride_w"])
    if min(*strides, *dilation_hw) < 1:
        raise TinygenError(f"op {op.index} ({op.kind}) has a stride or dilation below 1")
    pads = []
    for axis in range(2):
        expected = output_size(o["padding"], in_hw[axis], filter_hw[axis], strides[axis], dilation_hw[axis])
        if expected != out_hw[axis]:
            raise TinygenError(
                f"op {op.index} ({op.kind}) output size {out_hw} does not match its "
                f"padding {o['padding']}, strides and input size {in_hw}"
            )
        pads.append(leading_padding(strides[axis], dilation_hw[axis], in_hw[axis], filter_hw[axis], out_hw[axis]))
        # Every index the kernels compute along the axis (out * stride - pad + tap * dilation, and the
        # tap bounds) lies within the windows' span plus the input, the dilation and the filter.
        span = (out_hw[axis] - 1) * strides[axis] + (filter_hw[axis] - 1) * dilation_hw[axis] + 1
        if span + in_hw[axis] + dilation_hw[axis] + filter_hw[axis] > INT32_MAX:
            raise TinygenError(
                f"op {op.index} ({op.kind}): its windows (filter {filter_hw[axis]}, stride {strides[axis]}, "
                f"dilation {dilation_hw[axis]}) span {span:,} elements; the int32 index arithmetic overflows"
            )
    return pads[0], pads[1]


def float_windows(x, op, out_hw: tuple[int, int], filter_hw: tuple[int, int], fill: float = 0.0):
    """(B, OH, OW, C, kh, kw) views of the padded float input x under each output position:
    the float references of convolution and pooling."""
    o = op.options
    dh, dw = o.get("dilation_h_factor", 1), o.get("dilation_w_factor", 1)
    sh, sw = o["stride_h"], o["stride_w"]
    eh, ew = (filter_hw[0] - 1) * dh + 1, (filter_hw[1] - 1) * dw + 1
    oh, ow = out_hw
    ph, pw = _float_padding(x.shape[1], sh, eh, oh), _float_padding(x.shape[2], sw, ew, ow)
    x = np.pad(x, ((0, 0), ph, pw, (0, 0)), constant_values=fill)
    win = sliding_window_view(x, (eh, ew), axis=(1, 2))
    return win[:, ::sh, ::sw][:, :oh, :ow, :, ::dh, ::dw]


def _float_padding(size: int, stride: int, window: int, out: int) -> tuple[int, int]:
    """(before, after) zero padding so that `out` windows fit; TFLite puts the odd one after."""
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2
