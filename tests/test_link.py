"""The serial link's host side: framing, and the client against a fake device with injected faults."""

import struct
import time
import zlib

import numpy as np
import pytest

from tinygen.boards import load_board
from tinygen.device.link import ports
from tinygen.device.link.client import DeviceError, LinkClient, LinkError
from tinygen.device.link.frame import MAX_PAYLOAD, Decoder, Frame, Msg, encode
from tinygen.device.link_target import LinkTarget
from tinygen.errors import TinygenError, ToolError

from .fakedevice import FakeDevice, Faults


def test_frame_layout_and_crc():
    data = encode(Frame(Msg.ECHO, 7, b"hi"))
    assert data[:7] == b"TG\x01\x01\x07\x02\x00" and data[7:9] == b"hi"
    assert struct.unpack("<I", data[-4:])[0] == zlib.crc32(data[2:-4])
    with pytest.raises(ValueError):
        encode(Frame(Msg.ECHO, 0, bytes(MAX_PAYLOAD + 1)))


def test_decoder_skips_garbage_bad_crc_and_waits_for_truncated_frames():
    good = encode(Frame(Msg.ECHO, 1, b"abc"))
    bad = bytearray(encode(Frame(Msg.ECHO, 2, b"xyz")))
    bad[8] ^= 0xFF
    decoder = Decoder()
    stream = b"TTGT\x00garbage" + bytes(bad) + good
    frames = [f for byte in stream for f in decoder.feed(bytes([byte]))]  # byte by byte
    assert frames == [Frame(Msg.ECHO, 1, b"abc")]
    assert decoder.feed(good[:5]) == [] and decoder.feed(good[5:]) == [Frame(Msg.ECHO, 1, b"abc")]
    # A length beyond the maximum is not a header: the frame after it is still found.
    assert Decoder().feed(b"TG\x01\x01\x01\xff\xff" + good) == [Frame(Msg.ECHO, 1, b"abc")]


@pytest.fixture
def fake(request):
    device = FakeDevice(faults=getattr(request, "param", None))
    yield device
    device.close()


def client(fake, **kwargs):
    return LinkClient(fake.port, "fake", **{"timeout_s": 0.3, "invoke_timeout_s": 0.5, **kwargs})


def sample(fake):
    return np.arange(fake.input_bytes, dtype=np.int64).astype(np.int8).tobytes()


def expected(data: bytes) -> bytes:
    return (np.frombuffer(data, np.int8) + np.int8(1)).tobytes()


def test_info_and_a_chunked_inference(fake):
    link = client(fake)
    info = link.info()
    assert (info.model_hash, info.board, info.tinygen_version, info.counter) == (
        "0123456789abcdef",
        "fake",
        "0.1.0",
        "systick",
    )
    assert info.inputs[0].shape == (1, 600) and info.inputs[0].scale == 0.5
    outputs, count = link.run([sample(fake)], [600])
    assert outputs == [expected(sample(fake))] and count == 123
    assert link.read_profile() == [100, 23]
    assert fake.faults.requests.count(Msg.WRITE_INPUT) == 3  # 600 bytes in chunks of 251


@pytest.mark.parametrize("fake", [Faults(garbage=b"\x00TG\xffboot text\n")], indirect=True)
def test_garbage_before_every_reply(fake):
    assert client(fake).echo(b"x" * 200) == b"x" * 200


@pytest.mark.parametrize("fake", [Faults(corrupt_crc=2), Faults(truncate=2)], indirect=True)
def test_damaged_replies_are_retried(fake):
    link = client(fake)
    assert link.echo(b"ping") == b"ping"
    assert fake.faults.requests == [Msg.ECHO] * 3


@pytest.mark.parametrize("fake", [Faults(silent=True)], indirect=True)
def test_a_silent_device_fails_in_bounded_time(fake):
    link = client(fake, retries=2)
    start = time.monotonic()
    with pytest.raises(LinkError, match="no reply from fake to INFO within 0.3 s \\(3 tries\\)") as e:
        link.info()
    assert time.monotonic() - start < 2 and "\n" not in str(e.value)


@pytest.mark.parametrize("fake", [Faults(output_total=2**31)], indirect=True)
def test_an_output_larger_than_the_model_declares_is_refused_at_once(fake):
    link = client(fake)
    start = time.monotonic()
    with pytest.raises(LinkError, match="says READ_OUTPUT has 2,147,483,648 bytes; expected 600"):
        link.run([sample(fake)], [600])
    assert time.monotonic() - start < 2


@pytest.mark.parametrize("fake", [Faults(empty_invoke=True)], indirect=True)
def test_an_empty_invoke_reply_is_a_link_error(fake):
    with pytest.raises(LinkError, match="sent an INVOKE reply of 0 bytes; expected 8"):
        client(fake).run([sample(fake)], [600])


@pytest.mark.parametrize("fake", [Faults(corrupt_invoke=1)], indirect=True)
def test_a_damaged_invoke_reply_is_retried_without_waiting_out_the_timeout(fake):
    link = LinkClient(fake.port, "fake", timeout_s=0.3, invoke_timeout_s=120)
    start = time.monotonic()
    outputs, _ = link.run([sample(fake)], [600])
    assert outputs == [expected(sample(fake))] and time.monotonic() - start < 5
    assert fake.faults.requests.count(Msg.INVOKE) == 2


