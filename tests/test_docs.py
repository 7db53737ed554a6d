"""Docs derived from the code stay in step with it."""

from pathlib import Path

from tinygen.reports.ops_table import with_ops_table

from .corpus.report import with_coverage

ROOT = Path(__file__).resolve().parent.parent


def test_readme_ops_table_is_generated_from_the_records():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme == with_ops_table(readme), "run: python scripts/update-docs.py"


def test_readme_coverage_is_generated_from_the_corpus_manifest():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme == with_coverage(readme), "run: python scripts/update-docs.py"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert f"The test command itself is `{command}`" in " ".join(readme.split())
