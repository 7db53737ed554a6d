import pytest


def pytest_addoption(parser):
    parser.addoption("--port", default=None, help="serial port of a real board; board tests are skipped without it")


@pytest.fixture
def port(request):
    value = request.config.getoption("--port")
    if value is None:
        pytest.skip("needs a real board: pass --port")
    return value
