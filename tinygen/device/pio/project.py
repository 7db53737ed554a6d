"""Write a PlatformIO project for a board, and build it with `pio run`.

Layout of a project:
    platformio.ini          one env named after the board
    lib/tinygen_model/      the generated model and the kernels (lib_files)
    lib/tinygen_hal/        firmware/hal/ files this board needs + generated tg_board.h
    src/                    the firmware main (src_files)
    linker.ld, boards/      bare-metal (QEMU) boards only: memory map and PlatformIO board JSON
    pio/                    bare-metal boards only: tinygen's platform and PlatformIO's SCons shim
Bare-metal boards build offline with what the project carries (see core.py), so `pio run` works
in a copy of the project anywhere; real boards get their official platform, pinned, which
PlatformIO downloads on the first online build. No generated file holds an absolute path.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from ... import __version__, activity
from ...boards import CYCLE_COUNTERS, Board
from ...errors import ToolError
from ...resources import render, resource_dir
from .. import processes, qemu
from ..cflags import WARNINGS
from . import core

MODEL_LIB = "tinygen_model"
PLATFORM_SUBDIR = "pio/tinygen-platform"  # named apart: PlatformIO keys linked platforms by folder name
PACKAGES_SUBDIR = "pio/packages"
HAL_LIB = "tinygen_hal"
ERROR_LINE = re.compile(r"error|overflowed|will not fit|undefined reference", re.IGNORECASE)


class RegistryUnreachable(ToolError):
    """PlatformIO needs its registry (a real board's first build) and cannot reach it: the project
    is complete, only the download is missing."""

    def __init__(self, env: str, project_dir: Path) -> None:
        self.env = env
        super().__init__(
            f"PlatformIO could not reach its registry to download the platform for '{env}'; the project in "
            f"{project_dir} is ready to build with `pio run` (or `tinygen flash`) on a machine that is online"
        )


@dataclass(frozen=True)
class BuildResult:
    elf: Path
    sections: dict[str, int]  # allocated ELF sections: name -> bytes
    text_bytes: int  # code and constants (flash)
    data_bytes: int  # initialised data (flash and RAM)
    bss_bytes: int  # zeroed data, heap and stack (RAM)
    log: Path

    @property
    def flash_bytes(self) -> int:
        return self.text_bytes + self.data_bytes

    @property
    def ram_bytes(self) -> int:
        return self.data_bytes + self.bss_bytes


def hal_sources(board: Board) -> list[str]:
    """The firmware/hal/ files a board's firmware links: whole drivers chosen by board data."""
    counter = f"tg_counter_{board.cycle_counter}.c"
    if not board.bare_metal:  # the Arduino core provides startup and serial
        return ["tg_hal.h", counter]
    uart = f"tg_uart_{board.emulator.uart}.c"
    # library.json keeps the HAL out of an archive, where the vector table would be dropped.
    return ["tg_hal.h", "library.json", "tg_startup.c", "tg_exit.c", uart, counter]


def _env_settings(board: Board) -> dict[str, str]:
    pio = board.platformio
    if pio.local:
        settings = {
            "platform": f"symlink://{PLATFORM_SUBDIR}",  # relative to the project
            "board": pio.board,
            "board_build.ldscript": "linker.ld",
            # Link the HAL (startup, vector table) even when src/ does not include tg_hal.h.
            "lib_deps": HAL_LIB,
            "upload_protocol": "custom",
            "upload_command": shlex.join(qemu.qemu_argv(board, "$SOURCE", icount_shift=qemu.ICOUNT_SHIFT)),
        }
    else:
        settings = {
            "platform": pio.platform,
            "board": pio.board,
            "framework": pio.framework,
            "upload_protocol": pio.upload_protocol,
        }
    return {k: v for k, v in settings.items() if v} | pio.extra


def _board_json(board: Board) -> str:
    """PlatformIO's board manifest for a bare-metal board, read by platform/builder/main.py."""
    manifest = {
        "name": board.name,
        "vendor": "tinygen",
        "url": "https://www.qemu.org/docs/master/system/target-arm.html",
        "frameworks": [],
        "build": {
            "cpu": board.core,
            "fpu": board.fpu,
            "mcu": board.mcu,
            "f_cpu": f"{board.clock_hz}L",
            "warnings": list(WARNINGS),
        },
        "upload": {"maximum_size": board.flash.size_bytes, "maximum_ram_size": board.ram.size_bytes},
    }
    return json.dumps(manifest, indent=2) + "\n"


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def board_header(board: Board) -> str:
    """tg_board.h: the board facts the HAL and the link server compile in."""
    return render(
        "tg_board.h.j2",
        board=board,
        uart_base=board.emulator.uart_base if board.bare_metal else 0,
        version=__version__,
        counter_kind=CYCLE_COUNTERS.index(board.cycle_counter),
        counter_hz=counter_hz(board),
    )


def counter_hz(board: Board) -> int:
    """Elapsed-time counter ticks per second at the board's clock: DWT counts cycles; SysTick under
    QEMU's -icount ticks at its own rate per instruction (qemu.ticks_per_cycle_second)."""
    if board.cycle_counter == "systick" and board.emulator and board.emulator.systick_clock_hz:
        return qemu.ticks_per_cycle_second(board)
    return board.clock_hz


def write_project(board: Board, out_dir: Path, lib_files: dict[str, str | bytes], src_files: dict[str, str]) -> Path:
    """Write the PlatformIO project for `board` into out_dir and return out_dir."""
    out_dir = Path(out_dir)
    ini = render("platformio.ini.j2", board=board, settings=_env_settings(board), packages_dir=PACKAGES_SUBDIR)
    _write(out_dir / "platformio.ini", ini)
    for name, content in lib_files.items():
        _write(out_dir / "lib" / MODEL_LIB / name, content)
    for name, content in src_files.items():
        _write(out_dir / "src" / name, content)
    hal_dir = resource_dir("firmware") / "hal"
    for name in hal_sources(board):
        _write(out_dir / "lib" / HAL_LIB / name, (hal_dir / name).read_text(encoding="utf-8"))
    _write(out_dir / "lib" / HAL_LIB / "tg_board.h", board_header(board))
    if board.bare_metal:
        _write(out_dir / "linker.ld", render("linker.ld.j2", board=board))
        _write(out_dir / "boards" / f"{board.platformio.board}.json", _board_json(board))
        for name, content in core.platform_files().items():
            _write(out_dir / PLATFORM_SUBDIR / name, content)
        for name, content in core.scons_package().items():
            _write(out_dir / PACKAGES_SUBDIR / "tool-scons" / name, content)
    return out_dir


def read_sizes(elf: Path) -> tuple[dict[str, int], int, int, int]:
    """Allocated sections and the text/data/bss totals (as `size -B` counts them)."""
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    sections, text, data, bss = {}, 0, 0, 0
    with open(elf, "rb") as f:
        for section in ELFFile(f).iter_sections():
            flags, size = section["sh_flags"], section["sh_size"]
            if not flags & SH_FLAGS.SHF_ALLOC or size == 0:
                continue
            sections[section.name] = size
            if section["sh_type"] == "SHT_NOBITS":
                bss += size
            elif flags & SH_FLAGS.SHF_WRITE:
                data += size
            else:
                text += size
    return sections, text, data, bss


def pio_environ() -> dict[str, str]:
    """The environment for `pio`: a private core directory, no upgrade check, no telemetry."""
    return dict(
        os.environ,
        PLATFORMIO_CORE_DIR=str(core.core_dir()),
        PLATFORMIO_DISABLE_UPGRADE_CHECK="true",
        PLATFORMIO_SETTING_ENABLE_TELEMETRY="no",
    )


def _first_error(log: str) -> str:
    """The first line that looks like a cause: later ones are usually its consequences."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    causes = [line for line in lines if ERROR_LINE.search(line)]
    return (causes or lines or ["no output"])[0]


def run_pio(
    project_dir: Path,
    env: str,
    timeout_s: float = 300,
    upload_port: str | None = None,
    registry_platform: str | None = None,
) -> BuildResult:
    """`pio run -e env` in project_dir (with upload_port: and `-t upload` there); the ELF's sizes on
    success, a TinygenError otherwise. registry_platform: the platform the env takes from PlatformIO's
    registry; when it is not installed yet and the registry cannot be reached, RegistryUnreachable
    at once."""
    project_dir = Path(project_dir).resolve()
    if registry_platform and not core.platform_installed(registry_platform) and not core.registry_reachable():
        raise RegistryUnreachable(env, project_dir)
    log_path = project_dir / "build.log"
    # `python -m platformio` so that PlatformIO runs SCons with this interpreter, which has it.
    cmd = [sys.executable, "-m", "platformio", "run", "-d", str(project_dir), "-e", env]
    if upload_port:
        cmd += ["-t", "upload", "--upload-port", upload_port]
    doing = f"uploading to {env} on {upload_port}" if upload_port else f"building the firmware for {env} (PlatformIO)"
    with activity.step(doing) as step:
        what = f"`pio run -e {env}` in {project_dir}"
        done = processes.run(cmd, timeout_s, what, env=pio_environ(), on_line=step.note)
    log = (done.stdout + done.stderr).decode("utf-8", errors="replace")
    log_path.write_text(log, encoding="utf-8")
    proc = done
    if proc.returncode != 0:
        if "HTTPClientError" in log or "InternetConnectionError" in log:
            raise RegistryUnreachable(env, project_dir)
        raise ToolError(f"`pio run -e {env}` failed: {_first_error(log)} (full log: {log_path})")
    elf = project_dir / ".pio" / "build" / env / "firmware.elf"
    sections, text, data, bss = read_sizes(elf)
    return BuildResult(elf, sections, text, data, bss, log_path)
