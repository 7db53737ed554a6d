"""The `tinygen` command group: one error line per failure, and the options several commands share.

The CLI parses arguments, calls the stages and prints; it chooses nothing itself. No stage imports it.
"""

from __future__ import annotations

import functools
import json
import sys
from dataclasses import dataclass

import click
from rich.console import Console

from .. import __version__, activity
from ..compiler.optimize import OPTIMIZE
from ..compiler.pipeline import load_or_quantize
from ..errors import TinygenError
from ..escape import terminal_line
from ..quantize.ranges import METHODS

# No markup, no highlighting: names from model and board files are printed as they are (escaped).
console = Console(markup=False, highlight=False, emoji=False)


# Exit codes, documented in the README: 0 ok, 1 a verdict on the user's model or data (not bit-exact,
# does not fit, refused), 2 command-line usage, 3 a tool or the environment failed (or a bug).
EXIT_VERDICT, EXIT_USAGE, EXIT_TOOL = 1, 2, 3


class TinygenGroup(click.Group):
    """Turns every failure into one `tinygen: error: ...` line and a non-zero exit (--debug re-raises)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort):
            raise
        except click.UsageError as e:
            command = f"tinygen {ctx.invoked_subcommand}" if ctx.invoked_subcommand else "tinygen"
            _fail(ctx, e, f"{e.format_message()} (see {command} --help)", code=EXIT_USAGE)
        except TinygenError as e:
            _fail(ctx, e, str(e), code=e.exit_code)
        except OSError as e:  # a file or directory the user named: unreadable, unwritable, missing
            _fail(ctx, e, f"cannot access{f' {e.filename}' if e.filename else ''}: {e.strerror or e}")
        except click.ClickException:
            raise
        except Exception as e:  # a bug in tinygen: still one line
            _fail(ctx, e, f"internal error: {type(e).__name__}: {e} (rerun with --debug)", code=EXIT_TOOL)


def _fail(ctx: click.Context, error: Exception, message: str, code: int = EXIT_VERDICT):
    if ctx.obj and ctx.obj.get("debug"):
        raise error
    click.echo(f"tinygen: error: {terminal_line(message)}", err=True)
    sys.exit(code)


@click.group(cls=TinygenGroup)
@click.version_option(__version__, prog_name="tinygen")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option("-q", "--quiet", is_flag=True, help="No progress or activity lines (errors and results only).")
@click.pass_context
def main(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """Compile neural networks into static C firmware for microcontrollers."""
    ctx.obj = {"debug": debug}
    activity.set_quiet(quiet)


def print_json(data) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


BOARD_OPTION = click.option(
    "--board", "board_name", required=True, help="Board id (see `tinygen boards`) or a path to a board .toml file."
)
PORT_OPTION = click.option(
    "--port", default=None, help="Serial port of a board running the model's firmware [default: the board's emulator]."
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
OPTIMIZE_OPTION = click.option(
    "--optimize",
    type=click.Choice(OPTIMIZE),
    default="balanced",
    show_default=True,
    help="Each layer's kernel variant: the fewest estimated instructions whose arena fits the board's RAM "
    "(balanced), the fastest everywhere (speed), or the smallest arena (memory). `tinygen plan` shows the choice.",
)

_QUANTIZER_OPTIONS = (
    click.option(
        "--calibration",
        type=click.Path(dir_okay=False),
        help="Sample inputs (.npy, or .npz with x and optionally y) to quantize a float model with.",
    ),
    click.option(
        "--method",
        type=click.Choice(METHODS),
        default="minmax",
        show_default=True,
        help="How activation ranges are chosen (see the README's Float models section).",
    ),
    click.option("--per-tensor", is_flag=True, help="One weight scale per tensor instead of per output channel."),
    click.option("--float-io", is_flag=True, help="Keep float inputs and outputs (QUANTIZE/DEQUANTIZE at the edges)."),
)


@dataclass
class QuantizerOptions:
    calibration: str | None
    method: str
    per_channel: bool
    float_io: bool

    def load(self, model: str):
        """The model to compile: int8 as it is, float quantized with the calibration data."""
        return load_or_quantize(model, self.calibration, self.method, self.per_channel, self.float_io, progress=True)


def quantizer_options(command):
    """Adds the quantizer's options; the command receives them as one `quantizer` argument."""

    def wrapper(calibration, method, per_tensor, float_io, **kwargs):
        return command(quantizer=QuantizerOptions(calibration, method, not per_tensor, float_io), **kwargs)

    wrapper = functools.update_wrapper(wrapper, command)
    for option in reversed(_QUANTIZER_OPTIONS):
        wrapper = option(wrapper)
    return wrapper
