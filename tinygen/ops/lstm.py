"""UNIDIRECTIONAL_SEQUENCE_LSTM -> tg_lstm_s8 (int8 activations, int8 weights, int32 biases) or
tg_lstm_s16 (int16 activations, int64 biases), both with an int16 cell state. The hidden and cell
states are the op's variable tensor inputs, kept in the state region from one invoke to the next.
docs/numerics/lstm.md has the arithmetic, and how a float LSTM is quantized."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..compiler.layer import Arg, Layer, tensor_args
from ..ir import Graph, Op, Tensor
from ..quantmath import quantize_multiplier
from .checks import refuse_float, require
from .conv import folded_bias
from .int16 import INT16_MAX, INT16_MIN, require_wide_shifts
from .record import ACTIVATION, BIAS, PARAM, WEIGHTS, OpDef, Options, Quantization

# Input slots (tflite-micro's lstm_shared.h); each group in the gate order input, forget, cell, output.
INPUT = 0
INPUT_WEIGHTS = (1, 2, 3, 4)
RECURRENT_WEIGHTS = (5, 6, 7, 8)
PEEPHOLES = (9, 10, 11)
BIASES = (12, 13, 14, 15)
PROJECTION = (16, 17)
HIDDEN, CELL = 18, 19
LAYER_NORMS = (20, 21, 22, 23)
GATES = 4

GATE_SCALE = 2.0**-12  # each gate's summed products, int16 (Q3.12), before its activation
ACTIVATED_SCALE = 2.0**-15  # sigmoid and tanh outputs, int16 (Q0.15)
# tanh(cell) scales the cell to the table's input by 3 * 2^(15 + log2(cell scale) - 3); the scaled
# int16 value times that must stay within int32.
MAX_TANH_LEFT_SHIFT = 14

LIMITS = {"int8": (-128, 127), "int16": (INT16_MIN, INT16_MAX)}
BIAS_DTYPES = {"int8": "int32", "int16": "int64"}


@dataclass(frozen=True)
class LstmParams:
    C_TYPE = "tg_lstm_params"
    C_FILE = "tg_lstm.c"
    batches: int
    steps: int
    input_size: int
    units: int
    time_major: int
    cell_clip: int
    cell_tanh_multiplier: int
    cell_tanh_shift: int
    forget_multiplier: int
    forget_shift: int
    input_multiplier: int
    input_shift: int
    hidden_multiplier: int
    hidden_shift: int
    hidden_offset: int
    hidden_min: int
    hidden_max: int


@dataclass(frozen=True)
class LstmShape:
    batches: int
    steps: int
    input_size: int
    units: int


def lstm_shape(op: Op, graph: Graph) -> LstmShape:
    """The sizes tflite-micro reads from the input and the hidden state, with its shape checks."""
    require(len(op.inputs) == 24, op, f"takes 24 inputs, not {len(op.inputs)}")
    require(len(op.outputs) == 1, op, "has one output")
    x, y = graph.tensor(op.inputs[INPUT]), graph.tensor(op.outputs[0])
    require(len(x.shape) == 3, op, f"the input must be 3-D, not {list(x.shape)}")
    hidden = graph.tensor(op.inputs[HIDDEN]) if op.inputs[HIDDEN] >= 0 else None
    require(hidden is not None and len(hidden.shape) == 2, op, "the hidden state (input 18) must be 2-D")
    time_major = bool(op.options.get("time_major", False))
    steps, batches = x.shape[:2] if time_major else x.shape[1::-1]
    shape = LstmShape(batches, steps, x.shape[2], hidden.shape[1])
    require(y.shape == (*x.shape[:2], shape.units), op, f"the output must be {[*x.shape[:2], shape.units]}")
    for slot in (*INPUT_WEIGHTS, *RECURRENT_WEIGHTS, *BIASES):
        require(op.inputs[slot] >= 0, op, f"input {slot} is missing (tflite-micro needs all four gates)")
    for slot in INPUT_WEIGHTS:
        require(graph.tensor(op.inputs[slot]).shape == (shape.units, shape.input_size), op, "input weights' shape")
    for slot in RECURRENT_WEIGHTS:
        require(graph.tensor(op.inputs[slot]).shape == (shape.units, shape.units), op, "recurrent weights' shape")
    for slot in BIASES:
        require(graph.tensor(op.inputs[slot]).shape == (shape.units,), op, f"biases must be [{shape.units}]")
    for slot in (HIDDEN, CELL):
        t = graph.tensor(op.inputs[slot]) if op.inputs[slot] >= 0 else None
        require(t is not None and t.is_variable, op, f"the state (input {slot}) must be a variable tensor")
        require(t.size == batches * shape.units, op, f"the state (input {slot}) must hold {batches * shape.units}")
    absent = [s for s in (*PEEPHOLES, *PROJECTION, *LAYER_NORMS) if op.inputs[s] >= 0]
    require(
        not absent,
        op,
        f"inputs {absent} (peepholes, projection or layer normalization) are set; tflite-micro runs the "
        "standard LSTM only",
    )
    require(
        op.options.get("fused_activation_function") == "TANH",
        op,
        f"the cell gate's activation is {op.options.get('fused_activation_function')}; tflite-micro's takes TANH",
    )
    return shape


def _gate_scale(op: Op, x: Tensor, weights: Tensor) -> tuple[int, int]:
    """x scale x weight scale / 2^-12: the product in float32, the quotient in double (tflite-micro)."""
    require(
        weights.dtype == "int8" and weights.is_constant and weights.quant is not None,
        op,
        f"weights {weights.name} must be constant int8",
    )
    require(not weights.quant.per_channel, op, f"weights {weights.name} must be quantized per tensor")
    require(weights.zero_point == 0, op, f"weights {weights.name} have zero point {weights.zero_point}, not 0")
    return quantize_multiplier(float(np.float32(x.scale) * np.float32(weights.scale)) / GATE_SCALE)


def _cell_tanh(op: Op, cell: Tensor) -> tuple[int, int]:
    """tanh(cell)'s input scaling (multiplier, right shift), from the cell scale's rounded log2."""
    log2 = float(np.log(np.float32(cell.scale)) * np.float32(1.0 / np.log(np.float32(2.0))))
    power = int(math.copysign(math.floor(abs(log2) + 0.5), log2))
    left = 15 + power - 3
    require(
        left <= MAX_TANH_LEFT_SHIFT,
        op,
        f"the cell state's scale {cell.scale:g} is too large: tflite-micro's tanh of the cell overflows above 4",
    )
    return (3 << left, 0) if left >= 0 else (3, -left)


def _cell_clip(op: Op, cell: Tensor) -> int:
    """The clip in int16 units (truncated, as the reference casts), or -1 for none."""
    clip = float(np.float32(op.options.get("cell_clip", 0.0)))
    if clip <= 0:
        return -1
    return int(min(max(clip / cell.scale, float(INT16_MIN)), float(INT16_MAX)))


def _product_scale(a: float, b: float, out: float) -> tuple[int, int]:
    """a x b / out in double, as tflite-micro's element-wise products between gates."""
    return quantize_multiplier(float(np.float32(a)) * float(np.float32(b)) / float(np.float32(out)))


