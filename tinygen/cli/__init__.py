"""The `tinygen` command: parses arguments, calls the stages, prints. No stage imports this module."""
from __future__ import annotations

import functools
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from .. import __version__
from ..boards import Board, list_boards, load_board
from ..errors import TinygenError
from ..compiler.fit import check_fit, estimate_fit
from ..reports.report import write_report
from ..compiler.pipeline import compile_model, load_model, load_or_quantize
from ..quantize.ranges import METHODS

console = Console()


class TinygenGroup(click.Group):
    """Turns every failure into one `tinygen: error: ...` line and a non-zero exit (--debug re-raises)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort):
            raise
        except click.UsageError as e:
            _fail(ctx, e, f"{e.format_message()} (see tinygen {ctx.invoked_subcommand} --help)", code=2)
        except TinygenError as e:
            _fail(ctx, e, str(e))
        except OSError as e:  # a file or directory the user named: unreadable, unwritable, missing
            _fail(ctx, e, f"cannot access{f' {e.filename}' if e.filename else ''}: {e.strerror or e}")
        except click.ClickException:
            raise
        except Exception as e:  # a bug in tinygen: still one line
            _fail(ctx, e, f"internal error: {type(e).__name__}: {e} (rerun with --debug)")


def _fail(ctx: click.Context, error: Exception, message: str, code: int = 1):
    if ctx.obj and ctx.obj.get("debug"):
        raise error
    click.echo(f"tinygen: error: {message}", err=True)
    sys.exit(code)


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

_QUANTIZER_OPTIONS = (
    click.option("--calibration", type=click.Path(dir_okay=False),
                 help="Sample inputs (.npy, or .npz with x and optionally y) to quantize a float model with."),
    click.option("--method", type=click.Choice(METHODS), default="minmax", show_default=True,
                 help="How activation ranges are chosen (see the README's Float models section)."),
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
    from ..reports.summary import describe_model

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
@click.option("--json", "as_json", is_flag=True, help="Print JSON: the directory, the fit and, once built, sizes.")
@quantizer_options
def build(model: str, board_name: str, out_dir: str | None, no_compile: bool, as_json: bool,
          quantizer: QuantizerOptions) -> None:
    """Compile MODEL into C sources for BOARD and build them (a float MODEL needs --calibration)."""
    board = load_board(board_name)
    compiled = compile_model(quantizer.load(model))
    directory = Path(out_dir or f"{Path(model).stem}-{board.id}")
    fit = check_fit(compiled, board)  # refuse before writing anything
    write_report(directory, compiled, board)
    if board.native:
        from ..device.host import build_host

        if no_compile:
            compiled.generated.write(directory)
        binary = None if no_compile else build_host(compiled.generated, directory)
        result = {"directory": str(directory), "fit": fit.as_json(), "binary": str(binary) if binary else None}
        message = f"built {binary}" if binary else f"wrote {directory}"
        message += f" (arena {compiled.plan.arena_bytes:,} bytes)"
    else:
        from ..device.firmware import build_firmware

        firmware = build_firmware(compiled, board, directory, compile=not no_compile)
        result = firmware.as_json()
        message = f"estimate: {fit.flash.describe()}; {fit.ram.describe()}\n"
        if firmware.build is None:
            message += f"wrote {directory}; build it with `pio run -d {directory}`"
        else:
            elf = firmware.build
            message += (f"built {elf.elf}: flash {elf.flash_bytes:,} bytes (estimate {fit.flash.needed_bytes:,}), "
                        f"RAM {elf.ram_bytes:,} bytes (estimate {fit.ram.needed_bytes:,})")
    if as_json:
        _print_json({"board": board.id, **result})
    else:
        click.echo(message)


PORT_OPTION = click.option("--port", default=None,
                           help="Serial port of a board running the model's firmware [default: the board's emulator].")


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@BOARD_OPTION
@click.option("--samples", default=100, show_default=True, type=click.IntRange(1), help="Random inputs to try.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random inputs.")
@click.option("--data", type=click.Path(dir_okay=False), default=None,
              help="Inputs instead of random ones: .npy, or .npz with x (and labels y for accuracy).")
@PORT_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@quantizer_options
def verify(model: str, board_name: str, samples: int, seed: int, data: str | None, port: str | None, as_json: bool,
           quantizer: QuantizerOptions) -> None:
    """Run MODEL compiled for BOARD and tflite-micro on the same inputs; exit 0 only if bit-exact."""
    from ..verify import random_samples, verify_on_host

    board = load_board(board_name)
    if board.native and port:
        raise click.UsageError("--port needs a firmware board, not --board host")
    loaded = quantizer.load(model)
    compiled = compile_model(loaded)
    labels = None
    if data:
        from ..device.ondevice import quantize_input
        from ..quantize import load_calibration

        dataset = load_calibration(data, loaded.graph)
        first = loaded.graph.tensor(loaded.graph.inputs[0])
        inputs, labels = [[quantize_input(first, x)] for x in dataset.x], dataset.y
    else:
        inputs = random_samples(loaded.graph, samples, seed)
    with tempfile.TemporaryDirectory(prefix="tinygen-verify-") as workdir:
        if board.native:
            result = verify_on_host(compiled, inputs, Path(workdir))
        else:
            from ..device.ondevice import open_device, verify_on_device

            with open_device(compiled, board, port, Path(workdir)) as device:
                result = verify_on_device(device, compiled, inputs, labels, progress=not as_json)
    if as_json:
        click.echo(json.dumps(result.as_json()))
    else:
        click.echo(result.summary())
    sys.exit(0 if result.bit_exact else 1)


@main.command("quantize")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="The int8 model [default: <model name>_int8.tflite beside MODEL].")
@click.option("--report", is_flag=True, help="Show per-tensor ranges, int8 parameters and SQNR.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with the report).")
@quantizer_options
def quantize_command(model: str, output: str | None, report: bool, as_json: bool, quantizer: QuantizerOptions) -> None:
    """Quantize a float MODEL (.tflite, or .keras/.h5 with TensorFlow) to a full-integer int8 .tflite."""
    from ..compiler.pipeline import read_model
    from ..quantize import is_float_graph, load_calibration, parameter_bytes, quantize

    if quantizer.calibration is None:
        raise click.UsageError("Missing option '--calibration': sample inputs to calibrate the int8 ranges on.")
    loaded = read_model(model)
    if not is_float_graph(loaded.graph):
        raise TinygenError(f"{model} is already quantized; tinygen quantize reads float models")
    data = load_calibration(quantizer.calibration, loaded.graph)
    result = quantize(loaded.graph, data, quantizer.method, quantizer.per_channel, quantizer.float_io,
                      report=report or as_json, progress=True)
    out = Path(output or Path(model).with_name(f"{Path(model).stem}_int8.tflite"))
    try:
        out.write_bytes(result.tflite_bytes)
    except OSError as e:
        raise TinygenError(f"cannot write {out}: {e.strerror}") from e
    sizes = {"float": parameter_bytes(loaded.graph), "int8": parameter_bytes(result.graph)}
    if as_json:
        _print_json({"output": str(out), "parameter_bytes": sizes, "report": result.report.as_json()})
        return
    if report:
        _print_quantization_report(result.report)
    click.echo(f"wrote {out}: {len(result.graph.ops)} ops, parameters {sizes['float']:,} -> {sizes['int8']:,} bytes")


def _print_quantization_report(report) -> None:
    table = Table("tensor", "from", "range", "scale", "zero point", "SQNR dB",
                  title=f"{report.method} ranges over {report.samples} samples")
    table.columns[0].overflow = "fold"  # converter names are long, and the end tells layers apart
    for t in report.tensors:
        table.add_row(t.name, t.kind, f"[{t.low:.4g}, {t.high:.4g}]", f"{t.scale:.4g}", str(t.zero_point),
                      f"{t.sqnr_db:.1f}")
    console.print(table)
    if report.float_accuracy is not None:
        console.print(f"top-1 on the calibration labels: float {report.float_accuracy:.2%}, "
                      f"int8 (simulated) {report.int8_accuracy:.2%}")


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@BOARD_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False), default=None,
              help="Also write report.html (memory timeline, flash map) into this directory.")
@quantizer_options
def plan(model: str, board_name: str, as_json: bool, report_dir: str | None, quantizer: QuantizerOptions) -> None:
    """Show MODEL's static memory plan on BOARD: arena, lower bound, flash, RAM, fit, live bytes per layer."""
    from ..reports.report import plan_summary

    board = load_board(board_name)
    compiled = compile_model(quantizer.load(model))
    summary = plan_summary(compiled, board)
    if report_dir:
        write_report(Path(report_dir), compiled, board)
    if as_json:
        _print_json(summary)
        return
    table = Table("#", "op", "kernel", "output bytes", "live bytes", title=f"{model} on {board.id}")
    for layer in summary["layers"]:
        table.add_row(str(layer["index"]), layer["op"], layer["kernel"], f"{layer['output_bytes']:,}",
                      f"{layer['live_bytes']:,}")
    console.print(table)
    fit = estimate_fit(compiled, board)
    console.print(f"arena {summary['arena_bytes']:,} bytes ({summary['strategy']}); lower bound "
                  f"{summary['lower_bound_bytes']:,} bytes ({100 * summary['gap_to_lower_bound']:+.1f}%)")
    console.print(f"weights {fit.weights_bytes:,} bytes, code about {fit.code_estimate_bytes:,} bytes")
    for region in (fit.flash, fit.ram):
        console.print(region.describe())
    console.print("fits" if fit.fits else f"does not fit {board.id}")


