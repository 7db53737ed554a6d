"""Long steps show they are alive (on stderr, never stdout), `-q` silences them, and a watched child
process hands its lines over as they come while still being killed on a timeout."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tinygen import activity, zoo
from tinygen.device import processes
from tinygen.errors import ToolError
from tinygen.frontends.tflite_writer import write_tflite

from .helpers import run_cli


@pytest.fixture
def fast_log(monkeypatch):
    monkeypatch.setattr(activity, "LOG_AFTER_S", 0.05)
    monkeypatch.setattr(activity, "LOG_EVERY_S", 0.05)
    yield
    activity.set_quiet(False)


def test_a_long_step_logs_its_name_and_latest_line(fast_log, capsys):
    with activity.step("building the firmware") as step:
        step.note("Compiling \x1b[31mmodel.c\n")  # a tool's line, escape sequences and all
        time.sleep(0.3)
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0] == "tinygen: building the firmware ..."
    assert any(line.startswith("tinygen: building the firmware: Compiling ") for line in lines[1:])
    assert "\x1b" not in captured.err


def test_a_short_step_and_quiet_mode_print_nothing(fast_log, capsys):
    with activity.step("quick"):
        pass
    activity.set_quiet(True)
    with activity.step("slow but quiet"):
        time.sleep(0.2)
    assert list(activity.counted([1, 2, 3], 3, "counting")) == [1, 2, 3]
    assert capsys.readouterr().err == ""


def test_a_watched_process_streams_its_lines():
    lines: list[str] = []
    done = processes.run(["sh", "-c", "echo one; echo two >&2; echo three"], 10, "the test", on_line=lines.append)
    assert done.returncode == 0 and done.stdout == b"one\nthree\n" and done.stderr == b"two\n"
    assert sorted(line.strip() for line in lines) == ["one", "three", "two"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_watched_process_and_what_it_left_behind_stop_at_the_timeout(tmp_path):
    marker = tmp_path / "pid"
    # The shell exits at once; its background child keeps the output pipe open and must not hang us.
    command = ["sh", "-c", f"sleep 60 & echo $! > {marker}; echo started"]
    started = time.monotonic()
    with pytest.raises(ToolError, match="the test took longer than 1 s"):
        processes.run(command, 1, "the test", on_line=lambda line: None)
    assert time.monotonic() - started < 10
    pid = int(marker.read_text())
    time.sleep(0.2)
    assert _dead(pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_stops_the_child_and_what_it_started(tmp_path):
    """Ctrl-C (SIGINT) in tinygen while it waits for a tool: the tool's whole process group dies with it."""
    marker = tmp_path / "pid"
    waiting = (
        "from tinygen.device import processes\n"
        f"processes.run(['sh', '-c', 'sleep 60 & echo $! > {marker}; sleep 60'], 120, 'the test')\n"
    )
    tinygen = subprocess.Popen([sys.executable, "-c", waiting], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not (marker.exists() and marker.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchild = int(marker.read_text())
    tinygen.send_signal(signal.SIGINT)
    _, stderr = tinygen.communicate(timeout=30)
    assert b"KeyboardInterrupt" in stderr
    time.sleep(0.2)
    assert _dead(grandchild)


def _dead(pid: int) -> bool:
    """Gone, or a zombie waiting for its adopted parent to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_quiet_cli_prints_only_results(tmp_path):
    model = tmp_path / "autoencoder.tflite"
    model.write_bytes(write_tflite(zoo.autoencoder(seed=3)))
    code, out, err = run_cli("-q", "build", model, "--board", "host", "-o", tmp_path / "project")
    activity.set_quiet(False)
    assert code == 0 and err == "" and "built" in out
