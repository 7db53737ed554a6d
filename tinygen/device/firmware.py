"""Firmware for a board from a compiled model: the PlatformIO project, `pio run`, the ELF's sizes.

The project (tinygen.device.pio.project) holds the generated model and its kernels as lib/tinygen_model,
and in src/ the firmware main for the board's framework plus the serial link server
(firmware/link/), which answers the host's requests (docs/protocol.md).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from ..boards import Board
from ..compiler.fit import FitReport, check_fit
from ..compiler.pipeline import CompiledModel
from ..errors import TinygenError
from ..reports.report import write_report
from ..resources import resource_dir
from .demo import Demo, demo_source
from .link.ports import detect_port
from .outdir import ProjectDir
from .pio.project import BuildResult, RegistryUnreachable, run_pio, write_project
from .renode import write_resc

# The firmware main per PlatformIO framework ("" = bare metal with tinygen's HAL).
MAINS = {"": ("tg_main_baremetal.c", "main.c"), "arduino": ("tg_main_arduino.cpp", "main.cpp")}
LINK_FILES = ("tg_link.h", "tg_link_frame.c", "tg_link_server.c")
TALK_FILES = ("tg_talk.h", "tg_talk.c", "tg_demo.h")  # the readable lines, beside the link
BUILD_TIMEOUT_S = 600
# A real board's first build downloads its platform, toolchain and Arduino core (hundreds of MB).
FIRST_DOWNLOAD_TIMEOUT_S = 3600


def build_timeout_s(board: Board) -> float:
    return BUILD_TIMEOUT_S if board.bare_metal else FIRST_DOWNLOAD_TIMEOUT_S


def _pio(project: Path, board: Board, timeout_s: float | None, upload_port: str | None = None) -> BuildResult:
    registry = None if board.platformio.local else board.platformio.platform
    timeout_s = timeout_s or build_timeout_s(board)
    return run_pio(project, board.id, timeout_s=timeout_s, upload_port=upload_port, registry_platform=registry)


@dataclass(frozen=True)
class Firmware:
    project: Path
    fit: FitReport  # the estimate, checked before building
    build: BuildResult | None  # real sizes from the ELF; None with compile=False

    def as_json(self) -> dict:
        data = {"project": str(self.project), "fit": self.fit.as_json()}
        if self.build:
            data["elf"] = {
                "path": str(self.build.elf),
                "flash_bytes": self.build.flash_bytes,
                "ram_bytes": self.build.ram_bytes,
                "sections": self.build.sections,
            }
        return data


def firmware_sources(board: Board, compiled: CompiledModel, demo: Demo | None = None) -> dict[str, str]:
    """src/ of a firmware project: the main for the board's framework, the link server and the
    readable lines with what they talk about (tg_demo.c)."""
    firmware = resource_dir("firmware")
    framework = board.platformio.framework
    if framework not in MAINS:
        raise TinygenError(f"board '{board.id}': tinygen has no firmware main for framework '{framework}'")
    main, name = MAINS[framework]
    files = {name: (firmware / "main" / main).read_text(encoding="utf-8")}
    for link in LINK_FILES:
        files[link] = (firmware / "link" / link).read_text(encoding="utf-8")
    for talk in TALK_FILES:
        files[talk] = (firmware / "talk" / talk).read_text(encoding="utf-8")
    files["tg_demo.c"] = demo_source(compiled, demo)
    return files


def build_firmware(
    compiled: CompiledModel,
    board: Board,
    out_dir: Path,
    compile: bool = True,
    timeout_s: float | None = None,
    demo: Demo | None = None,
) -> Firmware:
    """Check the fit, write the project and (unless compile=False) build it with `pio run`."""
    fit = check_fit(compiled, board)
    lib = {**compiled.generated.kernel_files, **compiled.generated.files}
    project = write_project(board, Path(out_dir), lib, firmware_sources(board, compiled, demo))
    if board.emulator and board.emulator.renode_platform:  # boards Renode models and QEMU does not
        # Written before building: a project PlatformIO cannot build offline is complete too.
        write_resc(board, project / ".pio" / "build" / board.id / "firmware.elf", project / "renode.resc")
    build = _pio(project, board, timeout_s) if compile else None
    return Firmware(project, fit, build)


@dataclass(frozen=True)
class Project:
    """What `tinygen build` made: the sources (and, compiled, the binary or the ELF) for a board."""

    directory: Path
    fit: FitReport  # the estimate, checked before anything was written
    host_binary: Path | None = None  # host boards, compiled
    firmware: Firmware | None = None  # firmware boards

    def as_json(self) -> dict:
        if self.firmware:
            return self.firmware.as_json()
        return {
            "directory": str(self.directory),
            "fit": self.fit.as_json(),
            "binary": str(self.host_binary) if self.host_binary else None,
        }

    def describe(self, arena_bytes: int) -> str:
        if self.firmware is None:
            done = f"built {self.host_binary}" if self.host_binary else f"wrote {self.directory}"
            return f"{done} (arena {arena_bytes:,} bytes)"
        lines = [f"estimate: {self.fit.flash.describe()}; {self.fit.ram.describe()}"]
        elf = self.firmware.build
        if elf is None:
            lines.append(f"wrote {self.directory}; build it with `pio run -d {self.directory}`")
        else:
            lines.append(
                f"built {elf.elf}: flash {elf.flash_bytes:,} bytes (estimate {self.fit.flash.needed_bytes:,}), "
                f"RAM {elf.ram_bytes:,} bytes (estimate {self.fit.ram.needed_bytes:,})"
            )
        return "\n".join(lines)


def build_project(
    compiled: CompiledModel,
    board: Board,
    directory: Path,
    compile: bool = True,
    force: bool = False,
    demo: Demo | None = None,
) -> Project:
    """The model's sources for the board (a host program, or a firmware project) in directory,
    compiled unless compile=False. The fit is checked before anything is written; the project is
    written in a staging folder and moved into place when complete (tinygen/device/outdir.py), also
    when only PlatformIO's registry is missing: then it is ready to build online."""
    fit = check_fit(compiled, board)
    place = ProjectDir(directory, force=force)
    offline = None
    with place as staging:
        write_report(staging, compiled, board)
        if board.native:
            from .host import build_host

            if compile:
                binary = build_host(compiled.generated, staging)
            else:
                compiled.generated.write(staging)
                binary = None
        else:
            try:
                firmware = build_firmware(compiled, board, staging, compile=compile, demo=demo)
            except RegistryUnreachable as error:
                offline = error
    if offline:
        raise RegistryUnreachable(offline.env, place.target) from offline
    target = place.target
    if board.native:
        return Project(target, fit, host_binary=place.final(binary) if binary else None)
    build = firmware.build
    if build is not None:
        build = dataclasses.replace(build, elf=place.final(build.elf), log=place.final(build.log))
    return Project(target, fit, firmware=Firmware(target, fit, build))


def flash(board: Board, project: Path, port: str | None = None, timeout_s: float | None = None) -> str:
    """Build and upload a firmware project with PlatformIO (the board profile's upload protocol: for
    the Nano 33 BLE a 1200-baud touch, then bossac). Returns the port used."""
    if board.bare_metal:
        raise TinygenError(
            f"board '{board.id}' is emulated: there is nothing to flash; tinygen verify, "
            "invoke and profile run its firmware in QEMU"
        )
    if not (Path(project) / "platformio.ini").is_file():
        raise TinygenError(f"{project} is not a PlatformIO project (no platformio.ini): run tinygen build first")
    port = port or detect_port(board)
    _pio(Path(project), board, timeout_s, upload_port=port)
    return port
