"""The link's frame decoders under fuzzing: the firmware's C decoder (compiled for the host under
ASan/UBSan) and the Python one find exactly the same frames in any byte stream, and find every intact
frame whatever damage comes before it. TINYGEN_FUZZ_CASES=100000 runs the long mode."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess

import numpy as np
import pytest

from tinygen.device.cflags import WARNINGS
from tinygen.device.host import SANITIZERS, host_compiler
from tinygen.device.link.frame import MAX_PAYLOAD, Decoder, Frame, encode
from tinygen.resources import resource_dir

from .test_pio_qemu import FIXTURES

CASES = int(os.environ.get("TINYGEN_FUZZ_CASES", "1000"))


@pytest.fixture(scope="module")
def c_decoder(tmp_path_factory):
    work = tmp_path_factory.mktemp("link-decoder")
    link = resource_dir("firmware") / "link"
    for name in ("tg_link.h", "tg_link_frame.c"):
        shutil.copy(link / name, work)
    shutil.copy(FIXTURES / "link_decoder" / "main.c", work)
    command = [
        host_compiler(),
        "-std=c99",
        *WARNINGS,
        *SANITIZERS,
        "-I.",
        "main.c",
        "tg_link_frame.c",
        "-o",
        "decoder",
    ]
    subprocess.run(command, cwd=work, check=True, capture_output=True)
    return work / "decoder"


def run_c(decoder, streams: list[bytes]) -> list[list[tuple]]:
    data = b"".join(struct.pack("<I", len(s)) + s for s in streams)
    out = subprocess.run([str(decoder)], input=data, capture_output=True, check=True, timeout=120).stdout.decode()
    found, current = [], []
    for line in out.splitlines():
        if line == "end":
            found.append(current)
            current = []
        else:
            kind, seq, payload = (line.split(" ") + [""])[:3]
            current.append((int(kind), int(seq), bytes.fromhex(payload)))
    return found


def run_python(stream: bytes) -> list[tuple]:
    return [(f.type, f.seq, f.payload) for f in Decoder().feed(stream)]


def _bytes(rng: np.random.Generator, count) -> bytes:
    return rng.integers(0, 256, int(count), dtype=np.uint8).tobytes()


def random_stream(rng: np.random.Generator) -> tuple[bytes, list[tuple]]:
    """Intact frames with damage between them: garbage, flipped bits, cut frames, lying lengths."""
    stream, intact = b"", []
    for _ in range(rng.integers(1, 6)):
        kind = int(rng.choice(rng.integers(0, 256, 3)))
        frame = Frame(kind, int(rng.integers(0, 256)), _bytes(rng, rng.integers(0, MAX_PAYLOAD + 1)))
        good = encode(frame)
        damage = rng.integers(0, 5)
        if damage == 1:
            stream += _bytes(rng, rng.integers(1, 40))  # garbage, maybe with a 'T' or "TG"
        elif damage == 2:
            bad = bytearray(good)
            bad[rng.integers(2, len(bad))] ^= 1 << int(rng.integers(0, 8))
            stream += bytes(bad)  # a flipped bit: dropped
        elif damage == 3:
            stream += good[: rng.integers(2, len(good))]  # cut short
        elif damage == 4:
            stream += b"TG\x01\x01\x01" + struct.pack("<H", int(rng.integers(0, 0x10000)))  # a lying header
        stream += good
        intact.append((frame.type, frame.seq, frame.payload))
    return stream, intact


def test_c_and_python_decoders_agree_and_keep_every_intact_frame(c_decoder):
    rng = np.random.default_rng(20261202)
    cases = [random_stream(rng) for _ in range(CASES)]
    c_found = run_c(c_decoder, [stream for stream, _ in cases])
    assert len(c_found) == CASES
    for (stream, intact), found in zip(cases, c_found):
        assert found == run_python(stream)
        # Every intact frame is found, in order (damage can add frames only by chance, never lose one).
        it = iter(found)
        assert all(frame in it for frame in intact), stream.hex()


def test_random_bytes_never_crash_the_c_decoder(c_decoder):
    rng = np.random.default_rng(7)
    streams = [_bytes(rng, rng.integers(0, 2000)) for _ in range(CASES)]
    streams += [b"TG" * 500, b"T" * 1000, b"TG\x01\x01\x01\xff\x00" * 100]
    found = run_c(c_decoder, streams)
    assert [len(f) for f in found] == [len(run_python(s)) for s in streams]
