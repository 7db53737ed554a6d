"""Renode scripts (.resc) for boards Renode models and QEMU does not (the nRF52840).

Renode is not on PyPI or in Debian: install it from renode.io. The script loads the board's
platform description and the ELF, and with `uart_port` puts the board's UART on a TCP server
(pyserial: socket://127.0.0.1:PORT). Start it with
`renode --disable-gui -e "include @SCRIPT" -e start`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..boards import Board
from ..errors import TinygenError, ToolError
from ..resources import render

RENODE = "renode"


def write_resc(board: Board, elf: Path, out_path: Path, uart_port: int | None = None) -> Path:
    if not (board.emulator and board.emulator.renode_platform):
        raise TinygenError(f"board '{board.id}' has no Renode platform")
    out_path = Path(out_path)
    elf = Path(elf).resolve()
    try:  # inside the project: relative to the script ($ORIGIN), so the project can move
        elf_ref = f"$ORIGIN/{elf.relative_to(out_path.parent.resolve()).as_posix()}"
    except ValueError:
        elf_ref = str(elf)
    text = render("renode.resc.j2", board=board, elf=elf_ref, uart_port=uart_port)
    out_path.write_text(text, encoding="utf-8")
    return out_path


def renode_argv(resc: Path, *commands: str) -> list[str]:
    """Renode without its GUI, running the script and then each monitor command."""
    path = shutil.which(RENODE)
    if path is None:
        raise ToolError("renode is not on PATH: install it from https://renode.io")
    argv = [path, "--disable-gui", "--console"]
    for command in (f"include @{Path(resc).resolve()}", *commands):
        argv += ["-e", command]
    return argv
