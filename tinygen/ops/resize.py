"""RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR -> tg_resize_bilinear_s8, tg_resize_nearest.

Where each output row and column reads from depends only on the sizes and the options, so
it is computed here, exactly as tflite-micro computes it per pixel (bilinear: integers in
units of 1/1024 pixel; nearest: float32), and handed to the kernel as const tables of byte
or element offsets. The kernels only gather (nearest) or blend four pixels (bilinear).

Neither op rescales: tflite-micro interpolates the raw stored values, so the input and the
output must share their quantization for the result to mean anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, tensor_args
from ..ir import NUMPY_DTYPES, Graph, Op, Tensor
from .checks import int8_io, require
from .record import ACTIVATION, PARAM, OpDef, Options, Quantization

# Bilinear int8 positions and weights are fixed point with 10 fractional bits.
FRACTION_BITS = 10
ONE = 1 << FRACTION_BITS
INT32_MAX = 2**31 - 1
# tflite-micro's nearest neighbor moves the bytes of these types (float32 as int32).
NEAREST_DTYPES = ("int8", "int16", "float32")


@dataclass(frozen=True)
class ResizeBilinearParams:
    C_TYPE = "tg_resize_bilinear_params"
    C_FILE = "tg_resize.c"
    batches: int
    input_image: int  # elements per input image (height x width x depth)
    output_height: int
    output_width: int
    depth: int


@dataclass(frozen=True)
class ResizeNearestParams:
    C_TYPE = "tg_resize_nearest_params"
    C_FILE = "tg_resize.c"
    batches: int
    input_image: int  # bytes per input image
    output_height: int
    output_width: int
    pixel: int  # bytes per pixel (depth x element size)


def _c_div(a: int, b: int) -> int:
    """C's integer division: truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def bilinear_scale(input_size: int, output_size: int, align_corners: bool) -> int:
    """tflite-micro's int8 step between output pixels, in input pixels x 1024, rounded."""
    if align_corners and output_size > 1:
        input_size, output_size = input_size - 1, output_size - 1
    return (ONE * input_size + output_size // 2) // output_size


def bilinear_taps(op: Op, input_size: int, output_size: int, align_corners: bool, half_pixel: bool) -> np.ndarray:
    """Per output index along one axis: (lower input index, upper input index, weight of the
    upper one in 1/1024), as tflite-micro's integer path computes them."""
    scale = bilinear_scale(input_size, output_size, align_corners)
    require(
        max(ONE * input_size + output_size, output_size * scale + ONE) <= INT32_MAX,
        op,
        f"resizing {input_size} to {output_size} overflows tflite-micro's int32 positions",
    )
    taps = []
    for i in range(output_size):
        position = i * scale + (scale // 2 - ONE // 2 if half_pixel else 0)
        lower = max(_c_div(position, ONE), 0)
        upper = min(_c_div(position + ONE - 1, ONE), input_size - 1)
        # Rounding the step can carry the last positions past the input; tflite-micro would read outside it.
        require(
            lower < input_size,
            op,
            f"resizing {input_size} to {output_size} makes tflite-micro read past the input's last pixel",
        )
        taps.append((lower, upper, position - ONE * lower))
    return np.array(taps, dtype=np.int64).reshape(output_size, 3)


def nearest_indices(input_size: int, output_size: int, align_corners: bool, half_pixel: bool) -> np.ndarray:
    """The input index of each output index along one axis, in float32 as tflite-micro computes it."""
    if align_corners and output_size > 1:
        scale = np.float32(input_size - 1) / np.float32(output_size - 1)
    else:
        scale = np.float32(input_size) / np.float32(output_size)
    offset = np.float32(0.5 if half_pixel else 0.0)
    indices = []
    for i in range(output_size):
        position = (np.float32(i) + offset) * scale
        # align_corners rounds half away from zero (std::round); otherwise floor.
        index = math.floor(float(position) + 0.5) if align_corners else math.floor(position)
        index = min(index, input_size - 1)
        indices.append(max(index, 0) if half_pixel else index)
    return np.array(indices, dtype=np.int64)


def _sizes(op: Op, graph: Graph) -> tuple[Tensor, int, int]:
    """The input and the constant output size, with tflite-micro's Prepare checks."""
    x, y = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    size = graph.tensor(op.inputs[1])
    require(len(x.shape) == 4, op, f"input must be 4-D NHWC, not {x.shape}")
    require(
        size.dtype == "int32" and size.shape == (2,) and size.is_constant,
        op,
        "size must be a constant int32 vector of 2 (height, width)",
    )
    height, width = (int(v) for v in size.data)
    require(height >= 1 and width >= 1, op, f"output size {height}x{width} must be at least 1x1")
    require(min(x.shape) >= 1, op, f"input {x.shape} is empty")
    expected = (x.shape[0], height, width, x.shape[3])
    require(tuple(y.shape) == expected, op, f"output shape {y.shape} is not {expected} (input {x.shape}, size)")
    require(x.dtype == y.dtype, op, f"input is {x.dtype} but output is {y.dtype}")
    require(
        x.quant == y.quant,
        op,
        "input and output quantization must match; resizing does not rescale",
    )
    return x, height, width


def _flags(op: Op) -> tuple[bool, bool]:
    return bool(op.options.get("align_corners", False)), bool(op.options.get("half_pixel_centers", False))


def lower_resize_bilinear(op: Op, graph: Graph) -> Layer:
    int8_io(op, graph)  # tflite-micro interpolates int8 (and float32, which tinygen does not compile)
    x, height, width = _sizes(op, graph)
    align_corners, half_pixel = _flags(op)
    require(
        not (align_corners and half_pixel),
        op,
        "align_corners and half_pixel_centers cannot both be set (tflite-micro refuses it)",
    )
    batches, in_h, in_w, depth = x.shape
    rows = bilinear_taps(op, in_h, height, align_corners, half_pixel)
    cols = bilinear_taps(op, in_w, width, align_corners, half_pixel)
    # Element offsets of the two taps, and the upper tap's weight.
    rows[:, :2] *= in_w * depth
    cols[:, :2] *= depth
    params = ResizeBilinearParams(
        batches=batches, input_image=in_h * in_w * depth, output_height=height, output_width=width, depth=depth
    )
    args = (Arg("const", "rows"), Arg("const", "cols"), *tensor_args(op.inputs[0], op.outputs[0]))
    consts = {"rows": rows.astype(np.int32).reshape(-1), "cols": cols.astype(np.int32).reshape(-1)}
    return Layer(op, "tg_resize_bilinear_s8", params, args, consts)


def lower_resize_nearest(op: Op, graph: Graph) -> Layer:
    x, height, width = _sizes(op, graph)
    require(
        x.dtype in NEAREST_DTYPES,
        op,
        f"tensor {x.name} is {x.dtype}; tflite-micro resizes {', '.join(NEAREST_DTYPES)} only",
    )
    align_corners, half_pixel = _flags(op)
    batches, in_h, in_w, depth = x.shape
    pixel = depth * np.dtype(NUMPY_DTYPES[x.dtype]).itemsize
    rows = nearest_indices(in_h, height, align_corners, half_pixel) * in_w * pixel
    cols = nearest_indices(in_w, width, align_corners, half_pixel) * pixel
    params = ResizeNearestParams(
        batches=batches, input_image=in_h * in_w * pixel, output_height=height, output_width=width, pixel=pixel
    )
    args = (Arg("const", "rows"), Arg("const", "cols"), *tensor_args(op.inputs[0], op.outputs[0]))
    consts = {"rows": rows.astype(np.int32), "cols": cols.astype(np.int32)}
    return Layer(op, "tg_resize_nearest", params, args, consts)


def _gather(op: Op, x: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest neighbor on a batch-first NHWC array."""
    align_corners, half_pixel = _flags(op)
    rows = nearest_indices(x.shape[1], height, align_corners, half_pixel)
    cols = nearest_indices(x.shape[2], width, align_corners, half_pixel)
    return x[:, rows][:, :, cols]


def _blend(op: Op, x: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear int8 on a batch-first NHWC array, as the kernel computes it."""
    align_corners, half_pixel = _flags(op)
    rows = bilinear_taps(op, x.shape[1], height, align_corners, half_pixel)
    cols = bilinear_taps(op, x.shape[2], width, align_corners, half_pixel)
    v = x.astype(np.int64)
    fy, fx = rows[:, 2][None, :, None, None], cols[:, 2][None, None, :, None]

    def tap(row: int, col: int) -> np.ndarray:
        return v[:, rows[:, row]][:, :, cols[:, col]]

    total = (
        tap(0, 0) * (ONE - fy) * (ONE - fx)
        + tap(1, 0) * fy * (ONE - fx)
        + tap(0, 1) * (ONE - fy) * fx
        + tap(1, 1) * fy * fx
    )
    rounded = total + np.where(total > 0, ONE * ONE // 2, -ONE * ONE // 2)
    return np.sign(rounded) * (np.abs(rounded) // (ONE * ONE))  # C division truncates


def _constant_image(inputs: list[Tensor | None], dtypes: tuple[str, ...]) -> tuple[np.ndarray, int, int] | None:
    """(image, height, width) when a fold can run: a constant image of one of `dtypes` and a
    valid constant size. None otherwise, and lowering checks the op (refusing what is wrong)."""
    x, size = inputs[:2]
    if x is None or size is None or not (x.is_constant and size.is_constant):
        return None
    if x.dtype not in dtypes or len(x.shape) != 4 or size.dtype != "int32" or size.shape != (2,):
        return None
    height, width = (int(v) for v in size.data)
    return (x.data, height, width) if min(height, width) >= 1 else None


def bilinear_fold(op: Op, inputs: list[Tensor | None]) -> list[np.ndarray] | None:
    found = _constant_image(inputs, ("int8",))
    return None if found is None or all(_flags(op)) else [_blend(op, *found)]


def nearest_fold(op: Op, inputs: list[Tensor | None]) -> list[np.ndarray] | None:
    found = _constant_image(inputs, NEAREST_DTYPES)
    return None if found is None else [_gather(op, *found)]


def _output_size(args: list) -> tuple[int, int]:
    height, width = (int(v) for v in np.asarray(args[1]).reshape(-1))
    return height, width


def bilinear_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    """tflite-micro's float path: float32 positions, weights and sums, in its order."""
    x = np.asarray(args[0], dtype=np.float32)
    height, width = _output_size(args)
    align_corners, half_pixel = _flags(op)

    def axis(input_size: int, output_size: int):
        scale = np.float32(input_size) / np.float32(output_size)
        if align_corners and output_size > 1:
            scale = np.float32(input_size - 1) / np.float32(output_size - 1)
        i = np.arange(output_size, dtype=np.float32)
        position = (i + np.float32(0.5)) * scale - np.float32(0.5) if half_pixel else i * scale
        lower = np.maximum(np.floor(position), 0).astype(np.int64)
        upper = np.minimum(np.ceil(position), input_size - 1).astype(np.int64)
        return lower, upper, (position - lower.astype(np.float32)).astype(np.float32)

    y0, y1, dy = axis(x.shape[1], height)
    x0, x1, dx = axis(x.shape[2], width)
    dy, dx = dy[None, :, None, None], dx[None, None, :, None]
    one = np.float32(1)

    def tap(rows, cols):
        return x[:, rows][:, :, cols]

    return (
        tap(y0, x0) * (one - dy) * (one - dx)
        + tap(y1, x0) * dy * (one - dx)
        + tap(y0, x1) * (one - dy) * dx
        + tap(y1, x1) * dy * dx
    )


def nearest_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    x = np.asarray(args[0])
    height, width = _output_size(args)
    return _gather(op, x, height, width)


def resize_macs(op: Op, graph: Graph) -> int:
    """Four multiply-adds per output value."""
    return 4 * graph.tensor(op.outputs[0]).size


OPTIONS = ("align_corners", "half_pixel_centers")

OPS = (
    OpDef(
        "RESIZE_BILINEAR",
        lower_resize_bilinear,
        notes="int8, constant size, align_corners or half_pixel_centers",
        slots=(ACTIVATION, PARAM),
        options=Options("ResizeBilinearOptions", OPTIONS),
        macs=resize_macs,
        float_reference=bilinear_float,
        quantization=Quantization(shared="first"),
        fold=bilinear_fold,
    ),
    OpDef(
        "RESIZE_NEAREST_NEIGHBOR",
        lower_resize_nearest,
        notes="int8, int16 and float32, constant size, align_corners and half_pixel_centers",
        slots=(ACTIVATION, PARAM),
        options=Options("ResizeNearestNeighborOptions", OPTIONS),
        float_reference=nearest_float,
        quantization=Quantization(shared="first"),
        fold=nearest_fold,
    ),
)
