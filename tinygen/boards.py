"""Board profiles: boards/<id>.toml loaded into frozen dataclasses and checked on load.

The dataclasses are the schema: a key's type comes from its annotation, and a field with a
default is optional. Every problem in a file is reported, in one line.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from .errors import TinygenError
from .resources import resource_dir

CORES = ("host", "cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33")
FPUS = ("none", "fpv4-sp-d16", "fpv5-sp-d16", "fpv5-d16")
CYCLE_COUNTERS = ("none", "systick", "dwt")
UARTS = ("cmsdk", "stellaris")
LOCAL_PLATFORM = "tinygen"  # tinygen/device/pio/platform, the offline bare-metal platform
DSP_CORES = ("cortex-m4", "cortex-m7", "cortex-m33")
DWT_CORES = ("cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33")  # have a DWT cycle counter
DWT_LOCKED_CORES = ("cortex-m7",)  # its DWT must be unlocked (LAR) before counting
FPU_CORES = ("cortex-m4", "cortex-m7", "cortex-m33")


@dataclass(frozen=True)
class Memory:
    origin: int
    size_bytes: int


@dataclass(frozen=True)
class Reserved:
    """Flash and RAM the framework, startup and HAL use, so not available to the model."""

    flash_bytes: int
    ram_bytes: int


@dataclass(frozen=True)
class PlatformIO:
    platform: str  # "name@version" (pinned), or LOCAL_PLATFORM
    board: str
    framework: str
    upload_protocol: str
    extra: dict[str, str] = field(default_factory=dict)  # more platformio.ini settings
    # USB "vid:pid" (hex) of the board's serial port, to find it without --port.
    usb_ids: list[str] = field(default_factory=list)

    @property
    def local(self) -> bool:
        return self.platform == LOCAL_PLATFORM


@dataclass(frozen=True)
class Emulator:
    qemu_machine: str = ""
    qemu_cpu: str = ""
    uart: str = ""  # UART0 driver for the bare-metal HAL: one of UARTS
    uart_base: int = 0
    # SysTick clock under QEMU: with -icount shift=N, ticks = instructions * 2**N * hz / 1e9.
    systick_clock_hz: int = 0
    renode_platform: str = ""  # a .repl path inside Renode's tree
    renode_uart: str = ""


@dataclass(frozen=True)
class Board:
    id: str
    name: str
    mcu: str
    core: str
    fpu: str
    dsp: bool
    clock_hz: int
    stack_bytes: int
    heap_bytes: int
    cycle_counter: str
    flash: Memory
    ram: Memory
    reserved: Reserved
    platformio: PlatformIO
    emulator: Emulator | None = None
    path: Path | None = field(default=None, compare=False)  # the file it was loaded from

    @property
    def dwt_locked(self) -> bool:
        return self.core in DWT_LOCKED_CORES

    @property
    def native(self) -> bool:
        """The machine tinygen runs on (the `host` board): models run as host programs."""
        return self.core == "host"

    @property
    def bare_metal(self) -> bool:
        """Built by tinygen's own platform, with the HAL in firmware/hal/."""
        return self.platformio.local

    @property
    def qemu_machine(self) -> str:
        return self.emulator.qemu_machine if self.emulator else ""

    @property
    def flash_available_bytes(self) -> int:
        return self.flash.size_bytes - self.reserved.flash_bytes

    @property
    def ram_available_bytes(self) -> int:
        return self.ram.size_bytes - self.reserved.ram_bytes - self.stack_bytes - self.heap_bytes


