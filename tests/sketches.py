"""Exported Arduino libraries built as the Arduino builder builds a sketch, without an Arduino core.

Each library's src/ is compiled (C as C, C++ as C++), the sketch's .ino as C++ with Arduino.h
included first (the builder adds that line), against the stand-in core in tests/fixtures/arduino/;
arduino_stub.cpp supplies Serial, the clock, the IMU and a main() that runs setup() and loop() once.
With the host compiler the program runs; with the Nano 33 BLE's compiler it is linked only.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

STAND_IN = Path(__file__).parent / "fixtures" / "arduino"
WARNINGS = ["-Wall", "-Wextra", "-Werror"]


@dataclass(frozen=True)
class Toolchain:
    cc: str
    cxx: str
    flags: tuple[str, ...] = ()
    link_flags: tuple[str, ...] = ()


HOST = Toolchain("gcc", "g++")
# The Nano 33 BLE's nRF52840 (Cortex-M4F), as its Arduino core compiles; newlib's stubs stand in for I/O.
NANO33 = Toolchain(
    "arm-none-eabi-gcc",
    "arm-none-eabi-g++",
    ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-Os"),
    ("--specs=nosys.specs",),
)


def need(toolchain: Toolchain) -> Toolchain:
    if not (shutil.which(toolchain.cc) and shutil.which(toolchain.cxx)):
        pytest.skip(f"needs {toolchain.cc} and {toolchain.cxx}")
    return toolchain


def build_sketch(sketch: Path, libraries: list[Path], workdir: Path, toolchain: Toolchain = HOST) -> Path:
    """Compile the sketch folder and the libraries (their folders) into one program; returns it."""
    includes = [f"-I{STAND_IN}", *(f"-I{library / 'src'}" for library in libraries)]
    objects = []
    for n, library in enumerate(libraries):
        sources = sorted((library / "src").iterdir())
        objects += _compile(toolchain, includes, sources, workdir / f"lib{n}")
    ino = sorted(sketch.glob("*.ino"))
    objects += _compile(toolchain, [*includes, f"-I{sketch}", "-include", "Arduino.h"], ino, workdir / "sketch")
    objects += _compile(toolchain, includes, [STAND_IN / "arduino_stub.cpp"], workdir / "core")
    program = workdir / "sketch.elf"
    _run([toolchain.cxx, *toolchain.flags, *toolchain.link_flags, *map(str, objects), "-o", str(program), "-lm"])
    return program


def run_program(program: Path) -> str:
    result = subprocess.run([str(program)], capture_output=True, encoding="utf-8", timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _compile(toolchain: Toolchain, includes: list[str], sources: list[Path], objdir: Path) -> list[Path]:
    objdir.mkdir(parents=True)
    c = [s for s in sources if s.suffix == ".c"]
    cxx = [s for s in sources if s.suffix in (".cpp", ".ino")]
    if c:
        _run([toolchain.cc, "-std=gnu11", *toolchain.flags, *WARNINGS, *includes, "-c", *map(str, c)], objdir)
    for source in cxx:  # .ino is C++: say so, and give each its own object
        command = [toolchain.cxx, "-std=gnu++14", "-fno-exceptions", "-fno-rtti", *toolchain.flags, *WARNINGS]
        _run([*command, *includes, "-x", "c++", "-c", str(source), "-o", f"{source.name}.o"], objdir)
    return sorted(objdir.glob("*.o"))


def _run(command: list[str], cwd: Path | None = None) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(command[:3])} ...:\n{result.stderr[-4000:]}"
