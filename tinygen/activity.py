"""Showing that long work is alive, on stderr so that stdout stays clean for --json and pipes.

On a terminal: a spinner with the step, its elapsed time and the tool's latest output line, or a bar
when the amount of work is known. In a log (stderr is not a terminal): one line once a step has run for
LOG_AFTER_S, then its latest output line every LOG_EVERY_S, so that short steps stay silent and long
ones (a first PlatformIO download) still show signs of life. `tinygen -q` silences all of it.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from .escape import terminal_line

LOG_AFTER_S = 2.0
LOG_EVERY_S = 30.0
NOTE_CHARS = 70  # the tool's latest line, cut to fit beside the step's name

_quiet = False


def set_quiet(quiet: bool) -> None:
    global _quiet
    _quiet = quiet


def shown() -> bool:
    """Whether progress is shown at all (not `-q`)."""
    return not _quiet


def _on_terminal() -> bool:
    return sys.stderr.isatty()


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True, markup=False, highlight=False, emoji=False)


class Step:
    """One long step; note() passes the latest line a tool printed (escaped: tools echo file names)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.latest = ""
        self.started = time.monotonic()

    def note(self, line: str) -> None:
        line = terminal_line(line.strip())
        if line:
            self.latest = line[:NOTE_CHARS]

    def describe(self) -> str:
        return f"{self.label}: {self.latest}" if self.latest else self.label


@contextmanager
def step(label: str) -> Iterator[Step]:
    """`with step("building the firmware") as s:` shows the step while the block runs."""
    current = Step(label)
    if _quiet:
        yield current
    elif _on_terminal():
        yield from _spinner(current)
    else:
        yield from _log_lines(current)


def _spinner(current: Step) -> Iterator[Step]:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    stop = threading.Event()
    with Progress(*columns, console=_stderr_console(), transient=True) as bar:
        task = bar.add_task(current.describe(), total=None)

        def refresh() -> None:
            while not stop.wait(0.2):
                bar.update(task, description=current.describe())

        watcher = threading.Thread(target=refresh, daemon=True)
        watcher.start()
        try:
            yield current
        finally:
            stop.set()
            watcher.join()


def _log_lines(current: Step) -> Iterator[Step]:
    stop = threading.Event()

    def report() -> None:
        if stop.wait(LOG_AFTER_S):
            return
        print(f"tinygen: {current.label} ...", file=sys.stderr, flush=True)
        while not stop.wait(LOG_EVERY_S):
            elapsed = time.monotonic() - current.started
            print(f"tinygen: {current.describe()} ({elapsed:.0f} s)", file=sys.stderr, flush=True)

    reporter = threading.Thread(target=report, daemon=True)
    reporter.start()
    try:
        yield current
    finally:
        stop.set()
        reporter.join()


def counted(items: Iterable, total: int, label: str) -> Iterator:
    """The items, with a bar on a terminal (nothing in a log: the step lines say enough)."""
    if _quiet or not _on_terminal():
        yield from items
        return
    from rich.progress import Progress

    with Progress(console=_stderr_console(), transient=True) as bar:
        task = bar.add_task(label, total=total)
        for item in items:
            yield item
            bar.advance(task)
