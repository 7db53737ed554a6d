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


def test_what_the_examples_commands_write_is_tracked_or_ignored():
    """An example's README commands write into its folder: each output is a tracked file (a model
    rewritten with --force) or ignored, so following them leaves `git status` clean."""
    import re
    import shutil
    import subprocess

    import pytest

    if not (shutil.which("git") and (ROOT / ".git").exists()):
        pytest.skip("not a git checkout")
    outputs = []
    for readme in sorted((ROOT / "examples").glob("*/README.md")):
        for name in re.findall(r"^tinygen .* -o (\S+)", readme.read_text(encoding="utf-8"), re.MULTILINE):
            outputs.append((readme.parent / name).relative_to(ROOT).as_posix())
    assert outputs
    tracked = subprocess.run(["git", "ls-files", *outputs], cwd=ROOT, capture_output=True, text=True).stdout.split()
    untracked = [o for o in outputs if o not in tracked]
    ignored = subprocess.run(["git", "check-ignore", *untracked], cwd=ROOT, capture_output=True, text=True)
    assert sorted(ignored.stdout.split()) == sorted(untracked)
