"""A private PlatformIO core directory that builds offline.

PlatformIO normally downloads its SCons, the toolchain and the platform from its registry.
For the bare-metal boards tinygen supplies all three locally:
- the platform: tinygen/device/pio/platform, referenced as symlink:// (used in place, never copied);
- the toolchain: a package folder whose bin/ links to the system arm-none-eabi-* tools;
- tool-scons: a shim that runs the pip-installed SCons, with a .piopm naming owner
  "platformio" and the version this PlatformIO release asks for (else it is ignored).
All of it lives under cache_dir(): $TINYGEN_CACHE_DIR, else $XDG_CACHE_HOME/tinygen, else
~/.cache/tinygen. The core directory is keyed by the PlatformIO version.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ...errors import TinygenError

PLATFORM_DIR = Path(__file__).resolve().parent / "platform"
TOOLCHAIN_PREFIX = "arm-none-eabi-"
TOOLCHAIN_TOOLS = (
    "addr2line",
    "ar",
    "as",
    "c++",
    "cpp",
    "g++",
    "gcc",
    "gcc-ar",
    "gcc-nm",
    "gcc-ranlib",
    "gdb",
    "ld",
    "nm",
    "objcopy",
    "objdump",
    "ranlib",
    "readelf",
    "size",
    "strip",
)
SCONS_SHIM = "import SCons.Script\n\nSCons.Script.main()\n"


def cache_dir() -> Path:
    if os.environ.get("TINYGEN_CACHE_DIR"):
        return Path(os.environ["TINYGEN_CACHE_DIR"])
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "tinygen"


def _pio_version() -> str:
    from platformio import __version__

    return __version__


def _write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def core_dir() -> Path:
    """The PlatformIO core directory with the tool-scons shim installed in it."""
    from platformio.dependencies import get_core_dependencies

    core = cache_dir() / f"platformio-{_pio_version()}"
    version = get_core_dependencies()["tool-scons"].lstrip("~^=")
    scons = core / "packages" / "tool-scons"
    _write_if_changed(scons / "scons.py", SCONS_SHIM)
    _write_if_changed(scons / "package.json", json.dumps({"name": "tool-scons", "version": version}))
    piopm = {
        "type": "tool",
        "name": "tool-scons",
        "version": version,
        "spec": {"owner": "platformio", "id": None, "name": "tool-scons", "requirements": None, "uri": None},
    }
    _write_if_changed(scons / ".piopm", json.dumps(piopm))
    return core


def toolchain_dir() -> Path:
    """A toolchain-gccarmnoneeabi package whose bin/ links to the system tools."""
    gcc = shutil.which(TOOLCHAIN_PREFIX + "gcc")
    if gcc is None:
        raise TinygenError(
            "arm-none-eabi-gcc is not on PATH: install the GNU Arm toolchain "
            "(Debian/Ubuntu: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)"
        )
    package = cache_dir() / "toolchain-gccarmnoneeabi"
    bin_dir = package / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for tool in TOOLCHAIN_TOOLS:
        target = shutil.which(TOOLCHAIN_PREFIX + tool)
        link = bin_dir / (TOOLCHAIN_PREFIX + tool)
        if target is None or (link.is_symlink() and os.readlink(link) == target):
            continue
        link.unlink(missing_ok=True)
        link.symlink_to(target)
    manifest = {
        "name": "toolchain-gccarmnoneeabi",
        "version": "1.120201.0",
        "system": ["linux_x86_64", "linux_aarch64", "darwin_x86_64", "darwin_arm64"],
    }
    _write_if_changed(package / "package.json", json.dumps(manifest))
    return package
