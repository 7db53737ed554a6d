"""The cost model (tinygen/compiler/costs.py) against the emulator: the estimated instructions of the
MLPerf Tiny keyword-spotting model's convolution and depthwise layers, whose shapes are not among those
benchmarks/costs.py measured, within TOLERANCE of QEMU's exact counts, on the DSP path (mps2-an386)
and the portable one (lm3s6965evb), at both ends of the choice (in place and not)."""

from pathlib import Path

import pytest

from tinygen.boards import load_board
from tinygen.compiler.costs import FEATURES, cost_model
from tinygen.compiler.pipeline import compile_model, load_model
from tinygen.device.target import open_target
from tinygen.verify import random_samples

KWS = Path(__file__).parent / "corpus" / "mlperf-tiny" / "kws_ref_model.tflite"
# Relative, per layer (counts are deterministic; the model is linear in a few features): the layers
# with variants to choose between within 10%, the first convolution (one input channel, a 10x4
# filter: a window shape the measured models have only once) within 20%.
TOLERANCE_VARIANTS, TOLERANCE_ANY = 0.10, 0.20
CHECKED = ("CONV_2D", "DEPTHWISE_CONV_2D")


@pytest.mark.parametrize("board_id", ["mps2-an386", "lm3s6965evb"])
@pytest.mark.parametrize("optimize", ["memory", "speed"])
def test_estimates_match_the_emulator(board_id, optimize, qemu_ready):
    board = load_board(board_id)
    model = load_model(KWS)
    compiled = compile_model(model, board, optimize)
    costs = cost_model(board)
    with open_target(compiled, board) as target:
        counts = target.profile(random_samples(model.graph, 1, 0)[0])
    checked = 0
    for layer, choice, count in zip(compiled.lowered.layers, compiled.choice.layers, counts.layers):
        if layer.op.kind in CHECKED:
            assert layer.kernel in costs.kernels, f"{layer.kernel} has no measured coefficients"
            estimate = costs.estimate(layer, compiled.lowered.graph)
            tolerance = TOLERANCE_VARIANTS if len(choice.alternatives) > 1 else TOLERANCE_ANY
            assert abs(estimate - count) <= tolerance * count, (layer.op.index, layer.kernel, estimate, count)
            checked += len(choice.alternatives) > 1
    assert checked == 8


def test_every_core_kind_has_coefficients_for_every_feature():
    for board_id in ("mps2-an386", "lm3s6965evb", "host"):
        costs = cost_model(load_board(board_id))
        assert "*" in costs.kernels
        assert all(len(c) == len(FEATURES) for c in costs.kernels.values())
