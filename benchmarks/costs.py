"""Measure the cost model's coefficients (tinygen/compiler/costs.py) under QEMU and write costs.json.

Models of varied shapes (convolutions of several filter sizes and strides, depthwise layers, fully
connected, pooling, ADD, softmax) are compiled twice, once with no variant that runs in place and
once with every one that can, and profiled layer by layer on one board per kind of core: mps2-an386
(Cortex-M4, the DSP paths) and lm3s6965evb (Cortex-M3, the portable path). Each kernel's
coefficients are a non-negative least-squares fit of its instructions on its layers' features, in
relative error; an in-place variant's are its twin's plus a fit of the difference measured on the
same layers, so that the choice between them rests on what the variant adds or saves.
The MLPerf Tiny models are not among them: tests/test_costs.py checks the estimates on those.
Run: python3 benchmarks/costs.py  (needs the Arm toolchain and QEMU; a few minutes)
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tinygen.boards import load_board
from tinygen.compiler.costs import ANY_KERNEL, COSTS_JSON, FEATURES, layer_features
from tinygen.compiler.pipeline import LoadedModel, compile_model
from tinygen.device.target import open_target
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.verify import random_samples
from tinygen.zoo import Net

BOARDS = {"dsp": "mps2-an386", "portable": "lm3s6965evb"}
# (input h, w, c, first filter, channels): small enough for the Cortex-M3 board's 64 KiB of RAM.
SHAPES = [
    (16, 16, 3, (3, 3), 8),
    (12, 10, 1, (5, 3), 12),
    (20, 8, 4, (1, 1), 16),
    (9, 9, 2, (3, 3), 24),
    (24, 6, 1, (7, 3), 6),
    (8, 8, 8, (3, 3), 32),
    (25, 5, 1, (10, 4), 20),
    (14, 14, 3, (3, 3), 16),
    (6, 12, 16, (1, 1), 32),  # 40 channels: weights and code past the Cortex-M3 board's 256 KiB of flash
]


class _Prefer:
    """A stand-in cost model that ranks the in-place kernels first (or last), to force each end."""

    def __init__(self, in_place: bool) -> None:
        self.in_place = in_place

    def estimate(self, layer, graph) -> int:
        return 0 if layer.in_place == self.in_place else 1


def model(h: int, w: int, c: int, kernel: tuple[int, int], channels: int, seed: int):
    net = Net(f"cost shapes {h}x{w}x{c}", (1, h, w, c), seed)
    x = net.conv(net.input, channels, kernel)
    x = net.conv(net.depthwise(x), channels, (1, 1))  # in place where its input dies
    x = net.depthwise(x)
    y = net.conv(x, channels, (3, 3))
    x = net.add_relu(y, net.conv(x, channels, (1, 1), relu=False))
    x = net.depthwise(x, stride=2)
    x = net.conv(x, 2 * channels, (1, 1))
    x = net.conv(x, 2 * channels, (3, 3))  # in place where its input dies
    x = net.conv(x, 2 * channels, (3, 3), stride=2)
    x = net.dense(net.dense(net.global_average_pool(x), 8 * channels, relu=True), 4 * channels, relu=True)
    return net.build(net.softmax(net.dense(x, 10, relu=False)))


def measure(board_id: str) -> tuple[list, list]:
    """Each layer's (kernel, features, instructions) with every variant out of place, and for each
    layer that runs in place in the other build: (its kernel, features, in place minus out of place)."""
    board = load_board(board_id)
    rows, deltas = [], []
    for seed, shape in enumerate(SHAPES):
        graph = model(*shape, seed=seed)
        loaded = LoadedModel(graph, write_tflite(graph), f"cost-{seed}")
        runs = {}
        for in_place in (False, True):
            compiled = compile_model(loaded, board, optimize="speed", costs=_Prefer(in_place))
            with open_target(compiled, board) as target:
                counts = target.profile(random_samples(graph, 1, seed)[0])
            runs[in_place] = [
                (layer, layer_features(layer, compiled.lowered.graph), count)
                for layer, count in zip(compiled.lowered.layers, counts.layers)
            ]
        rows += [(layer.kernel, features, count) for layer, features, count in runs[False] if layer.kernel]
        for (base, features, count), (variant, _, variant_count) in zip(runs[False], runs[True]):
            if variant.kernel != base.kernel:
                deltas.append((variant.kernel, base.kernel, features, variant_count - count, count))
        print(f"{board_id}: model {seed + 1}/{len(SHAPES)} measured", file=sys.stderr)
    return rows, deltas


def fit(rows: list[tuple[tuple[int, ...], int]]) -> list[float]:
    """Non-negative coefficients minimising the relative error of the estimates."""
    a = np.array([f for f, _ in rows], float)
    y = np.array([c for _, c in rows], float)
    coefficients, _ = nnls(a / y[:, None], np.ones(len(y)))
    return _rounded(coefficients)


def fit_difference(base: list[float], deltas: list[tuple[tuple[int, ...], int, int]]) -> list[float]:
    """A variant's coefficients: its twin's plus a least-squares fit of what it adds (or saves) on the
    same layers, in error relative to the twin's instructions, so that the choice between the two
    rests on measured differences."""
    a = np.array([f for f, _, _ in deltas], float)
    d = np.array([delta for _, delta, _ in deltas], float)
    scale = np.array([count for _, _, count in deltas], float)
    extra, *_ = np.linalg.lstsq(a / scale[:, None], d / scale, rcond=None)
    return _rounded(np.array(base) + extra)


def _rounded(coefficients) -> list[float]:
    return [float(f"{c:.4g}") if abs(c) > 1e-6 else 0.0 for c in coefficients]


def main() -> None:
    cores = {}
    for core, board_id in BOARDS.items():
        rows, deltas = measure(board_id)
        by_kernel, by_variant = defaultdict(list), defaultdict(list)
        for kernel, features, count in rows:
            by_kernel[kernel].append((features, count))
        table = {kernel: fit(samples) for kernel, samples in sorted(by_kernel.items())}
        for variant, base, features, delta, count in deltas:
            by_variant[variant, base].append((features, delta, count))
        for (variant, base), samples in sorted(by_variant.items()):
            table[variant] = fit_difference(table[base], samples)
        table[ANY_KERNEL] = fit([(f, c) for _, f, c in rows])
        cores[core] = dict(sorted(table.items()))
    data = {
        "unit": "instructions",
        "measured_on": BOARDS,
        "regenerate": "python3 benchmarks/costs.py",
        "features": list(FEATURES),
        "cores": cores,
    }
    COSTS_JSON.write_text(_compact(data) + "\n")
    print(f"wrote {COSTS_JSON}")


def _compact(data: dict) -> str:
    """JSON with one line per kernel: readable and small."""
    head = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in data.items() if k != "cores"]
    cores = []
    for core, table in data["cores"].items():
        rows = ",\n".join(f"      {json.dumps(k)}: {json.dumps(v)}" for k, v in table.items())
        cores.append(f"    {json.dumps(core)}: {{\n{rows}\n    }}")
    body = ",\n".join(cores)
    return "{\n" + ",\n".join([*head, f'  "cores": {{\n{body}\n  }}']) + "\n}"


if __name__ == "__main__":
    main()
