"""Class labels from a file: one per line (UTF-8), one for each value of a model's first output.
The firmware's readable lines and the exported Arduino library print them."""

from __future__ import annotations

from pathlib import Path

from .errors import TinygenError
from .escape import NAME_LIMIT, terminal
from .ir import Graph


def read_labels(path: str | Path, graph: Graph) -> list[str]:
    """One label per line (UTF-8), one for each value of the model's first output."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # -sig: a byte order mark is not part of a label
    except UnicodeDecodeError as e:
        raise TinygenError(f"{path} is not UTF-8 text (byte {e.start}): labels are one per line, in UTF-8") from e
    labels = [line.strip() for line in text.splitlines()]
    while labels and not labels[-1]:
        labels.pop()
    output = graph.tensor(graph.outputs[0])
    if len(labels) != output.size:
        raise TinygenError(
            f"{path} holds {len(labels)} labels, but the model's first output {terminal(output.name)!r} "
            f"{list(output.shape)} has {output.size} values: give one label per line, one for each"
        )
    for n, label in enumerate(labels, start=1):
        if not label:
            raise TinygenError(f"{path}: line {n} is empty; every class needs a label")
        if len(label) > NAME_LIMIT:
            raise TinygenError(f"{path}: the label on line {n} has {len(label)} characters; at most {NAME_LIMIT}")
    return labels
