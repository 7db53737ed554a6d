"""Every C kernel compiles for the Arm cores at every optimization level.

The fast kernels write some instruction sequences out as inline assembly with many register
operands; an unoptimized (debug) build keeps a frame pointer and folds no constants, and must
still compile (it takes the portable code there). The firmware tests build with -O2 only.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"
CORES = {  # the DSP cores, where the assembly is
    "cortex-m4": ["-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
    "cortex-m33": ["-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"],
}


@pytest.mark.skipif(not shutil.which("arm-none-eabi-gcc"), reason="needs arm-none-eabi-gcc")
@pytest.mark.parametrize("level", ["-O0", "-Og", "-Os"])
@pytest.mark.parametrize("core", sorted(CORES))
def test_kernels_compile(core, level, tmp_path):
    sources = [str(source) for source in sorted(FIRMWARE.glob("tg_*.c"))]
    result = subprocess.run(
        ["arm-none-eabi-gcc", f"-mcpu={core}", "-mthumb", *CORES[core], level, "-std=c99", "-c", *sources],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, f"{core}, {level}:\n{result.stderr[-3000:]}"
