"""What PlatformIO needs to build a bare-metal project offline, written into the project itself.

PlatformIO normally downloads its SCons, the toolchain and the platform from its registry.
For the bare-metal boards a generated project carries all it needs, with relative paths only, so
that it can be moved, committed and built with plain `pio run` on a machine that is offline:
- the platform: a copy of tinygen/device/pio/platform, referenced as `symlink://` (used in place);
- the toolchain: the system arm-none-eabi-* tools on PATH (the platform's package is optional);
- tool-scons: a shim that runs the pip-installed SCons, in the project's packages_dir, with a
  .piopm naming owner "platformio" and the version this PlatformIO release asks for (else it is
  ignored and PlatformIO goes to its registry).
tinygen's own `pio` runs use a private core directory (PlatformIO's settings and state) under
cache_dir(): $TINYGEN_CACHE_DIR, else $XDG_CACHE_HOME/tinygen, else ~/.cache/tinygen.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

PLATFORM_DIR = Path(__file__).resolve().parent / "platform"
SCONS_SHIM = "import SCons.Script\n\nSCons.Script.main()\n"


def cache_dir() -> Path:
    if os.environ.get("TINYGEN_CACHE_DIR"):
        return Path(os.environ["TINYGEN_CACHE_DIR"])
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "tinygen"


def _pio_version() -> str:
    from platformio import __version__

    return __version__


def core_dir() -> Path:
    """The PlatformIO core directory for tinygen's own runs, keyed by the PlatformIO version."""
    return cache_dir() / f"platformio-{_pio_version()}"


def scons_package() -> dict[str, str]:
    """The files of a tool-scons package that PlatformIO accepts as its own: name -> text."""
    from platformio.dependencies import get_core_dependencies

    version = get_core_dependencies()["tool-scons"].lstrip("~^=")
    piopm = {
        "type": "tool",
        "name": "tool-scons",
        "version": version,
        "spec": {"owner": "platformio", "id": None, "name": "tool-scons", "requirements": None, "uri": None},
    }
    return {
        "scons.py": SCONS_SHIM,
        "package.json": json.dumps({"name": "tool-scons", "version": version}) + "\n",
        ".piopm": json.dumps(piopm) + "\n",
    }


def platform_files() -> dict[str, bytes]:
    """tinygen's bare-metal platform: relative path -> content."""
    return {
        path.relative_to(PLATFORM_DIR).as_posix(): path.read_bytes()
        for path in sorted(PLATFORM_DIR.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def platform_installed(spec: str) -> bool:
    """Whether tinygen's PlatformIO core directory holds the registry platform `spec`
    (`nordicnrf52@10.11.0`): if not, the next `pio run` downloads it."""
    name = spec.split("@")[0].rsplit("/", 1)[-1]
    platforms = core_dir() / "platforms"
    return platforms.is_dir() and any(p.name == name or p.name.startswith(f"{name}@") for p in platforms.iterdir())


def registry_reachable(timeout_s: float = 5) -> bool:
    """A quick look for PlatformIO's registry: offline, `pio run` only gives up after a minute of
    retries. Behind a proxy only PlatformIO can tell, so the answer is yes."""
    from platformio import __registry_mirror_hosts__
    from platformio.compat import is_proxy_set

    if is_proxy_set():
        return True
    for host in __registry_mirror_hosts__:
        try:
            socket.create_connection((f"api.{host}", 443), timeout=timeout_s).close()
            return True
        except OSError:
            continue
    return False
