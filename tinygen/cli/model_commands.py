"""Commands that read a model and write files: boards, inspect, quantize, plan, build."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table

from ..boards import Board, list_boards, load_board
from ..compiler.fit import estimate_fit
from ..compiler.pipeline import compile_model, load_model
from ..errors import TinygenError
from ..escape import terminal as show
from ..escape import terminal_line
from ..reports.report import write_report
from .app import (
    BOARD_OPTION,
    JSON_OPTION,
    OPTIMIZE_OPTION,
    QuantizerOptions,
    console,
    main,
    print_json,
    quantizer_options,
)


@main.command()
@JSON_OPTION
def boards(as_json: bool) -> None:
    """List the board profiles."""
    found = list_boards()
    if as_json:
        print_json([_board_summary(b) for b in found])
        return
    table = Table("id", "name", "core", "flash KiB", "RAM KiB", "emulator")
    for b in found:
        s = _board_summary(b)
        table.add_row(b.id, show(b.name), b.core, _kib(s["flash_bytes"]), _kib(s["ram_bytes"]), s["emulator"] or "-")
    console.print(table)


def _board_summary(b: Board) -> dict:
    return {
        "id": b.id,
        "name": b.name,
        "mcu": b.mcu,
        "core": b.core,
        "clock_hz": b.clock_hz,
        "flash_bytes": b.flash.size_bytes,
        "ram_bytes": b.ram.size_bytes,
        "emulator": b.qemu_machine,
    }


def _kib(n: int) -> str:
    """Whole KiB with thousands separators (portenta's 523,624 bytes: 511)."""
    return f"{round(n / 1024):,}"


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@JSON_OPTION
def inspect(model: str, as_json: bool) -> None:
    """Show a model's ops, shapes, quantization, parameters and MACs."""
    from ..reports.summary import describe_model

    info = describe_model(load_model(model).graph)
    if as_json:
        print_json(info)
        return
    table = Table("#", "op", "output", "dtype", "scale / zero point", "params", "MACs", title=show(model))
    for op in info["ops"]:
        out = op["outputs"][0] if op["outputs"] else {"shape": [], "dtype": "", "index": -1}
        q = out.get("quantization", {})
        quant = f"{q['scale']:.6g} / {q['zero_point']}" if "scale" in q else ""
        name = show(op["op"]) if op["status"] in ("supported", "quantized") else f"{show(op['op'])} ({op['status']})"
        table.add_row(
            str(op["index"]), name, str(out["shape"]), out["dtype"], quant, f"{op['parameters']:,}", f"{op['macs']:,}"
        )
    console.print(table)
    for role in ("inputs", "outputs"):
        for t in info[role]:
            q = t.get("quantization", {})
            quant = f", scale {q['scale']:.6g}, zero point {q['zero_point']}" if "scale" in q else ""
            console.print(f"{role[:-1]} {show(t['name'])}: {t['dtype']} {t['shape']}{quant}")
    for op in info["ops"]:
        if op["status"] == "unsupported":
            console.print(f"op {op['index']} ({show(op['op'])}) unsupported: {terminal_line(op['reason'])}")
    if any(op["status"] == "quantized" for op in info["ops"]):
        console.print(
            "a float model: tinygen quantizes it to int8 from calibration inputs "
            "(tinygen quantize, or --calibration with build, plan, verify, ...)"
        )
    console.print(
        f"{len(info['ops'])} ops, {info['parameters']:,} parameters ({info['weight_bytes']:,} bytes), "
        f"{info['macs']:,} MACs"
    )


@main.command("quantize")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="The int8 model [default: <model name>_int8.tflite beside MODEL].",
)
@click.option("--report", is_flag=True, help="Show per-tensor ranges, int8 parameters and SQNR.")
@click.option("--force", is_flag=True, help="Replace an existing output file that tinygen did not write.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with the report).")
@quantizer_options
def quantize_command(
    model: str, output: str | None, report: bool, force: bool, as_json: bool, quantizer: QuantizerOptions
) -> None:
    """Quantize a float MODEL (.tflite, or .keras/.h5 with TensorFlow) to a full-integer int8 .tflite."""
    from ..compiler.pipeline import read_model
    from ..quantize import is_float_graph, load_calibration, parameter_bytes, quantize
    from ..quantize.output import write_model_file

    if quantizer.calibration is None:
        raise click.UsageError("Missing option '--calibration': sample inputs to calibrate the int8 ranges on.")
    loaded = read_model(model)
    if not is_float_graph(loaded.graph):
        raise TinygenError(f"{model} is already quantized; tinygen quantize reads float models")
    data = load_calibration(quantizer.calibration, loaded.graph)
    result = quantize(
        loaded.graph,
        data,
        quantizer.method,
        quantizer.per_channel,
        quantizer.float_io,
        report=report or as_json,
        progress=True,
    )
    out = Path(output or Path(model).with_name(f"{Path(model).stem}_int8.tflite"))
    write_model_file(out, result.tflite_bytes, Path(model), force)
    sizes = {"float": parameter_bytes(loaded.graph), "int8": parameter_bytes(result.graph)}
    if as_json:
        print_json({"output": str(out), "parameter_bytes": sizes, "report": result.report.as_json()})
        return
    if report:
        _print_quantization_report(result.report)
    click.echo(f"wrote {out}: {len(result.graph.ops)} ops, parameters {sizes['float']:,} -> {sizes['int8']:,} bytes")


