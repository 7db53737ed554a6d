"""The C params structs and their Python mirrors (tinygen/ops/cstruct.py) agree, and a drift fails the build."""

import inspect
import shutil
import subprocess

import pytest

from tinygen import ops
from tinygen.device.cflags import WARNINGS
from tinygen.device.host import host_compiler
from tinygen.ops.cstruct import layout_checks
from tinygen.resources import resource_dir


def params_classes():
    """Every params dataclass of every op family, by its C type."""
    found = {}
    for record in ops.REGISTRY.values():
        module = inspect.getmodule(record.lower)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if hasattr(cls, "C_TYPE") and cls.__module__ == module.__name__:
                found[cls.C_TYPE] = cls
    return found


def compile_checks(directory, classes) -> subprocess.CompletedProcess:
    headers = sorted({cls.C_FILE.replace(".c", ".h") for cls in classes})
    lines = [f'#include "{h}"' for h in headers]
    lines += [check for cls in classes for check in layout_checks(cls)]
    (directory / "checks.c").write_text("\n".join(lines) + "\n")
    return subprocess.run(
        [host_compiler(), "-std=c99", *WARNINGS, "-I.", "-c", "checks.c", "-o", "checks.o"],
        cwd=directory,
        capture_output=True,
        text=True,
    )


def test_every_params_struct_matches_its_mirror(tmp_path):
    classes = list(params_classes().values())
    assert len(classes) >= 15
    for header in resource_dir("firmware").glob("tg_*.h"):
        shutil.copy(header, tmp_path)
    result = compile_checks(tmp_path, classes)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "edit, message",
    [
        (("int32_t stride_h, stride_w;", "int32_t stride_w, stride_h;"), "offset of tg_conv_params.stride_h"),
        (("int32_t act_min, act_max; /* fused", "int32_t act_min, act_max, extra; /* fused"), "size of tg_conv_params"),
        (("int32_t pad_h, pad_w; ", "int16_t pad_h, pad_w; "), "offset of tg_conv_params.input_offset"),
    ],
)
def test_a_drifted_struct_stops_the_build(tmp_path, edit, message):
    for header in resource_dir("firmware").glob("tg_*.h"):
        shutil.copy(header, tmp_path)
    conv_h = tmp_path / "tg_conv.h"
    text = conv_h.read_text()
    assert edit[0] in text
    conv_h.write_text(text.replace(edit[0], edit[1]))
    result = compile_checks(tmp_path, [params_classes()["tg_conv_params"]])
    assert result.returncode != 0 and message in result.stderr, result.stderr
