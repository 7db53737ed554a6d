"""Firmware on the emulated boards: built with `pio run` offline, run in QEMU, reached over the
serial link, compared bit for bit with tflite-micro. Each firmware is built once per module.

Needs platformio, arm-none-eabi-gcc (+ newlib) and qemu-system-arm; skipped without them.
"""

import json
import shutil
import socket
import struct
import zlib

import numpy as np
import pytest

from tinygen import zoo
from tinygen.boards import load_board
from tinygen.compiler.fit import estimate_fit
from tinygen.compiler.pipeline import LoadedModel, compile_model
from tinygen.device import qemu
from tinygen.device.firmware import build_firmware
from tinygen.device.link.client import DeviceError, LinkClient
from tinygen.device.link.frame import Frame, Msg, encode
from tinygen.device.link_target import LinkTarget
from tinygen.errors import TinygenError
from tinygen.frontends.tflite_reader import parse_tflite
from tinygen.verify import random_samples, verify_sequences
from tinygen.verify import verify as verify_model

from .helpers import QEMU_BOARDS, loaded, run_cli
from .ops.test_conv import _window_model

pytest.importorskip("platformio")
pytestmark = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="needs arm-none-eabi-gcc and qemu-system-arm",
)


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TINYGEN_CACHE_DIR", str(tmp_path_factory.mktemp("tinygen-cache")))
        yield


def single_op_models() -> dict[str, LoadedModel]:
    return {
        "conv": loaded(_window_model("CONV_2D", 11, (9, 8), 5, 7, (3, 3), (2, 1), (1, 1), "SAME", True), "conv"),
        "depthwise": loaded(
            _window_model("DEPTHWISE_CONV_2D", 12, (7, 9), 6, 2, (3, 2), (1, 2), (2, 1), "VALID", True), "depthwise"
        ),
    }


@pytest.fixture(scope="module")
def firmware(tmp_path_factory):
    """(model, board) -> (compiled model, ELF), built on first use."""
    built = {}

    def get(model: LoadedModel, board_id: str):
        key = (model.model_hash, board_id)
        if key not in built:
            compiled = compile_model(model)
            out = tmp_path_factory.mktemp(f"{model.source.removesuffix('.tflite')}-{board_id}")
            built[key] = compiled, build_firmware(compiled, load_board(board_id), out).build.elf
        return built[key]

    return get


def verify(firmware, model: LoadedModel, board_id: str, samples: int):
    compiled, elf = firmware(model, board_id)
    with LinkTarget.open(load_board(board_id), model.graph, elf=elf) as target:
        target.check_model(model.model_hash)
        return verify_model(target, compiled, random_samples(model.graph, samples, seed=5))


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_single_op_models_bit_exact(firmware, board_id):
    for name, model in single_op_models().items():
        result = verify(firmware, model, board_id, samples=4)
        assert result.bit_exact and result.samples == 4, (name, result.summary())


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_every_op_bit_exact(firmware, board_id):
    """Three small models that hold every supported op between them, quantized with float
    inputs and outputs (so QUANTIZE and DEQUANTIZE run too)."""
    from tinygen.quantize import CalibrationData, quantize

    from .quant_models import GRAPHS, inputs_for

    for name, build_graph in sorted(GRAPHS.items()):
        graph = build_graph()
        result = quantize(graph, CalibrationData(inputs_for(graph, 32)), float_io=True)
        model = LoadedModel(result.graph, result.tflite_bytes, f"{name}.tflite")
        outcome = verify(firmware, model, board_id, samples=3)
        assert outcome.bit_exact, (name, outcome.summary())


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_svdf_sequences_bit_exact(firmware, board_id):
    """Both SVDF memory types over consecutive invokes, each sequence from a RESET: the state region,
    reset over the link, and the kernels' DSP and portable paths on every core."""
    from .ops.test_svdf import stacked_svdf_model

    model = loaded(stacked_svdf_model(), "svdf")
    compiled, elf = firmware(model, board_id)
    samples = random_samples(model.graph, 8, seed=5)
    with LinkTarget.open(load_board(board_id), model.graph, elf=elf, stateful=True) as target:
        target.check_model(model.model_hash)
        result = verify_sequences(target, compiled, [samples[:4], samples[4:]])
    assert result.bit_exact and result.samples == 8, result.summary()


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_lstm_sequences_bit_exact(firmware, board_id):
    """An int8 LSTM into a 16x8 one over consecutive invokes, each sequence from a RESET: both kernels,
    their hidden and cell states in the state region, and the DSP and portable paths on every core."""
    from .ops.test_lstm import stacked_lstm_model

    model = loaded(stacked_lstm_model(), "lstm")
    compiled, elf = firmware(model, board_id)
    samples = random_samples(model.graph, 8, seed=5)
    with LinkTarget.open(load_board(board_id), model.graph, elf=elf, stateful=True) as target:
        target.check_model(model.model_hash)
        result = verify_sequences(target, compiled, [samples[:4], samples[4:]])
    assert result.bit_exact and result.samples == 8, result.summary()


