"""TRANSPOSE_CONV -> tg_transpose_conv_s8 (int8) and tg_transpose_conv_s16 (16x8: int16 activations, int8 weights).

tflite-micro scatters every input pixel into an int32 (int64 for 16x8) buffer the size of the
output, then requantizes it. The kernels here gather instead: each output element sums the same
products (the taps whose input pixel lands on it), so the wrapped sum is the same and no scratch
buffer is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, tensor_args
from ..ir import ACTIVATIONS, Graph, Op, Tensor
from ..quantmath import INT8_MAX, INT8_MIN, activation_range
from .checks import channel_multipliers, check_bias, check_weights, refuse_float, require
from .cstruct import Dims
from .geometry import leading_padding, output_size
from .record import ACTIVATION, BIAS, PARAM, WEIGHTS, OpDef, Options, Quantization

# Input slots, as tflite-micro numbers them.
OUTPUT_SHAPE, FILTER, INPUT, BIAS_SLOT = range(4)
INT16_MIN, INT16_MAX = -32768, 32767
# The 64-bit requantization of the 16x8 kernel takes shifts in [-31, 7] (tflite-micro's
# MultiplyByQuantizedMultiplier for int64 DCHECKs that range).
MAX_S16_SHIFT = 7


@dataclass(frozen=True)
class TransposeConvParams:
    C_TYPE = "tg_transpose_conv_params"
    C_FILE = "tg_transpose_conv.c"
    input: Dims
    filter: Dims  # n = output channels, c = input channels
    output: Dims
    stride_h: int
    stride_w: int
    pad_h: int  # top/left padding of the output
    pad_w: int
    input_offset: int  # 0 for 16x8
    output_offset: int
    act_min: int
    act_max: int


def transpose_padding(padding: str, out_size: int, filter_size: int, stride: int) -> int:
    """tflite-micro's padding: ComputePaddingHeightWidth with the output size where a convolution
    has its input size (VALID always gives 0)."""
    return leading_padding(stride, 1, out_size, filter_size, output_size(padding, out_size, filter_size, stride))


def _check_output_shape(op: Op, graph: Graph, y: Tensor) -> None:
    # tflite-micro never reads output_shape (the output tensor's own shape rules), so it may be
    # computed, or a model input. A constant that disagrees makes the model inconsistent: TFLite
    # would run it at the other shape.
    shape = graph.tensor(op.inputs[OUTPUT_SHAPE])
    require(shape.dtype == "int32" and shape.size == 4, op, "output_shape must be an int32 vector of 4")
    if shape.is_constant:
        values = [int(v) for v in shape.data.reshape(-1)]
        message = f"output_shape {values} disagrees with the output tensor's shape {list(y.shape)}"
        require(tuple(values) == y.shape, op, message)


def _activations(op: Op, graph: Graph) -> tuple[Tensor, Tensor]:
    """The input and output: int8, or int16 with zero points 0 (the 16x8 kernel ignores them)."""
    x, y = graph.tensor(op.inputs[INPUT]), graph.tensor(op.outputs[0])
    for t in (x, y):
        refuse_float(op, t)
        require(t.dtype in ("int8", "int16"), op, f"tensor {t.name} is {t.dtype}; only int8 and int16 are supported")
        require(t.quant is not None and not t.quant.per_channel, op, f"tensor {t.name} needs per-tensor quantization")
    require(x.dtype == y.dtype, op, f"input is {x.dtype} but output is {y.dtype}")
    if x.dtype == "int16":
        require(
            x.zero_point == 0 and y.zero_point == 0,
            op,
            "int16 input and output need zero point 0 (tflite-micro's 16x8 kernel ignores it)",
        )
    return x, y


def _check_bias16(op: Op, bias: Tensor | None, channels: int) -> None:
    # tflite-micro reads a 16x8 bias as int64, widening an int16 one first; an int32 one it misreads.
    if bias is not None:
        require(
            bias.dtype in ("int64", "int16") and bias.is_constant and bias.size == channels,
            op,
            f"a 16x8 bias must be a constant int64 (or int16) vector of {channels}",
        )


def lower_transpose_conv(op: Op, graph: Graph) -> Layer:
    x, y = _activations(op, graph)
    weights = graph.tensor(op.inputs[FILTER])
    bias_index = op.inputs[BIAS_SLOT] if len(op.inputs) > BIAS_SLOT else -1
    bias = graph.tensor(bias_index) if bias_index >= 0 else None
    require(len(x.shape) == 4 and len(y.shape) == 4 and len(weights.shape) == 4, op, "expects 4-D NHWC tensors")
    require(min(*x.shape, *y.shape, *weights.shape) > 0, op, "has an empty tensor")
    _check_output_shape(op, graph, y)
    out_c, f_h, f_w, f_c = weights.shape
    require(f_c == x.shape[3], op, f"weights have {f_c} input channels, the input {x.shape[3]}")
    require(out_c == y.shape[3], op, f"weights have {out_c} output channels, the output {y.shape[3]}")
    require(x.shape[0] == y.shape[0], op, "input and output batch sizes differ")
    check_weights(op, weights, out_c, axis=0)
    require(all(z == 0 for z in weights.quant.zero_point), op, "weights need zero point 0 (tflite-micro ignores it)")
    o = op.options
    stride_h, stride_w = o["stride_h"], o["stride_w"]
    require(min(stride_h, stride_w) >= 1, op, "has a stride below 1")
    activation = o.get("fused_activation_function", "NONE")
    require(activation in ACTIVATIONS, op, f"fused activation {activation} is not supported")
    wide = x.dtype == "int16"
    qmin, qmax = (INT16_MIN, INT16_MAX) if wide else (INT8_MIN, INT8_MAX)
    act_min, act_max = activation_range(activation, y.scale, y.zero_point, qmin, qmax)
    multiplier, shift = channel_multipliers(x.scale, weights, y.scale, out_c)
    params = TransposeConvParams(
        input=Dims.of(x.shape),
        filter=Dims.of(weights.shape),
        output=Dims.of(y.shape),
        stride_h=stride_h,
        stride_w=stride_w,
        pad_h=transpose_padding(o["padding"], y.shape[1], f_h, stride_h),
        pad_w=transpose_padding(o["padding"], y.shape[2], f_w, stride_w),
        input_offset=-x.zero_point,
        output_offset=y.zero_point,
        act_min=act_min,
        act_max=act_max,
    )
    consts = {"multiplier": multiplier, "shift": shift}
    if wide:
        _check_bias16(op, bias, out_c)
        require(int(shift.max()) <= MAX_S16_SHIFT, op, "input scale x weight scale / output scale is too large")
        if bias is not None:  # the kernel takes int64; an int16 bias is widened here, as tflite-micro does
            consts = {"bias": bias.data.astype(np.int64).reshape(-1), **consts}
        bias_arg = (Arg("const", "bias") if bias is not None else Arg("null"),)
    else:
        check_bias(op, bias, out_c)
        bias_arg = tensor_args(bias_index)
    args = (
        *tensor_args(op.inputs[INPUT], op.inputs[FILTER]),
        *bias_arg,
        Arg("const", "multiplier"),
        Arg("const", "shift"),
        *tensor_args(op.outputs[0]),
    )
    kernel = "tg_transpose_conv_s16" if wide else "tg_transpose_conv_s8"
    return Layer(op, kernel, params, args, consts)


def transpose_conv_macs(op: Op, graph: Graph) -> int:
    out_c, kh, kw, _ = graph.tensor(op.inputs[FILTER]).shape
    return graph.tensor(op.inputs[INPUT]).size * kh * kw * out_c


def transpose_conv_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    """Scatter: input pixel (i, j) adds x * w[:, fy, fx, :] at output (i * stride - pad + fy, j * stride - pad + fx)."""
    _, w, x, b = (args + [None])[:4]
    out_c, kh, kw, _ = w.shape
    _, in_h, in_w, _ = x.shape
    _, out_h, out_w, _ = out.shape
    o = op.options
    sh, sw = o["stride_h"], o["stride_w"]
    ph = transpose_padding(o["padding"], out_h, kh, sh)
    pw = transpose_padding(o["padding"], out_w, kw, sw)
    # A canvas holding every scattered position, cropped to the output at the end.
    canvas = np.zeros((x.shape[0], max((in_h - 1) * sh + kh, ph + out_h), max((in_w - 1) * sw + kw, pw + out_w), out_c))
    for fy in range(kh):
        for fx in range(kw):
            canvas[:, fy : fy + (in_h - 1) * sh + 1 : sh, fx : fx + (in_w - 1) * sw + 1 : sw] += np.tensordot(
                x, w[:, fy, fx, :], axes=([3], [1])
            )
    y = canvas[:, ph : ph + out_h, pw : pw + out_w]
    return y if b is None else y + b


OPS = (
    OpDef(
        "TRANSPOSE_CONV",
        lower_transpose_conv,
        notes="int8 and 16x8, SAME/VALID, any stride and output size, optional bias; no scratch buffer",
        slots=(PARAM, WEIGHTS, ACTIVATION, BIAS),
        optional_inputs=(3,),
        options=Options("TransposeConvOptions", ("padding", "stride_w", "stride_h", "fused_activation_function")),
        macs=transpose_conv_macs,
        float_reference=transpose_conv_float,
        quantization=Quantization(weight_axis=0),
    ),
)
