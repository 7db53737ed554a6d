"""How stages report to the user: TinygenError for what is wrong with the user's model, data or
options (the CLI prints one line and exits 1), ToolError for a tool or the environment failing
(exit 3), warn() for things worth a line that do not stop the work."""

from __future__ import annotations

import sys


class TinygenError(Exception):
    """A user-facing failure: one line, non-zero exit."""

    exit_code = 1


class ToolError(TinygenError):
    """A tool or the environment failed: a compiler, QEMU, PlatformIO, a serial port, the reference
    interpreter (missing, crashed, timed out). Exit code 3, so scripts can tell it from a verdict."""

    exit_code = 3


def warn(message: str) -> None:
    """One `tinygen: warning: ...` line on stderr (stdout stays clean for --json)."""
    from .escape import terminal_line

    print(f"tinygen: warning: {terminal_line(message)}", file=sys.stderr)
