"""RESIZE_BILINEAR (int8, in integers) and RESIZE_NEAREST_NEIGHBOR (any type, a copy), as
tflite-micro's reference loops compute each output pixel's sources."""

from __future__ import annotations

import numpy as np

from .arith import round_away_array, trunc_div
from .registry import Node, kernel


def _sizes(node: Node) -> tuple[tuple[int, int, int, int], int, int]:
    x = node.inputs[0]
    size = [int(s) for s in node.constant(1).reshape(-1)]
    if len(x.shape) != 4 or len(size) != 2 or min(size) < 1:
        node.refuse(f"a {len(x.shape)}-D input resized to {size} is not covered (4-D, two sizes of at least 1)")
    if node.output.shape != (x.shape[0], size[0], size[1], x.shape[3]):
        node.refuse(f"output shape {node.output.shape} is not the input resized to {size}")
    return x.shape, size[0], size[1]


def _bilinear_axis(node: Node, size_in: int, size_out: int, align: bool, half: bool):
    """Per output index: the two source indices and the weight of the second, in 1/1024 (C division)."""
    if align and size_out > 1:
        step = (1024 * (size_in - 1) + (size_out - 1) // 2) // (size_out - 1)
    else:
        step = (1024 * size_in + size_out // 2) // size_out
    positions = np.arange(size_out, dtype=np.int64) * step
    if half:
        positions = positions + step // 2 - 512
    low = np.maximum(trunc_div(positions, 1024), 0)
    high = np.minimum(trunc_div(positions + 1023, 1024), size_in - 1)
    if low.max() >= size_in:
        node.refuse("this size makes tflite-micro read past the input's last pixel")
    return low, high, positions - 1024 * low


@kernel("RESIZE_BILINEAR")
def resize_bilinear(node: Node):
    node.require_types(("int8",))
    align, half = node.option("align_corners", False), node.option("half_pixel_centers", False)
    if align and half:
        node.fail("align_corners and half_pixel_centers are both set")
    (_, h, w, _), out_h, out_w = _sizes(node)
    y0, y1, fy = _bilinear_axis(node, h, out_h, align, half)
    x0, x1, fx = _bilinear_axis(node, w, out_w, align, half)
    fy, fx = fy[:, None, None], fx[None, :, None]

    def run(values):
        x = values[0].astype(np.int64)
        total = (
            x[:, y0][:, :, x0] * (1024 - fy) * (1024 - fx)
            + x[:, y1][:, :, x0] * fy * (1024 - fx)
            + x[:, y0][:, :, x1] * (1024 - fy) * fx
            + x[:, y1][:, :, x1] * fy * fx
        )
        return [trunc_div(total + np.where(total > 0, 1 << 19, -(1 << 19)), 1 << 20)]

    return run


def _nearest_axis(size_in: int, size_out: int, align: bool, half: bool) -> np.ndarray:
    """Source indices, in float32 step by step as the reference computes them."""
    f32 = np.float32
    if align and size_out > 1:
        scale = f32(size_in - 1) / f32(size_out - 1)
    else:
        scale = f32(size_in) / f32(size_out)
    offset = f32(0.5 if half else 0.0)
    positions = (np.arange(size_out).astype(np.float32) + offset) * scale
    index = round_away_array(positions) if align else np.floor(positions)
    index = np.minimum(index.astype(np.int64), size_in - 1)
    return np.maximum(index, 0) if half else index


@kernel("RESIZE_NEAREST_NEIGHBOR")
def resize_nearest(node: Node):
    node.require_types(("float32", "int8", "int16"))
    align, half = node.option("align_corners", False), node.option("half_pixel_centers", False)
    (_, h, w, _), out_h, out_w = _sizes(node)
    rows, cols = _nearest_axis(h, out_h, align, half), _nearest_axis(w, out_w, align, half)
    return lambda values: [values[0][:, rows][:, :, cols]]
