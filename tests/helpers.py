"""What several test modules share: the emulated boards, the CLI runner, models from graphs."""

from __future__ import annotations

from click.testing import CliRunner

from tinygen.boards import list_boards
from tinygen.cli import main
from tinygen.compiler.pipeline import LoadedModel
from tinygen.frontends.tflite_reader import parse_tflite
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.ir import Graph

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
