"""Frames of the tinygen serial link (docs/protocol.md), the same layout as firmware/link/tg_link.h.

    'T' 'G' | version u8 | type u8 | seq u8 | length u16 LE | payload | CRC-32 LE
The CRC is zlib's CRC-32 over version..payload.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from enum import IntEnum

MAGIC = b"TG"
VERSION = 1
HEADER = struct.Struct("<2sBBBH")
CRC = struct.Struct("<I")
MAX_PAYLOAD = 256
REPLY = 0x80
ERROR = 0xFF


class Msg(IntEnum):
    ECHO = 0x01
    INFO = 0x02
    WRITE_INPUT = 0x03
    INVOKE = 0x04
    READ_OUTPUT = 0x05
    READ_PROFILE = 0x06
    RESET = 0x07
    TALK = 0x08  # the tool is done with the link: the firmware may print readable lines again


ERROR_CODES = {
    1: "protocol version not supported",
    2: "unknown request type",
    3: "wrong payload length",
    4: "no such input or output",
    5: "offset outside the tensor or not contiguous",
    6: "inputs incomplete",
    7: "no output to read (no invoke since the last input)",
}


@dataclass(frozen=True)
class Frame:
    type: int
    seq: int
    payload: bytes = b""
    version: int = VERSION


def encode(frame: Frame) -> bytes:
    if len(frame.payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(frame.payload)} bytes; at most {MAX_PAYLOAD} fit in a frame")
    head = HEADER.pack(MAGIC, frame.version, frame.type, frame.seq, len(frame.payload))
    return head + frame.payload + CRC.pack(zlib.crc32(head[2:] + frame.payload))


class Decoder:
    """Turns a byte stream into frames, skipping garbage and frames with a bad length or CRC.

    The same rules as the firmware's decoder (firmware/link/tg_link_frame.c), byte by byte: a
    damaged header or frame loses only its first byte, and while the first header waits for the
    bytes it claims, a later frame that is complete and valid is taken.
    """

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.dropped = 0  # bytes skipped: garbage, or frames that failed their check
        self.damaged = 0  # frame starts whose length or CRC was wrong

    def feed(self, data: bytes) -> list[Frame]:
        frames = []
        for byte in data:
            self.buffer.append(byte)
            while (frame := self._scan()) is not None:
                frames.append(frame)
        return frames

    def _scan(self) -> Frame | None:
        buf = self.buffer
        while True:
            skip = 0
            while skip < len(buf) and not (
                buf[skip] == MAGIC[0] and (skip + 1 == len(buf) or buf[skip + 1] == MAGIC[1])
            ):
                skip += 1
            self._skip(skip)
            if len(buf) < HEADER.size:
                return None
            total = self._claimed_total(0)
            if total is None or (len(buf) >= total and not self._crc_ok(0, total)):
                self.damaged += 1
                self._skip(1)
                continue
            if len(buf) >= total:
                return self._take(0, total)
            for p in range(1, len(buf) - HEADER.size + 1):
                later = self._claimed_total(p)
                if later is not None and len(buf) - p == later and self._crc_ok(p, later):
                    self._skip(p)
                    return self._take(0, later)
            return None

    def _claimed_total(self, p: int) -> int | None:
        magic, _, _, _, length = HEADER.unpack_from(self.buffer, p)
        return HEADER.size + length + CRC.size if magic == MAGIC and length <= MAX_PAYLOAD else None

    def _crc_ok(self, p: int, total: int) -> bool:
        body = bytes(self.buffer[p + 2 : p + total - CRC.size])
        return zlib.crc32(body) == CRC.unpack_from(self.buffer, p + total - CRC.size)[0]

    def _take(self, p: int, total: int) -> Frame:
        _, version, kind, seq, length = HEADER.unpack_from(self.buffer, p)
        frame = Frame(kind, seq, bytes(self.buffer[p + HEADER.size : p + HEADER.size + length]), version)
        del self.buffer[p : p + total]
        return frame

    def _skip(self, n: int) -> None:
        self.dropped += n
        del self.buffer[:n]
