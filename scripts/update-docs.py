"""Regenerate the parts of the docs that are derived from the code: the README's ops table."""

from pathlib import Path

from tinygen.reports.ops_table import with_ops_table

README = Path(__file__).resolve().parent.parent / "README.md"
README.write_text(with_ops_table(README.read_text(encoding="utf-8")), encoding="utf-8")
print(f"updated {README}")
