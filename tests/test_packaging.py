"""`pip install .` must give a working tinygen: templates, firmware and boards inside the wheel."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    return next(out.glob("tinygen-*.whl"))


def test_wheel_ships_data_directories(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "tinygen/templates/model.c.j2",
        "tinygen/firmware/tg_conv.c",
        "tinygen/firmware/tg_common.h",
        "tinygen/firmware/host/tg_host_main.c",
        "tinygen/boards/host.toml",
    ):
        assert expected in names


def test_installed_wheel_compiles_a_model(wheel, tmp_path):
    """Unpacked alone (no checkout beside it), the package still finds its templates and C runtime."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    model = tmp_path / "model.tflite"
    script = (
        "import sys; from tinygen import zoo; from tinygen.frontends.tflite_writer import write_tflite; "
        f"open({str(model)!r}, 'wb').write(write_tflite(zoo.autoencoder()))"
    )
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "tinygen", "build", str(model), "--board", "host", "-o", str(tmp_path / "out")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "model_host").exists()
    assert str(ROOT) not in (tmp_path / "out" / "model.c").read_text()
