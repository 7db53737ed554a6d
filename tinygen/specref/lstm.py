"""UNIDIRECTIONAL_SEQUENCE_LSTM, int8 and 16x8 with an int16 cell state (tflite-micro's lstm_eval.h,
lstm_eval.cc, lstm_eval_common.cc); docs/numerics/lstm.md states the arithmetic.

Each gate is two FULLY_CONNECTED products requantized to int16 at 2^-12 (the input's with the gate's
bias, the hidden state's without), their saturating sum, then sigmoid (or tanh for the cell gate) on
tflite-micro's 256-entry table of sigmoid(i / 24) in Q0.16, interpolated. The cell becomes
forget * cell + input * cell gate (saturating int16, optionally clipped), the hidden state
tanh(cell) * output gate at the hidden state's scale and zero point. Hidden and cell states are
variable tensors (inputs 18 and 19), updated in place and carried to the next invoke. Rows (batches)
are independent, so each time step runs every batch at once, whatever time_major says.
"""

from __future__ import annotations

import math

import numpy as np

from .arith import TYPE_RANGE, mbqm, mbqm64, quantize_multiplier, round_away, wrap32
from .registry import Node, kernel

# sigmoid(i / 24) in Q0.16, i = 0..255: tflite-micro's table (kernels/internal/common.h), as data.
SIGMOID_TABLE = np.array(
    [
        32768,
        33451,
        34133,
        34813,
        35493,
        36169,
        36843,
        37513,
        38180,
        38841,
        39498,
        40149,
        40794,
        41432,
        42064,
        42688,
        43304,
        43912,
        44511,
        45102,
        45683,
        46255,
        46817,
        47369,
        47911,
        48443,
        48964,
        49475,
        49975,
        50464,
        50942,
        51409,
        51865,
        52311,
        52745,
        53169,
        53581,
        53983,
        54374,
        54755,
        55125,
        55485,
        55834,
        56174,
        56503,
        56823,
        57133,
        57433,
        57724,
        58007,
        58280,
        58544,
        58800,
        59048,
        59288,
        59519,
        59743,
        59959,
        60168,
        60370,
        60565,
        60753,
        60935,
        61110,
        61279,
        61441,
        61599,
        61750,
        61896,
        62036,
        62172,
        62302,
        62428,
        62549,
        62666,
        62778,
        62886,
        62990,
        63090,
        63186,
        63279,
        63368,
        63454,
        63536,
        63615,
        63691,
        63765,
        63835,
        63903,
        63968,
        64030,
        64090,
        64148,
        64204,
        64257,
        64308,
        64357,
        64405,
        64450,
        64494,
        64536,
        64576,
        64614,
        64652,
        64687,
        64721,
        64754,
        64786,
        64816,
        64845,
        64873,
        64900,
        64926,
        64950,
        64974,
        64997,
        65019,
        65039,
        65060,
        65079,
        65097,
        65115,
        65132,
        65149,
        65164,
        65179,
        65194,
        65208,
        65221,
        65234,
        65246,
        65258,
        65269,
        65280,
        65291,
        65301,
        65310,
        65319,
        65328,
        65337,
        65345,
        65352,
        65360,
        65367,
        65374,
        65381,
        65387,
        65393,
        65399,
        65404,
        65410,
        65415,
        65420,
        65425,
        65429,
        65433,
        65438,
        65442,
        65445,
        65449,
        65453,
        65456,
        65459,
        65462,
        65465,
        65468,
        65471,
        65474,
        65476,
        65479,
        65481,
        65483,
        65485,
        65488,
        65489,
        65491,
        65493,
        65495,
        65497,
        65498,
        65500,
        65501,
        65503,
        65504,
        65505,
        65507,
        65508,
        65509,
        65510,
        65511,
        65512,
        65513,
        65514,
        65515,
        65516,
        65517,
        65517,
        65518,
        65519,
        65520,
        65520,
        65521,
        65522,
        65522,
        65523,
        65523,
        65524,
        65524,
        65525,
        65525,
        65526,
        65526,
        65526,
        65527,
        65527,
        65528,
        65528,
        65528,
        65529,
        65529,
        65529,
        65529,
        65530,
        65530,
        65530,
        65530,
        65531,
        65531,
        65531,
        65531,
        65531,
        65532,
        65532,
        65532,
        65532,
        65532,
        65532,
        65533,
        65533,
        65533,
        65533,
        65533,
        65533,
        65533,
        65533,
        65534,
        65534,
        65534,
        65534,
        65534,
        65534,
        65534,
        65534,
        65534,
        65534,
        65535,
    ],
    np.int64,
)
GATE_SCALE, ACTIVATION_SCALE = 2.0**-12, 2.0**-15  # Q3.12 into the activations, Q0.15 out
INPUT_WEIGHTS, RECURRENT_WEIGHTS, BIASES = (1, 2, 3, 4), (5, 6, 7, 8), (12, 13, 14, 15)  # input, forget, cell, output
ABSENT = (9, 10, 11, 16, 17, 20, 21, 22, 23)  # peepholes, projection, layer normalization


