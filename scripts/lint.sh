#!/usr/bin/env bash
# The style gates .ci/run enforces: ruff (lint and format) for Python, clang-format for the C
# runtime and the test fixtures' C. Run `bash scripts/lint.sh --fix` to apply both formatters.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mapfile -t c_files < <(git ls-files 'firmware/*.c' 'firmware/*.h' 'firmware/*.cpp' 'tests/fixtures/*.c' 'tests/fixtures/*.h' 'tests/fixtures/*.cpp')
if [ "${1:-}" = "--fix" ]; then
  $PY -m ruff check --fix .
  $PY -m ruff format .
  clang-format -i "${c_files[@]}"
  exit 0
fi
$PY -m ruff check .
$PY -m ruff format --check .
clang-format --dry-run --Werror "${c_files[@]}"
echo "lint: ruff and clang-format clean (${#c_files[@]} C files)"
