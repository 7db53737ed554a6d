"""The host side of the tinygen serial link: requests, replies, retries and timeouts.

Works on any pyserial-like port (read/write/timeout/reset_input_buffer): a real board's
serial port, QEMU's TCP serial (socket://), or a pty or socket pair in tests. Every wait is
bounded. A request whose reply is lost or corrupted is sent again when that is safe: every
request except INVOKE is idempotent. An inference (`run`) is retried as a whole, from the
first input chunk, because the device may have reset and lost what was written.
"""

from __future__ import annotations

import contextlib
import math
import struct
import time
from dataclasses import dataclass

from ...boards import CYCLE_COUNTERS
from ...errors import ToolError
from .frame import ERROR, ERROR_CODES, MAX_PAYLOAD, REPLY, VERSION, Decoder, Frame, Msg, encode

CHUNK = MAX_PAYLOAD - 5  # WRITE_INPUT carries index u8 + offset u32 before the data
DAMAGED_GRACE_S = 0.5  # silence after a damaged frame: the reply was lost, retry now
COUNTERS = CYCLE_COUNTERS  # the info block's counter byte indexes this tuple
DTYPES = {0: "int8", 1: "int32", 2: "float32", 3: "uint8", 4: "int16", 5: "bool", 6: "int64", 7: "uint32", 8: "uint64"}
DTYPE_BYTES = {
    "int8": 1,
    "uint8": 1,
    "bool": 1,
    "int16": 2,
    "int32": 4,
    "float32": 4,
    "int64": 8,
    "uint32": 4,
    "uint64": 8,
}
MAX_RANK = 6  # TG_MAX_DIMS in firmware/tg_model_api.h
INFO_LIMIT = 64 * 1024  # an info block is a few hundred bytes


class LinkError(ToolError):
    """The device did not answer, or answered with something unusable."""


def message_name(kind: int) -> str:
    return Msg(kind).name if kind in Msg._value2member_map_ else f"message {kind:#04x}"


class NoReply(LinkError):
    """No valid reply in time (after the retries that were safe)."""

    def __init__(self, request: Msg, message: str) -> None:
        self.request = request
        super().__init__(message)


class DeviceError(LinkError):
    """The device answered with an error reply."""

    def __init__(self, request: Msg, code: int) -> None:
        self.code = code
        super().__init__(f"the device refused {message_name(request)}: {ERROR_CODES.get(code, f'error {code}')}")


# Errors that mean "the device lost its state" (it reset): redo the whole inference.
STATE_LOST = (5, 6, 7)


@dataclass(frozen=True)
class TensorSpec:
    dtype: str
    shape: tuple[int, ...]
    scale: float
    zero_point: int
    bytes: int


@dataclass(frozen=True)
class DeviceInfo:
    protocol: int
    counter: str  # "none", "systick" or "dwt"
    layers: int
    arena_bytes: int
    clock_hz: int
    model_hash: str
    tinygen_version: str
    board: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    @classmethod
    def parse(cls, data: bytes) -> DeviceInfo:
        protocol, counter, layers, arena, clock = struct.unpack_from("<BBHII", data)
        pos = 12
        model_hash = data[pos : pos + 16].decode("ascii", errors="replace")
        pos += 16
        texts = []
        for _ in range(2):
            n = data[pos]
            texts.append(data[pos + 1 : pos + 1 + n].decode("utf-8", errors="replace"))
            pos += 1 + n
        n_in, n_out = data[pos], data[pos + 1]
        pos += 2
        tensors = []
        for _ in range(n_in + n_out):
            dtype, rank = data[pos], data[pos + 1]
            if dtype not in DTYPES or rank > MAX_RANK:
                raise ValueError(f"a tensor of dtype code {dtype} and rank {rank}")
            shape = struct.unpack_from(f"<{rank}i", data, pos + 2)
            scale, zero_point, nbytes = struct.unpack_from("<fiI", data, pos + 2 + 4 * rank)
            if min(shape, default=1) < 0 or nbytes != math.prod(shape) * DTYPE_BYTES[DTYPES[dtype]]:
                raise ValueError(f"a tensor of shape {list(shape)} and {nbytes} bytes")
            tensors.append(TensorSpec(DTYPES[dtype], shape, scale, zero_point, nbytes))
            pos += 2 + 4 * rank + 12
        return cls(
            protocol,
            COUNTERS[counter] if counter < len(COUNTERS) else "none",
            layers,
            arena,
            clock,
            model_hash,
            texts[0],
            texts[1],
            tuple(tensors[:n_in]),
            tuple(tensors[n_in:]),
        )