def sigmoid(x: np.ndarray) -> np.ndarray:
    """reference_integer_ops::Logistic on Q3.12 int16 (multiplier 3, no shift): Q0.15."""
    scaled = np.asarray(x, np.int64) * 3
    magnitude = np.abs(scaled)
    index = np.minimum(magnitude >> 9, 254)
    low, high = SIGMOID_TABLE[index], SIGMOID_TABLE[index + 1]
    result = np.where(magnitude >> 9 >= 255, 0x7FFF << 10, (low << 9) + (magnitude & 0x1FF) * (high - low))
    result = np.where(scaled >= 0, result + (1 << 9), (1 << 25) - result + (1 << 9) - 1)
    return result >> 10


def tanh(x: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """reference_integer_ops::Tanh: the input brought to the table's grid by (x * m + r) >> k."""
    rounding = 1 << (shift - 1) if shift > 0 else 0
    scaled = wrap32(np.asarray(x, np.int64) * multiplier + rounding) >> shift
    magnitude = np.abs(scaled)
    index = np.minimum(magnitude >> 8, 254)
    low, high = SIGMOID_TABLE[index], SIGMOID_TABLE[index + 1]
    result = np.where(magnitude >> 8 >= 255, 0xFFFF << 8, (low << 8) + (magnitude & 0xFF) * (high - low))
    result = np.where(scaled >= 0, result - (1 << 23) + (1 << 7), -result + (1 << 23) + (1 << 7) - 1)
    return ((result >> 8) + 32768 & 0xFFFF) - 32768  # stored as int16


def tanh_scaling(power: int) -> tuple[int, int]:
    """The Tanh input's (multiplier, shift) for a cell scale of 2^power (the gates' 2^-12 give (3, 0))."""
    left = 15 + power - 3
    return (3, -left) if left < 0 else (3 << left, 0)


@kernel("UNIDIRECTIONAL_SEQUENCE_LSTM")
def lstm(node: Node):
    x, y = node.inputs[0], node.output
    hidden, cell = node.input(18), node.input(19)
    node.require_types(("int8", "int16"), x, y, hidden)
    node.require_types(("int16",), cell)
    if any(node.input(i) is not None for i in ABSENT):
        node.refuse("peepholes, projection and layer normalization are not covered (tflite-micro has none)")
    if not (hidden is not None and cell is not None and hidden.is_variable and cell.is_variable):
        node.refuse("the hidden and cell states (inputs 18 and 19) must be variable tensors")
    if not x.dtype == y.dtype == hidden.dtype:
        node.refuse("input, output and hidden state must share one type")
    if node.option("fused_activation_function", "TANH") != "TANH":
        node.refuse("only a TANH cell activation is covered")
    weights = [node.input(i) for i in INPUT_WEIGHTS + RECURRENT_WEIGHTS]
    biases = [node.input(i) for i in BIASES]
    if any(w is None or not w.is_constant or w.dtype != "int8" for w in weights):
        node.refuse("the eight weight tensors must be constant int8")
    bias_type = "int32" if x.dtype == "int8" else "int64"
    if any(b is None or b.dtype != bias_type for b in biases):
        node.refuse(f"the four gate biases must be {bias_type}")
    time_major = bool(node.option("time_major", False))
    if len(x.shape) != 3 or len(hidden.shape) != 2:
        node.refuse("the input must be 3-D and the hidden state 2-D")
    steps, batches = (x.shape[0], x.shape[1]) if time_major else (x.shape[1], x.shape[0])
    units, depth = hidden.shape[1], x.shape[2]
    if hidden.size != batches * units or cell.size != batches * units or y.shape != (*x.shape[:2], units):
        node.refuse(f"states {hidden.shape}, {cell.shape} and output {y.shape} do not fit input {x.shape}")
    if any(w.shape != (units, depth) for w in weights[:4]) or any(w.shape != (units, units) for w in weights[4:]):
        node.refuse("weights must be [units, input] and [units, units]")

    (sx, zx), (sh, zh), (sc, _) = node.quantized(x), node.quantized(hidden), node.quantized(cell)
    wide = x.dtype == "int16"

    def product(weight, scale: float, zero: int):
        """One FULLY_CONNECTED into Q3.12: its weights offset, multiplier and activation range."""
        ws, wz = node.quantized(weight)
        multiplier = quantize_multiplier(float(np.float32(scale) * np.float32(ws)) / GATE_SCALE)
        matrix = (weight.data.astype(np.int64) - wz).T

        def run(rows: np.ndarray, bias) -> np.ndarray:
            sums = (rows.astype(np.int64) - zero) @ matrix + (0 if bias is None else bias.astype(np.int64))
            scaled = mbqm64(sums, *multiplier) if wide else mbqm(wrap32(sums), *multiplier)
            return np.clip(scaled, -32768, 32767)

        return run

    gates = [(product(weights[g], sx, zx), product(weights[4 + g], sh, zh)) for g in range(4)]
    forget_multiplier = quantize_multiplier(ACTIVATION_SCALE * float(np.float32(sc)) / float(np.float32(sc)))
    input_multiplier = quantize_multiplier(ACTIVATION_SCALE * ACTIVATION_SCALE / float(np.float32(sc)))
    output_multiplier = quantize_multiplier(ACTIVATION_SCALE * ACTIVATION_SCALE / float(np.float32(sh)))
    power = round_away(math.log2(float(sc)))  # std::round: halves away from zero
    cell_tanh = tanh_scaling(power)
    if cell_tanh[1] == 0 and cell_tanh[0] > 3 << 14:
        node.refuse(f"a cell scale of {float(sc):g} (above 4) overflows tflite-micro's int32 tanh input")
    clip = float(node.option("cell_clip", 0.0) or 0.0)
    quantized_clip = int(min(max(float(np.float32(clip)) / float(np.float32(sc)), -32768.0), 32767.0))
    low, high = TYPE_RANGE[hidden.dtype]

    def run(values):
        inputs = values[0].reshape(x.shape)
        inputs = inputs if time_major else np.swapaxes(inputs, 0, 1)  # [steps, batches, depth]
        bias_values = [values[i] for i in BIASES]
        h_state, c_state = values[18].reshape(batches, units), values[19].reshape(batches, units)
        outputs = np.empty((steps, batches, units), np.int64)

        def gate(g: int, rows: np.ndarray, h: np.ndarray) -> np.ndarray:
            into, recurrent = gates[g]
            total = np.clip(into(rows, bias_values[g]) + recurrent(h, None), -32768, 32767)
            return tanh(total, 3, 0) if g == 2 else sigmoid(total)

        for t in range(steps):
            h = h_state.astype(np.int64)
            forget, input_gate, cell_gate = (gate(g, inputs[t], h) for g in (1, 0, 2))
            c = c_state.astype(np.int64)
            kept = np.clip(mbqm(forget * c, *forget_multiplier), -32768, 32767)
            added = np.clip(mbqm(input_gate * cell_gate, *input_multiplier), -32768, 32767)
            c = np.clip(kept + added, -32768, 32767)
            if clip > 0:
                c = np.maximum(np.minimum(quantized_clip, c), ((-quantized_clip + 32768) & 0xFFFF) - 32768)
            output_gate = gate(3, inputs[t], h)
            h = np.clip(zh + mbqm(tanh(c, *cell_tanh) * output_gate, *output_multiplier), low, high)
            c_state[...], h_state[...] = c, h
            outputs[t] = h
        return [outputs if time_major else np.swapaxes(outputs, 0, 1)]

    return run
