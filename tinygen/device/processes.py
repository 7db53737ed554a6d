"""Child processes (the host compiler, PlatformIO, QEMU) that never outlive their reason to run.

Each runs in its own process group, so stopping it stops what it started too (cc1 and ld, SCons and
the cross compiler). A timeout, Ctrl-C or any other error while waiting stops the whole group.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable

from ..errors import ToolError


def start(command: list[str], **kwargs) -> subprocess.Popen:
    """Popen in a new process group (session), so stop() reaches everything it starts."""
    try:
        return subprocess.Popen(command, start_new_session=True, **kwargs)
    except OSError as e:  # the program is missing or not executable
        raise ToolError(f"cannot run {command[0]}: {e.strerror or e}") from None


def stop(process: subprocess.Popen) -> None:
    """Kill the process and what is left of its group (a child it left behind), and reap it."""
    if os.name == "nt":
        if process.poll() is None:
            subprocess.run(["taskkill", "/T", "/F", "/PID", str(process.pid)], capture_output=True)
    else:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):  # the whole group is gone already
            if process.poll() is None:
                process.kill()
    process.wait()


def run(
    command: list[str],
    timeout_s: float,
    what: str,
    input: bytes | None = None,
    cwd=None,
    env=None,
    on_line: Callable[[str], None] | None = None,
) -> subprocess.CompletedProcess:
    """Run to completion with output captured (bytes); past timeout_s, or on Ctrl-C, the whole group is
    killed and the error names `what`. on_line, if given, sees each output line as it comes (for
    progress)."""
    if on_line is not None and input is None:
        return _run_watched(command, timeout_s, what, on_line, cwd=cwd, env=env)
    process = start(
        command,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
    )
    try:
        stdout, stderr = process.communicate(input, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        stop(process)
        raise ToolError(f"{what} took longer than {timeout_s:g} s") from None
    except BaseException:
        stop(process)
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _run_watched(command, timeout_s: float, what: str, on_line, cwd=None, env=None) -> subprocess.CompletedProcess:
    """run() that hands each line of stdout and stderr to on_line while capturing both."""
    process = start(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env)
    captured: dict[str, list[bytes]] = {"stdout": [], "stderr": []}

    def pump(stream, chunks: list[bytes]) -> None:
        for line in iter(stream.readline, b""):
            chunks.append(line)
            on_line(line.decode("utf-8", errors="replace"))

    pumps = [
        threading.Thread(target=pump, args=(process.stdout, captured["stdout"]), daemon=True),
        threading.Thread(target=pump, args=(process.stderr, captured["stderr"]), daemon=True),
    ]
    for thread in pumps:
        thread.start()
    deadline = time.monotonic() + timeout_s
    try:
        process.wait(timeout=max(deadline - time.monotonic(), 0))
        for thread in pumps:  # the pipes close when the group exits; a grandchild holding them is killed
            thread.join(timeout=max(deadline - time.monotonic(), 0))
            if thread.is_alive():
                raise subprocess.TimeoutExpired(command, timeout_s)
    except subprocess.TimeoutExpired:
        stop(process)
        raise ToolError(f"{what} took longer than {timeout_s:g} s") from None
    except BaseException:
        stop(process)
        raise
    stdout, stderr = b"".join(captured["stdout"]), b"".join(captured["stderr"])
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
