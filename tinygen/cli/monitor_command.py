"""`tinygen monitor`: watch a board's readable lines (results, latency, input drift)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import click

from ..boards import load_board
from ..compiler.pipeline import compile_model
from ..device.monitor import Baseline, Result, Watch, describe, parse_result
from ..errors import TinygenError, ToolError
from ..escape import terminal_line
from .app import JSON_OPTION, QuantizerOptions, main, print_json, quantizer_options

BAUD = 115200
LINE_LIMIT = 4096  # bytes without a newline: not a readable line, dropped


@main.command("monitor")
@click.argument("model", type=click.Path(dir_okay=False), required=False)
@click.option("--board", "board_name", default=None, help="The board (needed without --port: runs it in QEMU).")
@click.option("--port", default=None, help="Serial port of a board running tinygen firmware.")
@click.option("--count", type=click.IntRange(1), default=None, help="Stop after this many results [default: Ctrl-C].")
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds to wait for a line before giving up.",
)
@click.option(
    "--demo-input", type=click.Path(dir_okay=False), default=None, help="In the emulator: the input the firmware runs."
)
@click.option(
    "--labels", type=click.Path(dir_okay=False), default=None, help="In the emulator: names of output 0's values."
)
@JSON_OPTION
@quantizer_options
def monitor_command(
    model: str | None,
    board_name: str | None,
    port: str | None,
    count: int | None,
    timeout_s: float,
    demo_input: str | None,
    labels: str | None,
    as_json: bool,
    quantizer: QuantizerOptions,
) -> None:
    """Show the results a board prints on its serial port (tinygen firmware talks when no tool uses its
    link): label, score, microseconds, and input 0's statistics. With MODEL, inputs are checked against
    its quantization (values clipped at the int8 limits) and, with --calibration, the calibration
    set's means: the monitor warns when the inputs drift from what the model was calibrated on.
    Without --port, MODEL runs on BOARD's emulator."""
    if port is None and not (model and board_name):
        raise click.UsageError("give --port, or MODEL and --board to run it in the board's emulator")
    baseline = None
    with ExitStack() as stack:
        compiled = None
        if model:
            loaded = quantizer.load(model)
            compiled = compile_model(loaded)
            calibration = _calibration(quantizer.calibration, loaded.graph)
            baseline = Baseline.of(compiled.model.graph, compiled.model.model_hash, calibration)
        url = port or _start_in_emulator(stack, compiled, board_name, demo_input, labels)
        watch = Watch(baseline)
        try:
            for line in _lines(stack, url, timeout_s):
                result = parse_result(line)
                if result is None:
                    _show_line(line, watch, as_json)
                    continue
                _show_result(result, watch, as_json)
                if count and len(watch.results) >= count:
                    break
        except KeyboardInterrupt:
            pass
    summary = watch.summary()
    if as_json:
        print_json({**summary, "lines": [r.as_json() for r in watch.results]})
    elif watch.results:
        latency = summary["latency_us"]
        click.echo(
            f"{summary['results']} results; latency {latency['min']:,}-{latency['max']:,} us "
            f"(mean {latency['mean']:,.0f}); inputs clipped at the int8 limits: "
            f"{summary['input']['saturated_fraction']:.1%}"
        )


def _calibration(path: str | None, graph) -> list | None:
    if not path:
        return None
    from ..quantize.calibrate import load_calibration

    data = load_calibration(path, graph)
    return data.inputs


def _start_in_emulator(stack: ExitStack, compiled, board_name: str, demo_input: str | None, labels: str | None) -> str:
    from ..device import qemu
    from ..device.demo import load_demo
    from ..device.firmware import build_firmware

    board = load_board(board_name)
    if not board.qemu_machine:
        raise TinygenError(f"board '{board.id}' has no emulator: flash it and pass --port")
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tinygen-")))
    demo = load_demo(compiled.model.graph, demo_input, labels)
    elf = build_firmware(compiled, board, workdir, demo=demo).build.elf
    return stack.enter_context(qemu.start_serial(board, elf, icount_shift=qemu.ICOUNT_SHIFT)).url


def _lines(stack: ExitStack, url: str, timeout_s: float) -> Iterator[str]:
    """Lines from the port as they come; a ToolError after timeout_s without one."""
    import serial

    try:
        port = serial.serial_for_url(url, baudrate=BAUD, timeout=0.2)
    except (serial.SerialException, ValueError) as e:
        raise ToolError(f"cannot open {url}: {e}") from None
    stack.callback(port.close)
    pending = b""
    last = time.monotonic()
    while True:
        try:
            chunk = port.read(256)
        except (serial.SerialException, OSError) as e:
            raise ToolError(f"{url} failed: {e}") from None
        if chunk:
            pending += chunk
            *complete, pending = pending.split(b"\n")
            pending = pending[-LINE_LIMIT:]
            for raw in complete:
                last = time.monotonic()
                yield raw.rstrip(b"\r").decode("utf-8", errors="replace")
        elif time.monotonic() - last > timeout_s:
            raise ToolError(
                f"no line from {url} in {timeout_s:g} s: is it running tinygen firmware, and is no other "
                "program (a tinygen tool, a Serial Monitor) holding the port?"
            )


def _show_line(line: str, watch: Watch, as_json: bool) -> None:
    warning = watch.check_banner(line)
    if as_json:
        return
    if line.strip():
        click.echo(terminal_line(line))
    if warning:
        click.echo(f"warning: {warning}", err=True)


def _show_result(result: Result, watch: Watch, as_json: bool) -> None:
    warnings = watch.add(result)
    if as_json:
        return
    click.echo(describe(result))
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
