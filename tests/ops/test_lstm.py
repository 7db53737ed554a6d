"""UNIDIRECTIONAL_SEQUENCE_LSTM against tflite-micro: generated models (int8 and 16x8, batch or time
major, with and without a cell clip) run as sequences of consecutive invokes, so that the hidden and
cell states carried from one invoke to the next are compared through every step's outputs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.lower import lower
from tinygen.compiler.pipeline import compile_model
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.ir import Graph
from tinygen.reference import Reference

from ..bitexact import assert_bit_exact
from ..helpers import loaded

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)
LSTM_C = Path(__file__).parents[2] / "firmware" / "tg_lstm.c"
LIMITS = {"int8": 127, "int16": 32767}


def add_lstm(
    g: GraphBuilder,
    rng: np.random.Generator,
    x: int,
    units: int,
    time_major: bool = False,
    cell_power: int = 11,
    cell_clip: float = 0.0,
    per_channel: bool = False,
) -> int:
    """An LSTM on x; weights scaled so that each gate's sum spreads over a few units (the gates'
    activations neither saturate nor sit at zero), the hidden state at about 1/128 per step."""
    dtype, (d0, d1, input_size) = g.tensors[x].dtype, g.tensors[x].shape
    batches = d1 if time_major else d0
    sx = g.tensors[x].quant.scale[0]
    limit = LIMITS[dtype]
    hidden_scale = float(2 ** rng.uniform(-8, -6)) if dtype == "int8" else 2.0**-15
    hidden_zero = int(rng.integers(-20, 21)) if dtype == "int8" else 0

    def weights(depth: int, activation_scale: float) -> int:
        # a sum of `depth` products of values spread over half the range reaches about 2 (real)
        spread = activation_scale * limit / 2 * np.sqrt(depth) * 64
        scale = float(2.0 / spread * 2 ** rng.uniform(-1, 1))
        data = rng.integers(-127, 128, (units, depth))
        if per_channel:
            return g.const(data, "int8", scale=[scale] * units, zero_point=0, axis=0)
        return g.const(data, "int8", scale=scale, zero_point=0)

    input_weights = [weights(input_size, sx) for _ in range(4)]
    recurrent_weights = [weights(units, hidden_scale) for _ in range(4)]
    bias_dtype = "int32" if dtype == "int8" else "int64"
    biases = []
    for w in input_weights:
        scale = float(np.float32(sx) * np.float32(g.tensors[w].quant.scale[0]))
        real = rng.uniform(-1, 1, units)
        biases.append(g.const(np.round(real / scale), bias_dtype, scale=scale, zero_point=0))
    hidden = g.tensor((batches, units), dtype, scale=hidden_scale, zero_point=hidden_zero, variable=True)
    cell = g.tensor((batches, units), "int16", scale=2.0**-cell_power, zero_point=0, variable=True)
    y = g.tensor((d0, d1, units), dtype, scale=hidden_scale, zero_point=hidden_zero)
    inputs = [x, *input_weights, *recurrent_weights, -1, -1, -1, *biases, -1, -1, hidden, cell, -1, -1, -1, -1]
    g.op(
        "UNIDIRECTIONAL_SEQUENCE_LSTM",
        inputs,
        [y],
        fused_activation_function="TANH",
        cell_clip=cell_clip,
        proj_clip=0.0,
        time_major=time_major,
    )
    return y


def lstm_model(
    rng: np.random.Generator,
    dtype: str = "int8",
    batches: int = 1,
    steps: int = 3,
    input_size: int = 5,
    units: int = 4,
    time_major: bool = False,
    **lstm,
) -> Graph:
    """x -> LSTM -> y; where the LSTM's input does not start with 1 (several batches, or time major),
    x is a RESHAPE of the model's input, which has batch 1."""
    g = GraphBuilder()
    shape = (steps, batches, input_size) if time_major else (batches, steps, input_size)
    if dtype == "int8":
        quant = {"scale": float(10 ** rng.uniform(-2.5, -1)), "zero_point": int(rng.integers(-128, 128))}
    else:
        quant = {"scale": float(10 ** rng.uniform(-4.5, -3)), "zero_point": 0}
    model_input = x = g.tensor(shape, dtype, **quant)
    if shape[0] != 1:
        model_input = g.tensor((1, shape[0] * shape[1], input_size), dtype, **quant)
        g.op("RESHAPE", [model_input], [x])
    return g.build([model_input], [add_lstm(g, rng, x, units, time_major=time_major, **lstm)])


