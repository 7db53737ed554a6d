"""`tinygen export`: the model as an Arduino library, a CMake library target or plain C sources."""

from __future__ import annotations

from pathlib import Path

import click

from ..boards import load_board
from ..compiler.fit import check_fit
from ..compiler.pipeline import compile_model
from ..export import FORMATS, BundledInput, export_files, read_labels, read_normalization, write_export
from ..export.arduino import default_library_name, examples
from ..export.prefix import DEFAULT, file_name
from .app import BOARD_OPTION, JSON_OPTION, OPTIMIZE_OPTION, QuantizerOptions, main, print_json, quantizer_options

ARDUINO = "arduino-library"


@main.command("export")
@click.argument("model", type=click.Path(dir_okay=False))
@BOARD_OPTION
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=ARDUINO, show_default=True, help="What to write.")
@click.option(
    "-o",
    "--output",
    default=None,
    help="A .zip file (one folder inside), or a folder [default: <model name>.zip for an Arduino library "
    "(<model name>_library.zip where <model name>.h would meet the model's own files), <model name>-<format>/ "
    "otherwise]. An Arduino library is named after it.",
)
@click.option(
    "--prefix",
    default=DEFAULT,
    show_default=True,
    help="Renames every public name: tg_* to PREFIX_*, TG_* to upper-case PREFIX_*, model.h to PREFIX_model.h, "
    "the C++ namespace tg to PREFIX; two models with different prefixes link into one program.",
)
@click.option(
    "--labels",
    type=click.Path(dir_okay=False),
    default=None,
    help="Class names for the first output, one per line (UTF-8): Model::label() and the examples print them.",
)
@click.option(
    "--demo-input",
    "input_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="The RunModel example's input: .npy, or .npz with one array per model input (the first sample) "
    "[default: zeros]; as `tinygen build --demo-input`.",
)
@click.option("--input", "old_input_path", type=click.Path(dir_okay=False), default=None, hidden=True)
@click.option(
    "--normalization",
    type=click.Path(dir_okay=False),
    default=None,
    help='The IMUGesture example\'s preprocessing, JSON: {"mean": [...], "std": [...], "interval_ms": 100}, one '
    "mean and std per IMU channel, as the training data was standardized [default: readings as they are].",
)
@click.option("--force", is_flag=True, help="Replace a zip, or fill a folder, holding files tinygen did not write.")
@JSON_OPTION
@OPTIMIZE_OPTION
@quantizer_options
def export_command(
    model: str,
    board_name: str,
    fmt: str,
    output: str | None,
    prefix: str,
    labels: str | None,
    input_path: str | None,
    old_input_path: str | None,
    normalization: str | None,
    force: bool,
    as_json: bool,
    optimize: str,
    quantizer: QuantizerOptions,
) -> None:
    """Write MODEL, checked to fit BOARD, as sources for another build system: an Arduino library
    (installs with the Arduino IDE's Add .ZIP Library), a CMake library target, or plain C."""
    if input_path and old_input_path:
        raise click.UsageError("--input is the old name of --demo-input: give one")
    input_path = input_path or old_input_path
    if fmt != ARDUINO and (labels or input_path or normalization):
        raise click.UsageError(
            f"--labels, --demo-input and --normalization shape the Arduino library's examples; --format {fmt} has none"
        )
    board = load_board(board_name)
    loaded = quantizer.load(model)
    compiled = compile_model(loaded, board, optimize)
    fit = check_fit(compiled, board)
    stem = Path(model).stem
    if output is None and fmt == ARDUINO:
        sources = {**compiled.generated.kernel_files, **compiled.generated.files}
        output = f"{default_library_name(stem, [f'src/{path}' for path in sources])}.zip"
    out = Path(output or f"{stem}-{fmt}")
    name = out.stem if out.suffix.lower() == ".zip" else out.name
    files = export_files(
        compiled,
        fmt,
        name,
        prefix,
        read_labels(labels, loaded.graph) if labels else None,
        _bundled_input(input_path, loaded.graph) if input_path else None,
        read_normalization(normalization, loaded.graph) if normalization else None,
    )
    written = write_export(files, out, force)
    if as_json:
        print_json(
            {
                "format": fmt,
                "output": str(written),
                "name": name,
                "prefix": prefix,
                "header": f"{name}.h" if fmt == ARDUINO else file_name("model.h", prefix),
                "examples": examples(files),
                "files": sorted(files),
                "fit": fit.as_json(),
            }
        )
        return
    click.echo(_describe(fmt, written, name, prefix, files))


def _bundled_input(path: str, graph) -> BundledInput:
    from ..values import dequantize, load_samples

    samples, _ = load_samples(path, graph)
    first = samples[0]
    values = [dequantize(graph.tensor(t), x) for t, x in zip(graph.inputs, first)]
    return BundledInput(values, f"the first sample of {Path(path).name}")


def _describe(fmt: str, written: Path, name: str, prefix: str, files: dict[str, str]) -> str:
    header = file_name("model.h", prefix)
    if fmt == ARDUINO:
        install = (
            "install it with the Arduino IDE (Sketch > Include Library > Add .ZIP Library)"
            if written.suffix.lower() == ".zip"
            else "copy the folder into your Arduino libraries folder"
        )
        return f"wrote {written}: the Arduino library {name}, examples {', '.join(examples(files))}; {install}"
    if fmt == "cmake":
        return (
            f"wrote {written}: add_subdirectory() it and target_link_libraries(... {prefix}_model), "
            f'then #include "{header}"'
        )
    return f'wrote {written}: {len(files)} files to compile with your program; #include "{header}"'
