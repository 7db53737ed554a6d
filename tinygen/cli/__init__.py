"""The `tinygen` command: `main` is the click group; the commands live beside it."""

from . import export_command, model_commands, monitor_command, run_commands  # noqa: F401 - they add their commands to main
from .app import main

__all__ = ["main"]
