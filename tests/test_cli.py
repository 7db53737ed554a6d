"""The command line: inspect, build, verify, and one clear error line for bad input."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tinygen import zoo
from tinygen.builder import GraphBuilder
from tinygen.cli import main
from tinygen.frontends.tflite_writer import write_tflite

from .helpers import run_cli
from .test_control_flow import loop_model


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "autoencoder.tflite"
    path.write_bytes(write_tflite(zoo.autoencoder(seed=3)))
    return path


def test_inspect_json(model):
    code, out, _ = run_cli("inspect", model, "--json")
    assert code == 0
    info = json.loads(out)
    assert [op["op"] for op in info["ops"]] == ["FULLY_CONNECTED"] * 10
    assert info["ops"][0]["macs"] == 640 * 128
    assert info["macs"] == sum(op["macs"] for op in info["ops"])
    assert info["inputs"][0]["shape"] == [1, 640]


def test_inspect_table(model):
    code, out, _ = run_cli("inspect", model)
    assert code == 0 and "FULLY_CONNECTED" in out and "MACs" in out


def test_inspect_says_a_float_model_is_quantized_not_unsupported():
    float_model = Path(__file__).parent.parent / "examples/gesture/gesture_float.tflite"
    code, out, _ = run_cli("inspect", float_model, "--json")
    assert code == 0 and {op["status"] for op in json.loads(out)["ops"]} == {"quantized"}
    code, out, _ = run_cli("inspect", float_model)
    assert code == 0 and "unsupported" not in out and "a float model: tinygen quantizes it" in out


def test_verify_json_is_bit_exact(model):
    code, out, _ = run_cli("verify", model, "--board", "host", "--samples", "5", "--seed", "2", "--json")
    assert code == 0
    assert json.loads(out) == {
        "samples": 5,
        "mismatches": 0,
        "bit_exact": True,
        "max_abs_diff": 0.0,
        "first_bad_layer": None,
        "reference": "tflite-micro",
    }


def test_verify_against_the_numpy_reference(model):
    code, out, _ = run_cli("verify", model, "--board", "host", "--samples", "3", "--reference", "numpy")
    assert code == 0
    assert out.strip() == "3 samples, 0 of 3 outputs mismatch, max abs difference 0: bit-exact (reference: numpy)"


def test_verify_falls_back_to_the_numpy_reference_without_tflite_micro(model, monkeypatch):
    """Where tflite_micro cannot be imported (macOS, Windows, Arm Linux), auto takes the numpy reference,
    and asking for tflite-micro gets one line saying how to install it (from a clone: not on PyPI)."""
    from tinygen import reference

    def missing():
        raise reference.ToolError(reference.INSTALL_HINT)

    monkeypatch.setattr(reference, "_runtime", missing)
    code, out, _ = run_cli("verify", model, "--board", "host", "--samples", "2", "--json")
    assert code == 0 and json.loads(out)["reference"] == "numpy"
    code, out, err = run_cli("verify", model, "--board", "host", "--samples", "2", "--reference", "tflite-micro")
    assert code == 3 and err.count("\n") == 1
    assert "pip install -e '.[verify]'" in err and "tinygen[verify]" not in err


def test_build_writes_sources_and_binary(model, tmp_path):
    out = tmp_path / "project"
    code, _, err = run_cli("build", model, "--board", "host", "-o", out)
    assert code == 0, err
    assert (out / "model.c").exists() and (out / "model.h").exists() and (out / "model_host").exists()


def test_sources_are_reproducible(model, tmp_path):
    for name in ("a", "b"):
        assert run_cli("build", model, "--board", "host", "-o", tmp_path / name, "--no-compile")[0] == 0
    for f in ("model.c", "model.h"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def _reference_schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    return schema


def _edited(model_path, edit):
    """Re-pack a model after editing its flatbuffer object tree (tflite-micro's schema object API)."""
    import flatbuffers

    schema = _reference_schema()
    m = schema.ModelT.InitFromPackedBuf(bytearray(model_path.read_bytes()), 0)
    edit(m)
    b = flatbuffers.Builder(0)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    path = model_path.with_name("edited.tflite")
    path.write_bytes(bytes(b.Output()))
    return path


def _float_model(tmp_path):
    g = GraphBuilder()
    x = g.tensor((1, 4), "float32")
    w = g.const(np.ones((2, 4)), "float32")
    y = g.tensor((1, 2), "float32")
    g.op("FULLY_CONNECTED", [x, w, -1], [y], fused_activation_function="NONE", keep_num_dims=False)
    path = tmp_path / "float.tflite"
    path.write_bytes(write_tflite(g.build([x], [y])))
    return path


def _unsupported_model(tmp_path):
    g = GraphBuilder()
    x = g.tensor((1, 4), scale=0.1)
    y = g.tensor((1, 4), scale=0.1)
    g.op("FLOOR", [x], [y])
    path = tmp_path / "floor.tflite"
    path.write_bytes(write_tflite(g.build([x], [y])))
    return path


@pytest.mark.parametrize(
    "case, expected",
    [
        ("garbage", "is not a TFLite model"),
        ("truncated", "corrupt or truncated"),
        ("missing", "does not exist"),
        ("loop_of_unknown_length", "so the trip count is known only at run time"),
        ("unknown_size", "has an unknown size on axis 0"),
        ("unsupported", "op 0 (FLOOR) is not supported; supported ops: "),
        ("float", "is a float model; pass --calibration"),
    ],
)
def test_bad_models_give_one_error_line(case, expected, model, tmp_path):
    paths = {
        "garbage": lambda: _write(tmp_path / "g.tflite", b"\x00" * 4 + b"NOPE" + bytes(range(200))),
        "truncated": lambda: _write(tmp_path / "t.tflite", model.read_bytes()[:2000]),
        "missing": lambda: tmp_path / "nothing.tflite",
        "loop_of_unknown_length": lambda: _write(tmp_path / "l.tflite", write_tflite(loop_model(3, True))),
        "unknown_size": lambda: _edited(model, _make_batch_unknown),
        "unsupported": lambda: _unsupported_model(tmp_path),
        "float": lambda: _float_model(tmp_path),
    }
    code, out, err = run_cli("build", paths[case](), "--board", "host", "-o", tmp_path / "out")
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinygen: error: ") and expected in lines[0], err
    assert "Traceback" not in out + err
    if case == "unsupported":  # the list is the ops a model file may hold: no compiler-made ones
        assert "CONV_2D" in err and "TG_" not in err


def _make_batch_dynamic(m):
    """What the TensorFlow converter writes from Keras: -1 in shape_signature, the batch of 1 in shape."""
    for tensor in m.subgraphs[0].tensors:
        if tensor.shape is not None and len(tensor.shape) and tensor.buffer == 0:
            tensor.shapeSignature = [-1, *tensor.shape[1:]]


def _make_batch_unknown(m):
    tensor = m.subgraphs[0].tensors[m.subgraphs[0].inputs[0]]
    tensor.shape = [-1, *tensor.shape[1:]]
    tensor.shapeSignature = [-1, *tensor.shape[1:]]


def test_a_dynamic_batch_signature_runs_at_batch_1(model):
    """shape_signature [-1, ...] with shape [1, ...] is how converters write Keras models; tflite-micro
    runs them at the concrete shape, and so does tinygen."""
    edited = _edited(model, _make_batch_dynamic)
    code, out, err = run_cli("verify", edited, "--board", "host", "--samples", "3", "--json")
    assert code == 0, err
    assert json.loads(out)["bit_exact"]


def _write(path, data):
    path.write_bytes(data)
    return path


def test_debug_shows_the_traceback(tmp_path):
    from tinygen.errors import TinygenError

    bad = _write(tmp_path / "g.tflite", b"not a model at all")
    # Without --debug: one line and exit 1 (CliRunner records that as SystemExit, no traceback).
    plain = CliRunner().invoke(main, ["inspect", str(bad)])
    assert plain.exit_code == 1 and isinstance(plain.exception, SystemExit)
    assert plain.stderr.count("\n") == 1 and "Traceback" not in plain.stderr
    # With --debug the error itself propagates, with its traceback.
    debug = CliRunner().invoke(main, ["--debug", "inspect", str(bad)])
    assert isinstance(debug.exception, TinygenError) and debug.exc_info[2] is not None


def test_plan_json_and_report(model, tmp_path):
    code, out, err = run_cli("plan", model, "--board", "mps2-an386", "--json", "--report", tmp_path / "report")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["board"] == "mps2-an386" and plan["fits"] is True
    assert plan["arena_bytes"] >= max(layer["live_bytes"] for layer in plan["layers"]) > 0
    assert plan["lower_bound_bytes"] > 0 and plan["flash_bytes"] > plan["weights_bytes"]
    assert plan["ram_bytes"] > plan["arena_bytes"]
    page = (tmp_path / "report" / "report.html").read_text()
    assert page.count("<svg") == 3 and "arena" in page and "lower bound" in page


def test_a_model_too_big_for_the_board_is_refused_with_numbers(model, tmp_path):
    """The autoencoder's 270 KB of weights do not fit the LM3S6965's 256 KB of flash."""
    code, out, _ = run_cli("plan", model, "--board", "lm3s6965evb", "--json")
    plan = json.loads(out)
    assert code == 1 and plan["fits"] is False and plan["flash_headroom_bytes"] < 0
    code, _, err = run_cli("build", model, "--board", "lm3s6965evb", "-o", tmp_path / "out", "--no-compile")
    assert code != 0 and not (tmp_path / "out").exists()
    assert f"over by {-plan['flash_headroom_bytes']:,} bytes" in err and "does not fit lm3s6965evb" in err


def test_build_for_a_real_board_writes_the_arduino_project(model, tmp_path, monkeypatch):
    """The laptop path: no Arm toolchain or QEMU needed to write a Nano 33 BLE project."""
    monkeypatch.setenv("TINYGEN_CACHE_DIR", str(tmp_path / "cache"))
    code, out, err = run_cli("build", model, "--board", "nano33", "-o", tmp_path / "p", "--no-compile")
    assert code == 0, err
    ini = (tmp_path / "p" / "platformio.ini").read_text()
    assert "platform = nordicnrf52@10.11.0" in ini and "board = nano33ble" in ini and "framework = arduino" in ini
    assert "Serial.write" in (tmp_path / "p" / "src" / "main.cpp").read_text()
    assert "#define TG_COUNTER_KIND 2" in (tmp_path / "p/lib/tinygen_hal/tg_board.h").read_text()  # DWT
    assert (tmp_path / "p" / "report.html").exists() and "pio run -d" in out
    assert "arduino_nano_33_ble.repl" in (tmp_path / "p" / "renode.resc").read_text()  # Renode models the nRF52840


def test_exit_codes_tell_verdicts_usage_and_tool_failures_apart(model, tmp_path, monkeypatch):
    # 1: a verdict on the user's model (here: it does not fit the board), also with --json
    assert run_cli("plan", model, "--board", "lm3s6965evb")[0] == 1
    assert run_cli("plan", model, "--board", "lm3s6965evb", "--json")[0] == 1
    assert run_cli("plan", model, "--board", "mps2-an386")[0] == 0
    # 2: the command line itself
    assert run_cli("plan", model)[0] == 2
    # 3: a tool is missing or fails (here the host C compiler)
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    code, _, err = run_cli("build", model, "--board", "host", "-o", tmp_path / "out")
    assert code == 3 and err.startswith("tinygen: error: ") and err.count("\n") == 1


def test_boards_lists_sizes_as_whole_kib():
    code, out, err = run_cli("boards")
    assert code == 0, err
    assert "1,048,576" in out and "4,096" in out and "e+" not in out  # the host's 1 GiB, the MPS2 boards' 4 MiB
    assert " 511 " in out and "511.3" not in out  # portenta-h7-m7's 523,624 bytes of RAM
