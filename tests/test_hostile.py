"""Model files, board files and data come from strangers: names are data in every output, board
fields cannot reach paths or settings, the reference's crashes are one line, bad data is refused."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import numpy as np
import pytest

from tinygen.boards import load_board
from tinygen.builder import GraphBuilder
from tinygen.compiler.pipeline import compile_model
from tinygen.device.cflags import WARNINGS
from tinygen.device.host import host_compiler
from tinygen.errors import TinygenError
from tinygen.export import export_files, write_export
from tinygen.frontends.tflite_writer import write_tflite
from tinygen.reports.report import write_report

from .helpers import loaded, run_cli
from .sketches import build_sketch, run_program

# One name with every kind of trouble: a comment terminator followed by code, a preprocessor line,
# quotes and backslashes, a trigraph, terminal escapes, Rich markup, HTML script, Jinja braces.
HOSTILE = (
    '*/ int tg_injected = 1; /* \n#include <stdlib.h>\n"q" \\ ??/ \x1b[31mred\x1b[0m [bold]b[/bold] '
    "</script><script>alert(1)</script> {{ 7 * 7 }} é"
)


def hostile_model(name_suffix: str = "") -> GraphBuilder:
    g = GraphBuilder(description=HOSTILE)
    x = g.tensor((1, 4), scale=0.1, zero_point=0, name=HOSTILE + "input")
    w = g.const(np.arange(8).reshape(2, 4) - 4, "int8", scale=0.1, zero_point=0, name=HOSTILE + "weights")
    y = g.tensor((1, 2), scale=0.5, zero_point=0, name=HOSTILE + "output" + name_suffix)
    g.op("FULLY_CONNECTED", [x, w, -1], [y], fused_activation_function="NONE", keep_num_dims=False)
    return g.build([x], [y])


def test_names_cannot_inject_c(tmp_path):
    compiled = compile_model(loaded(hostile_model(), HOSTILE.replace("/", "_")))
    compiled.generated.write(tmp_path)
    for name in ("model.c", "model.h"):
        assert "\x1b" not in (tmp_path / name).read_text()
        # With comments removed by the preprocessor and string literals blanked, no name is left:
        # every name stayed inside the comment or string tinygen put it in.
        code = subprocess.run(
            [host_compiler(), "-fpreprocessed", "-dD", "-E", "-P", name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        code = re.sub(r'"(\\.|[^"\\])*"', '""', code)
        assert "tg_injected" not in code and "stdlib" not in code and "alert" not in code
    done = subprocess.run(
        [host_compiler(), "-std=c99", *WARNINGS, "-I.", "-c", "model.c", "-o", "model.o"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "tg_injected" not in subprocess.run(["nm", "model.o"], cwd=tmp_path, capture_output=True, text=True).stdout


def test_names_and_labels_stay_data_in_an_exported_library(tmp_path):
    """The model's names, its file name and the labels, in the C, the C++ wrapper, the sketch and
    library.properties: all compile, the labels print as they were given, nothing else is defined."""
    labels = [f'*/ int tg_injected{n} = 1; /* #include "q" \\ ??/ \x1b[31m {{{{ 7 * 7 }}}} é' for n in range(2)]
    compiled = compile_model(loaded(hostile_model(), HOSTILE.replace("/", "_")))
    files = export_files(compiled, "arduino-library", "hostile", "h", labels, None)
    lib = write_export(files, tmp_path / "hostile")
    keys = [line.split("=", 1)[0] for line in (lib / "library.properties").read_text().splitlines()]
    fields = ["name", "version", "author", "maintainer", "sentence", "paragraph", "category", "architectures"]
    assert keys == [*fields, "includes"]  # one line per field: no name added a line
    printed = run_program(build_sketch(lib / "examples/RunModel", [lib], tmp_path / "build"))
    assert any(printed.startswith(f"label: {label}, score: ") for label in labels)
    symbols = subprocess.run(
        ["nm", *map(str, (tmp_path / "build").rglob("*.o"))], capture_output=True, text=True, check=True
    ).stdout
    assert "injected" not in symbols


def test_hostile_names_verify_and_print_safely(tmp_path):
    path = tmp_path / "model.tflite"
    path.write_bytes(write_tflite(hostile_model()))
    code, out, err = run_cli("verify", path, "--board", "host", "--samples", "3")
    assert code == 0 and "bit-exact" in out, err
    code, out, err = run_cli("inspect", path)
    assert code == 0 and "\x1b" not in out and "[bold]" in out  # markup shown, not interpreted


def test_a_megabyte_name_is_cut_and_inspect_stays_fast(tmp_path):
    path = tmp_path / "model.tflite"
    path.write_bytes(write_tflite(hostile_model("x" * (1 << 20))))
    start = time.monotonic()
    code, out, _ = run_cli("inspect", path)
    assert code == 0 and time.monotonic() - start < 20 and len(out) < 20_000
    compiled = compile_model(loaded(hostile_model("x" * (1 << 20)), "big"))
    assert max(len(text) for text in compiled.generated.files.values()) < 20_000


def test_report_html_escapes_names(tmp_path):
    compiled = compile_model(loaded(hostile_model(), "<img src=x onerror=alert(2)>"))
    page = write_report(tmp_path, compiled, load_board("host")).read_text()
    assert "<img" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page


def _board_file(tmp_path, edit) -> str:
    text = (load_board("mps2-an386").path).read_text()
    path = tmp_path / "mps2-an386.toml"
    path.write_text(edit(text))
    return str(path)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace('name = "', 'name = "x\\nextra_scripts = evil.py\\n', 1), "'name' must be one line"),
        (lambda t: t.replace('board = "', 'board = "../../etc/', 1), "'platformio.board' must be"),
        (
            lambda t: t + '\n[platformio.extra]\nextra_scripts = "pre:evil.py"\n',
            "'platformio.extra.extra_scripts' is not allowed",
        ),
        (lambda t: t.replace('qemu_machine = "', 'qemu_machine = "-plugin ', 1), "'emulator.qemu_machine' must be"),
        # SCons runs a flags value that starts with '!'; gcc loads a plugin named by -fplugin=.
        (lambda t: t + '\n[platformio.extra]\nbuild_flags = "!touch /tmp/x"\n', "got '!touch'"),
        (lambda t: t + '\n[platformio.extra]\nbuild_flags = "-O2 -fplugin=./evil.so"\n', "got '-fplugin=./evil.so'"),
        (lambda t: t + '\n[platformio.extra]\nupload_speed = "!reboot"\n', "must not start with '!'"),
    ],
)
def test_board_fields_cannot_reach_paths_or_settings(tmp_path, edit, message):
    with pytest.raises(TinygenError, match=re.escape(message)):
        load_board(_board_file(tmp_path, edit))


def test_a_crash_in_the_reference_is_one_line(monkeypatch):
    from tinygen import reference

    def crash(*args):
        os.kill(os.getpid(), signal.SIGSEGV)

    monkeypatch.setattr(reference, "_serve", crash)
    model = loaded(hostile_model(), "crashing")
    with pytest.raises(TinygenError, match=r"tflite-micro crashed on crashing.tflite \(signal SIGSEGV\)"):
        reference.Reference(model.tflite_bytes, model.graph, name="crashing.tflite").run_many(
            [[np.zeros((1, 4), np.int8)]]
        )


@pytest.mark.parametrize(
    "values, message",
    [
        ([np.nan, 1.0, 2.0, 3.0], r"holds 8 NaN and 0 infinite values among 32"),
        ([np.inf, 1.0, 2.0, 3.0], r"holds 0 NaN and 8 infinite values among 32"),
    ],
)
def test_calibration_data_must_be_finite(tmp_path, values, message):
    code, err = _quantize_with(tmp_path, np.tile(np.array(values, np.float32), (8, 1)))
    assert code == 1 and re.search(message, err) and err.count("\n") == 1
    assert not (tmp_path / "q.tflite").exists()


def test_constant_calibration_data_gets_a_warning(tmp_path):
    code, err = _quantize_with(tmp_path, np.full((8, 4), 2.5, np.float32))
    assert code == 0 and "calib.npy (t0) is 2.5 everywhere: the input's int8 range comes from that one value" in err
    assert (tmp_path / "q.tflite").exists()


def _quantize_with(tmp_path, data: np.ndarray) -> tuple[int, str]:
    """`tinygen quantize` of a float FULLY_CONNECTED (4 -> 2) calibrated on data: exit code, stderr."""
    g = GraphBuilder()
    x, y = g.tensor((1, 4), "float32"), g.tensor((1, 2), "float32")
    g.op(
        "FULLY_CONNECTED",
        [x, g.const(np.ones((2, 4)), "float32"), -1],
        [y],
        fused_activation_function="NONE",
        keep_num_dims=False,
    )
    model = tmp_path / "float.tflite"
    model.write_bytes(write_tflite(g.build([x], [y])))
    np.save(tmp_path / "calib.npy", data)
    code, _, err = run_cli("quantize", model, "--calibration", tmp_path / "calib.npy", "-o", tmp_path / "q.tflite")
    return code, err
