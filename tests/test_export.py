"""tinygen export: the Arduino library (built as a sketch against a stand-in Arduino core), CMake and
plain C, --prefix, labels, and C++ programs linking against the generated C."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tinygen import zoo
from tinygen.builder import GraphBuilder
from tinygen.compiler.codegen import c_float
from tinygen.compiler.pipeline import compile_model, load_model
from tinygen.export import export_files, write_export
from tinygen.export.arduino import imu_window
from tinygen.export.prefix import prefixed
from tinygen.ir import Graph
from tinygen.reference import Reference
from tinygen.values import quantize_input

from .helpers import loaded, run_cli
from .sketches import NANO33, build_sketch, need, run_program

ROOT = Path(__file__).resolve().parent.parent
DIGITS = ROOT / "examples/digits/digits_int8.tflite"
MOTIONS = ROOT / "tests/fixtures/basic_motions_int8.tflite"
DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
# Models whose exported library a C++ program (the RunModel sketch) must link against and run:
# inputs and outputs of int8, uint8, int16 and int32, several inputs and outputs.
CORPUS = [
    "tflite-micro/hello_world_int8.tflite",
    "tflite-micro/micro_speech_quantized.tflite",
    "tflite-micro/seanet_conv0.tflite",
    "mlperf-tiny/ad01_int8.tflite",
    "keras/cnn_flatten_uint8_input.tflite",
    "keras/two_in_two_out_int8.tflite",
    "keras/gather_argmax_int8.tflite",
    "keras/conv1d_gesture_int8.tflite",
    "tflite-micro/keyword_scrambled.tflite",  # keeps state between invokes: the class's resetState()
]


def export(*args) -> dict:
    code, out, err = run_cli("export", *args, "--board", "nano33", "--json")
    assert code == 0, err
    return json.loads(out)


def library(model: Path, out: Path, *args) -> Path:
    """The model exported as an Arduino library folder."""
    return Path(export(model, "-o", out, *args)["output"])


def test_the_prefix_renames_every_name_and_file_but_no_tensor_name():
    files = {
        "model.h": (
            '/* input 0: "tg_in"; see tg_conv.c, model.h and tg_model_init(). */\n'
            '#include "tg_model_api.h"\n#include <tg_system.h>\n'
            'void tg_model_init(void);\nconst char *name = "tg_in", *type = "tg_tensor_info.dims";\n'
            "#define TG_MODEL_H 1 // tg_model_init and tg_in\n#define PASTE(n) tg_line_##n\nint stg_x, tg_;\n"
        ),
        "tg_conv.c": '#include "model.h"\ntg_tensor_info tg_conv_s8(void);\n',
        "tg_model_api.h": "typedef int tg_tensor_info;\n",
        "library.properties": "sentence=tg_conv.c\n",
    }
    out = prefixed(files, "kws")
    assert sorted(out) == ["kws_conv.c", "kws_model.h", "kws_model_api.h", "library.properties"]
    assert out["kws_model.h"] == (
        '/* input 0: "tg_in"; see kws_conv.c, kws_model.h and kws_model_init(). */\n'
        '#include "kws_model_api.h"\n#include <tg_system.h>\n'
        'void kws_model_init(void);\nconst char *name = "tg_in", *type = "kws_tensor_info.dims";\n'
        "#define KWS_MODEL_H 1 // kws_model_init and tg_in\n#define PASTE(n) kws_line_##n\nint stg_x, tg_;\n"
    )
    assert out["kws_conv.c"] == '#include "kws_model.h"\nkws_tensor_info kws_conv_s8(void);\n'
    assert out["library.properties"] == files["library.properties"]  # not C: left alone
    assert prefixed(files, "tg") == files


@pytest.mark.parametrize("prefix", ["1kws", "kws-a", "kws_", "a__b", "_kws", "", "k w"])
def test_a_prefix_that_is_not_a_c_identifier_is_refused(prefix, tmp_path):
    code, _, err = run_cli("export", DIGITS, "--board", "nano33", "-o", tmp_path / "d.zip", "--prefix", prefix)
    assert code == 1 and "is not a C identifier" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "d.zip").exists()


def test_the_arduino_library_zip(tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(DIGIT_NAMES) + "\n\n", encoding="utf-8")
    out = tmp_path / "digits.zip"
    result = export(DIGITS, "-o", out, "--labels", labels)
    assert result["examples"] == ["RunModel"] and result["header"] == "digits.h"
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        properties = archive.read("digits/library.properties").decode()
        wrapper = archive.read("digits/src/digits.cpp").decode()
    assert all(name.startswith("digits/") for name in names)
    for path in ["library.properties", "src/digits.h", "src/model.h", "src/model.c", "src/tg_conv.c"]:
        assert f"digits/{path}" in names
    assert "digits/examples/RunModel/RunModel.ino" in names and "digits/examples/RunModel/sample_input.h" in names
    assert "name=digits\n" in properties and "includes=digits.h\n" in properties and "depends=" not in properties
    assert '"zero",' in wrapper and '"nine",' in wrapper

    first = out.read_bytes()
    export(DIGITS, "-o", out, "--labels", labels)  # over its own zip: allowed, and the same bytes
    assert out.read_bytes() == first

    theirs = tmp_path / "theirs.zip"
    theirs.write_bytes(b"not ours")
    code, _, err = run_cli("export", DIGITS, "--board", "nano33", "-o", theirs)
    assert code == 1 and "tinygen did not write it" in err and theirs.read_bytes() == b"not ours"
    export(DIGITS, "-o", theirs, "--force")
    assert zipfile.ZipFile(theirs).namelist()[0] == "theirs/"


def test_a_library_name_never_meets_the_model_files_without_case(tmp_path, monkeypatch):
    """model.tflite exports by default to a library that is not named model (src/model.h is the
    model's), and -o Model.zip is refused: macOS and Windows would keep one of Model.h and model.h."""
    model = tmp_path / "model.tflite"
    shutil.copyfile(DIGITS, model)
    monkeypatch.chdir(tmp_path)
    result = export(model)
    with zipfile.ZipFile(result["output"]) as archive:
        names = archive.namelist()
    assert len({name.lower() for name in names}) == len(names)
    assert f"{result['name']}/src/{result['header']}" in names and result["header"].lower() != "model.h"
    for name in ("model", "Model", "TG_CONV"):
        code, _, err = run_cli("export", model, "--board", "nano33", "-o", tmp_path / f"{name}.zip")
        assert code == 1 and "case-insensitive" in err and "-o " in err, err
        assert not (tmp_path / f"{name}.zip").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"zero\none\n", "holds 2 labels, but the model's first output"),
        ("\n".join(DIGIT_NAMES[:4] + [""] + DIGIT_NAMES[5:]).encode(), "line 5 is empty"),
        (b"\xffnot utf-8\n", "is not UTF-8 text"),
        (b"x" * 121 + b"\n" + b"\n".join(n.encode() for n in DIGIT_NAMES[1:]), "has 121 characters; at most 120"),
    ],
)
def test_labels_must_name_every_value_of_the_first_output(content, message, tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_bytes(content)
    code, _, err = run_cli("export", DIGITS, "--board", "nano33", "-o", tmp_path / "d.zip", "--labels", labels)
    assert code == 1 and message in err and not (tmp_path / "d.zip").exists()
    code, _, err = run_cli("export", DIGITS, "--board", "nano33", "--format", "c", "--labels", labels)
    assert code == 2 and "--format c has none" in err


def test_run_model_prints_the_label_and_score_tflite_micro_gives(tmp_path):
    """The wrapper quantizes the bundled real-valued input, runs the model and dequantizes its output;
    the labels come out as they went in."""
    with np.load(ROOT / "examples/digits/test.npz") as test:
        x = test["x"][7]
    np.save(tmp_path / "sample.npy", x)
    names = [f'{name} "{name}" \\ ??/ */ ü' for name in DIGIT_NAMES]  # escaped into the C++ literals
    (tmp_path / "labels.txt").write_text("\n".join(names), encoding="utf-8")
    sample = tmp_path / "sample.npy"
    lib = library(DIGITS, tmp_path / "digits", "--labels", tmp_path / "labels.txt", "--demo-input", sample)
    printed = run_program(build_sketch(lib / "examples/RunModel", [lib], tmp_path / "build"))

    model = load_model(DIGITS)
    graph = model.graph
    q = quantize_input(graph.tensor(graph.inputs[0]), x)
    (y,) = Reference(model.tflite_bytes, graph).run([q])
    out = graph.tensor(graph.outputs[0])
    best = int(np.argmax(y))
    score = (int(y.reshape(-1)[best]) - out.zero_point) * out.scale
    assert printed.startswith(f"label: {names[best]}, score: {score:.4f}, microseconds: ")


def test_two_prefixed_libraries_share_one_program(tmp_path):
    digits = library(DIGITS, tmp_path / "digits", "--prefix", "digits")
    motions = library(MOTIONS, tmp_path / "motions", "--prefix", "motion")
    sketch = _two_model_sketch(tmp_path / "Both")
    program = build_sketch(sketch, [digits, motions], tmp_path / "build")
    assert run_program(program).splitlines()[0] == f"{_argmax(DIGITS)} {_argmax(MOTIONS)}"
    for objects, prefix in ((tmp_path / "build/lib0", "digits"), (tmp_path / "build/lib1", "motion")):
        symbols = subprocess.run(
            ["nm", "-C", "--defined-only", "--extern-only", *map(str, objects.glob("*.o"))],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        names = [line.split(" ", 2)[2] for line in symbols.splitlines() if line.count(" ") >= 2]
        assert names and all(n.startswith((f"{prefix}_", f"{prefix}::")) for n in names), names


def test_the_sketches_build_for_the_nano_33_ble(tmp_path):
    toolchain = need(NANO33)
    digits = library(DIGITS, tmp_path / "digits", "--prefix", "digits")
    motions = library(MOTIONS, tmp_path / "motions", "--prefix", "motion")
    assert export(MOTIONS, "-o", tmp_path / "m.zip")["examples"] == ["IMUGesture", "RunModel"]
    assert "depends=Arduino_LSM9DS1\n" in (motions / "library.properties").read_text()
    builds = [
        (digits / "examples/RunModel", [digits]),
        (motions / "examples/RunModel", [motions]),
        (motions / "examples/IMUGesture", [motions]),
        (_two_model_sketch(tmp_path / "Both"), [digits, motions]),
    ]
    for n, (sketch, libraries) in enumerate(builds):
        program = build_sketch(sketch, libraries, tmp_path / f"build{n}", toolchain)
        attributes = subprocess.run(["arm-none-eabi-readelf", "-A", program], capture_output=True, text=True).stdout
        assert "Tag_CPU_arch: v7E-M" in attributes and "Tag_ABI_VFP_args: VFP registers" in attributes


def test_the_firmware_main_for_arduino_compiles_against_the_stand_in(tmp_path):
    toolchain = need(NANO33)
    main = ROOT / "firmware/main/tg_main_arduino.cpp"
    command = [toolchain.cxx, "-std=gnu++14", *toolchain.flags, "-Wall", "-Wextra", "-Werror"]
    includes = [f"-I{ROOT / d}" for d in ("tests/fixtures/arduino", "firmware/link", "firmware/talk")]
    result = subprocess.run([*command, *includes, "-c", str(main), "-o", str(tmp_path / "main.o")], capture_output=True)
    assert result.returncode == 0, result.stderr.decode()


@pytest.mark.parametrize("name", [*sorted(zoo.MLPERF_TINY), *CORPUS])
def test_a_cpp_program_links_against_every_generated_model(name, tmp_path):
    """The RunModel sketch (C++) with the model's library, on the host: it links and runs."""
    if name in zoo.MLPERF_TINY:
        model = loaded(zoo.MLPERF_TINY[name](seed=2), name)
    else:
        model = load_model(ROOT / "tests/corpus" / name)
    files = export_files(compile_model(model), "arduino-library", "model_library")
    lib = write_export(files, tmp_path / "model_library")
    printed = run_program(build_sketch(lib / "examples/RunModel", [lib], tmp_path / "build"))
    assert printed.startswith("label: ") and ", microseconds: " in printed


def test_the_imu_example_is_for_windows_of_motion():
    def graph(*shapes) -> Graph:
        g = GraphBuilder()
        return g.build([g.tensor(shape) for shape in shapes], [])

    assert imu_window(graph((1, 100, 6))) == (100, 6)
    assert imu_window(graph((1, 50, 1, 3))) == (50, 3)
    assert imu_window(graph((1, 28, 28, 3))) is None  # an image
    assert imu_window(graph((1, 100, 4))) is None
    assert imu_window(graph((1, 100, 6), (1, 3))) is None


def test_the_cmake_target_builds_with_a_consumer(tmp_path):
    cmake = shutil.which("cmake")
    if not cmake:
        pytest.skip("needs cmake")
    result = export(DIGITS, "--format", "cmake", "--prefix", "kws", "-o", tmp_path / "kws")
    assert result["header"] == "kws_model.h" and "CMakeLists.txt" in result["files"]
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    (consumer / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(consumer C CXX)\n"
        f"add_subdirectory({(tmp_path / 'kws').as_posix()} kws)\n"
        "add_executable(consumer main.cpp)\ntarget_link_libraries(consumer PRIVATE kws_model)\n"
    )
    (consumer / "main.cpp").write_text(
        '#include <cstdio>\n#include "kws_model.h"\n'
        "int main() { kws_model_init(); kws_model_invoke();\n"
        '  std::printf("%u\\n", (unsigned)kws_model_outputs[0].bytes); return 0; }\n'
    )
    for command in (
        [cmake, "-S", str(consumer), "-B", str(tmp_path / "build")],
        [cmake, "--build", str(tmp_path / "build")],
    ):
        run = subprocess.run(command, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
    assert run_program(tmp_path / "build/consumer").strip() == "10"


def test_plain_c_is_the_model_its_kernels_and_the_api(tmp_path):
    result = export(DIGITS, "--format", "c", "-o", tmp_path / "c")
    compiled = compile_model(load_model(DIGITS))
    assert sorted(result["files"]) == sorted({**compiled.generated.files, **compiled.generated.kernel_files})
    assert result["examples"] == [] and (tmp_path / "c/model.c").is_file()


def test_every_runtime_header_gives_its_functions_c_linkage(tmp_path):
    """A C++ file that includes every firmware header and takes the address of every function the
    runtime defines links against the runtime compiled as C."""
    firmware = ROOT / "firmware"
    objects = tmp_path / "objects"
    objects.mkdir()
    sources = sorted(firmware.glob("tg_*.c"))
    subprocess.run(["gcc", "-std=c99", "-c", *map(str, sources)], cwd=objects, check=True)
    symbols = subprocess.run(
        ["nm", "--defined-only", "--extern-only", *map(str, sorted(objects.glob("*.o")))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    functions = sorted({line.split()[2] for line in symbols.splitlines() if line.count(" ") == 2 and " T " in line})
    assert len(functions) > 40
    program = tmp_path / "all.cpp"
    program.write_text(
        "".join(f'#include "{h.name}"\n' for h in sorted(firmware.glob("tg_*.h")))
        + "#include <cstdio>\nint main() {\n"
        + "".join(f'    std::printf("%p\\n", reinterpret_cast<void *>(&{f}));\n' for f in functions)
        + "}\n"
    )
    result = subprocess.run(
        ["g++", f"-I{firmware}", str(program), *map(str, sorted(objects.glob("*.o"))), "-o", str(tmp_path / "all")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def _two_model_sketch(folder: Path) -> Path:
    """A sketch that runs both models, through their classes and through the C API."""
    folder.mkdir()
    (folder / f"{folder.name}.ino").write_text(
        "#include <digits.h>\n#include <motions.h>\n\n"
        "digits::Model pixels;\nmotion::Model movement;\n\n"
        "void setup()\n{\n    Serial.begin(115200);\n    pixels.begin();\n    movement.begin();\n}\n\n"
        "void loop()\n{\n"
        "    static float zeros[600];\n"
        "    pixels.setInput(zeros);\n    movement.setInput(zeros);\n"
        "    digits_model_invoke();\n    motion_model_invoke();\n"
        '    Serial.print(pixels.argmax());\n    Serial.print(" ");\n    Serial.println(movement.argmax());\n}\n'
    )
    return folder


def _argmax(path: Path) -> int:
    """The class tflite-micro gives for an input of real zeros."""
    model = load_model(path)
    graph = model.graph
    x = np.zeros(graph.tensor(graph.inputs[0]).shape, np.float32)
    (y,) = Reference(model.tflite_bytes, graph).run([quantize_input(graph.tensor(graph.inputs[0]), x)])
    return int(np.argmax(y))


GESTURE = ROOT / "examples/gesture"


def test_the_imu_example_standardizes_as_the_training_data_was(tmp_path):
    """--normalization puts the example's per-channel mean and deviation and its sampling interval into
    the IMUGesture sketch, which still builds and runs; bad files get one line each."""
    model = GESTURE / "gesture_int8.tflite"
    normalization = json.loads((GESTURE / "normalization.json").read_text())
    options = ("--labels", GESTURE / "labels.txt", "--normalization", GESTURE / "normalization.json")
    lib = library(model, tmp_path / "gesture", *options)
    sketch = (lib / "examples/IMUGesture/IMUGesture.ino").read_text()
    assert f"kMean[kChannels] = {{ {', '.join(map(c_float, normalization['mean']))} }};" in sketch
    assert f"kStd[kChannels] = {{ {', '.join(map(c_float, normalization['std']))} }};" in sketch
    labels = (GESTURE / "labels.txt").read_text().split()
    printed = run_program(build_sketch(lib / "examples/IMUGesture", [lib], tmp_path / "build"))
    assert printed.split(",")[0].removeprefix("label: ") in labels

    def refused(content: str) -> str:
        bad = tmp_path / "bad.json"
        bad.write_text(content)
        code, _, err = run_cli("export", model, "--board", "nano33", "-o", tmp_path / "x.zip", "--normalization", bad)
        assert code == 1 and err.count("\n") == 1 and not (tmp_path / "x.zip").exists()
        return err

    assert "'mean' must be a list of 6 finite numbers" in refused('{"mean": [0, 0], "std": [1, 1, 1, 1, 1, 1]}')
    assert "'std' must be a list of 6 finite" in refused('{"mean": [0, 0, 0, 0, 0, 0], "std": [1, 1, 1, 1, 1, NaN]}')
    assert "every 'std' must be positive" in refused('{"mean": [0, 0, 0, 0, 0, 0], "std": [1, 1, 1, 1, 1, 0]}')
    six = '"mean": [0, 0, 0, 0, 0, 0], "std": [1, 1, 1, 1, 1, 1]'
    assert "'interval_ms' must be" in refused(f'{{{six}, "interval_ms": 0.5}}')
    assert "is not JSON" in refused("{mean")
    code, _, err = run_cli("export", DIGITS, "--board", "nano33", "--normalization", GESTURE / "normalization.json")
    assert code == 1 and "needs a model whose one input is a window" in err


def test_demo_input_is_named_as_in_build_and_input_still_works(tmp_path):
    """export --demo-input, as build and monitor name it; the old --input, hidden, gives the same library."""
    np.save(tmp_path / "sample.npy", np.load(ROOT / "examples/digits/test.npz")["x"][3])
    new = export(DIGITS, "-o", tmp_path / "new.zip", "--demo-input", tmp_path / "sample.npy")
    old = export(DIGITS, "-o", tmp_path / "old.zip", "--input", tmp_path / "sample.npy")
    zeros = export(DIGITS, "-o", tmp_path / "zeros.zip")
    bundled = [
        zipfile.ZipFile(result["output"]).read(f"{name}/examples/RunModel/sample_input.h")
        for result, name in ((new, "new"), (old, "old"), (zeros, "zeros"))
    ]
    assert bundled[0] == bundled[1] != bundled[2]
    code, out, _ = run_cli("export", "--help")
    assert code == 0 and "--demo-input" in out and "--input " not in out
