"""Commands that run a model on a target (the host, an emulator, a board): verify, invoke, profile, flash."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import numpy as np
from rich.table import Table

from ..boards import load_board
from ..compiler.pipeline import compile_model
from ..device.target import open_target
from ..errors import TinygenError
from ..escape import terminal as show
from ..reference import REFERENCES
from .app import (
    BOARD_OPTION,
    JSON_OPTION,
    OPTIMIZE_OPTION,
    PORT_OPTION,
    QuantizerOptions,
    console,
    main,
    print_json,
    quantizer_options,
)


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@BOARD_OPTION
@click.option("--samples", default=100, show_default=True, type=click.IntRange(1), help="Random inputs to try.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random inputs.")
@click.option(
    "--data",
    type=click.Path(dir_okay=False),
    default=None,
    help="Inputs instead of random ones: .npy, or .npz with x (or one array per model input) and labels y. "
    "For a model that keeps state between invokes, an array's first axis is time (T, *input shape): one "
    "sequence, fed step by step; (N, T, *input shape) is N sequences, each from a reset.",
)
@click.option(
    "--reference",
    type=click.Choice(REFERENCES),
    default="auto",
    show_default=True,
    help="What to compare with: tflite-micro, tinygen's numpy reference, or auto (tflite-micro where it is "
    "installed, else numpy).",
)
@PORT_OPTION
@JSON_OPTION
@OPTIMIZE_OPTION
@quantizer_options
def verify(
    model: str,
    board_name: str,
    samples: int,
    seed: int,
    data: str | None,
    reference: str,
    port: str | None,
    as_json: bool,
    optimize: str,
    quantizer: QuantizerOptions,
) -> None:
    """Run MODEL compiled for BOARD and a reference (tflite-micro, or the numpy reference) on the same
    inputs; exit 0 only if bit-exact.

    A model that keeps state between invokes runs its inputs as sequences, each from a reset on both
    sides, and every step's outputs are compared: random inputs make one sequence of --samples steps."""
    from ..verify import random_samples, verify_sequences

    board = load_board(board_name)
    loaded = quantizer.load(model)
    compiled = compile_model(loaded, board, optimize)
    labels = None
    if data:
        from ..values import load_sequences

        sequences, labels = load_sequences(data, loaded.graph)
    else:
        sequences = [random_samples(loaded.graph, samples, seed)]
    if not compiled.plan.state_bytes:  # independent samples: however the file groups them
        sequences = [[sample for sequence in sequences for sample in sequence]]
    with open_target(compiled, board, port) as target:
        result = verify_sequences(target, compiled, sequences, labels, progress=not as_json, reference=reference)
    if as_json:
        click.echo(json.dumps(result.as_json()))
    else:
        click.echo(result.summary())
    sys.exit(0 if result.bit_exact else 1)


@main.command("invoke")
@click.argument("model", type=click.Path(dir_okay=False))
@BOARD_OPTION
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The input: .npy, or .npz with one array per model input; real values are quantized. "
    "An array whose first axis is time, (T, *input shape), is a sequence: fed step by step from the "
    "initial state, every step's outputs shown.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the outputs as float32: .npy (the first output) or .npz (every output, by name); "
    "for a sequence, each stacked along a first axis of time.",
)
@PORT_OPTION
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON: each output's shape, raw values and real values (for a sequence, under steps: one entry each).",
)
@OPTIMIZE_OPTION
@quantizer_options
def invoke_command(
    model: str,
    board_name: str,
    input_path: str,
    output: str | None,
    port: str | None,
    as_json: bool,
    optimize: str,
    quantizer: QuantizerOptions,
) -> None:
    """Run MODEL on BOARD (the host, an emulator, or the board on --port) and print the outputs: once,
    or for each step of a sequence."""
    from ..values import dequantize, load_sequences

    board = load_board(board_name)
    loaded = quantizer.load(model)
    graph = loaded.graph
    sequences, _ = load_sequences(input_path, graph)
    if len(sequences) != 1:
        raise TinygenError(f"{input_path} holds {len(sequences)} sequences; invoke runs one (verify --data runs many)")
    compiled = compile_model(loaded, board, optimize)
    with open_target(compiled, board, port) as target:
        steps = target.run(sequences[0])
    values = [[dequantize(graph.tensor(i), q) for i, q in zip(graph.outputs, outputs)] for outputs in steps]
    if output:
        # One step as it is; a sequence stacked along a first axis of time.
        stacked = [v[0] if len(values) == 1 else np.stack(v) for v in zip(*values)]
        if output.endswith(".npz"):
            np.savez(output, **{graph.tensor(i).name: v for i, v in zip(graph.outputs, stacked)})
        else:
            np.save(output, stacked[0])
    if as_json:
        described = [_described(outputs, step_values) for outputs, step_values in zip(steps, values)]
        print_json(described[0] if len(described) == 1 else {"steps": described})
        return
    for step, (outputs, step_values) in enumerate(zip(steps, values)):
        prefix = f"step {step} " if len(steps) > 1 else ""
        for i, (q, v) in enumerate(zip(outputs, step_values)):
            click.echo(f"{prefix}output {i} {list(q.shape)}: raw {q.reshape(-1).tolist()}")
            click.echo(f"{prefix}output {i} values: {[float(f'{a:.6g}') for a in v.reshape(-1)]}")
    if output:
        click.echo(f"wrote {output}")


