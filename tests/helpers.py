"""What several test modules share: the emulated boards, the CLI runner, models from graphs."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tinygen.boards import list_boards, load_board
from tinygen.cli import main
from tinygen.compiler.pipeline import LoadedModel, compile_model
from tinygen.device.target import open_target
from tinygen.frontends.tflite_reader import parse_tflite
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.ir import Graph
from tinygen.verify import VerifyResult, random_samples, verify

# Every board profile with a QEMU machine: the firmware tests run on each.
QEMU_BOARDS = [board.id for board in list_boards() if board.qemu_machine]


def run_cli(*args) -> tuple[int, str, str]:
    """`tinygen ARGS...` in-process: exit code, stdout, stderr."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def loaded(graph: Graph, name: str) -> LoadedModel:
    """A graph as tinygen loads it from a file: written as .tflite and read back."""
    data = write_tflite(graph)
    return LoadedModel(parse_tflite(data), data, f"{name}.tflite")


def verify_on_board(
    graph: Graph, board_id: str, workdir: Path, samples: int = 3, seed: int = 5, optimize: str = "memory"
) -> VerifyResult:
    """The graph built as firmware for an emulated board, run in QEMU over the serial link and compared
    bit for bit with tflite-micro (tests using it take the qemu_ready fixture). The memory end by
    default, which runs the in-place kernels wherever they apply."""
    model = loaded(graph, "model")
    board = load_board(board_id)
    compiled = compile_model(model, board, optimize)
    with open_target(compiled, board, workdir=workdir) as target:
        return verify(target, compiled, random_samples(model.graph, samples, seed))
