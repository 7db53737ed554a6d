"""MEAN against tflite-micro: spatial and other axes, keep_dims both ways, counts that are not powers of two."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.builder import GraphBuilder
from tinygen.compiler.lower import lower
from tinygen.errors import TinygenError

from ..bitexact import assert_bit_exact
from ..gen import activation_quant

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)


def _model(shape, axes, keep_dims: bool, in_quant: dict, out_quant: dict):
    rank = len(shape)
    reduced = {a % rank for a in axes}
    if keep_dims:
        out_shape = tuple(1 if i in reduced else d for i, d in enumerate(shape))
    else:
        out_shape = tuple(d for i, d in enumerate(shape) if i not in reduced)
    g = GraphBuilder()
    x = g.tensor(shape, **in_quant)
    axis = g.const(np.array(axes), "int32")
    y = g.tensor(out_shape, **out_quant)
    g.op("MEAN", [x, axis], [y], keep_dims=keep_dims)
    return g.build([x], [y])


@SETTINGS
@given(
    seed=st.integers(0, 2**31),
    hwc=st.tuples(st.integers(1, 13), st.integers(1, 13), st.integers(1, 8)),
    axes=st.sampled_from([[1, 2], [2, 1], [1], [2], [3], [-1], [-3, -2], [1, 3], [0, 1, 2], [1, 2, 3], [1, 1]]),
    keep_dims=st.booleans(),
    same_quant=st.booleans(),
)
def test_generated(seed, hwc, axes, keep_dims, same_quant):
    rng = np.random.default_rng(seed)
    in_quant = activation_quant(rng)
    out_quant = in_quant if same_quant else activation_quant(rng)
    assert_bit_exact(_model((1, *hwc), axes, keep_dims, in_quant, out_quant))


@pytest.mark.parametrize("hw", [(25, 5), (12, 12), (7, 9), (64, 64)])
@pytest.mark.parametrize("keep_dims", [True, False])
def test_global_average(hw, keep_dims):
    # n = 125, 144, 63 are not powers of two; 4096 is, and large.
    rng = np.random.default_rng(hw[0] * hw[1])
    assert_bit_exact(_model((1, *hw, 6), [1, 2], keep_dims, activation_quant(rng), activation_quant(rng)), samples=8)


def test_scale_ratio_extremes():
    # A large ratio gives a positive shift; a tiny one flushes the multiplier's low bits.
    for in_scale, out_scale in [(0.9, 0.001), (0.001, 0.9), (0.02, 0.02)]:
        assert_bit_exact(
            _model(
                (1, 5, 3, 4),
                [1, 2],
                True,
                {"scale": in_scale, "zero_point": -100},
                {"scale": out_scale, "zero_point": 37},
            ),
            samples=8,
        )


@pytest.mark.parametrize(
    "shape, axes, keep_dims",
    [
        ((1, 10), [1], False),
        ((1, 6, 5), [-2], True),
        ((1, 2, 3, 4, 5), [1, 3], False),
        ((1, 3, 4, 2), [0, 1, 2, 3], False),
    ],
)
def test_other_ranks_and_axes(shape, axes, keep_dims):
    rng = np.random.default_rng(len(shape))
    assert_bit_exact(_model(shape, axes, keep_dims, activation_quant(rng), activation_quant(rng)), samples=8)


def test_bad_axes_are_refused():
    quant = {"scale": 0.1, "zero_point": 0}
    with pytest.raises(TinygenError, match=r"op 0 \(MEAN\): axes \[4\] are out of range"):
        lower(_model((1, 2, 3, 4), [4], True, quant, quant))
