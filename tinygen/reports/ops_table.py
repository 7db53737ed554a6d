"""The README's table of supported ops, generated from the op records (scripts/update-docs.py writes it),
with a column saying which of them the numpy reference (tinygen/specref) computes."""

from __future__ import annotations

from ..ops import REGISTRY
from ..specref import covered_ops

BEGIN = "<!-- ops table: generated from tinygen/ops by scripts/update-docs.py; do not edit by hand -->"
END = "<!-- end of ops table -->"


def ops_table() -> str:
    covered = set(covered_ops())
    rows = ["| op | notes | numpy reference |", "|---|---|---|"]
    rows += [
        f"| {name} | {REGISTRY[name].notes} | {'yes' if name in covered else 'no'} |"
        for name in sorted(REGISTRY)
        if not REGISTRY[name].internal
    ]
    return "\n".join([BEGIN, *rows, END])


def with_ops_table(readme: str) -> str:
    """The README text with its ops table replaced by the current one."""
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    return readme[:start] + ops_table() + readme[end:]
