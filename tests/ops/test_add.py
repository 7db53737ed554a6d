"""int8 ADD's fast path, case by case, against tflite-micro.

tg_add_s8 lifts the input of the larger scale exactly (x + offset) * 2^19, the other with SMMULR
and a rounding shift, and requantizes the sum with SMMULR, a rounding shift and the zero point
folded in; it takes that path where the output's shift is in [-23, -1] and runs the innermost
dimension of a broadcast as one loop. The cases put the larger scale on either side, make both
equal, broadcast along the inner and the outer dimensions, clamp narrower than int8, push zero
points to their ends, stay below the size that pays for a table of the second input's part, and
leave the fast path (an output shift below -23). The host runs the
portable C (sanitizers on); the same model runs on every QEMU board.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.builder import GraphBuilder
from tinygen.compiler.lower import lower
from tinygen.ops.elementwise import ADD_TABLE_MIN_SIZE

from ..bitexact import assert_bit_exact
from ..helpers import QEMU_BOARDS, verify_on_board
from .test_elementwise import drain, feed

# (name, shape1, shape2, (scale1, zero point 1), (scale2, zero point 2), (output scale, zero point), activation)
# From ADD_TABLE_MIN_SIZE elements on, the fast path takes the other input's part from a table.
CASES = [
    ("first input of the larger scale", (1, 8, 8, 6), (1, 8, 8, 6), (0.05, 3), (0.03, -7), (0.07, -128), "RELU"),
    ("second input of the larger scale", (1, 6, 8, 7), (1, 6, 8, 7), (0.02, -128), (0.05, 127), (0.06, 5), "NONE"),
    ("equal scales", (1, 16, 17), (1, 16, 17), (0.04, 0), (0.04, 9), (0.09, -3), "RELU"),
    ("inner broadcast", (1, 6, 8, 6), (1, 6, 8, 1), (0.05, -2), (0.02, 4), (0.05, 0), "NONE"),
    ("outer broadcast", (1, 6, 8, 6), (1, 1, 1, 6), (0.01, 11), (0.05, -5), (0.05, 2), "NONE"),
    ("narrow clamp", (1, 15, 19), (1, 15, 19), (0.05, -10), (0.04, 20), (0.01, -60), "RELU6"),
    ("extreme zero points", (1, 16, 17), (1, 16, 17), (0.05, 127), (0.003, -128), (0.05, 127), "NONE"),
    ("small: no table", (1, 3, 4, 5), (1, 3, 4, 5), (0.03, -4), (0.05, 6), (0.07, 1), "NONE"),
    ("output shift below -23: the generic path", (1, 2, 9), (1, 2, 9), (0.001, 1), (0.002, 2), (0.15, 0), "NONE"),
]


def fast_path(layer) -> bool:
    """Whether tg_add_s8 takes its fast path for these params (the conditions in tg_elementwise.c)."""
    p = layer.params
    inputs = ((p.input1_multiplier, p.input1_shift), (p.input2_multiplier, p.input2_shift))
    exact = [m == 1 << 30 and s == 0 for m, s in inputs]
    return p.left_shift == 20 and any(exact) and -23 <= p.output_shift <= -1


def add_model():
    """Every case as its own pair of inputs, in one model."""
    g = GraphBuilder()
    inputs, outputs = [], []
    for _, shape1, shape2, (s1, z1), (s2, z2), (so, zo), act in CASES:
        in1, a = feed(g, shape1, {"scale": s1, "zero_point": z1})
        in2, b = feed(g, shape2, {"scale": s2, "zero_point": z2})
        y = g.tensor(np.broadcast_shapes(shape1, shape2), scale=so, zero_point=zo)
        g.op("ADD", [a, b], [y], fused_activation_function=act)
        inputs += [in1, in2]
        outputs.append(drain(g, y, {"scale": so, "zero_point": zo}))
    return g.build(inputs, outputs)


def test_each_case_takes_the_path_it_names():
    layers = [layer for layer in lower(add_model()).layers if layer.op.kind == "ADD"]
    taken = [fast_path(layer) for layer in layers]
    assert taken == ["generic" not in name for name, *_ in CASES]
    tabled = ["table" in layer.consts for layer in layers]
    assert tabled == [fast and layer.params.size >= ADD_TABLE_MIN_SIZE for fast, layer in zip(taken, layers)]
    assert tabled.count(True) == len(CASES) - 2
    narrow = next(layer.params for layer, case in zip(layers, CASES) if case[0] == "narrow clamp")
    assert (narrow.act_min, narrow.act_max) != (-128, 127)


def test_the_cases_on_the_host():
    assert_bit_exact(add_model(), samples=8)


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_the_cases_on_qemu(board_id, qemu_ready, tmp_path):
    result = verify_on_board(add_model(), board_id, tmp_path, samples=3)
    assert result.bit_exact, result.summary()