@pytest.mark.parametrize("fake", [Faults(reset_after_chunks=1)], indirect=True)
def test_a_reset_mid_transfer_restarts_the_inference(fake):
    link = client(fake)
    outputs, _ = link.run([sample(fake)], [600])
    assert outputs == [expected(sample(fake))]
    # The lost chunk timed out and was resent; the next one then found the state gone (error
    # "offset"), so the inference started again from the first chunk.
    assert fake.faults.requests.count(Msg.INVOKE) == 1


def test_the_device_refuses_bad_requests(fake):
    link = client(fake)
    with pytest.raises(DeviceError, match="refused INVOKE: inputs incomplete"):
        link.invoke()
    with pytest.raises(DeviceError, match="refused READ_OUTPUT: no output to read"):
        link.read_output(0)
    with pytest.raises(DeviceError, match="refused WRITE_INPUT: offset outside the tensor"):
        link.write_input(0, bytes(fake.input_bytes + 1))
    assert link.echo(b"still serving") == b"still serving"


def test_wrong_size_input_is_refused_before_sending(fake):
    from tinygen.builder import GraphBuilder

    g = GraphBuilder()
    x = g.tensor((1, 599), scale=0.5, zero_point=0)
    graph = g.build([x], [x])
    target = LinkTarget(load_board("mps2-an386"), client(fake), None, graph)
    with pytest.raises(TinygenError, match="has 599 bytes; the device expects 600"):
        target.run([[np.zeros((1, 599), np.int8)]])
    assert Msg.WRITE_INPUT not in fake.faults.requests


def stateful_target(fake) -> LinkTarget:
    from tinygen.builder import GraphBuilder

    g = GraphBuilder()
    x = g.tensor((1, fake.input_bytes), scale=0.5, zero_point=0)
    return LinkTarget(load_board("mps2-an386"), client(fake), None, g.build([x], [x]), stateful=True)


def steps(fake, count: int) -> list[list[np.ndarray]]:
    return [[np.frombuffer(sample(fake), np.int8).reshape(1, -1) + np.int8(k)] for k in range(count)]


def carried(fake, sequence) -> list[bytes]:
    """What the stateful fake answers to a sequence from a reset: input + 1 + the step's number."""
    return [(x[0] + np.int8(1 + k)).tobytes() for k, x in enumerate(sequence)]


@pytest.fixture
def stateful_fake(request):
    device = FakeDevice(faults=getattr(request, "param", None), stateful=True)
    yield device
    device.close()


def test_a_model_with_state_runs_each_sequence_from_a_reset(stateful_fake):
    target = stateful_target(stateful_fake)
    sequence = steps(stateful_fake, 3)
    for _ in range(2):
        assert [o[0].tobytes() for o in target.run(sequence)] == carried(stateful_fake, sequence)
    assert stateful_fake.faults.requests.count(Msg.RESET) == 2
    assert client(stateful_fake).reset() is None  # RESET is idempotent: retried like any request


@pytest.mark.parametrize(
    "stateful_fake", [Faults(reset_after_chunks=4), Faults(corrupt_invoke=1)], indirect=["stateful_fake"]
)
def test_a_step_lost_mid_sequence_restarts_the_whole_sequence(stateful_fake):
    # A reboot (its state gone) or a lost INVOKE reply (the step may have run): repeating only that
    # step would give outputs from the wrong state, so the sequence starts again with a RESET.
    target = stateful_target(stateful_fake)
    sequence = steps(stateful_fake, 2)
    assert [o[0].tobytes() for o in target.run(sequence)] == carried(stateful_fake, sequence)
    assert stateful_fake.faults.requests.count(Msg.RESET) == 2


@pytest.mark.parametrize("stateful_fake", [Faults(old_firmware=True)], indirect=True)
def test_firmware_without_reset_says_so(stateful_fake):
    with pytest.raises(DeviceError, match="refused RESET: unknown request type"):
        stateful_target(stateful_fake).run(steps(stateful_fake, 1))


class FakePort:
    def __init__(self, device, vid=None, pid=None):
        self.device, self.vid, self.pid = device, vid, pid


def test_port_detection(monkeypatch):
    from serial.tools import list_ports

    board = load_board("nano33")
    seen = [FakePort("/dev/ttyS0"), FakePort("/dev/ttyACM0", 0x2341, 0x805A)]
    monkeypatch.setattr(list_ports, "comports", lambda: seen)
    assert ports.detect_port(board) == "/dev/ttyACM0"
    seen.append(FakePort("/dev/ttyACM1", 0x2341, 0x005A))
    with pytest.raises(TinygenError, match="2 ports match board 'nano33'.*pass --port"):
        ports.detect_port(board)
    seen[1:] = []
    with pytest.raises(ToolError, match="no serial port has the USB id.*seen: /dev/ttyS0 \\(no USB id\\)"):
        ports.detect_port(board)


def test_flash_without_a_board_says_what_to_do(monkeypatch, tmp_path):
    """No board plugged in: a tool or environment failure (exit 3), with what a student does next."""
    from serial.tools import list_ports

    from .helpers import run_cli

    monkeypatch.setattr(list_ports, "comports", lambda: [FakePort("/dev/ttyS0")])
    (tmp_path / "platformio.ini").write_text("[env:nano33]\n")
    code, _, err = run_cli("flash", "--board", "nano33", tmp_path)
    assert code == 3 and err.count("\n") == 1, err
    assert "USB id of an Arduino Nano 33 BLE" in err and "plug the board in" in err and "--port" in err
    code, out, _ = run_cli("flash", "--help")
    assert code == 0 and "emulator" not in out
