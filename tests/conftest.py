import os
import shutil

import pytest


def pytest_addoption(parser):
    parser.addoption("--port", default=None, help="serial port of a real board; board tests are skipped without it")


@pytest.fixture
def port(request):
    value = request.config.getoption("--port")
    if value is None:
        pytest.skip("needs a real board: pass --port")
    return value


@pytest.fixture(scope="session")
def qemu_ready(tmp_path_factory):
    """Firmware can be built (PlatformIO offline, arm-none-eabi-gcc) and run (qemu-system-arm); skips
    otherwise. PlatformIO's core directory is private to this test session."""
    pytest.importorskip("platformio")
    if not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")):
        pytest.skip("needs arm-none-eabi-gcc and qemu-system-arm")
    previous = os.environ.get("TINYGEN_CACHE_DIR")
    os.environ["TINYGEN_CACHE_DIR"] = str(tmp_path_factory.mktemp("tinygen-cache"))
    yield
    if previous is None:
        os.environ.pop("TINYGEN_CACHE_DIR", None)
    else:
        os.environ["TINYGEN_CACHE_DIR"] = previous


@pytest.fixture(scope="session", autouse=True)
def numpy_reference_crosscheck():
    """Every tflite-micro run also checks tinygen's numpy reference against it (tests/crosscheck.py)."""
    from .crosscheck import install

    with pytest.MonkeyPatch.context() as monkeypatch:
        install(monkeypatch)
        yield


def pytest_sessionfinish(session):
    """A pytest-xdist worker hands its crosscheck counters to the controller, which prints the summary."""
    from .crosscheck import counts

    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["crosscheck"] = counts()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    from .crosscheck import add

    if "crosscheck" in getattr(node, "workeroutput", {}):
        add(node.workeroutput["crosscheck"])


def pytest_terminal_summary(terminalreporter):
    from .crosscheck import summary

    line = summary()
    if line:
        terminalreporter.write_line(line)
