"""The inference's worst-case stack from GCC's call graph (tinygen/compiler/stack.py): its chain
against the .su files, the fit refusing a board whose stack is too small, the cases without a bound,
the plan without the cross compiler, and the firmware's own frames against FIRMWARE_STACK_BYTES."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest

from tinygen import zoo
from tinygen.boards import list_boards, load_board
from tinygen.compiler import stack
from tinygen.compiler.callgraph import Unbounded
from tinygen.compiler.fit import check_fit
from tinygen.compiler.pipeline import compile_model
from tinygen.device.firmware import firmware_sources
from tinygen.device.pio.project import board_header, hal_sources
from tinygen.errors import TinygenError
from tinygen.resources import resource_dir

from .helpers import loaded, run_cli

needs_cross_compiler = pytest.mark.skipif(
    shutil.which(stack.CROSS_COMPILER) is None, reason=f"needs {stack.CROSS_COMPILER}"
)
BOARD = "mps2-an386"


@pytest.fixture(scope="module")
def ds_cnn():
    return compile_model(loaded(zoo.ds_cnn(), "ds_cnn"))


def _su_frames(directory: Path) -> dict[str, int]:
    """'file:line:column:function' -> frame bytes, from every .su file in directory."""
    frames = {}
    for su in directory.glob("*.su"):
        for line in su.read_text(encoding="utf-8").splitlines():
            where, size, _ = line.split("\t")
            frames[where] = int(size)
    return frames


@needs_cross_compiler
def test_zoo_model_stack_is_the_deepest_chain_the_su_files_give(ds_cnn, tmp_path):
    usage = stack.measure_in(tmp_path, ds_cnn.generated, load_board(BOARD))
    assert usage.status == stack.MEASURED and 200 < usage.bytes < 2048, usage.describe()
    su = _su_frames(tmp_path)
    assert [su[f"{f.location}:{f.function}"] for f in usage.frames] == [f.bytes for f in usage.frames]
    assert usage.bytes == sum(f.bytes for f in usage.frames) + stack.LIBRARY_CALL_BYTES
    first, layer, kernel = (f.function for f in usage.frames[:3])
    assert first in stack.ENTRIES and layer in ds_cnn.generated.layer_functions
    assert kernel in ds_cnn.lowered.kernels
    # No layer goes deeper: the invoke, its wrapper and its kernel's own frame, for each layer.
    wrapper_calls = re.compile(r"^static void (tg_layer\d+)\(void\)\n\{\n    (tg_\w+)\(", re.M)
    calls = wrapper_calls.findall(ds_cnn.generated.files["model.c"])
    by_name = {where.rsplit(":", 1)[1]: size for where, size in su.items()}
    for wrapper, kernel in calls:
        assert by_name["tg_model_invoke_hooked"] + by_name[wrapper] + by_name[kernel] <= usage.bytes


@needs_cross_compiler
def test_a_board_with_a_tiny_stack_is_refused_with_the_numbers(ds_cnn, tmp_path):
    text = load_board(BOARD).path.read_text(encoding="utf-8")
    text = text.replace(f'id = "{BOARD}"', 'id = "tiny-stack"').replace("stack_bytes = 8192", "stack_bytes = 512")
    (tmp_path / "tiny-stack.toml").write_text(text, encoding="utf-8")
    board = load_board(tmp_path / "tiny-stack.toml")
    inference = stack.measure_stack(ds_cnn.generated, board).bytes
    needed = inference + stack.FIRMWARE_STACK_BYTES
    with pytest.raises(TinygenError) as refusal:
        check_fit(ds_cnn, board)
    assert str(refusal.value) == (
        f"the model does not fit tiny-stack: stack: needs {needed:,} of 512 bytes (over by {needed - 512:,} "
        f"bytes): inference {inference:,} + firmware {stack.FIRMWARE_STACK_BYTES:,}"
    )
    assert check_fit(ds_cnn, dataclasses.replace(board, stack_bytes=needed)).stack.headroom_bytes == 0


def test_the_plan_says_when_the_stack_was_not_measured(monkeypatch, tmp_path):
    model = tmp_path / "autoencoder.tflite"
    model.write_bytes(loaded(zoo.autoencoder(), "autoencoder").tflite_bytes)
    monkeypatch.setenv("PATH", str(tmp_path))  # no cross compiler
    code, out, _ = run_cli("plan", model, "--board", BOARD, "--json")
    plan = json.loads(out)
    assert code == 0 and plan["fits"] and plan["inference_stack_bytes"] is None and plan["stack_bytes"] is None
    assert plan["inference_stack"]["status"] == "not measured"
    code, out, _ = run_cli("plan", model, "--board", BOARD)
    assert f"stack: inference not measured: {stack.CROSS_COMPILER} is not installed" in out


RECURSION = """__attribute__((noinline)) int back(int n);
__attribute__((noinline)) int walk(int n) { volatile int row[4]; row[0] = n; return n ? back(n - 1) + row[0] : 0; }
__attribute__((noinline)) int back(int n) { volatile int row[4]; row[0] = n; return n ? walk(n - 1) + row[0] : 0; }"""


@needs_cross_compiler
@pytest.mark.parametrize(
    "source, reason",
    [
        (RECURSION, r"walk can call itself \(walk > back > walk\)"),
        ("int walk(int n) { volatile char row[n]; row[0] = 1; return row[0]; }", "walk has a frame of variable size"),
        ("extern void (*next)(void);\nvoid walk(void) { next(); next(); }", "walk calls through a pointer"),
    ],
    ids=["recursion", "variable-size frame", "indirect call"],
)
def test_what_has_no_bound_is_said(source, reason, tmp_path):
    graph = stack.call_graph(tmp_path, {"walk.c": source + "\n"}, load_board(BOARD))
    with pytest.raises(Unbounded, match=reason):
        graph.deepest(["walk"], {})


def test_an_unbounded_stack_is_refused(ds_cnn, monkeypatch):
    unbounded = stack.StackUsage("cortex-m4", stack.UNBOUNDED, note="conv_row can call itself")
    monkeypatch.setattr("tinygen.compiler.fit.measure_stack", lambda generated, board: unbounded)
    with pytest.raises(TinygenError, match=f"does not fit {BOARD}: stack: inference unbounded: conv_row can call"):
        check_fit(ds_cnn, load_board(BOARD))


@needs_cross_compiler
@pytest.mark.parametrize("board", [b for b in list_boards() if not b.native], ids=lambda b: b.id)
def test_the_firmware_frames_are_within_their_allowance(board, ds_cnn, tmp_path):
    """The firmware's deepest chain outside the layers: from the reset handler (on an Arduino core,
    the link server's entry), the profiling hook standing for the layers tg_model_invoke_hooked calls."""
    hal = resource_dir("firmware") / "hal"
    sources = {**ds_cnn.generated.kernel_files, **ds_cnn.generated.files, **firmware_sources(board, ds_cnn)}
    hal_files = [name for name in hal_sources(board) if name.endswith((".c", ".h"))]
    sources |= {name: (hal / name).read_text(encoding="utf-8") for name in hal_files}
    sources["tg_board.h"] = board_header(board)
    graph = stack.call_graph(tmp_path, sources, board)
    entry = "tg_reset_handler" if board.bare_metal else "tg_link_feed"
    # The layers' own frames are the inference stack, measured apart: here the hook stands for them.
    layers = {"tg_model_invoke_hooked": ["measure_layer"], "tg_model_invoke": ["measure_layer"]}
    chain = graph.deepest([entry], layers)
    assert chain[0].function == entry
    assert 64 < sum(f.bytes for f in chain) <= stack.FIRMWARE_STACK_BYTES, chain
