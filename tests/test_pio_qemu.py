"""Firmware through `pio run` offline, run in QEMU; projects for real boards; Renode scripts.

Needs platformio, arm-none-eabi-gcc (+ newlib) and qemu-system-arm; skipped without them.
"""

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tinygen.boards import load_board
from tinygen.device import qemu, renode
from tinygen.device.pio.project import pio_environ, run_pio, write_project
from tinygen.errors import TinygenError

from .helpers import QEMU_BOARDS

pytest.importorskip("platformio")
pytestmark = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="needs arm-none-eabi-gcc and qemu-system-arm",
)

FIXTURES = Path(__file__).parent / "fixtures"
COMPUTE_EXIT_CODE = 42  # tests/fixtures/compute/main.c returns it when its sum is right
TG_EXIT_FAULT = 254  # firmware/hal/tg_hal.h: the fault handler's exit code
COMPUTE_INSTRUCTIONS = 4001  # its timed assembly loop: a mov, then 2000 iterations of subs + bne


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Keep the PlatformIO core directory and toolchain links out of the user's cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TINYGEN_CACHE_DIR", str(tmp_path_factory.mktemp("tinygen-cache")))
        yield


_built: dict = {}


def build(board_id: str, fixture: str, tmp_path_factory):
    """Build a test firmware once per session; returns (board, project dir, BuildResult)."""
    if (board_id, fixture) not in _built:
        board = load_board(board_id)
        out = tmp_path_factory.mktemp(f"{board_id}-{fixture}")
        main = (FIXTURES / fixture / "main.c").read_text()
        write_project(board, out, lib_files={}, src_files={"main.c": main})
        _built[board_id, fixture] = board, out, run_pio(out, board.id, timeout_s=120)
    return _built[board_id, fixture]


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_hello_prints_and_exits_zero(board_id, tmp_path_factory):
    board, _, result = build(board_id, "hello", tmp_path_factory)
    assert result.elf.is_file() and result.sections[".isr_vector"] == 64
    assert 0 < result.flash_bytes < 4096 and result.ram_bytes >= board.stack_bytes
    run = qemu.run(board, result.elf, timeout_s=20)
    assert (run.exit_code, run.text) == (0, f"hello from {board_id}\n")


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_exit_code_and_instruction_count(board_id, tmp_path_factory):
    board, _, result = build(board_id, "compute", tmp_path_factory)
    runs = [qemu.run(board, result.elf, timeout_s=20, icount_shift=6) for _ in range(2)]
    assert [r.exit_code for r in runs] == [COMPUTE_EXIT_CODE] * 2
    assert runs[0].text == runs[1].text  # -icount makes the count repeatable
    ticks = int(runs[0].text.strip().removeprefix("ticks="))
    instructions = qemu.instructions_from_ticks(board, ticks, icount_shift=6)
    assert abs(instructions - COMPUTE_INSTRUCTIONS) < 100


@pytest.mark.parametrize("board_id", QEMU_BOARDS)
def test_firmware_cannot_reach_the_host(board_id, tmp_path_factory):
    """Semihosting is off: a request to run a host command faults instead of running it."""
    probe = Path("/tmp/tinygen-semihosting-probe")
    probe.unlink(missing_ok=True)
    board, _, result = build(board_id, "semihost", tmp_path_factory)
    run = qemu.run(board, result.elf, timeout_s=20)
    assert run.exit_code == TG_EXIT_FAULT and not probe.exists()


def test_serial_over_tcp(tmp_path_factory):
    serial = pytest.importorskip("serial")
    board, _, result = build("mps2-an386", "hello", tmp_path_factory)
    with qemu.start_serial(board, result.elf) as handle:
        assert handle.url.startswith("socket://127.0.0.1:")
        port = serial.serial_for_url(handle.url, timeout=10)
        expected = b"hello from mps2-an386\n"
        received = port.read(len(expected))  # read before QEMU exits and closes the socket
        assert received == expected
        assert handle.wait(timeout_s=10) == 0
        port.close()