def _described(outputs: list[np.ndarray], values: list[np.ndarray]) -> dict:
    """One invoke's outputs for --json: shape, raw values and real values of each."""
    return {
        "outputs": [
            {"shape": list(q.shape), "raw": q.reshape(-1).tolist(), "values": v.reshape(-1).tolist()}
            for q, v in zip(outputs, values)
        ]
    }


@main.command("profile")
@click.argument("model", type=click.Path(dir_okay=False))
@BOARD_OPTION
@PORT_OPTION
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random input profiled.")
@click.option(
    "--clock-mhz",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Clock for the milliseconds [default: the board's], e.g. 64 to read an emulator run as a Nano 33 BLE.",
)
@JSON_OPTION
@OPTIMIZE_OPTION
@quantizer_options
def profile_command(
    model: str,
    board_name: str,
    port: str | None,
    seed: int,
    clock_mhz: float | None,
    as_json: bool,
    optimize: str,
    quantizer: QuantizerOptions,
) -> None:
    """Per-layer cycles (a real board) or instructions (the emulator) of one inference of MODEL, with
    milliseconds at the board's clock (measured on a board, estimated under the emulator)."""
    from ..reports.profile import build_profile
    from ..verify import random_samples

    board = load_board(board_name)
    loaded = quantizer.load(model)
    compiled = compile_model(loaded, board, optimize)
    sample = random_samples(loaded.graph, 1, seed)[0]
    clock_hz = round(clock_mhz * 1e6) if clock_mhz else board.clock_hz
    with open_target(compiled, board, port) as target:
        result = build_profile(compiled, target.profile(sample), clock_hz)
    if as_json:
        print_json(result.as_json())
        return
    table = Table(
        "#",
        "op",
        "output",
        "MACs",
        result.unit,
        "share",
        f"MACs per {result.unit[:-1]}",
        "ms",
        title=f"{show(model)} on {board.id} ({result.unit})",
    )
    for p in result.layers:
        table.add_row(
            str(p.index),
            p.op,
            str(list(p.output_shape)),
            f"{p.macs:,}",
            f"{p.count:,}",
            f"{p.count / max(result.total, 1):.1%}",
            f"{p.macs / p.count:.3f}" if p.count else "-",
            f"{result.milliseconds(p.count):.3f}",
        )
    table.add_row(
        "",
        "total",
        "",
        f"{result.macs:,}",
        f"{result.total:,}",
        "100.0%",
        f"{result.macs / max(result.total, 1):.3f}",
        f"{result.milliseconds(result.total):.3f}",
    )
    console.print(table)
    console.print(f"ms at {clock_hz / 1e6:g} MHz: {result.basis}")


@main.command("flash")
@BOARD_OPTION
@click.option(
    "--port", default=None, help="The board's serial port [default: the one port with a USB id its profile lists]."
)
@click.argument("project", type=click.Path(file_okay=False, exists=True), default=".")
def flash_command(board_name: str, port: str | None, project: str) -> None:
    """Upload the firmware project PROJECT (from `tinygen build`) to BOARD with PlatformIO."""
    from ..device.firmware import flash

    board = load_board(board_name)
    used = flash(board, Path(project), port)
    click.echo(f"flashed {board.id} on {used}")