class LinkClient:
    def __init__(
        self, port, name: str = "the device", timeout_s: float = 2.0, invoke_timeout_s: float = 120.0, retries: int = 3
    ) -> None:
        self.port = port
        self.name = name  # how errors name the device: a port, or "QEMU (mps2-an386)"
        self.timeout_s = timeout_s
        self.invoke_timeout_s = invoke_timeout_s
        self.retries = retries
        self.decoder = Decoder()
        self.seq = 0
        self.port.timeout = 0.05  # short reads; the deadlines below bound every wait

    # --- requests -----------------------------------------------------------------------
    def request(self, kind: Msg, payload: bytes = b"", timeout_s: float | None = None, retry: bool = True) -> bytes:
        """Send one request and return its reply's payload; resend on timeout when retry is safe."""
        tries = 1 + (self.retries if retry else 0)
        for _ in range(tries):
            self.seq = (self.seq + 1) & 0xFF
            self._write(encode(Frame(kind, self.seq, payload)))
            reply = self._wait(self.seq, timeout_s or self.timeout_s)
            if reply is None:
                continue
            if reply.type == ERROR:
                raise DeviceError(kind, reply.payload[0] if reply.payload else 0)
            if reply.version != VERSION:
                raise LinkError(f"{self.name} speaks link protocol {reply.version}; tinygen speaks {VERSION}")
            if reply.type != kind | REPLY:
                raise LinkError(f"{self.name} answered {message_name(kind)} with message type {reply.type:#04x}")
            return reply.payload
        wait = timeout_s or self.timeout_s
        raise NoReply(
            kind,
            f"no reply from {self.name} to {message_name(kind)} within {wait:g} s"
            f"{f' ({tries} tries)' if tries > 1 else ''}: is the tinygen firmware running there?",
        )

    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
            self.port.flush()
        except OSError as e:
            raise LinkError(f"cannot write to {self.name}: {e}") from None

    def _wait(self, seq: int, timeout_s: float) -> Frame | None:
        """The reply with this seq; stale replies (to requests that timed out) are dropped. A damaged
        frame followed by silence was most likely the reply: give up on it after DAMAGED_GRACE_S
        instead of waiting out a long timeout (the caller retries)."""
        deadline = time.monotonic() + timeout_s
        damaged_at = None
        while time.monotonic() < deadline:
            try:
                data = self.port.read(max(1, getattr(self.port, "in_waiting", 0) or 1))
            except OSError as e:
                raise LinkError(f"cannot read from {self.name}: {e}") from None
            damaged = self.decoder.damaged
            for frame in self.decoder.feed(data):
                if frame.seq == seq and frame.type & REPLY:
                    return frame
            now = time.monotonic()
            if self.decoder.damaged != damaged:
                damaged_at = now
            elif data:
                damaged_at = None  # the device is still talking: keep waiting
            if damaged_at is not None and now - damaged_at > DAMAGED_GRACE_S:
                return None
        return None

    # --- messages -----------------------------------------------------------------------
    def echo(self, data: bytes) -> bytes:
        return self.request(Msg.ECHO, data)

    def talk(self) -> None:
        """Hand the port back: the firmware prints readable lines again (firmware/talk/tg_talk.h).
        Firmware from before TALK refuses it: nothing to hand back then."""
        with contextlib.suppress(LinkError):
            self.request(Msg.TALK, timeout_s=min(self.timeout_s, 1.0), retry=False)

    def _read_all(self, kind: Msg, prefix: bytes = b"", expected: int | None = None, limit: int = 1 << 20) -> bytes:
        """Data the device sends in chunks: each reply is total u32 + the bytes at the offset asked.
        The total must be what the caller expects (or, unknown, at most `limit`), stay the same in
        every reply, and every reply but the last must bring data."""
        data = bytearray()
        total = None
        while True:
            reply = self.request(kind, prefix + struct.pack("<I", len(data)))
            if len(reply) < 4:
                raise LinkError(f"{self.name} sent a {message_name(kind)} reply of {len(reply)} bytes")
            (claimed,) = struct.unpack_from("<I", reply)
            if total is None:
                if (expected is not None and claimed != expected) or claimed > limit:
                    wanted = f"{expected:,}" if expected is not None else f"at most {limit:,}"
                    raise LinkError(f"{self.name} says {message_name(kind)} has {claimed:,} bytes; expected {wanted}")
                total = claimed
            elif claimed != total:
                raise LinkError(f"{self.name} changed the size of {message_name(kind)} from {total:,} to {claimed:,}")
            data += reply[4:]
            if len(data) >= total:
                return bytes(data[:total])
            if len(reply) == 4:
                raise LinkError(f"{self.name} stopped sending {message_name(kind)} at {len(data):,} of {total:,} bytes")

    def info(self) -> DeviceInfo:
        try:
            return DeviceInfo.parse(self._read_all(Msg.INFO, limit=INFO_LIMIT))
        except (struct.error, IndexError, ValueError) as e:
            detail = f" ({e})" if isinstance(e, ValueError) else ""
            raise LinkError(f"{self.name} sent an info block tinygen cannot read{detail}") from None

    def write_input(self, index: int, data: bytes) -> None:
        for offset in range(0, max(len(data), 1), CHUNK):
            self.request(Msg.WRITE_INPUT, struct.pack("<BI", index, offset) + data[offset : offset + CHUNK])

    def invoke(self) -> int:
        """Runs the model once; returns the device's total count (see DeviceInfo.counter)."""
        reply = self.request(Msg.INVOKE, timeout_s=self.invoke_timeout_s, retry=False)
        if len(reply) != 8:
            raise LinkError(f"{self.name} sent an INVOKE reply of {len(reply)} bytes; expected 8")
        return struct.unpack("<Q", reply)[0]

    def reset(self) -> None:
        """Puts the model's state (what it keeps between invokes) back as at start. Idempotent."""
        self.request(Msg.RESET)

    def read_output(self, index: int, expected: int | None = None) -> bytes:
        return self._read_all(Msg.READ_OUTPUT, struct.pack("<B", index), expected)

    def read_profile(self, layers: int | None = None) -> list[int]:
        data = self._read_all(Msg.READ_PROFILE, expected=None if layers is None else 8 * layers)
        return list(struct.unpack(f"<{len(data) // 8}Q", data))

    def run(self, inputs: list[bytes], outputs: list[int], retry: bool = True) -> tuple[list[bytes], int]:
        """One inference: write every input, invoke, read every output (of the byte sizes given).
        Returns (outputs, count).
        Retried from the start when the device lost its state (it reset) or an INVOKE reply was lost
        (INVOKE itself is not repeated alone: it consumes the inputs). Not with retry=False: a model
        that keeps state between invokes cannot repeat one step (see step_lost)."""
        for _ in range(self.retries if retry else 0):
            try:
                return self._run_once(inputs, outputs)
            except LinkError as e:
                if not self.step_lost(e):
                    raise
            self.resync()
        return self._run_once(inputs, outputs)

    def _run_once(self, inputs: list[bytes], outputs: list[int]) -> tuple[list[bytes], int]:
        for index, data in enumerate(inputs):
            self.write_input(index, data)
        count = self.invoke()
        return [self.read_output(i, size) for i, size in enumerate(outputs)], count

    @staticmethod
    def step_lost(error: LinkError) -> bool:
        """The inference failed in a way a retry from the start can mend: the device reset, or an
        INVOKE reply was lost (the model may or may not have run)."""
        if isinstance(error, DeviceError):
            return error.code in STATE_LOST
        return isinstance(error, NoReply) and error.request == Msg.INVOKE

    def resync(self) -> None:
        """Forget bytes in flight before starting over."""
        time.sleep(0.05)
        self.port.reset_input_buffer()
        self.decoder = Decoder()