def test_pio_upload_runs_in_qemu(tmp_path_factory):
    """`pio run -t upload` runs the firmware under tinygen's -icount, so its clock counts instructions."""
    board, project, _ = build("lm3s6965evb", "compute", tmp_path_factory)
    cmd = [sys.executable, "-m", "platformio", "run", "-d", str(project), "-t", "upload"]
    done = subprocess.run(cmd, env=pio_environ(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout[-2000:]
    ticks = int(done.stdout.split("ticks=")[1].split()[0])
    assert abs(qemu.instructions_from_ticks(board, ticks, qemu.ICOUNT_SHIFT) - COMPUTE_INSTRUCTIONS) < 100


def test_firmware_that_does_not_fit_fails_clearly(tmp_path):
    board = load_board("lm3s6965evb")
    main = "volatile char big[70000];\nint main(void) { big[1] = 1; return big[1]; }\n"
    write_project(board, tmp_path, {}, {"main.c": main})
    with pytest.raises(TinygenError, match="failed: .*RAM.* \\(full log: "):
        run_pio(tmp_path, board.id, timeout_s=120)


def test_real_board_project(tmp_path):
    board = load_board("nano33")
    write_project(
        board,
        tmp_path,
        {"model.c": "int tg_model;\n", "weights.bin": b"\x01\x02"},
        {"main.cpp": "void setup() {}\nvoid loop() {}\n"},
    )
    ini = (tmp_path / "platformio.ini").read_text()
    for line in (
        "[env:nano33]",
        "platform = nordicnrf52@10.11.0",
        "board = nano33ble",
        "framework = arduino",
        "upload_protocol = sam-ba",
    ):
        assert line in ini.splitlines()
    assert "symlink://" not in ini
    assert (tmp_path / "lib/tinygen_model/weights.bin").read_bytes() == b"\x01\x02"
    assert (tmp_path / "src/main.cpp").is_file()
    hal = sorted(p.name for p in (tmp_path / "lib/tinygen_hal").iterdir())
    assert hal == ["tg_board.h", "tg_counter_dwt.c", "tg_hal.h"]  # the Arduino core does the rest
    assert not (tmp_path / "linker.ld").exists()


def _registry_reachable() -> bool:
    try:
        socket.create_connection(("api.registry.platformio.org", 443), timeout=3).close()
        return True
    except OSError:
        return False


@pytest.mark.slow
def test_real_board_offline_build_says_what_to_do(tmp_path):
    """PlatformIO's own failure, after its minute of retries, when nothing probed the registry first."""
    if _registry_reachable():
        pytest.skip("online: PlatformIO would download the whole nRF52 platform")
    board = load_board("nano33")
    write_project(board, tmp_path, {}, {"main.cpp": "void setup() {}\nvoid loop() {}\n"})
    with pytest.raises(TinygenError, match="ready to build with `pio run`") as info:
        run_pio(tmp_path, board.id, timeout_s=180)
    assert "\n" not in str(info.value)


def test_real_board_offline_build_leaves_the_project(tmp_path):
    """Offline, `tinygen build --board nano33` moves the complete project into place, names it, exits 3,
    and knows at once (a probe of the registry) rather than after PlatformIO's retries."""
    import time

    from tinygen import zoo
    from tinygen.frontends.tflite_writer import write_tflite

    from .helpers import run_cli

    if _registry_reachable():
        pytest.skip("online: PlatformIO would download the whole nRF52 platform")
    model = tmp_path / "model.tflite"
    model.write_bytes(write_tflite(zoo.autoencoder(seed=3)))
    project = tmp_path / "gesture-nano33"
    started = time.monotonic()
    code, _, err = run_cli("build", model, "--board", "nano33", "-o", project)
    assert code == 3, err
    assert time.monotonic() - started < 30, "waited for PlatformIO's retries"
    assert f"the project in {project} is ready to build" in err
    assert (project / "platformio.ini").is_file() and (project / "src" / "main.cpp").is_file()
    assert (project / "lib" / "tinygen_model" / "model.c").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gesture-nano33", "model.tflite"]  # no staging left


def test_renode_script(tmp_path_factory):
    board = load_board("nano33")
    _, _, result = build("mps2-an386", "hello", tmp_path_factory)  # any Cortex-M ELF
    resc = renode.write_resc(board, result.elf, tmp_path_factory.mktemp("renode") / "n.resc", uart_port=3456)
    text = resc.read_text()
    assert "machine LoadPlatformDescription @platforms/boards/arduino_nano_33_ble.repl" in text
    assert f"sysbus LoadELF @{result.elf}" in text
    assert "connector Connect sysbus.uart0 tinygen_uart" in text
    if not shutil.which("renode"):
        pytest.skip("renode is not on PATH")
    # The script must load in Renode: platform, ELF and UART terminal, without errors.
    argv = renode.renode_argv(resc, "quit")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "error" not in done.stdout.lower(), done.stdout[-2000:]


def test_a_project_stands_alone(tmp_path):
    """A generated project holds no absolute path, and plain `pio run` builds a moved copy of it offline
    with a fresh PlatformIO (no tinygen cache, no registry)."""
    from tinygen import zoo
    from tinygen.frontends.tflite_writer import write_tflite

    from .helpers import run_cli

    model = tmp_path / "model.tflite"
    model.write_bytes(write_tflite(zoo.autoencoder(seed=3)))
    project = tmp_path / "project"
    code, _, err = run_cli("build", model, "--board", "mps2-an386", "-o", project)
    assert code == 0, err
    private = [str(tmp_path), str(Path.home()), sys.prefix, str(Path(__file__).resolve().parents[1])]
    for path in project.rglob("*"):
        if path.is_file() and ".pio" not in path.parts and path.name != "build.log":
            text = path.read_bytes().decode("utf-8", errors="replace")
            assert not [p for p in private if p in text], path
    moved = tmp_path / "moved"
    shutil.copytree(project, moved, ignore=shutil.ignore_patterns(".pio"))
    home = tmp_path / "home"
    environ = {k: v for k, v in pio_environ().items() if k not in ("PLATFORMIO_CORE_DIR", "TINYGEN_CACHE_DIR")} | {
        "HOME": str(home)
    }
    done = subprocess.run(
        [sys.executable, "-m", "platformio", "run"], cwd=moved, env=environ, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert (moved / ".pio/build/mps2-an386/firmware.elf").is_file()
