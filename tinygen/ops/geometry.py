"""Output sizes and padding of windowed ops (convolution, pooling), as TFLite defines them."""
from __future__ import annotations

from ..errors import TinygenError


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


def window_padding(op, in_hw: tuple[int, int], filter_hw: tuple[int, int], out_hw: tuple[int, int],
                   dilation_hw: tuple[int, int] = (1, 1)) -> tuple[int, int]:
    """Check the model's output size against the op's options and return (pad_h, pad_w)."""
    o = op.options
    strides = (o["stride_h"], o["stride_w"])
    if min(*strides, *dilation_hw) < 1:
        raise TinygenError(f"op {op.index} ({op.kind}) has a stride or dilation below 1")
    pads = []
    for axis in range(2):
        expected = output_size(o["padding"], in_hw[axis], filter_hw[axis], strides[axis], dilation_hw[axis])
        if expected != out_hw[axis]:
            raise TinygenError(f"op {op.index} ({op.kind}) output size {out_hw} does not match its "
                               f"padding {o['padding']}, strides and input size {in_hw}")
        pads.append(leading_padding(strides[axis], dilation_hw[axis], in_hw[axis], filter_hw[axis], out_hw[axis]))
    return pads[0], pads[1]
