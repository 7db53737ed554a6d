"""The README's table of supported ops, generated from the op records (scripts/update-docs.py writes it)."""

from __future__ import annotations

from ..ops import REGISTRY

BEGIN = "<!-- ops table: generated from tinygen/ops by scripts/update-docs.py; do not edit by hand -->"
END = "<!-- end of ops table -->"


def ops_table() -> str:
    rows = ["| op | notes |", "|---|---|"]
    rows += [f"| {name} | {REGISTRY[name].notes} |" for name in sorted(REGISTRY) if not REGISTRY[name].internal]
    return "\n".join([BEGIN, *rows, END])


def with_ops_table(readme: str) -> str:
    """The README text with its ops table replaced by the current one."""
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    return readme[:start] + ops_table() + readme[end:]
