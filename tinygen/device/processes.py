"""Child processes (the host compiler, PlatformIO, QEMU) that never outlive their reason to run.

Each runs in its own process group, so stopping it stops what it started too (cc1 and ld, SCons and
the cross compiler). A timeout, Ctrl-C or any other error while waiting stops the whole group.
"""

from __future__ import annotations

import os
import signal
import subprocess

from ..errors import ToolError


def start(command: list[str], **kwargs) -> subprocess.Popen:
    """Popen in a new process group (session), so stop() reaches everything it starts."""
    try:
        return subprocess.Popen(command, start_new_session=True, **kwargs)
    except OSError as e:  # the program is missing or not executable
        raise ToolError(f"cannot run {command[0]}: {e.strerror or e}") from None


def stop(process: subprocess.Popen) -> None:
    """Kill the process and its group, and reap it."""
    if process.poll() is None:
        try:
            if os.name == "nt":
                subprocess.run(["taskkill", "/T", "/F", "/PID", str(process.pid)], capture_output=True)
            else:
                os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()
    process.wait()


def run(
    command: list[str], timeout_s: float, what: str, input: bytes | None = None, cwd=None, env=None
) -> subprocess.CompletedProcess:
    """Run to completion with output captured (bytes); past timeout_s, or on Ctrl-C, the whole group is
    killed and the error names `what`."""
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