@main.command("invoke")
@click.argument("model", type=click.Path(dir_okay=False))
@BOARD_OPTION
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False),
              help="The input (.npy): real values, quantized with the model's input scale and zero point.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the first output, dequantized to float32, as .npy.")
@PORT_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON: each output's shape, raw values and real values.")
@quantizer_options
def invoke_command(model: str, board_name: str, input_path: str, output: str | None, port: str | None,
                   as_json: bool, quantizer: QuantizerOptions) -> None:
    """Run MODEL once on BOARD (the host, an emulator, or the board on --port) and print the outputs."""
    import numpy as np

    from ..device.ondevice import dequantize, open_device, quantize_input

    board = load_board(board_name)
    loaded = quantizer.load(model)
    graph = loaded.graph
    try:
        x = np.load(input_path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise TinygenError(f"cannot read {input_path}: expected a .npy array ({e})") from None
    if not isinstance(x, np.ndarray):
        raise TinygenError(f"{input_path} is an .npz archive; --input takes one .npy array")
    sample = [quantize_input(graph.tensor(graph.inputs[0]), x)]
    compiled = compile_model(loaded)
    with tempfile.TemporaryDirectory(prefix="tinygen-invoke-") as workdir:
        if board.native:
            from ..device.host import HostModel, build_host

            outputs = HostModel(build_host(compiled.generated, Path(workdir)), graph).run([sample]).outputs[0]
        else:
            with open_device(compiled, board, port, Path(workdir)) as device:
                outputs = device.run(graph, sample)
    values = [dequantize(graph.tensor(i), q) for i, q in zip(graph.outputs, outputs)]
    if output:
        np.save(output, values[0])
    if as_json:
        _print_json({"outputs": [{"shape": list(q.shape), "raw": q.reshape(-1).tolist(),
                                  "values": v.reshape(-1).tolist()} for q, v in zip(outputs, values)]})
        return
    for i, (q, v) in enumerate(zip(outputs, values)):
        click.echo(f"output {i} {list(q.shape)}: raw {q.reshape(-1).tolist()}")
        click.echo(f"output {i} values: {[float(f'{a:.6g}') for a in v.reshape(-1)]}")
    if output:
        click.echo(f"wrote {output}")


@main.command("profile")
@click.argument("model", type=click.Path(dir_okay=False))
@BOARD_OPTION
@PORT_OPTION
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random input profiled.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@quantizer_options
def profile_command(model: str, board_name: str, port: str | None, seed: int, as_json: bool,
                    quantizer: QuantizerOptions) -> None:
    """Per-layer cycles (a real board) or instructions (the emulator) of one inference of MODEL."""
    from ..device.ondevice import open_device
    from ..reports.profile import build_profile
    from ..verify import random_samples

    board = load_board(board_name)
    if board.native:
        raise TinygenError("profile needs a firmware board: the host has no cycle counter")
    loaded = quantizer.load(model)
    compiled = compile_model(loaded)
    sample = random_samples(loaded.graph, 1, seed)[0]
    with tempfile.TemporaryDirectory(prefix="tinygen-profile-") as workdir:
        with open_device(compiled, board, port, Path(workdir)) as device:
            result = build_profile(compiled, device.profile(loaded.graph, sample))
    if as_json:
        _print_json(result.as_json())
        return
    table = Table("#", "op", "output", "MACs", result.unit, "share", f"MACs per {result.unit[:-1]}",
                  title=f"{model} on {board.id} ({result.unit})")
    for p in result.layers:
        table.add_row(str(p.index), p.op, str(list(p.output_shape)), f"{p.macs:,}", f"{p.count:,}",
                      f"{p.count / max(result.total, 1):.1%}", f"{p.macs / p.count:.3f}" if p.count else "-")
    table.add_row("", "total", "", f"{result.macs:,}", f"{result.total:,}", "100.0%",
                  f"{result.macs / max(result.total, 1):.3f}")
    console.print(table)


@main.command("flash")
@BOARD_OPTION
@PORT_OPTION
@click.argument("project", type=click.Path(file_okay=False, exists=True), default=".")
def flash_command(board_name: str, port: str | None, project: str) -> None:
    """Upload the firmware project PROJECT (from `tinygen build`) to BOARD with PlatformIO."""
    from ..device.firmware import flash

    board = load_board(board_name)
    used = flash(board, Path(project), port)
    click.echo(f"flashed {board.id} on {used}")