def lower_lstm(op: Op, graph: Graph) -> Layer:
    shape = lstm_shape(op, graph)
    x, y = graph.tensor(op.inputs[INPUT]), graph.tensor(op.outputs[0])
    hidden, cell = graph.tensor(op.inputs[HIDDEN]), graph.tensor(op.inputs[CELL])
    dtype = x.dtype
    refuse_float(op, x)
    require(dtype in LIMITS, op, f"the input is {dtype}; tflite-micro's integer LSTM takes int8 or int16")
    for t in (x, y, hidden, cell):
        require(t.quant is not None and not t.quant.per_channel, op, f"tensor {t.name} needs per-tensor quantization")
    require(y.dtype == dtype and hidden.dtype == dtype, op, f"the output and hidden state must be {dtype}")
    require(cell.dtype == "int16", op, f"the cell state is {cell.dtype}; tflite-micro's integer LSTM takes int16")
    input_scales = [_gate_scale(op, x, graph.tensor(op.inputs[s])) for s in INPUT_WEIGHTS]
    recurrent_scales = [_gate_scale(op, hidden, graph.tensor(op.inputs[s])) for s in RECURRENT_WEIGHTS]
    biases = [graph.tensor(op.inputs[s]) for s in BIASES]
    bias_dtype = BIAS_DTYPES[dtype]
    for b in biases:
        require(b.is_constant and b.dtype == bias_dtype, op, f"biases must be constant {bias_dtype} with {dtype} input")
    gate_scales = np.array([[*i, *r] for i, r in zip(input_scales, recurrent_scales)], dtype=np.int32)
    if dtype == "int16":
        require_wide_shifts(op, gate_scales[:, 1::2])
    tanh_multiplier, tanh_shift = _cell_tanh(op, cell)
    forget = _product_scale(ACTIVATED_SCALE, cell.scale, cell.scale)
    input_gate = _product_scale(ACTIVATED_SCALE, ACTIVATED_SCALE, cell.scale)
    to_hidden = _product_scale(ACTIVATED_SCALE, ACTIVATED_SCALE, hidden.scale)
    params = LstmParams(
        batches=shape.batches,
        steps=shape.steps,
        input_size=shape.input_size,
        units=shape.units,
        time_major=int(bool(op.options.get("time_major", False))),
        cell_clip=_cell_clip(op, cell),
        cell_tanh_multiplier=tanh_multiplier,
        cell_tanh_shift=tanh_shift,
        forget_multiplier=forget[0],
        forget_shift=forget[1],
        input_multiplier=input_gate[0],
        input_shift=input_gate[1],
        hidden_multiplier=to_hidden[0],
        hidden_shift=to_hidden[1],
        hidden_offset=hidden.zero_point,
        hidden_min=LIMITS[dtype][0],
        hidden_max=LIMITS[dtype][1],
    )
    consts = _weights_and_biases(op, graph, x, hidden, biases)
    consts["gate_scales"] = gate_scales
    args = (
        *tensor_args(op.inputs[INPUT]),
        *(Arg("const", name) for name in ("input_weights", "recurrent_weights", "input_bias", "recurrent_bias")),
        Arg("const", "gate_scales"),
        *tensor_args(op.inputs[HIDDEN], op.inputs[CELL]),
        Arg("scratch"),
        *tensor_args(op.outputs[0]),
    )
    kernel = "tg_lstm_s8" if dtype == "int8" else "tg_lstm_s16"
    return Layer(op, kernel, params, args, consts, scratch_bytes=GATES * 2 * shape.units)