@pytest.mark.parametrize("fixture", ["digits_cnn_int8", "basic_motions_int8"])
def test_quantized_fixtures_bit_exact(firmware, fixture):
    from pathlib import Path

    data = (Path(__file__).parent / "fixtures" / f"{fixture}.tflite").read_bytes()
    model = LoadedModel(parse_tflite(data), data, f"{fixture}.tflite")
    outcome = verify(firmware, model, "mps2-an386", samples=4)
    assert outcome.bit_exact, outcome.summary()


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_mlperf_tiny_bit_exact(firmware, board_id):
    board = load_board(board_id)
    for name, build_graph in sorted(zoo.MLPERF_TINY.items()):
        model = loaded(build_graph(seed=1), name)
        if board_id == "lm3s6965evb" and name in ("autoencoder", "mobilenet_v1_025"):
            # 270 KB and 244 KB of weights with the firmware's 12 KB: the fit check refuses them on the
            # 256 KB flash, with the numbers.
            assert not estimate_fit(compile_model(model), board).fits
            with pytest.raises(
                TinygenError,
                match=r"does not fit lm3s6965evb: flash: needs [\d,]+ of 262,144 "
                r"bytes \(over by [\d,]+ bytes\)",
            ):
                firmware(model, board_id)
            continue
        result = verify(firmware, model, board_id, samples=2)
        assert result.bit_exact, (name, result.summary())


@pytest.fixture(scope="module")
def conv_on_an386(firmware):
    model = single_op_models()["conv"]
    compiled, elf = firmware(model, "mps2-an386")
    return model, compiled, elf


def raw_exchange(sock: socket.socket, data: bytes, want: int) -> bytes:
    sock.sendall(data)
    got = b""
    sock.settimeout(5)
    while len(got) < want:
        got += sock.recv(want - len(got))
    return got


def test_firmware_drops_bad_frames_and_keeps_serving(conv_on_an386):
    _, _, elf = conv_on_an386
    with qemu.start_serial(load_board("mps2-an386"), elf) as emulator:
        host, port = emulator.url.removeprefix("socket://").split(":")
        with socket.create_connection((host, int(port))) as sock:
            echo = encode(Frame(Msg.ECHO, 9, b"ping"))
            corrupted = bytearray(echo)
            corrupted[-1] ^= 0x80
            oversized = b"TG\x01\x01\x01\xff\x7f"  # claims 32 KiB: not a frame
            # Garbage, a bad CRC, a header claiming 32 KiB, a frame cut short, then two good frames.
            # The cut frame's header claims bytes that belong to the next frame: the decoder finds
            # that frame all the same, so both good frames are answered.
            stream = b"\x00\xffTTG garbage" + bytes(corrupted) + oversized + echo[:9] + echo + echo
            answer = echo[:3] + bytes([Msg.ECHO | 0x80]) + echo[4:-4]
            answer += struct.pack("<I", zlib.crc32(answer[2:]))
            assert raw_exchange(sock, stream, 2 * len(echo)) == answer * 2
            sock.settimeout(0.5)
            with pytest.raises(socket.timeout):
                sock.recv(1)  # nothing else was answered


def test_firmware_refuses_bad_requests(conv_on_an386):
    model, _, elf = conv_on_an386
    with LinkTarget.open(load_board("mps2-an386"), model.graph, elf=elf) as target:
        link: LinkClient = target.client
        info = target.check_model(model.model_hash)
        assert (info.board, info.counter, info.protocol) == ("mps2-an386", "systick", 1)
        nbytes = info.inputs[0].bytes
        # A chunk that skips ahead (what a reset mid-transfer looks like) is refused.
        with pytest.raises(DeviceError, match="not contiguous"):
            link.request(Msg.WRITE_INPUT, struct.pack("<BI", 0, 4) + b"abcd")
        for call, message in (
            (link.invoke, "inputs incomplete"),
            (lambda: link.read_output(0), "no output"),
            (lambda: link.write_input(0, bytes(nbytes + 1)), "offset outside"),
            (lambda: link.write_input(3, b"x"), "no such input"),
            (lambda: link.request(0x42), "unknown request type"),
            (lambda: link.request(Msg.INVOKE, b"x"), "wrong payload length"),
        ):
            with pytest.raises(DeviceError, match=message):
                call()
        # A frame of another protocol version gets a version error, and the firmware goes on.
        link._write(encode(Frame(Msg.ECHO, 77, b"", version=2)))
        assert link._wait(77, 5).payload[0] == 1
        assert link.echo(b"alive") == b"alive"


