"""Run bare-metal firmware in qemu-system-arm.

Two ways: `run` (UART0 on stdout; returns the output and the exit code the firmware passed to
tg_exit, which prints it and resets) and `start_serial` (UART0 as a TCP server for pyserial, the same
host code as for a real board). With `icount_shift`, QEMU advances time by 2**shift ns per
instruction, so SysTick counts (tg_counter_*) are exact and repeatable.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from ..boards import Board
from ..errors import ToolError
from . import processes

QEMU = "qemu-system-arm"
# tinygen runs its firmware at 2**6 = 64 ns per instruction: counts repeatable and within one
# instruction, and the firmware's clock (TG_COUNTER_HZ) assumes it.
ICOUNT_SHIFT = 6
EXIT_MARK = b"\ntinygen-exit: "  # what firmware/hal/tg_exit.c prints before it resets


@dataclass(frozen=True)
class QemuResult:
    exit_code: int
    output: bytes  # UART0 bytes, up to the exit line

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", errors="replace")


def _qemu_binary() -> str:
    path = shutil.which(QEMU)
    if path is None:
        raise ToolError(f"{QEMU} is not on PATH (Debian/Ubuntu: apt-get install qemu-system-arm)")
    return path


def qemu_argv(board: Board, elf: Path | str, serial: str = "stdio", icount_shift: int | None = None) -> list[str]:
    """QEMU's command line. serial: "stdio", or "tcp:HOST:PORT" for a TCP server on UART0."""
    if not board.qemu_machine:
        raise ToolError(f"board '{board.id}' has no QEMU machine")
    argv = [QEMU, "-M", board.qemu_machine]
    if board.emulator.qemu_cpu:
        argv += ["-cpu", board.emulator.qemu_cpu]
    # No semihosting (it would let firmware open host files and run host commands): the firmware
    # ends by printing its exit code and resetting, and -no-reboot makes that reset QEMU's exit.
    argv += ["-nographic", "-monitor", "none", "-no-reboot"]
    if serial == "stdio":
        argv += ["-serial", "stdio"]
    else:
        # nodelay: the guest writes a byte at a time, and Nagle would hold each reply ~40 ms.
        argv += ["-serial", f"{serial},server=on,wait=on,nodelay=on"]
    if icount_shift is not None:
        argv += ["-icount", f"shift={icount_shift},align=off,sleep=off"]
    return argv + ["-kernel", str(elf)]


def run(board: Board, elf: Path, timeout_s: float = 30, icount_shift: int | None = None) -> QemuResult:
    """Run until the firmware exits; a hung guest is killed after timeout_s."""
    argv = qemu_argv(board, elf, icount_shift=icount_shift)
    argv[0] = _qemu_binary()
    done = processes.run(argv, timeout_s, f"{elf} in QEMU ({board.qemu_machine})")
    if done.returncode != 0:
        raise ToolError(f"QEMU failed: {done.stderr.decode(errors='replace').strip() or f'exit {done.returncode}'}")
    output, _, tail = done.stdout.rpartition(EXIT_MARK)
    if not _ or not tail.strip().lstrip(b"-").isdigit():
        raise ToolError(f"{elf} stopped in QEMU without reporting an exit code (firmware/hal/tg_exit.c)")
    return QemuResult(int(tail.strip()), output)


def ticks_per_cycle_second(board: Board, icount_shift: int = ICOUNT_SHIFT) -> int:
    """SysTick ticks under -icount shift=N in the time a core at the board's clock takes for as many
    instructions, at one a cycle: the firmware's clock then reads as profile's estimate does."""
    return round(board.emulator.systick_clock_hz * 2**icount_shift * board.clock_hz / 1e9)


def instructions_from_ticks(board: Board, ticks: int, icount_shift: int) -> int:
    """SysTick ticks measured under -icount shift=N, as executed instructions."""
    ns = ticks * 1e9 / board.emulator.systick_clock_hz
    return round(ns / 2**icount_shift)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QemuSerial:
    """A running QEMU whose UART0 is a TCP server at `.url` (pyserial's socket:// form).

    The guest starts when the first client connects. Close (or leave the `with` block) to
    stop QEMU.
    """

    def __init__(self, board: Board, elf: Path, icount_shift: int | None = None, start_timeout_s: float = 10):
        port = _free_port()
        argv = qemu_argv(board, elf, serial=f"tcp:127.0.0.1:{port}", icount_shift=icount_shift)
        argv[0] = _qemu_binary()
        self.url = f"socket://127.0.0.1:{port}"
        self.process = processes.start(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        # QEMU says on stderr when it listens; connecting to probe would start the guest.
        listening = threading.Event()
        self._stderr: list[bytes] = []
        threading.Thread(target=self._read_stderr, args=(listening,), daemon=True).start()
        if not listening.wait(start_timeout_s) or self.process.poll() is not None:
            self.close()
            detail = b"".join(self._stderr).decode(errors="replace").strip()
            raise ToolError(f"QEMU did not open its serial port: {detail or 'timed out'}")

    def _read_stderr(self, listening: threading.Event) -> None:
        for line in self.process.stderr:
            self._stderr.append(line)
            if b"waiting for connection" in line:
                listening.set()
        listening.set()  # QEMU exited (a bad machine or image): stop waiting, the caller sees why

    def wait(self, timeout_s: float) -> int:
        """The firmware's exit code, once it has exited."""
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            raise ToolError(f"QEMU did not exit within {timeout_s:g} s") from None

    def close(self) -> None:
        processes.stop(self.process)
        self.process.stderr.close()

    def __enter__(self) -> QemuSerial:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def start_serial(board: Board, elf: Path, icount_shift: int | None = None) -> QemuSerial:
    return QemuSerial(board, elf, icount_shift=icount_shift)
