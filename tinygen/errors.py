"""How stages report to the user: TinygenError for failures (the CLI prints one line and exits
non-zero), warn() for things worth a line that do not stop the work."""

from __future__ import annotations

import sys


class TinygenError(Exception):
    """A user-facing failure: one line, non-zero exit."""


def warn(message: str) -> None:
    """One `tinygen: warning: ...` line on stderr (stdout stays clean for --json)."""
    from .escape import terminal_line

    print(f"tinygen: warning: {terminal_line(message)}", file=sys.stderr)
