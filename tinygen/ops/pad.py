"""PAD and PADV2 -> tg_pad_s8 (tg_pad_s16 on int16): a raw copy into a buffer filled with the pad value.

Nothing is rescaled. PAD pads with the output's zero point (int16: with 0, which TFLM
writes whatever the zero point, so tinygen takes only zero point 0); PADV2 with the raw
value stored in its constant_values input (TFLM ignores that tensor's scale once it has
checked, for int8, that it equals the output's; tinygen asks the same of int16).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, tensor_args
from ..errors import TinygenError
from ..ir import Graph, Op, Tensor
from .checks import require
from .int16 import activation_io, require_zero_points
from .record import ACTIVATION, PARAM, OpDef, Options, Quantization

# TFLM's reference Pad handles up to 5 dimensions; tinygen pads every shape to exactly that.
PAD_RANK = 5


@dataclass(frozen=True)
class PadParams:
    C_TYPE = "tg_pad_params"
    C_FILE = "tg_pad.c"
    output_size: int
    first_offset: int  # where input element 0 lands in the output
    pad_value: int


def _pad_value(op: Op, graph: Graph, output) -> int:
    # tflite-micro's PAD and PADV2 are one kernel: either takes the pad value as a third input.
    values = graph.tensor(op.inputs[2]) if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
    if values is None:
        if output.dtype == "int16":
            require_zero_points(op, [output], "tflite-micro pads int16 with 0 whatever the zero point")
        return output.zero_point
    require(
        values.is_constant and values.dtype == output.dtype and values.size == 1,
        op,
        f"constant_values must be a constant {output.dtype} scalar",
    )
    require(
        values.quant is not None and values.zero_point == output.zero_point and values.scale == output.scale,
        op,
        "constant_values must have the output's scale and zero point",
    )
    return int(values.data.reshape(-1)[0])


def lower_pad(op: Op, graph: Graph) -> Layer:
    (x,), y = activation_io(op, graph)
    paddings = graph.tensor(op.inputs[1])
    rank = len(x.shape)
    require(
        paddings.is_constant and paddings.dtype == "int32" and paddings.shape == (rank, 2),
        op,
        f"paddings must be a constant int32 tensor of shape ({rank}, 2)",
    )
    require(rank <= PAD_RANK, op, f"pads tensors of up to {PAD_RANK} dimensions, not {rank}")
    before, after = (paddings.data[:, i].astype(np.int64) for i in range(2))
    require(bool((paddings.data >= 0).all()), op, f"negative paddings {paddings.data.tolist()} are not supported")
    require(
        tuple(int(d) for d in np.add(x.shape, before + after)) == tuple(y.shape),
        op,
        f"output shape {y.shape} is not the input shape {x.shape} padded by {paddings.data.tolist()}",
    )
    lead = PAD_RANK - rank
    in_shape = [1] * lead + list(x.shape)
    out_shape = [1] * lead + list(y.shape)
    out_strides = [int(np.prod(out_shape[d + 1 :], dtype=np.int64)) for d in range(PAD_RANK)]
    first = int(sum(int(b) * s for b, s in zip(before, out_strides[lead:])))
    params = PadParams(output_size=y.size, first_offset=first, pad_value=_pad_value(op, graph, y))
    consts = {
        "input_shape": np.array(in_shape, dtype=np.int32),
        "output_strides": np.array(out_strides, dtype=np.int32),
    }
    args = (Arg("const", "input_shape"), Arg("const", "output_strides"), *tensor_args(op.inputs[0], op.outputs[0]))
    return Layer(op, "tg_pad_s16" if y.dtype == "int16" else "tg_pad_s8", params, args, consts)


def pad_float(op: Op, args: list, out: Tensor) -> np.ndarray:
    x, paddings = args[:2]
    fill = float(args[2].reshape(-1)[0]) if len(args) > 2 and args[2] is not None else 0.0
    paddings = np.asarray(paddings).reshape(-1, 2)
    if paddings[0].any():
        raise TinygenError(f"op {op.index} ({op.kind}) pads the batch axis")
    return np.pad(x, [tuple(p) for p in paddings], constant_values=fill)


OPS = (
    OpDef(
        "PAD",
        lower_pad,
        notes="int8 and int16, up to rank 5, non-negative paddings",
        slots=(ACTIVATION, PARAM, ACTIVATION),
        optional_inputs=(2,),
        options=Options("PadOptions"),
        float_reference=pad_float,
        quantization=Quantization(shared="first"),
    ),
    # The pad value (slot 2) is quantized with the output's parameters, which it must share.
    OpDef(
        "PADV2",
        lower_pad,
        notes="int8 and int16, up to rank 5, non-negative paddings, a constant pad value",
        slots=(ACTIVATION, PARAM, ACTIVATION),
        optional_inputs=(2,),
        options=Options("PadV2Options"),
        float_reference=pad_float,
        quantization=Quantization(shared="first"),
    ),
)
