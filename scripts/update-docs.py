"""Regenerate the parts of the docs that are derived from the code: the README's ops table (from the op
records) and its corpus coverage (from tests/corpus/manifest.toml, which tests/test_corpus.py enforces)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.corpus.report import with_coverage  # noqa: E402
from tinygen.reports.ops_table import with_ops_table  # noqa: E402

README = ROOT / "README.md"
README.write_text(with_coverage(with_ops_table(README.read_text(encoding="utf-8"))), encoding="utf-8")
print(f"updated {README}")