def _weights_and_biases(op: Op, graph: Graph, x: Tensor, hidden: Tensor, biases: list[Tensor]) -> dict:
    """The four gates' weights stacked, and the biases with the input and hidden zero points' shares
    folded in: int32 wrapping for int8 (as the reference's int32 sums wrap), exact int64 for int16."""
    wx = np.concatenate([graph.tensor(op.inputs[s]).data for s in INPUT_WEIGHTS]).astype(np.int8)
    wh = np.concatenate([graph.tensor(op.inputs[s]).data for s in RECURRENT_WEIGHTS]).astype(np.int8)
    bias = np.concatenate([b.data for b in biases])
    if x.dtype == "int8":
        input_bias = folded_bias(wx, bias, -x.zero_point, axis=0)
        recurrent_bias = folded_bias(wh, None, -hidden.zero_point, axis=0)
    else:
        input_bias = bias.astype(np.int64) - x.zero_point * wx.astype(np.int64).sum(axis=1)
        recurrent_bias = -hidden.zero_point * wh.astype(np.int64).sum(axis=1)
    return {
        "input_weights": wx,
        "recurrent_weights": wh,
        "input_bias": input_bias,
        "recurrent_bias": recurrent_bias,
    }


def lstm_float(op: Op, args: list, out: Tensor) -> dict[int, np.ndarray]:
    """The float LSTM with the batch as consecutive invokes from zero states: the output and, for
    calibration, the cell state each invoke reaches (per unit, its value of largest magnitude over the
    invoke's time steps, so that the calibrated range covers every step)."""
    x = args[INPUT]
    d0, d1, _ = out.shape
    time_major = bool(op.options.get("time_major", False))
    invokes = x.shape[0]
    x = x.reshape(invokes, d0, d1, -1)
    x = x if time_major else x.transpose(0, 2, 1, 3)  # [invokes, steps, batches, input]
    weights = [np.concatenate([args[s] for s in slots]).T for slots in (INPUT_WEIGHTS, RECURRENT_WEIGHTS)]
    bias = np.concatenate([args[s] for s in BIASES])
    units, clip = out.shape[2], float(op.options.get("cell_clip", 0.0))
    hidden = np.zeros((x.shape[2], units), np.float32)
    cell = np.zeros_like(hidden)
    outputs = np.zeros((*x.shape[:3], units), np.float32)
    extremes = np.zeros((invokes, *hidden.shape), np.float32)
    for n in range(invokes):
        for t in range(x.shape[1]):
            sums = x[n, t] @ weights[0] + hidden @ weights[1] + bias
            i, f, g, o = np.split(sums, GATES, axis=-1)
            cell = _sigmoid(f) * cell + _sigmoid(i) * np.tanh(g)
            cell = np.clip(cell, -clip, clip) if clip > 0 else cell
            hidden = outputs[n, t] = _sigmoid(o) * np.tanh(cell)
            extremes[n] = np.where(np.abs(cell) > np.abs(extremes[n]), cell, extremes[n])
    outputs = outputs if time_major else outputs.transpose(0, 2, 1, 3)
    return {op.outputs[0]: outputs, op.inputs[CELL]: extremes.reshape(invokes, -1)}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _symmetric(rewrite, index: int) -> tuple[int, float]:
    """A float weight tensor as int8, symmetric per tensor (scale max |w| / 127, float32)."""
    t = rewrite.graph.tensor(index)
    w = t.data.astype(np.float64)
    scale = float(np.float32(np.abs(w).max() / 127)) or 1.0
    q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
    return rewrite.b.const(q, "int8", scale=scale, zero_point=0, name=t.name), scale


