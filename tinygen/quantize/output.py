"""Writing a quantized model without harming the user's files."""

from __future__ import annotations

from pathlib import Path

from ..atomic import write_atomically
from ..errors import TinygenError
from ..frontends.tflite_reader import parse_tflite
from .quantizer import QUANTIZED_BY


def write_model_file(path: Path, data: bytes, source: Path, force: bool = False) -> None:
    """Write data to path atomically. Never over the source model; over an existing file only if
    tinygen's quantizer wrote it (its description says so) or with force."""
    if path.exists() and source.exists() and path.resolve() == source.resolve():
        raise TinygenError(f"the output {path} is the model being quantized; choose another file with -o")
    if path.exists() and not force and not _written_by_tinygen(path):
        raise TinygenError(f"{path} exists and tinygen did not write it; choose another file with -o, or --force")
    try:
        write_atomically(path, data)
    except OSError as e:
        raise TinygenError(f"cannot write {path}: {e.strerror}") from e


def _written_by_tinygen(path: Path) -> bool:
    try:
        return parse_tflite(path.read_bytes()).description.startswith(QUANTIZED_BY)
    except (OSError, TinygenError):
        return False
