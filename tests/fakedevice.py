"""A fake tinygen firmware in Python, on a pty, for fault-injection tests of the host link.

It serves the protocol of docs/protocol.md for a model whose one output is its one input plus
one (int8, wrapping) - with stateful=True, plus one more for every invoke since the last RESET or
reboot - and misbehaves on request: garbage before replies, a corrupted CRC or a
truncated reply once, silence, or a reset (lost state) after a given number of input chunks.
"""

from __future__ import annotations

import os
import struct
import threading
import tty
from dataclasses import dataclass, field

import numpy as np
import serial

from tinygen.device.link.frame import ERROR, REPLY, Decoder, Frame, Msg, encode


@dataclass
class Faults:
    garbage: bytes = b""  # sent before every reply
    corrupt_crc: int = 0  # this many replies get a flipped CRC bit
    truncate: int = 0  # this many replies are cut in half
    silent: bool = False
    reset_after_chunks: int | None = None  # lose all state once, after this many WRITE_INPUT requests
    output_total: int | None = None  # READ_OUTPUT replies claim this many bytes in all
    empty_invoke: bool = False  # INVOKE replies carry no count
    corrupt_invoke: int = 0  # this many INVOKE replies get a flipped CRC bit
    old_firmware: bool = False  # answers RESET as an unknown request (firmware from before it)
    requests: list[int] = field(default_factory=list)  # request types seen, in order


class FakeDevice:
    def __init__(self, input_bytes: int = 600, faults: Faults | None = None, stateful: bool = False) -> None:
        self.input_bytes = input_bytes
        self.stateful = stateful
        self.faults = faults or Faults()
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.port = serial.Serial(os.ttyname(slave), timeout=0.05)
        os.close(slave)
        self._reset()
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _reset(self) -> None:
        self.input = bytearray(self.input_bytes)
        self.written = 0
        self.output: bytes | None = None
        self.counts = [0, 0]
        self.steps = 0  # invokes since the last reset (the state of a stateful model)

    def info_block(self) -> bytes:
        tensor = struct.pack("<BB2ifiI", 0, 2, 1, self.input_bytes, 0.5, 0, self.input_bytes)
        return (
            struct.pack("<BBHII", 1, 1, 2, 1024, 25_000_000)
            + b"0123456789abcdef"
            + b"\x050.1.0"
            + b"\x04fake"
            + b"\x01\x01"
            + tensor
            + tensor
        )

    def close(self) -> None:
        self.stopped = True
        self.port.close()
        os.close(self.master)

    def _serve(self) -> None:
        decoder = Decoder()
        while not self.stopped:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            for frame in decoder.feed(data):
                self.faults.requests.append(frame.type)
                reply = self._handle(frame)
                if reply is not None and not self.faults.silent:
                    self._send(reply)

    def _send(self, frame: Frame) -> None:
        data = bytearray(encode(frame))
        if self.faults.corrupt_invoke and frame.type == Msg.INVOKE | REPLY:
            self.faults.corrupt_invoke -= 1
            data[-1] ^= 0x01
        if self.faults.corrupt_crc:
            self.faults.corrupt_crc -= 1
            data[-1] ^= 0x01
        if self.faults.truncate:
            self.faults.truncate -= 1
            data = data[: len(data) // 2]
        os.write(self.master, self.faults.garbage + bytes(data))

    def _chunk(self, kind: int, seq: int, data: bytes, offset: int) -> Frame:
        return Frame(kind | REPLY, seq, struct.pack("<I", len(data)) + data[offset : offset + 252])

    def _handle(self, f: Frame) -> Frame | None:
        error = lambda code: Frame(ERROR, f.seq, bytes([code, f.type]))
        p = f.payload
        if f.type == Msg.ECHO:
            return Frame(f.type | REPLY, f.seq, p)
        if f.type == Msg.INFO:
            return self._chunk(f.type, f.seq, self.info_block(), struct.unpack("<I", p)[0])
        if f.type == Msg.WRITE_INPUT:
            if self.faults.reset_after_chunks is not None:
                if self.faults.reset_after_chunks == 0:
                    self.faults.reset_after_chunks = None
                    self._reset()
                    return None  # rebooting: this request is lost
                self.faults.reset_after_chunks -= 1
            _, offset = struct.unpack_from("<BI", p)
            data = p[5:]
            if offset > self.written or offset + len(data) > self.input_bytes:
                return error(5)
            self.input[offset : offset + len(data)] = data
            self.written = max(self.written, offset + len(data))
            self.output = None
            return Frame(f.type | REPLY, f.seq)
        if f.type == Msg.INVOKE:
            if self.written != self.input_bytes:
                return error(6)
            added = 1 + (self.steps if self.stateful else 0)
            self.output = (np.frombuffer(bytes(self.input), np.int8) + np.int8(added)).tobytes()
            self.steps += 1
            self.written = 0
            self.counts = [100, 23]
            return Frame(
                f.type | REPLY, f.seq, b"" if self.faults.empty_invoke else struct.pack("<Q", sum(self.counts))
            )
        if f.type == Msg.READ_OUTPUT:
            if self.output is None:
                return error(7)
            offset = struct.unpack_from("<I", p, 1)[0]
            if self.faults.output_total is not None:
                return Frame(f.type | REPLY, f.seq, struct.pack("<I", self.faults.output_total) + b"\x00" * 8)
            return self._chunk(f.type, f.seq, self.output, offset)
        if f.type == Msg.READ_PROFILE:
            return self._chunk(f.type, f.seq, struct.pack("<2Q", *self.counts), struct.unpack("<I", p)[0])
        if f.type == Msg.RESET and not self.faults.old_firmware:
            self.steps = 0
            return Frame(f.type | REPLY, f.seq)
        return error(2)
