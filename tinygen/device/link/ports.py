"""Finding a board's serial port by the USB ids its profile lists (platformio.usb_ids)."""

from __future__ import annotations

from ...boards import Board
from ...errors import TinygenError, ToolError


def detect_port(board: Board) -> str:
    """The one serial port whose USB vid:pid the board profile lists; an error naming what was seen
    when there is none or more than one."""
    from serial.tools import list_ports

    seen = list(list_ports.comports())
    wanted = {i.lower() for i in board.platformio.usb_ids}
    matches = [p.device for p in seen if p.vid is not None and f"{p.vid:04x}:{p.pid:04x}" in wanted]
    if len(matches) == 1:
        return matches[0]
    described = (
        ", ".join(f"{p.device} ({f'{p.vid:04x}:{p.pid:04x}' if p.vid is not None else 'no USB id'})" for p in seen)
        or "none"
    )
    if not wanted:
        raise TinygenError(
            f"board '{board.id}' lists no USB ids to find its port by; pass --port. Serial ports seen: {described}"
        )
    if matches:
        reason = f"{len(matches)} ports match board '{board.id}' ({', '.join(matches)}); pass --port"
    else:
        article = "an" if board.name[:1].lower() in "aeiou" else "a"
        reason = (
            f"no serial port has the USB id of {article} {board.name} ({', '.join(sorted(wanted))}): plug the board "
            "in, or double-tap its reset button for the bootloader, then retry; or pass --port"
        )
    raise ToolError(f"{reason}. Serial ports seen: {described}")