def _convert(cls: type, table: dict, prefix: str, problems: list[str]):
    """Build dataclass `cls` from a TOML table, appending a message per problem."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)} - {"path"}
    problems += [f"unknown key '{prefix}{key}'" for key in table if key not in names]
    values = {}
    for f in dataclasses.fields(cls):
        key = prefix + f.name
        if f.name == "path":
            continue
        if f.name not in table:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                problems.append(f"missing key '{key}'")
            continue
        value, kind = table[f.name], hints[f.name]
        nested = [t for t in typing.get_args(kind) or (kind,) if dataclasses.is_dataclass(t)]
        if nested:
            if isinstance(value, dict):
                value = _convert(nested[0], value, key + ".", problems)
            else:
                problems.append(f"'{key}' must be a table")
        elif typing.get_origin(kind) is list and not isinstance(value, list):
            problems.append(f"'{key}' must be an array")
        elif typing.get_origin(kind) is dict:
            if not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
                problems.append(f"'{key}' must be a table of strings")
        elif kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append(f"'{key}' must be an integer, got {value!r}")
        elif kind in (bool, str) and not isinstance(value, kind):
            problems.append(f"'{key}' must be a {kind.__name__}, got {value!r}")
        values[f.name] = value
    return None if problems else cls(**values)


def _one_of(key: str, value: str, allowed: tuple[str, ...]) -> list[str]:
    return [] if value in allowed else [f"'{key}' must be one of {', '.join(allowed)}; got {value!r}"]


# A board file may come from anyone: its words reach file paths, platformio.ini, generated C and
# command lines, so each has a shape it must fit (names of things), and free text one line.
IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PINNED_PLATFORM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*@[A-Za-z0-9._~^<>=*+-]+")
RENODE_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*\.repl")
# platformio.ini settings a board may add: build and monitor settings, never scripts or libraries.
EXTRA_SETTINGS = ("build_flags", "build_unflags", "monitor_speed", "upload_speed", "board_build.", "board_upload.")
# Compiler flags reach SCons, which runs a value starting with '!' as a shell command, and gcc, whose options
# can load code (-fplugin=, -wrapper, -B, -Wl,-plugin) or read any file (@file, -include). A board's flags
# are macro definitions and optimisation, warning, machine and code generation switches, nothing more.
COMPILER_FLAG = re.compile(
    r"-[DU][A-Za-z_][A-Za-z0-9_]*(=[A-Za-z0-9_.+-]*)?|-O[0-3sgz]?|-W[a-z][a-z0-9-]*(=[0-9]+)?"
    r"|-m[a-z0-9][a-z0-9=.+-]*|-f[a-z][a-z0-9-]*"
)


def _shape(key: str, value: str, pattern: re.Pattern, what: str) -> list[str]:
    return [] if pattern.fullmatch(value) else [f"'{key}' must be {what}; got {value!r}"]


def _one_line(key: str, value: str, limit: int = 200) -> list[str]:
    if value.isprintable() and len(value) <= limit:
        return []
    return [f"'{key}' must be one line of at most {limit} printable characters"]


def _check(board: Board, stem: str) -> list[str]:
    """Consistency rules the types alone cannot express."""
    p = _one_of("core", board.core, CORES) + _one_of("fpu", board.fpu, FPUS)
    p += _one_of("cycle_counter", board.cycle_counter, CYCLE_COUNTERS)
    p += _shape("id", board.id, IDENTIFIER, "letters, digits, '.', '_' and '-' (up to 64)")
    p += _one_line("name", board.name) + _one_line("mcu", board.mcu)
    if board.id != stem:
        p.append(f"id '{board.id}' must match the file name '{stem}.toml'")
    for key, value in (
        ("stack_bytes", board.stack_bytes),
        ("heap_bytes", board.heap_bytes),
        ("reserved.flash_bytes", board.reserved.flash_bytes),
        ("reserved.ram_bytes", board.reserved.ram_bytes),
    ):
        if value < 0:
            p.append(f"'{key}' must not be negative")
    for key, mem in (("flash", board.flash), ("ram", board.ram)):
        if mem.size_bytes <= 0 or mem.origin < 0 or mem.origin + mem.size_bytes > 2**32:
            p.append(f"'{key}' must be a non-empty region inside the 32-bit address space")
    if board.flash_available_bytes <= 0:
        p.append("'reserved.flash_bytes' leaves no flash for the model")
    if board.ram_available_bytes <= 0:
        p.append("'reserved.ram_bytes' + 'stack_bytes' + 'heap_bytes' leave no RAM for the model")
    if board.core != "host" and board.clock_hz <= 0:
        p.append("'clock_hz' must be positive")
    if board.dsp and board.core not in DSP_CORES:
        p.append(f"'dsp' cannot be true on {board.core}")
    if board.fpu != "none" and board.core not in FPU_CORES:
        p.append(f"'fpu' must be \"none\" on {board.core}")
    if board.cycle_counter == "dwt" and board.core not in DWT_CORES:
        p.append(f"{board.core} has no DWT cycle counter")
    return p + _check_platformio(board) + _check_emulator(board)


def _check_platformio(board: Board) -> list[str]:
    pio = board.platformio
    p = []
    for key, value in (("board", pio.board), ("framework", pio.framework), ("upload_protocol", pio.upload_protocol)):
        if value:
            p += _shape(f"platformio.{key}", value, IDENTIFIER, "a PlatformIO name (letters, digits, '.', '_', '-')")
    for key, value in pio.extra.items():
        if not key.startswith(EXTRA_SETTINGS):
            p.append(f"'platformio.extra.{key}' is not allowed; a board may add {', '.join(EXTRA_SETTINGS)}")
        p += _one_line(f"platformio.extra.{key}", str(value))
        odd = [flag for flag in str(value).split() if not COMPILER_FLAG.fullmatch(flag)]
        if key.endswith("flags") and odd:
            p.append(
                f"'platformio.extra.{key}' may hold only compiler flags of the forms -DNAME[=value], -UNAME, -O, "
                f"-W<warning>, -m<option>, -f<switch>; got {odd[0]!r}"
            )
        elif str(value).lstrip().startswith("!"):
            p.append(f"'platformio.extra.{key}' must not start with '!' (SCons would run it as a command)")
    if p:
        return p
    if pio.local:
        return (
            []
            if board.qemu_machine
            else [f"platform \"{LOCAL_PLATFORM}\" needs 'emulator.qemu_machine' (it builds for QEMU)"]
        )
    p = [
        f"'platformio.usb_ids' entries must be \"vid:pid\" in hex; got {i!r}"
        for i in pio.usb_ids
        if not re.fullmatch(r"[0-9a-f]{4}:[0-9a-f]{4}", str(i))
    ]
    p += _shape("platformio.platform", pio.platform, PINNED_PLATFORM, "pinned as name@version")
    if board.core != "host" and not pio.board:
        p.append("'platformio.board' must name a PlatformIO board")
    return p


def _check_emulator(board: Board) -> list[str]:
    emu = board.emulator
    if emu is None:
        return []
    p = []
    for key, value in (
        ("qemu_machine", emu.qemu_machine),
        ("qemu_cpu", emu.qemu_cpu),
        ("renode_uart", emu.renode_uart),
    ):
        if value:
            p += _shape(f"emulator.{key}", value, IDENTIFIER, "a machine or device name")
    if emu.renode_platform and (not RENODE_PATH.fullmatch(emu.renode_platform) or ".." in emu.renode_platform):
        p.append(f"'emulator.renode_platform' must be a .repl path inside Renode's tree; got {emu.renode_platform!r}")
    if p or not emu.qemu_machine:
        return p
    p = _one_of("emulator.uart", emu.uart, UARTS)
    if emu.uart_base <= 0:
        p.append("'emulator.uart_base' must be the UART's address")
    if emu.systick_clock_hz <= 0:
        p.append("'emulator.systick_clock_hz' must be positive")
    if board.bare_metal and board.cycle_counter != "systick":
        p.append('QEMU boards must use cycle_counter = "systick" (QEMU models no DWT)')
    return p


def load_board_file(path: Path) -> Board:
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise TinygenError(f"cannot read board file {path}: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise TinygenError(f"board file {path} is not UTF-8 text (byte {e.start})") from None
    except tomllib.TOMLDecodeError as e:
        raise TinygenError(f"board file {path} is not valid TOML: {e}") from None
    problems: list[str] = []
    board = _convert(Board, table, "", problems)
    if board is not None:
        problems += _check(board, path.stem)
    if problems:
        raise TinygenError(f"invalid board file {path}: " + "; ".join(problems))
    return dataclasses.replace(board, path=path)


def board_ids() -> list[str]:
    return sorted(p.stem for p in resource_dir("boards").glob("*.toml"))


def load_board(id_or_path: str | Path) -> Board:
    """A board by id ("mps2-an386") or by the path of a board TOML file."""
    path = Path(id_or_path)
    if path.suffix == ".toml" or path.is_file():
        return load_board_file(path)
    path = resource_dir("boards") / f"{id_or_path}.toml"
    if not path.is_file():
        raise TinygenError(f"unknown board '{id_or_path}'; known boards: {', '.join(board_ids())}")
    return load_board_file(path)


def list_boards() -> list[Board]:
    return [load_board(board_id) for board_id in board_ids()]
