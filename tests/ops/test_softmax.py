"""SOFTMAX against tflite-micro: generated models, ties, deep rows and extreme scales."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.lower import lower
from tinygen.compiler.pipeline import LoadedModel, compile_model
from tinygen.device.host import HostTarget, build_host
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_reader import parse_tflite
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.reference import _check_reference_can_run

from ..bitexact import assert_bit_exact

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)


def _model(
    shape,
    scale: float,
    zero_point: int,
    beta: float,
    out_scale: float = 1 / 256,
    out_zero_point: int = -128,
    out_dtype: str = "int8",
):
    g = GraphBuilder()
    x = g.tensor(shape, scale=scale, zero_point=zero_point)
    y = g.tensor(shape, out_dtype, scale=out_scale, zero_point=out_zero_point)
    g.op("SOFTMAX", [x], [y], beta=beta)
    return g.build([x], [y])


@SETTINGS
@given(
    seed=st.integers(0, 2**31),
    shape=st.lists(st.integers(1, 8), min_size=0, max_size=2).flatmap(
        lambda outer: st.integers(1, 300).map(lambda depth: (1, *outer, depth))
    ),
    beta=st.sampled_from([0.5, 1.0, 2.0, 0.37]),
)
def test_generated(seed, shape, beta):
    rng = np.random.default_rng(seed)
    assert_bit_exact(_model(shape, float(10 ** rng.uniform(-3, 0)), int(rng.integers(-128, 128)), beta))


@pytest.mark.parametrize(
    "scale, beta",
    [
        (2.0**-26 * 1.0001, 1.0),  # just above the smallest multiplier tflite-micro accepts: all exps ~1
        (1e-4, 1.0),
        (0.5, 1.0),  # diff_min = -31: the tail contributes nothing
        (7.25, 1.0),
        (20.5, 1.0),  # beta * scale >= 16: shift 31, diff_min 0, only the maxima count
        (40.5, 1.0),  # beta * scale * 2^26 >= 2^31: the multiplier is capped at 2^31 - 1
    ],
)
def test_extreme_scales_and_ties(scale, beta):
    rng = np.random.default_rng(1)
    depth = 64
    rows = [np.full(depth, v) for v in (-128, 0, 127)]  # all equal
    rows.append(np.where(np.arange(depth) % 3 == 0, 127, -128))  # ties at the max, the rest at the bottom
    rows += [rng.integers(-128, 128, depth), rng.integers(100, 128, depth)]
    batch = np.stack(rows).astype(np.int8)[None]
    assert_bit_exact(_model(batch.shape, scale, 5, beta), inputs=[[batch]])


def test_deep_rows():
    # 511 equal values is the deepest tie tflite-micro handles (512 aborts it); 1000 classes of
    # spread-out logits stay well below that sum.
    ties = np.zeros((1, 511), np.int8)
    assert_bit_exact(_model(ties.shape, 1e-4, 0, 1.0), inputs=[[ties], [ties - 100]])
    assert_bit_exact(_model((1, 1000), 0.15, -20, 1.0), samples=4)


@SETTINGS
@given(seed=st.integers(0, 2**31), depth=st.integers(1, 300), beta=st.sampled_from([0.5, 1.0, 2.0]))
def test_int16_output(seed, depth, beta):
    rng = np.random.default_rng(seed)
    scale, zero_point = float(10 ** rng.uniform(-3, 0)), int(rng.integers(-128, 128))
    assert_bit_exact(_model((1, depth), scale, zero_point, beta, 1 / 65536, -32768, "int16"))


def test_int16_output_of_deep_ties():
    # 600 equal values abort tflite-micro with an int8 output (test below); an int16 one has room.
    ties = np.zeros((1, 600), np.int8)
    assert_bit_exact(_model(ties.shape, 1e-4, 0, 1.0, 1 / 65536, -32768, "int16"), inputs=[[ties], [ties + 7]])
    with pytest.raises(TinygenError, match="an int16 output's quantization must be scale 1/65536"):
        lower(_model((1, 10), 0.1, 0, 1.0, 1 / 65536, -32767, "int16"))


def test_output_quantization_is_checked():
    with pytest.raises(TinygenError, match=r"op 0 \(SOFTMAX\): output quantization must be scale 1/256"):
        lower(_model((1, 10), 0.1, 0, 1.0, out_scale=1 / 255))
    with pytest.raises(TinygenError, match=r"op 0 \(SOFTMAX\): beta"):
        lower(_model((1, 10), 1e-9, 0, 1.0))


def test_reference_refuses_rows_that_always_abort_it():
    # 600 values at a tiny scale: every row's exps sum past 512, which aborts tflite-micro.
    with pytest.raises(TinygenError, match="SOFTMAX"):
        _check_reference_can_run(_model((1, 600), 1e-4, 0, 1.0))
    _check_reference_can_run(_model((1, 1000), 0.15, 0, 1.0))


def test_rows_past_the_reference_limit_round_to_zero(tmp_path):
    # tflite-micro aborts on 512 equal values; the kernel carries the arithmetic on, where every
    # probability is below 1/512 and rounds to the bottom of the output grid. No reference here.
    graph = _model((1, 2, 600), 1e-4, 0, 1.0)
    data = write_tflite(graph)
    model = LoadedModel(parse_tflite(data), data, "test.tflite")
    host = HostTarget(build_host(compile_model(model).generated, tmp_path, sanitize=True), model.graph)
    rows = np.stack([np.zeros(600), np.arange(600) % 256 - 128]).astype(np.int8)[None]
    ((output,),) = host.run([[rows]])
    assert np.all(np.asarray(output) == -128)
