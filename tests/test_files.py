"""Nothing a user wrote is lost: project folders are replaced cleanly and only tinygen's own files,
a second writer is locked out, an interrupted build leaves the old project, children die with us."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tinygen import zoo
from tinygen.device import processes
from tinygen.device.outdir import RECORD
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_writer import write_tflite

from .helpers import run_cli


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "autoencoder.tflite"
    path.write_bytes(write_tflite(zoo.autoencoder(seed=3)))
    return path


def build(model, out, *extra):
    return run_cli("build", model, "--board", "host", "-o", out, *extra)


def test_a_rebuild_replaces_only_tinygens_files(model, tmp_path):
    out = tmp_path / "project"
    assert build(model, out)[0] == 0 and (out / RECORD).is_file() and (out / "model_host").is_file()
    assert build(model, out)[0] == 0  # tinygen's own project: replaced without a word
    (out / "notes.txt").write_text("mine")
    code, _, err = build(model, out)
    assert code == 1 and "holds files tinygen did not write (notes.txt)" in err and err.count("\n") == 1
    # --force: the project is rewritten for another board, the user's file stays, no old file is left.
    code, _, err = run_cli("build", model, "--board", "mps2-an386", "-o", out, "--no-compile", "--force")
    assert code == 0, err
    assert (out / "notes.txt").read_text() == "mine" and (out / "platformio.ini").is_file()
    assert not (out / "model_host").exists() and not (out / "tg_host_main.c").exists()
    assert not [p for p in tmp_path.iterdir() if ".tinygen-" in p.name]  # no staging or lock left behind


def test_links_are_never_followed(model, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").symlink_to(elsewhere)
    code, _, err = build(model, tmp_path / "link")
    assert code == 1 and "is a symbolic link" in err
    out = tmp_path / "project"
    assert build(model, out)[0] == 0
    (out / "extra").symlink_to(elsewhere)  # a link planted inside the project
    assert build(model, out)[0] == 1
    assert build(model, out, "--force")[0] == 0
    assert list(elsewhere.iterdir()) == []  # nothing written through it


def test_a_second_writer_is_locked_out(model, tmp_path):
    out = tmp_path / "project"
    lock = tmp_path / ".project.tinygen-lock"
    holder = subprocess.Popen(["sleep", "30"])
    try:
        lock.write_text(str(holder.pid))
        code, _, err = build(model, out)
        assert code == 1 and "another tinygen is writing" in err
    finally:
        holder.kill()
        holder.wait()
    assert build(model, out)[0] == 0  # a lock whose holder is gone is taken over
    assert not lock.exists()


def test_an_interrupted_build_leaves_the_previous_project(model, tmp_path, monkeypatch):
    out = tmp_path / "project"
    assert build(model, out)[0] == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    import tinygen.device.host as host

    monkeypatch.setattr(host, "build_host", interrupted)
    from tinygen.boards import load_board
    from tinygen.compiler.pipeline import compile_model, load_model
    from tinygen.device.firmware import build_project

    with pytest.raises(KeyboardInterrupt):
        build_project(compile_model(load_model(model)), load_board("host"), out)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before and not [p for p in tmp_path.iterdir() if ".tinygen-" in p.name]


def test_quantize_never_overwrites_its_input_or_a_users_file(tmp_path):
    from .test_multi_io import two_in_two_out

    model = tmp_path / "two.tflite"
    model.write_bytes(write_tflite(two_in_two_out()))
    import numpy as np

    np.savez(tmp_path / "c.npz", left=np.ones((4, 4, 4, 2), np.float32), right=np.ones((4, 4, 4, 2), np.float32))
    calib = ("--calibration", tmp_path / "c.npz")
    code, _, err = run_cli("quantize", model, *calib, "-o", model)
    assert code == 1 and "is the model being quantized" in err and model.read_bytes() == write_tflite(two_in_two_out())
    (tmp_path / "mine.tflite").write_bytes(b"not tinygen's")
    code, _, err = run_cli("quantize", model, *calib, "-o", tmp_path / "mine.tflite")
    assert (
        code == 1 and "tinygen did not write it" in err and (tmp_path / "mine.tflite").read_bytes() == b"not tinygen's"
    )
    assert run_cli("quantize", model, *calib, "-o", tmp_path / "q.tflite")[0] == 0
    assert run_cli("quantize", model, *calib, "-o", tmp_path / "q.tflite")[0] == 0  # its own output: replaced
    # Written atomically, yet with the permissions any new file gets (not the temporary file's 0600).
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    assert (tmp_path / "q.tflite").stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def test_a_timeout_kills_the_whole_process_group(tmp_path):
    marker = tmp_path / "grandchild.pid"
    script = f"sleep 60 & echo $! > {marker}; wait"
    start = time.monotonic()
    with pytest.raises(TinygenError, match="the test command took longer than 0.5 s"):
        processes.run(["sh", "-c", script], 0.5, "the test command")
    assert time.monotonic() - start < 10
    grandchild = Path(f"/proc/{int(marker.read_text())}/status")
    time.sleep(0.2)
    # Gone, or a zombie waiting for init to reap it: either way no longer running.
    assert not grandchild.exists() or "\nState:\tZ" in grandchild.read_text()


def test_a_host_project_rebuilds_with_make(model, tmp_path):
    """The host project carries a Makefile with tinygen's flags: `make` alone rebuilds the same program."""
    if not shutil.which("make"):
        pytest.skip("needs make")
    out = tmp_path / "project"
    assert build(model, out)[0] == 0
    original = (out / "model_host").read_bytes()
    (out / "model_host").unlink()
    done = subprocess.run(["make"], cwd=out, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    sample = (bytes(range(256)) * 3)[:640]  # any bytes: the model's input is 640 int8 values
    rebuilt = subprocess.run([out / "model_host"], input=sample, capture_output=True, timeout=30).stdout
    reference = tmp_path / "reference_host"
    reference.write_bytes(original)
    reference.chmod(0o755)
    assert rebuilt == subprocess.run([reference], input=sample, capture_output=True, timeout=30).stdout
