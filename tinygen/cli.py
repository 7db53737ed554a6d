"""The `tinygen` command: parses arguments, calls the stages, prints. No stage imports this module."""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from . import __version__
from .boards import Board, list_boards, load_board
from .errors import TinygenError
from .pipeline import compile_model, load_model

console = Console()


class TinygenGroup(click.Group):
    """Turns every TinygenError into one `tinygen: error: ...` line and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except TinygenError as e:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"tinygen: error: {e}", err=True)
            sys.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as e:  # a bug in tinygen: still one line unless --debug
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"tinygen: error: internal error: {type(e).__name__}: {e} (rerun with --debug)", err=True)
            sys.exit(1)


@click.group(cls=TinygenGroup)
@click.version_option(__version__, prog_name="tinygen")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Compile neural networks into static C firmware for microcontrollers."""
    ctx.obj = {"debug": debug}


def _print_json(data) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


BOARD_OPTION = click.option("--board", "board_name", required=True,
                            help="Board id (see `tinygen boards`) or a path to a board .toml file.")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def boards(as_json: bool) -> None:
    """List the board profiles."""
    found = list_boards()
    if as_json:
        _print_json([_board_summary(b) for b in found])
        return
    table = Table("id", "name", "core", "flash KiB", "RAM KiB", "emulator")
    for b in found:
        s = _board_summary(b)
        table.add_row(b.id, b.name, b.core, _kib(s["flash_bytes"]), _kib(s["ram_bytes"]), s["emulator"] or "-")
    console.print(table)


def _board_summary(b: Board) -> dict:
    return {"id": b.id, "name": b.name, "mcu": b.mcu, "core": b.core, "clock_hz": b.clock_hz,
            "flash_bytes": b.flash.size_bytes, "ram_bytes": b.ram.size_bytes, "emulator": b.qemu_machine}


def _kib(n: int) -> str:
    return f"{n / 1024:g}"


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def inspect(model: str, as_json: bool) -> None:
    """Show a model's ops, shapes, quantization, parameters and MACs."""
    from .summary import describe_model

    info = describe_model(load_model(model).graph)
    if as_json:
        _print_json(info)
        return
    table = Table("#", "op", "output", "dtype", "scale / zero point", "params", "MACs", title=model)
    for op in info["ops"]:
        out = op["outputs"][0] if op["outputs"] else {"shape": [], "dtype": "", "index": -1}
        q = out.get("quantization", {})
        quant = f"{q['scale']:.6g} / {q['zero_point']}" if "scale" in q else ""
        name = op["op"] if op["supported"] else f"{op['op']} (unsupported)"
        table.add_row(str(op["index"]), name, str(out["shape"]), out["dtype"], quant, f"{op['parameters']:,}",
                      f"{op['macs']:,}")
    console.print(table)
    for role in ("inputs", "outputs"):
        for t in info[role]:
            q = t.get("quantization", {})
            quant = f", scale {q['scale']:.6g}, zero point {q['zero_point']}" if "scale" in q else ""
            console.print(f"{role[:-1]} {t['name']}: {t['dtype']} {t['shape']}{quant}")
    console.print(f"{len(info['ops'])} ops, {info['parameters']:,} parameters ({info['weight_bytes']:,} bytes), "
                  f"{info['macs']:,} MACs")


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@BOARD_OPTION
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Project directory [default: ./<model name>-<board>].")
@click.option("--no-compile", is_flag=True, help="Write the sources only.")
def build(model: str, board_name: str, out_dir: str | None, no_compile: bool) -> None:
    """Compile MODEL into C sources for BOARD and build them."""
    board = load_board(board_name)
    compiled = compile_model(load_model(model))
    directory = Path(out_dir or f"{Path(model).stem}-{board.id}")
    if board.core != "host":
        raise TinygenError(f"board {board.id}: firmware projects are not built yet; use --board host")
    from .targets.host import build_host

    if no_compile:
        compiled.generated.write(directory)
        click.echo(f"wrote {directory} (arena {compiled.plan.arena_bytes} bytes)")
        return
    binary = build_host(compiled.generated, directory)
    click.echo(f"built {binary} (arena {compiled.plan.arena_bytes} bytes)")


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@BOARD_OPTION
@click.option("--samples", default=100, show_default=True, type=click.IntRange(1), help="Random inputs to try.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random inputs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def verify(model: str, board_name: str, samples: int, seed: int, as_json: bool) -> None:
    """Run MODEL compiled for BOARD and tflite-micro on the same inputs; exit 0 only if bit-exact."""
    from .verify import random_samples, verify_on_host

    board = load_board(board_name)
    if board.core != "host":
        raise TinygenError(f"board {board.id}: verification on firmware is not available yet; use --board host")
    loaded = load_model(model)
    compiled = compile_model(loaded)
    inputs = random_samples(loaded.graph, samples, seed)
    with tempfile.TemporaryDirectory(prefix="tinygen-verify-") as workdir:
        result = verify_on_host(compiled, inputs, Path(workdir))
    if as_json:
        click.echo(json.dumps(result.as_json()))
    else:
        click.echo(result.summary())
    sys.exit(0 if result.bit_exact else 1)
