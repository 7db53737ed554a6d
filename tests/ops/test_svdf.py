"""SVDF against tflite-micro: generated models run as sequences of consecutive invokes (the memory,
a variable tensor, is compared through the outputs of every step), each sequence from a reset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.lower import lower
from tinygen.compiler.pipeline import compile_model, load_model
from tinygen.device.host import HostTarget
from tinygen.errors import TinygenError
from tinygen.ir import Graph
from tinygen.reference import Reference

from ..bitexact import assert_bit_exact
from ..helpers import loaded

CORPUS = Path(__file__).parents[1] / "corpus" / "tflite-micro"
SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)
LIMITS = {"int16": 32767, "int8": 127}


def add_svdf(
    g: GraphBuilder,
    rng: np.random.Generator,
    x: int,
    units: int = 4,
    rank: int = 2,
    memory: int = 5,
    state_dtype: str = "int16",
    state_data: bool = False,
    bias: bool = True,
    bias_scale: float | None = None,
) -> int:
    """An SVDF on x [batches, input_size]; its output [batches, units], with scales chosen so that the
    features and outputs use their range without saturating everywhere."""
    batches, input_size = g.tensors[x].shape
    sx = g.tensors[x].quant.scale[0]
    filters = units * rank
    swf = float(10 ** rng.uniform(-3, -1.5))
    wf = g.const(rng.integers(-127, 128, (filters, input_size)), "int8", scale=swf, zero_point=0)
    limit = LIMITS[state_dtype]
    swt = float(10 ** rng.uniform(-3, -1.5))
    wt = g.const(rng.integers(-limit, limit + 1, (filters, memory)), state_dtype, scale=swt, zero_point=0)
    # A feature's real range is about sx * swf * 128 * 128 * sqrt(input_size) / 2: the state scale puts
    # that within a factor of 8 either way of the state type's range.
    feature = sx * swf * 128 * 64 * np.sqrt(input_size)
    s_state = float(feature / limit * 2 ** rng.uniform(-3, 3))
    z_state = int(rng.integers(-20, 21)) if state_dtype == "int8" else 0
    data = rng.integers(-limit, limit + 1, (batches, memory * filters)) if state_data else None
    state = g.tensor(
        (batches, memory * filters), state_dtype, scale=s_state, zero_point=z_state, data=data, variable=True
    )
    scale = float(np.float32(s_state) * np.float32(swt)) if bias_scale is None else bias_scale
    b = g.const(rng.integers(-5000, 5000, units), "int32", scale=scale, zero_point=0) if bias else -1
    total = s_state * limit * swt * limit * np.sqrt(memory * rank) / 4
    out_scale = float(total / 127 * 2 ** rng.uniform(-2, 2))
    y = g.tensor((batches, units), scale=out_scale, zero_point=int(rng.integers(-60, 60)))
    g.op("SVDF", [x, wf, wt, b, state], [y], rank=rank, fused_activation_function="RELU")
    return y


def svdf_model(rng: np.random.Generator, batches: int = 1, input_size: int = 12, **svdf) -> Graph:
    """x -> SVDF -> y; with batches > 1, x is a RESHAPE of the model's input (which has batch 1)."""
    g = GraphBuilder()
    sx, zx = float(10 ** rng.uniform(-2, -0.5)), int(rng.integers(-128, 128))
    model_input = x = g.tensor((batches, input_size), scale=sx, zero_point=zx)
    if batches > 1:
        model_input = g.tensor((1, batches * input_size), scale=sx, zero_point=zx)
        g.op("RESHAPE", [model_input], [x])
    return g.build([model_input], [add_svdf(g, rng, x, **svdf)])


