"""What each export format holds: file paths (inside the exported folder) and their text."""

from __future__ import annotations

from pathlib import Path

from .. import __version__
from ..compiler.pipeline import CompiledModel
from ..resources import render
from .arduino import BundledInput, ImuNormalization, arduino_library
from .prefix import DEFAULT, check_prefix, file_name, prefixed

FORMATS = ("arduino-library", "cmake", "c")


def export_files(
    compiled: CompiledModel,
    fmt: str,
    name: str,
    prefix: str = DEFAULT,
    labels: list[str] | None = None,
    sample: BundledInput | None = None,
    normalization: ImuNormalization | None = None,
) -> dict[str, str]:
    """The model in format fmt: an Arduino library named name, a CMake library target, or plain C
    (the model, its kernels and the model API, as `tinygen build` writes them)."""
    check_prefix(prefix)
    if fmt == "arduino-library":
        return arduino_library(compiled, name, prefix, labels, sample, normalization)
    files = prefixed({**compiled.generated.kernel_files, **compiled.generated.files}, prefix)
    if fmt == "cmake":
        files["CMakeLists.txt"] = _cmake_lists(compiled, files, prefix)
    return files


def _cmake_lists(compiled: CompiledModel, files: dict[str, str], prefix: str) -> str:
    sources = sorted(path for path in files if path.endswith(".c"))
    return render(
        "cmake/CMakeLists.txt.j2",
        version=__version__,
        source=Path(compiled.model.source).name,
        target=f"{prefix}_model",
        header=file_name("model.h", prefix),
        sources=sources,
        libm=[path for path in sources if "#include <math.h>" in files[path]],
    )
