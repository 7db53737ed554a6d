"""The corpus coverage table: python -m tests.corpus.report [--markdown]."""

from __future__ import annotations

import sys
from collections import defaultdict

from .manifest import load


def coverage() -> dict:
    """Counts from the manifest (tests/test_corpus.py holds tinygen to every line of it)."""
    _, models = load()
    runs = [m for m in models if m.reference_runs]
    refused = defaultdict(list)
    for m in models:
        if m.expect == "refused" and m.reference_runs:
            refused[m.why].append(m.name)
    return {
        "models": len(models),
        "tflite_micro_runs": len(runs),
        "tinygen_bit_exact": sum(1 for m in runs if m.expect == "bit-exact"),
        "refused": dict(refused),
        "tflite_micro_fails": [m.name for m in models if not m.reference_runs],
    }


def markdown() -> str:
    c = coverage()
    lines = [
        f"Of {c['models']} models in the corpus, tflite-micro runs {c['tflite_micro_runs']}; tinygen verifies "
        f"{c['tinygen_bit_exact']} of those bit-exact ({c['tinygen_bit_exact'] / c['tflite_micro_runs']:.0%}).",
        "",
        "| refused | models | why |",
        "|---|---|---|",
    ]
    for why, names in c["refused"].items():
        lines.append(f"| {len(names)} | {', '.join(n.split('/')[-1] for n in names)} | {why} |")
    return "\n".join(lines)


BEGIN = "<!-- corpus coverage: generated from tests/corpus/manifest.toml by scripts/update-docs.py -->"
END = "<!-- end of corpus coverage -->"


def with_coverage(readme: str) -> str:
    """The README text with its coverage section replaced by the current one."""
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    return readme[:start] + "\n".join([BEGIN, markdown(), END]) + readme[end:]


if __name__ == "__main__":
    print(markdown() if "--markdown" in sys.argv else coverage())
