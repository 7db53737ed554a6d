"""The variant choice (tinygen/compiler/optimize.py): each end, the walk between them under a RAM
budget, bit-exactness whatever the choice, and the --optimize option."""

import dataclasses
import json

import pytest

from tinygen import zoo
from tinygen.boards import load_board
from tinygen.compiler.pipeline import compile_model
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.zoo import Net

from .bitexact import assert_bit_exact
from .helpers import loaded, run_cli, verify_on_board


class InPlaceSlower:
    """A cost model under which every in-place kernel is slower than its out-of-place twin, so
    that the two ends differ on every model with in-place variants (the choice, not the costs, is
    under test here)."""

    def estimate(self, layer, graph) -> int:
        return 1000 + 100 * graph.tensor(layer.op.outputs[0]).size * (2 if layer.in_place else 1)


def with_ram(board, ram_bytes: int):
    """The board with `ram_bytes` of RAM available to the model (arena and state), reserves kept."""
    total = ram_bytes + board.stack_bytes + board.heap_bytes + board.reserved.ram_bytes
    return dataclasses.replace(board, ram=dataclasses.replace(board.ram, size_bytes=total))


def ends(model, board, costs=None):
    return {o: compile_model(model, board, o, costs) for o in ("memory", "balanced", "speed")}


@pytest.fixture(scope="module")
def ds_cnn():
    return loaded(zoo.ds_cnn(seed=0), "ds_cnn")


