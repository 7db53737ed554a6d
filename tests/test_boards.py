"""Board profiles: every shipped board loads and validates; broken files fail clearly."""

import re

import pytest

from tinygen.boards import CORES, LOCAL_PLATFORM, board_ids, list_boards, load_board
from tinygen.errors import TinygenError
from tinygen.resources import resource_dir

from .helpers import QEMU_BOARDS

REQUIRED_BOARDS = ("host", "nano33", "mps2-an386", "mps2-an500", "mps2-an505", "lm3s6965evb")


def test_resource_dirs_exist():
    for name in ("boards", "templates", "firmware"):
        assert resource_dir(name).is_dir()


def test_required_boards_ship():
    assert set(REQUIRED_BOARDS) <= set(board_ids())
    assert len(board_ids()) >= len(REQUIRED_BOARDS) + 3  # and three popular real boards


@pytest.mark.parametrize("board_id", board_ids())
def test_every_board_loads(board_id):
    board = load_board(board_id)
    assert board.id == board_id and board.core in CORES
    assert board.flash_available_bytes > 0 and board.ram_available_bytes > 0
    if board.core != "host" and not board.bare_metal:
        assert "@" in board.platformio.platform  # official platforms are pinned


def test_list_boards_matches_files():
    assert [b.id for b in list_boards()] == board_ids()


def test_load_by_path():
    path = resource_dir("boards") / "mps2-an386.toml"
    assert load_board(path) == load_board("mps2-an386")
    assert load_board(str(path)).path == path


def test_facts_that_matter():
    an505 = load_board("mps2-an505")
    assert (an505.flash.origin, an505.ram.origin, an505.emulator.uart_base) == (0x10000000, 0x38000000, 0x50200000)
    lm3s = load_board("lm3s6965evb")
    assert (lm3s.ram.size_bytes, lm3s.emulator.uart, lm3s.dsp) == (65536, "stellaris", False)
    nano = load_board("nano33")
    assert nano.platformio.platform.startswith("nordicnrf52@")
    assert (nano.platformio.board, nano.platformio.framework) == ("nano33ble", "arduino")
    assert nano.platformio.upload_protocol == "sam-ba"
    assert nano.emulator.renode_platform.endswith(".repl") and not nano.qemu_machine
    for board_id in QEMU_BOARDS:
        board = load_board(board_id)
        assert board.platformio.platform == LOCAL_PLATFORM and board.cycle_counter == "systick"


def test_unknown_board_lists_known_ones():
    with pytest.raises(TinygenError, match="unknown board 'nope'; known boards: .*mps2-an386"):
        load_board("nope")


BROKEN = [
    (r"clock_hz = .*\n", "", "missing key 'clock_hz'"),
    (r'core = "cortex-m3"', 'core = "cortex-m9"', "'core' must be one of"),
    (r"clock_hz = .*\n", 'clock_hz = "fast"\n', "'clock_hz' must be an integer"),
    (r"dsp = false", 'dsp = "yes"', "'dsp' must be a bool"),
    (r"stack_bytes", "ram_kb = 4\nstack_bytes", "unknown key 'ram_kb'"),
    (r"size_bytes = 65_536", "size_bytes = 2", "leave no RAM"),
    (r'platform = "tinygen"', 'platform = "ststm32"', "pinned as name@version"),
    (r'uart = "stellaris"', 'uart = "pl011"', "'emulator.uart' must be one of"),
    (r"dsp = false", "dsp = true", "'dsp' cannot be true on cortex-m3"),
    (r'cycle_counter = "systick"', 'cycle_counter = "dwt"', "QEMU models no DWT"),
    (
        r'upload_protocol = "custom"',
        'upload_protocol = "custom"\nextra = 5',
        "'platformio.extra' must be a table of strings",
    ),
    (r"(?s)(\[flash\].*)\[emulator\].*", 'emulator = "qemu"\n\\1', "'emulator' must be a table"),
    (r'id = "lm3s6965evb"', 'id = "other"', "must match the file name"),
    (r"\[flash\]", "[flash", "not valid TOML"),
]


@pytest.mark.parametrize("pattern,replacement,message", BROKEN)
def test_broken_board_files_fail_clearly(tmp_path, pattern, replacement, message):
    text = (resource_dir("boards") / "lm3s6965evb.toml").read_text()
    broken, count = re.subn(pattern, replacement, text, count=1)
    assert count == 1, pattern
    path = tmp_path / "lm3s6965evb.toml"
    path.write_text(broken)
    with pytest.raises(TinygenError) as info:
        load_board(path)
    assert message in str(info.value)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_all_problems_reported_in_one_line(tmp_path):
    text = (resource_dir("boards") / "mps2-an386.toml").read_text()
    text = text.replace("dsp = true", "dsp = 1").replace("heap_bytes = 0", "heap_bytes = 0.5")
    path = tmp_path / "mps2-an386.toml"
    path.write_text(text)
    with pytest.raises(TinygenError, match=r"'dsp' must be a bool.*; 'heap_bytes' must be an int"):
        load_board(path)