def _print_quantization_report(report) -> None:
    table = Table(
        "tensor",
        "from",
        "range",
        "scale",
        "zero point",
        "SQNR dB",
        title=f"{report.method} ranges over {report.samples} samples",
    )
    table.columns[0].overflow = "fold"  # converter names are long, and the end tells layers apart
    for t in report.tensors:
        table.add_row(
            show(t.name),
            t.kind,
            f"[{t.low:.4g}, {t.high:.4g}]",
            f"{t.scale:.4g}",
            str(t.zero_point),
            f"{t.sqnr_db:.1f}",
        )
    console.print(table)
    if report.float_accuracy is not None:
        console.print(
            f"top-1 on the calibration labels: float {report.float_accuracy:.2%}, "
            f"int8 (simulated) {report.int8_accuracy:.2%}"
        )
    if report.float_mae is not None:
        console.print(
            f"mean absolute error on the calibration labels: float {report.float_mae:.4g}, "
            f"int8 (simulated) {report.int8_mae:.4g}"
        )


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@BOARD_OPTION
@JSON_OPTION
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Also write report.html (memory timeline, flash map) into this directory.",
)
@OPTIMIZE_OPTION
@quantizer_options
def plan(
    model: str, board_name: str, as_json: bool, report_dir: str | None, optimize: str, quantizer: QuantizerOptions
) -> None:
    """Show MODEL's static memory plan on BOARD: arena, lower bound, flash, RAM, fit, live bytes, and each
    layer's kernel variant with its estimated instructions."""
    from ..reports.report import plan_summary

    board = load_board(board_name)
    compiled = compile_model(quantizer.load(model), board, optimize)
    summary = plan_summary(compiled, board)
    if report_dir:
        write_report(Path(report_dir), compiled, board)
    if as_json:
        print_json(summary)
        sys.exit(0 if summary["fits"] else 1)
    columns = ("#", "op", "kernel", "choice", "est. instructions", "output bytes", "live bytes")
    table = Table(*columns, title=f"{show(model)} on {board.id}")
    for layer in summary["layers"]:
        table.add_row(
            str(layer["index"]),
            layer["op"],
            layer["kernel"],
            layer["choice"],
            f"{layer['estimated_instructions']:,}" if layer["kernel"] != "(alias)" else "-",
            f"{layer['output_bytes']:,}",
            f"{layer['live_bytes']:,}",
        )
    console.print(table)
    console.print(compiled.choice.describe())
    fit = estimate_fit(compiled, board)
    console.print(f"arena {summary['arena_bytes']:,} bytes ({summary['strategy']}); {_against_bound(summary)}")
    if summary["state"]:
        console.print(f"state kept between invokes {summary['state_bytes']:,} bytes, apart from the arena:")
        for slot in summary["state"]:
            console.print(f"  {show(slot['what'])}: {slot['bytes']:,} bytes", markup=False)
    for region in (fit.flash, fit.ram):
        console.print(region.describe())
    console.print(fit.describe_stack())
    if fit.stack:
        console.print(f"inference stack on {fit.inference_stack.core}: {fit.inference_stack.describe()}")
    console.print("fits" if fit.fits else f"does not fit {board.id}")
    sys.exit(0 if fit.fits else 1)


def _against_bound(summary: dict) -> str:
    """The arena against the lower bound: the most bytes alive at one layer when every tensor has its
    own buffer (README, "Memory plan")."""
    arena, bound = summary["arena_bytes"], summary["lower_bound_bytes"]
    if arena < bound:
        return f"in-place layers put it {bound - arena:,} bytes under the lower bound {bound:,}"
    if arena == bound:
        return "equal to the lower bound"
    return f"lower bound {bound:,} bytes ({100 * (arena - bound) / bound:.1f}% above it)"


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@BOARD_OPTION
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Project directory [default: ./<model name>-<board>].",
)
@click.option("--no-compile", is_flag=True, help="Write the sources only.")
@click.option("--force", is_flag=True, help="Write into a folder that holds files tinygen did not write (they stay).")
@click.option(
    "--demo-input",
    type=click.Path(dir_okay=False),
    default=None,
    help="The input the firmware runs on its own to print results on its serial port: .npy, or .npz with one "
    "array per model input (the first sample) [default: the real value 0].",
)
@click.option(
    "--labels",
    type=click.Path(dir_okay=False),
    default=None,
    help="Names of the first output's values, one per line (UTF-8): the firmware prints them with its results.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: the directory, the fit and, once built, sizes.")
@OPTIMIZE_OPTION
@quantizer_options
def build(
    model: str,
    board_name: str,
    out_dir: str | None,
    no_compile: bool,
    force: bool,
    demo_input: str | None,
    labels: str | None,
    as_json: bool,
    optimize: str,
    quantizer: QuantizerOptions,
) -> None:
    """Compile MODEL into C sources for BOARD and build them (a float MODEL needs --calibration)."""
    from ..device.demo import load_demo
    from ..device.firmware import build_project

    board = load_board(board_name)
    compiled = compile_model(quantizer.load(model), board, optimize)
    if board.native and (demo_input or labels):
        raise click.UsageError("--demo-input and --labels are for firmware; the host build has no serial port")
    demo = load_demo(compiled.model.graph, demo_input, labels)
    directory = Path(out_dir or f"{Path(model).stem}-{board.id}")
    project = build_project(compiled, board, directory, compile=not no_compile, force=force, demo=demo)
    if as_json:
        print_json({"board": board.id, **project.as_json()})
    else:
        click.echo(project.describe(compiled.plan.arena_bytes))