def cell_scale(op: Op, low: float, high: float) -> float:
    """The cell state's scale: the power of two whose int16 range holds the calibrated range, 2^-15 at
    least (a range of 1), as TFLite's quantizer chooses it: tflite-micro's tanh of the cell needs a
    power of two."""
    magnitude = max(abs(low), abs(high), 1.0)
    power = math.ceil(math.log2(magnitude)) - 15
    require(
        15 + power - 3 <= MAX_TANH_LEFT_SHIFT,
        op,
        f"the cell state reaches {magnitude:g} on the calibration data; tflite-micro's tanh of the cell overflows "
        "above 4",
    )
    return 2.0**power


def lstm_operands(rewrite, op: Op) -> list[int]:
    """tflite-micro's int8 LSTM layout, as TensorFlow's converter writes it: weights int8 symmetric per
    tensor, biases int32 at input scale x input weight scale; the hidden state int8 with the output's
    parameters, the cell state int16 with a power-of-two scale over its calibrated range; both variable."""
    graph, b = rewrite.graph, rewrite.b
    lstm_shape(op, graph)
    x = rewrite.activation(op.inputs[INPUT])
    x_scale = b.tensors[x].quant.scale[0]
    inputs = [-1] * 24
    inputs[INPUT] = x
    for slot in (*INPUT_WEIGHTS, *RECURRENT_WEIGHTS):
        w = graph.tensor(op.inputs[slot])
        require(w.is_constant and w.dtype == "float32", op, f"weights {w.name} must be float32 constants to quantize")
        inputs[slot], scale = _symmetric(rewrite, op.inputs[slot])
        if slot in INPUT_WEIGHTS:
            bias = graph.tensor(op.inputs[BIASES[INPUT_WEIGHTS.index(slot)]])
            bias_scale = float(np.float32(x_scale) * np.float32(scale))
            q = np.clip(np.round(bias.data.astype(np.float64) / bias_scale), -(2**31), 2**31 - 1)
            inputs[BIASES[INPUT_WEIGHTS.index(slot)]] = b.const(
                q.astype(np.int32), "int32", scale=bias_scale, zero_point=0, name=bias.name
            )
    out_scale, out_zero = rewrite.params[op.outputs[0]]
    hidden, cell = graph.tensor(op.inputs[HIDDEN]), graph.tensor(op.inputs[CELL])
    inputs[HIDDEN] = rewrite.map[hidden.index] = b.tensor(
        hidden.shape, "int8", scale=out_scale, zero_point=out_zero, variable=True, name=hidden.name
    )
    scale = cell_scale(op, *rewrite.ranges[cell.index])
    inputs[CELL] = rewrite.map[cell.index] = b.tensor(
        cell.shape, "int16", scale=scale, zero_point=0, variable=True, name=cell.name
    )
    return inputs


def lstm_macs(op: Op, graph: Graph) -> int:
    shape = lstm_shape(op, graph)
    return shape.batches * shape.steps * GATES * shape.units * (shape.input_size + shape.units)


SLOTS = (
    ACTIVATION,
    *[WEIGHTS] * 8,
    *[WEIGHTS] * 3,  # peepholes (unused)
    *[BIAS] * 4,
    WEIGHTS,  # projection (unused)
    BIAS,
    ACTIVATION,  # hidden state
    ACTIVATION,  # cell state
    *[PARAM] * 4,  # layer normalization (unused)
)

OPS = (
    OpDef(
        "UNIDIRECTIONAL_SEQUENCE_LSTM",
        lower_lstm,
        notes="int8 and 16x8 with an int16 cell state; hidden and cell states kept between invokes",
        slots=SLOTS,
        optional_inputs=(*PEEPHOLES, *PROJECTION, *LAYER_NORMS),  # TFLite's; tinygen refuses them present
        options=Options(
            "UnidirectionalSequenceLSTMOptions",
            (
                "fused_activation_function",
                "cell_clip",
                "proj_clip",
                "time_major",
                "asymmetric_quantize_inputs",
                "diagonal_recurrent_tensors",
            ),
        ),
        macs=lstm_macs,
        float_reference=lstm_float,
        quantization=Quantization(operands=lstm_operands),
        activates_output=False,
    ),
)