def stacked_svdf_model(seed: int = 7) -> Graph:
    """Two SVDFs, one with each memory type, for the firmware tests."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    x = g.tensor((1, 20), scale=0.05, zero_point=3)
    h = add_svdf(g, rng, x, units=6, rank=2, memory=7, state_dtype="int16")
    return g.build([x], [add_svdf(g, rng, h, units=3, rank=3, memory=4, state_dtype="int8")])


@SETTINGS
@given(
    seed=st.integers(0, 2**31),
    batches=st.integers(1, 2),
    input_size=st.integers(1, 24),
    units=st.integers(1, 6),
    rank=st.integers(1, 3),
    memory=st.integers(1, 8),
    state_dtype=st.sampled_from(["int16", "int8"]),
)
def test_generated_sequences(seed, batches, input_size, units, rank, memory, state_dtype):
    rng = np.random.default_rng(seed)
    graph = svdf_model(rng, batches, input_size, units=units, rank=rank, memory=memory, state_dtype=state_dtype)
    assert_bit_exact(graph, samples=12, seed=seed % 1000, steps=4)


@pytest.mark.parametrize("state_dtype", ["int16", "int8"])
def test_a_state_with_data_starts_at_its_zero_point_as_in_tflite_micro(state_dtype):
    # The writer stores the variable's data; tflite-micro ignores it (zero point or 0 at start and on
    # reset), and so does tinygen: the outputs of the first steps tell.
    assert_bit_exact(svdf_model(np.random.default_rng(3), state_dtype=state_dtype, state_data=True), steps=3)


def test_the_memory_carries_over():
    graph = svdf_model(np.random.default_rng(4))
    result = assert_bit_exact(graph, samples=8, steps=8)
    assert result.samples == 8
    compiled = compile_model(loaded(graph, "svdf"))
    assert compiled.plan.state_bytes == 16 * ((5 * 8 * 2 + 15) // 16)  # memory * filters int16, not in the arena
    assert not any(4 in b.tensors for b in compiled.plan.buffers.values())


def _rank(graph, rank: int):
    graph.ops[0].options["rank"] = rank
    return graph


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda rng: svdf_model(rng, bias=False), "needs a bias"),
        (lambda rng: svdf_model(rng, bias_scale=1.0), "bias scale 1 is not state scale x time weight scale"),
        (lambda rng: _rank(svdf_model(rng, units=4, rank=2), 3), "8 filters are not a multiple of rank 3"),
    ],
)
def test_refusals(make, message):
    with pytest.raises(TinygenError, match=message):
        lower(make(np.random.default_rng(0)))


def test_a_state_that_is_not_a_variable_is_refused():
    graph = svdf_model(np.random.default_rng(0))
    graph.tensors[graph.ops[0].inputs[4]].is_variable = False
    with pytest.raises(TinygenError, match=r"op 0 \(SVDF\): the state \(input 4\) must be a variable tensor"):
        lower(graph)


def test_stacked_memories_of_both_types():
    assert_bit_exact(stacked_svdf_model(), samples=10, steps=5)


@pytest.mark.parametrize("name", ["keyword_scrambled", "keyword_scrambled_8bit"])
def test_keyword_spotting_test_models_layer_by_layer(name, tmp_path):
    """tflite-micro's SVDF test models end in a softmax that saturates on almost every input, so their
    outputs say little: every layer's output is compared at every step instead."""
    model = load_model(CORPUS / f"{name}.tflite")
    compiled = compile_model(model)
    host = HostTarget.build(compiled, tmp_path, sanitize=True)
    rng = np.random.default_rng(0)
    sequence = [[rng.integers(-3000, 3000, (1, 96), dtype=np.int16)] for _ in range(4)]
    traced = [model.graph.ops[layer.op.index].outputs[0] for layer in compiled.lowered.layers if layer.kernel]
    reference = Reference(model.tflite_bytes, model.graph)
    for step in range(1, len(sequence) + 1):
        want = reference.tensors(sequence[:step], traced)
        got = host.trace(sequence[:step])
        for t, values in zip(traced, got):
            assert np.array_equal(want[t].reshape(-1), np.asarray(values).reshape(-1)), (name, step, t)


def float_svdf(rng: np.random.Generator, input_size: int = 10, units: int = 4, rank: int = 2, memory: int = 6):
    """A float SVDF (with a RELU, as keyword spotters have) for the quantizer."""
    g = GraphBuilder()
    filters = units * rank
    x = g.tensor((1, input_size), "float32")
    wf = g.const(rng.normal(0, 0.3, (filters, input_size)).astype(np.float32), "float32")
    wt = g.const(rng.normal(0, 0.5, (filters, memory)).astype(np.float32), "float32")
    bias = g.const(rng.normal(0, 0.1, units).astype(np.float32), "float32")
    state = g.tensor((1, memory * filters), "float32", variable=True)
    y = g.tensor((1, units), "float32")
    g.op("SVDF", [x, wf, wt, bias, state], [y], rank=rank, fused_activation_function="RELU")
    return g.build([x], [y])


def test_a_float_svdf_quantizes_to_tflite_micros_layout():
    from tinygen.quantize import CalibrationData, quantize
    from tinygen.quantize.float_exec import execute

    rng = np.random.default_rng(5)
    graph = float_svdf(rng)
    stream = rng.normal(0, 1, (40, 10)).astype(np.float32)  # consecutive steps
    result = quantize(graph, CalibrationData(stream))
    q = result.graph
    svdf = q.ops[0]
    weights_feature, weights_time, bias, state = (q.tensor(i) for i in svdf.inputs[1:])
    assert (weights_feature.dtype, weights_time.dtype, state.dtype, bias.dtype) == ("int8", "int16", "int16", "int32")
    assert state.is_variable and state.zero_point == 0 and weights_time.zero_point == 0
    assert bias.scale == float(np.float32(state.scale) * np.float32(weights_time.scale))
    # The memory's range is the features': the largest feature lands near the int16 limit.
    features = stream @ graph.tensor(graph.ops[0].inputs[1]).data.T
    assert 0.99 < np.abs(features).max() / (state.scale * 32767) <= 1.0
    assert_bit_exact(q, inputs=result_int8_inputs(q, stream[:12]), steps=6)
    # The int8 model follows the float one over a sequence, carried memory included.
    want = execute(graph, [stream[:20]])[graph.outputs[0]]
    x_t = q.tensor(q.inputs[0])
    got = Reference(result.tflite_bytes, q).run_many(result_int8_inputs(q, stream[:20]))
    y_t = q.tensor(q.outputs[0])
    real = np.array([(o[0].astype(np.float64) - y_t.zero_point) * y_t.scale for o in got]).reshape(want.shape)
    assert x_t.dtype == "int8" and np.abs(real - want).max() < 4 * y_t.scale


def result_int8_inputs(q, stream: np.ndarray) -> list[list[np.ndarray]]:
    from tinygen.values import quantize_input

    t = q.tensor(q.inputs[0])
    return [[quantize_input(t, s)] for s in stream]
