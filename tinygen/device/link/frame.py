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
    """Turns a byte stream into frames, skipping garbage and frames with a bad length or CRC."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.dropped = 0  # bytes skipped: garbage, or frames that failed their check

    def feed(self, data: bytes) -> list[Frame]:
        self.buffer += data
        frames = []
        while True:
            start = self.buffer.find(MAGIC)
            if start < 0:
                # Keep a trailing 'T': it may be the first half of the next magic.
                keep = 1 if self.buffer.endswith(MAGIC[:1]) else 0
                self._skip(len(self.buffer) - keep)
                return frames
            self._skip(start)
            if len(self.buffer) < HEADER.size:
                return frames
            _, version, kind, seq, length = HEADER.unpack_from(self.buffer)
            total = HEADER.size + length + CRC.size
            if length > MAX_PAYLOAD:
                self._skip(1)  # not a header after all: look for the next magic
                continue
            if len(self.buffer) < total:
                return frames
            body = bytes(self.buffer[2 : HEADER.size + length])
            if zlib.crc32(body) != CRC.unpack_from(self.buffer, total - CRC.size)[0]:
                self._skip(1)
                continue
            frames.append(Frame(kind, seq, body[HEADER.size - 2 :], version))
            del self.buffer[:total]

    def _skip(self, n: int) -> None:
        self.dropped += n
        del self.buffer[:n]