def test_the_ends_differ_and_balanced_follows_the_budget(ds_cnn):
    board = load_board("mps2-an386")
    unbounded = ends(ds_cnn, board, InPlaceSlower())
    memory, speed = unbounded["memory"], unbounded["speed"]
    assert memory.plan.arena_bytes < speed.plan.arena_bytes
    assert speed.choice.estimated < memory.choice.estimated
    windows = [layer for layer in speed.lowered.layers if layer.op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    assert not any(layer.in_place for layer in windows)  # in place costs more here
    assert unbounded["balanced"].plan.arena_bytes == speed.plan.arena_bytes  # 4 MiB of RAM: the speed end fits
    # Little RAM: balanced stays at the memory end; speed goes over and says so.
    small = with_ram(board, memory.plan.arena_bytes)
    tight = ends(ds_cnn, small, InPlaceSlower())
    assert tight["balanced"].plan.arena_bytes == memory.plan.arena_bytes
    assert tight["balanced"].choice.estimated == memory.choice.estimated
    assert tight["speed"].choice.fits is False and "does not fit" in tight["speed"].choice.describe()


@pytest.mark.parametrize("name", ["ds_cnn", "resnet8"])
def test_balanced_stays_within_the_budget_and_speeds_up_as_it_grows(name):
    """Budgets from the memory end's arena to the speed end's: the arena never passes the budget, the
    estimate never rises as the budget grows, and the ends are reached."""
    board = load_board("mps2-an386")
    model = loaded(zoo.MLPERF_TINY[name](seed=0), name)
    unbounded = ends(model, board, InPlaceSlower())
    low, high = unbounded["memory"].plan.arena_bytes, unbounded["speed"].plan.arena_bytes
    estimates = []
    for budget in sorted({low, low + (high - low) // 3, low + 2 * (high - low) // 3, high - 1, high}):
        compiled = compile_model(model, with_ram(board, budget), "balanced", InPlaceSlower())
        assert compiled.plan.arena_bytes <= budget
        estimates.append(compiled.choice.estimated)
    assert estimates == sorted(estimates, reverse=True)
    assert estimates[0] == unbounded["memory"].choice.estimated
    assert estimates[-1] == unbounded["speed"].choice.estimated


def test_shipped_costs_order_the_ends():
    """With the measured costs, on the MLPerf Tiny models: speed's estimate is the lowest, memory's
    arena the smallest, and balanced lies between on a board whose RAM holds either."""
    board = load_board("nano33")
    for name, build in zoo.MLPERF_TINY.items():
        compiled = ends(loaded(build(seed=0), name), board)
        memory, balanced, speed = compiled["memory"], compiled["balanced"], compiled["speed"]
        assert speed.choice.estimated <= balanced.choice.estimated <= memory.choice.estimated, name
        assert memory.plan.arena_bytes <= balanced.plan.arena_bytes, name
        assert balanced.choice.fits, name


def test_choice_is_deterministic(ds_cnn):
    board = with_ram(load_board("mps2-an386"), 12_000)
    first, again = (compile_model(ds_cnn, board, "balanced", InPlaceSlower()) for _ in range(2))
    assert [layer.kernel for layer in first.lowered.layers] == [layer.kernel for layer in again.lowered.layers]
    assert first.generated.files == again.generated.files


def small_chain():
    """Convolutions and depthwise layers, each with an in-place variant, small enough to build fast."""
    net = Net("variants", (1, 10, 8, 4), seed=3)
    x = net.conv(net.depthwise(net.input), 8, (1, 1))
    x = net.conv(net.depthwise(x), 8, (3, 3))
    x = net.conv(net.depthwise(x, stride=2), 8, (1, 1))
    return net.build(x)


@pytest.mark.parametrize("optimize", ["memory", "balanced", "speed"])
def test_bit_exact_on_the_host_whatever_the_choice(optimize):
    assert_bit_exact(small_chain(), samples=3, optimize=optimize, costs=InPlaceSlower())


@pytest.mark.parametrize("optimize", ["memory", "speed"])
def test_bit_exact_on_qemu_whatever_the_choice(optimize, qemu_ready, tmp_path):
    graph = small_chain()
    outcome = verify_on_board(graph, "mps2-an386", tmp_path, samples=2, optimize=optimize)
    assert outcome.bit_exact, outcome.summary()


def test_plan_shows_each_layers_choice_and_estimate(tmp_path):
    model = tmp_path / "ds_cnn.tflite"
    model.write_bytes(write_tflite(zoo.ds_cnn(seed=0)))
    code, out, _ = run_cli("plan", model, "--board", "mps2-an386", "--optimize", "memory", "--json")
    summary = json.loads(out)
    assert summary["optimization"]["optimize"] == "memory"
    runs = [layer for layer in summary["layers"] if layer["kernel"] != "(alias)"]
    assert all(layer["estimated_instructions"] > 0 for layer in runs)
    assert summary["optimization"]["estimated_instructions"] == sum(layer["estimated_instructions"] for layer in runs)
    depthwise = [layer for layer in runs if layer["op"] == "DEPTHWISE_CONV_2D"]
    assert all(len(layer["variants"]) == 2 and layer["choice"] in ("fastest", "smaller") for layer in depthwise)
    assert {layer["choice"] for layer in runs if layer["op"] == "SOFTMAX"} == {"only"}
    code, out, _ = run_cli("plan", model, "--board", "mps2-an386", "--optimize", "speed", "--report", tmp_path)
    assert code == 0
    header = next(line for line in out.splitlines() if "kernel" in line)
    assert "choice" in header and "instructi" in header
    assert "--optimize speed: about" in out
    assert "est. instructions" in (tmp_path / "report.html").read_text()


def test_optimize_option_rejects_unknown_values(tmp_path):
    model = tmp_path / "ds_cnn.tflite"
    model.write_bytes(write_tflite(zoo.ds_cnn(seed=0)))
    for command in ("plan", "build", "verify", "profile", "export"):
        code, _, err = run_cli(command, model, "--board", "host", "--optimize", "fastest")
        assert code == 2 and "--optimize" in err, command


def test_small_chain_ends_differ():
    """The bit-exactness tests above run different kernels at each end."""
    model = loaded(small_chain(), "chain")
    compiled = ends(model, None, InPlaceSlower())
    kernels = {o: [layer.kernel for layer in c.lowered.layers] for o, c in compiled.items()}
    assert kernels["memory"] != kernels["speed"] == kernels["balanced"]
    assert {"tg_conv_inplace_s8", "tg_depthwise_3x3_inplace_s8"} <= set(kernels["memory"])