@pytest.fixture(scope="module")
def conv_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "conv.tflite"
    path.write_bytes(single_op_models()["conv"].tflite_bytes)
    return path


def test_cli_build_reports_estimate_and_elf_sizes(conv_file, tmp_path):
    code, out, err = run_cli("build", conv_file, "--board", "mps2-an500", "-o", tmp_path / "p")
    assert code == 0, err
    assert "estimate: flash: needs" in out and "built " in out and "RAM" in out
    for path in ("platformio.ini", "lib/tinygen_model/model.c", "src/main.c", "src/tg_link_server.c"):
        assert (tmp_path / "p" / path).is_file(), path


def test_cli_verify_on_qemu_prints_what_host_verify_prints(conv_file):
    outputs = [
        run_cli("verify", conv_file, "--board", board, "--samples", "3", "--json") for board in ("host", "mps2-an505")
    ]
    assert outputs[0][0] == outputs[1][0] == 0, outputs
    assert json.loads(outputs[0][1]) == json.loads(outputs[1][1])


def test_cli_verify_data_set_reports_accuracy(conv_file, tmp_path):
    graph = parse_tflite(conv_file.read_bytes())
    t = graph.tensor(graph.inputs[0])
    rng = np.random.default_rng(0)
    x = (rng.uniform(-100, 100, (3, *t.shape[1:])) * t.scale).astype(np.float32)
    np.savez(tmp_path / "data.npz", x=x, y=np.array([0, 1, 2]))
    code, out, err = run_cli("verify", conv_file, "--board", "mps2-an386", "--data", tmp_path / "data.npz", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["bit_exact"] and result["samples"] == 3
    assert result["device_accuracy"] == result["reference_accuracy"]  # bit-exact outputs, same top-1


def test_cli_invoke(conv_file, tmp_path):
    graph = parse_tflite(conv_file.read_bytes())
    t = graph.tensor(graph.inputs[0])
    np.save(tmp_path / "x.npy", np.zeros(t.shape, np.float32))
    code, out, err = run_cli(
        "invoke", conv_file, "--board", "lm3s6965evb", "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npy"
    )
    assert code == 0, err
    y = np.load(tmp_path / "y.npy")
    assert y.shape == graph.tensor(graph.outputs[0]).shape and y.dtype == np.float32
    assert "output 0" in out
    np.save(tmp_path / "bad.npy", np.zeros(7, np.float32))
    code, _, err = run_cli("invoke", conv_file, "--board", "lm3s6965evb", "--input", tmp_path / "bad.npy")
    assert code == 1 and "has shape (7,); the model's input" in err and err.count("\n") == 1


def test_cli_refuses_a_board_running_another_model(conv_on_an386, conv_file, tmp_path):
    other = tmp_path / "depthwise.tflite"
    other.write_bytes(single_op_models()["depthwise"].tflite_bytes)
    _, _, elf = conv_on_an386
    with qemu.start_serial(load_board("mps2-an386"), elf) as emulator:
        code, _, err = run_cli("verify", other, "--board", "mps2-an386", "--port", emulator.url, "--samples", "1")
    assert code == 1 and "not this model" in err and err.count("\n") == 1


def test_cli_flash_explains_emulated_boards(tmp_path):
    code, _, err = run_cli("flash", "--board", "mps2-an386", tmp_path)
    assert code == 1 and "emulated" in err


def test_real_board_verify(port, conv_file):
    """On a Nano 33 BLE flashed with conv.tflite's firmware: `pytest --port /dev/ttyACM0`."""
    code, out, err = run_cli("verify", conv_file, "--board", "nano33", "--port", port, "--samples", "5")
    assert code == 0, err
    assert "bit-exact" in out


@pytest.mark.parametrize("name", ["resnet8", "ds_cnn"])
def test_elf_agrees_with_the_plan(firmware, name):
    """The arena in the ELF is the planned arena, to the byte; the flash estimate bounds the ELF."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    from tinygen.device.pio.project import read_sizes

    board = load_board("mps2-an386")
    compiled, elf = firmware(loaded(zoo.MLPERF_TINY[name](seed=1), name), board.id)
    with open(elf, "rb") as f:
        symbols = next(s for s in ELFFile(f).iter_sections() if isinstance(s, SymbolTableSection))
        arena = symbols.get_symbol_by_name("tg_arena")[0]
        assert arena["st_size"] == compiled.plan.arena_bytes
    _, text, data, bss = read_sizes(elf)
    fit = estimate_fit(compiled, board)
    assert fit.weights_bytes < text + data <= fit.flash.needed_bytes
    assert compiled.plan.arena_bytes < data + bss <= fit.ram.needed_bytes  # .bss holds the stack too