def stacked_lstm_model(seed: int = 7) -> Graph:
    """An int8 LSTM (an odd number of units, the kernel's pair loop's tail) into a 16x8 one, time
    major, with a cell clip, for the firmware tests: both kernels and both layouts on every core."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    x = g.tensor((1, 3, 6), "int8", scale=0.02, zero_point=-5)
    h = add_lstm(g, rng, x, units=7, cell_power=12)
    h16 = g.tensor((1, 3, 7), "int16", scale=2.0**-15, zero_point=0)
    g.op("QUANTIZE", [h], [h16])
    steps_first = g.tensor((3, 1, 7), "int16", scale=2.0**-15, zero_point=0)
    g.op("RESHAPE", [h16], [steps_first])
    return g.build([x], [add_lstm(g, rng, steps_first, units=5, time_major=True, cell_power=13, cell_clip=2.0)])


def test_stacked_int8_and_16x8():
    assert_bit_exact(stacked_lstm_model(), samples=10, steps=5)


@SETTINGS
@given(
    seed=st.integers(0, 2**31),
    dtype=st.sampled_from(["int8", "int16"]),
    batches=st.integers(1, 2),
    steps=st.integers(1, 4),
    input_size=st.integers(1, 12),
    units=st.integers(1, 9),
    time_major=st.booleans(),
    cell_power=st.integers(8, 15),
    cell_clip=st.sampled_from([0.0, 0.5, 3.0]),
)
def test_generated_sequences(seed, dtype, batches, steps, input_size, units, time_major, cell_power, cell_clip):
    rng = np.random.default_rng(seed)
    graph = lstm_model(
        rng, dtype, batches, steps, input_size, units, time_major, cell_power=cell_power, cell_clip=cell_clip
    )
    assert_bit_exact(graph, samples=8, seed=seed % 1000, steps=4)


def test_the_states_carry_over_and_reset():
    graph = lstm_model(np.random.default_rng(1), units=6, steps=2)
    result = assert_bit_exact(graph, samples=12, steps=6)
    assert result.samples == 12
    compiled = compile_model(loaded(graph, "lstm"))
    # hidden int8 [1, 6] and cell int16 [1, 6], each in its own 16-byte slot, not in the arena
    assert compiled.plan.state_bytes == 32
    assert not any(t in b.tensors for b in compiled.plan.buffers.values() for t in graph.ops[0].inputs[18:20])


def test_the_outputs_move_over_a_sequence():
    """The generated models exercise the gates: outputs change from step to step and are not stuck
    at the ends of their range (a test of the test's scales, against tflite-micro's outputs)."""
    graph = lstm_model(np.random.default_rng(2), units=8, steps=4, input_size=6)
    rng = np.random.default_rng(0)
    sequence = [[rng.integers(-128, 128, (1, 4, 6), dtype=np.int8)] for _ in range(3)]
    outputs = np.stack([o[0] for o in Reference(write_tflite(graph), graph).run_many(sequence)])
    assert len(np.unique(outputs)) > 20
    assert np.mean(np.abs(outputs.astype(int)) >= 127) < 0.2


def test_the_sigmoid_table_is_tflite_micros():
    """tg_lstm.c's table equals what the interpreter's int16 TANH gives where its interpolation falls
    on table entries: at an input scale of 1/6144 the table index is x / 128, and tanh = entry - 2^15."""
    body = LSTM_C.read_text().split("tg_sigmoid_q16[256] = {", 1)[1].split("}", 1)[0]
    table = np.array([int(v) for v in re.findall(r"\d+", body)])
    g = GraphBuilder()
    x = g.tensor((1, 256), "int16", scale=float(np.float32(1 / 6144)), zero_point=0)
    y = g.tensor((1, 256), "int16", scale=2.0**-15, zero_point=0)
    g.op("TANH", [x], [y])
    graph = g.build([x], [y])
    probe = np.minimum(np.arange(256) * 128, 32767).astype(np.int16).reshape(1, 256)
    got = Reference(write_tflite(graph), graph).run([probe])[0].astype(np.int64).ravel() + 32768
    assert len(table) == 256 and np.array_equal(table, got)


def _lstm(graph: Graph):
    return next(op for op in graph.ops if op.kind == "UNIDIRECTIONAL_SEQUENCE_LSTM")


def _set_input(graph: Graph, slot: int, tensor: int) -> Graph:
    inputs = list(_lstm(graph).inputs)
    inputs[slot] = tensor
    _lstm(graph).inputs = tuple(inputs)
    return graph


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda g: _set_option(g, "fused_activation_function", "RELU"), "is RELU; tflite-micro's takes TANH"),
        (lambda g: _set_input(g, 9, _lstm(g).inputs[12]), r"inputs \[9\] .*standard LSTM only"),
        (lambda g: _set_input(g, 2, -1), "input 2 is missing"),
        (lambda g: _unset_variable(g, 19), r"the state \(input 19\) must be a variable tensor"),
    ],
)
def test_refusals(change, message):
    graph = change(lstm_model(np.random.default_rng(0)))
    with pytest.raises(TinygenError, match=message):
        lower(graph)


def _set_option(graph: Graph, name: str, value) -> Graph:
    _lstm(graph).options[name] = value
    return graph


def _unset_variable(graph: Graph, slot: int) -> Graph:
    graph.tensors[_lstm(graph).inputs[slot]].is_variable = False
    return graph


def test_per_channel_weights_are_refused():
    # tflite-micro's LSTM reads one multiplier per product: per-channel scales would be ignored.
    graph = lstm_model(np.random.default_rng(0), per_channel=True)
    with pytest.raises(TinygenError, match="must be quantized per tensor"):
        lower(graph)


def test_a_cell_scale_past_the_tanh_range_is_refused():
    graph = lstm_model(np.random.default_rng(0), cell_power=-3)
    with pytest.raises(TinygenError, match="cell state.s scale 8 is too large"):
        lower(graph)


def float_lstm(rng: np.random.Generator, steps: int = 5, input_size: int = 6, units: int = 8, clip: float = 0.0):
    """A float LSTM [1, steps, input_size] -> [1, steps, units], as a Keras LSTM converts."""
    g = GraphBuilder()
    x = g.tensor((1, steps, input_size), "float32")

    def const(shape, spread):
        return g.const(rng.normal(0, spread, shape).astype(np.float32), "float32")

    weights = [const((units, input_size), 0.5) for _ in range(4)] + [const((units, units), 0.4) for _ in range(4)]
    biases = [const((units,), 0.3) for _ in range(4)]
    hidden = g.tensor((1, units), "float32", variable=True)
    cell = g.tensor((1, units), "float32", variable=True)
    y = g.tensor((1, steps, units), "float32")
    inputs = [x, *weights, -1, -1, -1, *biases, -1, -1, hidden, cell, -1, -1, -1, -1]
    g.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y], fused_activation_function="TANH", cell_clip=clip)
    return g.build([x], [y])


def test_a_float_lstm_quantizes_to_tflite_micros_layout():
    from tinygen.quantize import CalibrationData, quantize
    from tinygen.values import quantize_input

    rng = np.random.default_rng(5)
    graph = float_lstm(rng)
    stream = rng.normal(0, 1, (40, 5, 6)).astype(np.float32)  # 40 consecutive invokes of 5 steps
    result = quantize(graph, CalibrationData(stream))
    q = result.graph
    lstm = _lstm(q)
    x, y = q.tensor(lstm.inputs[0]), q.tensor(lstm.outputs[0])
    hidden, cell = q.tensor(lstm.inputs[18]), q.tensor(lstm.inputs[19])
    weights = [q.tensor(i) for i in lstm.inputs[1:9]]
    biases = [q.tensor(i) for i in lstm.inputs[12:16]]
    assert all(w.dtype == "int8" and not w.quant.per_channel and w.zero_point == 0 for w in weights)
    assert all(b.dtype == "int32" for b in biases)
    for b, w in zip(biases, weights[:4]):
        assert b.scale == float(np.float32(x.scale) * np.float32(w.scale))
    assert hidden.is_variable and cell.is_variable and (hidden.dtype, cell.dtype) == ("int8", "int16")
    assert (hidden.scale, hidden.zero_point) == (y.scale, y.zero_point)
    # The cell's scale is the power of two whose int16 range just holds the cell over every step.
    want = _run_float(graph, stream[:20])[0]
    reached = np.abs(_run_float(graph, stream)[1]).max()
    assert np.log2(cell.scale) == int(np.log2(cell.scale)) and cell.zero_point == 0
    assert cell.scale * 32768 / 2 < max(reached, 1.0) <= cell.scale * 32768
    samples = [[quantize_input(x, s)] for s in stream[:12]]
    assert_bit_exact(q, inputs=samples, steps=6)
    # The int8 model follows the float one over a sequence, carried states included.
    got = Reference(result.tflite_bytes, q).run_many([[quantize_input(x, s)] for s in stream[:20]])
    real = (np.stack([o[0] for o in got]).astype(np.float64) - y.zero_point) * y.scale
    error = np.abs(real.reshape(want.shape) - want).max()
    assert error < 4 * y.scale, error


def _run_float(graph: Graph, stream: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The float LSTM's outputs over the stream (invokes one after the other, states carried) and its
    cell at every time step, written out here as the LSTM equations with the gates i, f, c, o."""
    lstm = graph.ops[0]
    w = [graph.tensor(i).data.astype(np.float64) for i in lstm.inputs[1:9]]
    b = [graph.tensor(i).data.astype(np.float64) for i in lstm.inputs[12:16]]
    units = w[0].shape[0]
    h, c = np.zeros(units), np.zeros(units)
    outputs, cells = [], []
    for x in stream.reshape(-1, stream.shape[-1]).astype(np.float64):
        i, f, g, o = (w[k] @ x + w[4 + k] @ h + b[k] for k in range(4))
        c = 1 / (1 + np.exp(-f)) * c + 1 / (1 + np.exp(-i)) * np.tanh(g)
        h = 1 / (1 + np.exp(-o)) * np.tanh(c)
        outputs.append(h)
        cells.append(c)
    return np.array(outputs).reshape(*stream.shape[:-1], units), np.array(cells)


def test_a_float_lstm_with_a_cell_clip_keeps_its_cell_within_it():
    from tinygen.quantize import CalibrationData, quantize

    rng = np.random.default_rng(6)
    graph = float_lstm(rng, clip=0.75)
    result = quantize(graph, CalibrationData(rng.normal(0, 3, (16, 5, 6)).astype(np.float32)))
    cell = result.graph.tensor(_lstm(result.graph).inputs[19])
    assert cell.scale == 2.0**-15  # |cell| <= 0.75 < 1
    assert_bit_exact(result.graph, samples=8, steps=4)
