"""The C runtime and generated models compile without a single warning under tinygen's flags
(tinygen/device/cflags.py), with the host compiler and with arm-none-eabi-gcc for every core the
board profiles name.

The runtime: every kernel source, and for each board what its firmware compiles besides the model,
its main, the serial link server and its HAL (the host: the harness and the link server);
tg_main_arduino.cpp needs an Arduino core, so it is left out. The models below together call every
kernel the headers declare; each model.c is compiled for a few of the targets, so that every target
sees several models and every model several targets.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tinygen import zoo
from tinygen.boards import Board, list_boards
from tinygen.builder import GraphBuilder
from tinygen.compiler.fit import kernel_code_bytes
from tinygen.compiler.pipeline import compile_model
from tinygen.device.cflags import WARNINGS, arm_flags
from tinygen.device.demo import Demo
from tinygen.device.firmware import firmware_sources
from tinygen.device.host import HARNESS, host_compiler
from tinygen.device.pio.project import board_header, hal_sources, read_sizes
from tinygen.frontends.tflite_reader import parse_tflite
from tinygen.resources import resource_dir

from .helpers import loaded
from .ops.test_batch_matmul import matmul_model
from .ops.test_binary import _family_model
from .ops.test_cast import every_cast
from .ops.test_conv_variants import in_place_depthwise, variants_chain
from .ops.test_depthwise import CASES, FAST, ROWS, branches, in_place_chain
from .ops.test_filter_bank import PREPROCESSOR
from .ops.test_int16 import _all_ops_model, _conv_graph
from .ops.test_lstm import stacked_lstm_model
from .ops.test_movement import board_model
from .ops.test_quantize import every_conversion
from .ops.test_reduce import _combined_model
from .ops.test_resize import resize_model
from .ops.test_svdf import CORPUS, stacked_svdf_model
from .ops.test_transpose_conv import _upsampler, single_model
from .ops.test_unary import _chain
from .resource_models import running_sum

FIRMWARE = resource_dir("firmware")
FLAGS = ["-std=c99", "-O2", *WARNINGS, "-fdiagnostics-color=never"]
BINARY_SHAPES = ((1, 2, 3), (1, 2, 3), (1, 1, 3))
HELPER_HEADERS = {"tg_matmul.h"}  # what kernels call (tg_mm_two_columns_s8), no layer
TARGETS_PER_MODEL = 2  # each model.c is compiled for this many targets, taken in turn


def _leftovers():
    """The kernels no other model here calls, in one graph: RELU, RELU6, int8 MUL, LOGISTIC, TANH, MAX_POOL,
    PAD, CONCATENATION, RESIZE_BILINEAR, ARG_MIN and float ARG_MAX / ARG_MIN, REVERSE_V2 of every other
    element type, and int16 LEAKY_RELU into an int16 FULLY_CONNECTED with an int64 bias."""
    g = GraphBuilder()
    q = {"scale": 0.05, "zero_point": -3}
    x = g.tensor((1, 4, 4, 2), **q)
    outputs = []

    def unary(kind, source, out_quant=q, **options):
        y = g.tensor(g.tensors[source].shape, g.tensors[source].dtype, **out_quant)
        g.op(kind, [source], [y], **options)
        outputs.append(y)
        return y

    unary("RELU", x)
    unary("RELU6", x)
    unary("LOGISTIC", x, {"scale": 1 / 256, "zero_point": -128})
    unary("TANH", x, {"scale": 1 / 128, "zero_point": 0})
    product = g.tensor((1, 4, 4, 2), scale=0.01, zero_point=2)
    g.op("MUL", [x, x], [product], fused_activation_function="NONE")
    pooled = g.tensor((1, 2, 2, 2), **q)
    window = {"padding": "VALID", "stride_h": 2, "stride_w": 2, "filter_height": 2, "filter_width": 2}
    g.op("MAX_POOL_2D", [x], [pooled], **window, fused_activation_function="NONE")
    padded = g.tensor((1, 6, 6, 2), **q)
    g.op("PAD", [x, g.const(np.array([[0, 0], [1, 1], [1, 1], [0, 0]]), "int32")], [padded])
    joined = g.tensor((1, 4, 4, 4), **q)
    g.op("CONCATENATION", [x, x], [joined], axis=3, fused_activation_function="NONE")
    resized = g.tensor((1, 8, 8, 2), **q)
    g.op("RESIZE_BILINEAR", [x, g.const(np.array([8, 8]), "int32")], [resized], align_corners=False)
    outputs += [product, pooled, padded, joined, resized]
    axis = g.const(np.array([3]), "int32")
    for kind, source in (("ARG_MIN", x), ("ARG_MAX", None), ("ARG_MIN", None)):
        if source is None:
            source = g.tensor((1, 4, 4, 2), "float32")
        outputs.append(g.tensor((1, 4, 4), "int32"))
        g.op(kind, [source, axis], [outputs[-1]], output_type="int32")
    inputs = [x, *(t for t, tensor in enumerate(g.tensors) if tensor.dtype == "float32")]
    quantized = {"int16": {"scale": 1e-3}, "uint8": {"scale": 0.05, "zero_point": 128}}
    for dtype in ("float32", "int16", "int32", "int64", "uint8"):
        a, b = g.tensor((1, 2, 3), dtype, **quantized.get(dtype, {})), g.tensor((1, 2, 3), dtype)
        g.op("REVERSE_V2", [a, g.const(np.array([2]), "int32")], [b])
        inputs.append(a)
        outputs.append(b)
    leaky, dense = g.tensor((1, 2, 3), "int16", scale=1e-3), g.tensor((1, 2), "int16", scale=0.05)
    g.op("LEAKY_RELU", [inputs[-4]], [leaky], alpha=0.2)
    weights = g.const(np.ones((2, 6)), "int8", scale=0.01)
    bias = g.const(np.zeros(2), "int64", scale=1e-5)
    g.op("FULLY_CONNECTED", [leaky, weights, bias], [dense], fused_activation_function="NONE", keep_num_dims=False)
    outputs.append(dense)
    return g.build(inputs, outputs)


def _plain_numbers():
    """ADD, MUL, DIV, MINIMUM, MAXIMUM and CONCATENATION on float32, ADD, MUL and CONCATENATION on int32."""
    g = GraphBuilder()
    outputs = []
    for dtype, kinds in (("float32", ("ADD", "MUL", "DIV", "MINIMUM", "MAXIMUM")), ("int32", ("ADD", "MUL"))):
        a, b = g.tensor((1, 4), dtype), g.tensor((1, 4), dtype)
        for kind in kinds:
            outputs.append(g.tensor((1, 4), dtype))
            g.op(kind, [a, b], [outputs[-1]])
        outputs.append(g.tensor((1, 8), dtype))
        g.op("CONCATENATION", [a, b], [outputs[-1]], axis=1, fused_activation_function="NONE")
    return g.build([t for t, tensor in enumerate(g.tensors) if t not in outputs], outputs)


# name -> the graph; together they call every kernel (test_the_models_call_every_kernel).
MODELS = {
    "ds_cnn": zoo.ds_cnn,  # conv, 3x3 depthwise, in place too, average pool, fully connected, softmax
    "depthwise_in_place": lambda: in_place_depthwise(7),  # a 2x3 filter: the generic in-place kernel
    "depthwise_3x3_in_place": lambda: in_place_chain(21),  # the four-channel 3x3 kernel in place
    # every 3x3 path out of place (the depthwise inputs are model outputs): four channels, long rows
    "depthwise_3x3": lambda: branches([c for c in CASES.values() if c.kernel in (FAST, ROWS)]),
    "resnet8": zoo.resnet8,  # residual ADD
    "casts": lambda: every_cast(0, (1, 4))[0],
    "conversions": lambda: every_conversion(0, (1, 256))[0],
    "binary_int8": lambda: _family_model(0, "int8", BINARY_SHAPES, False, True, True),
    "binary_int16": lambda: _family_model(0, "int16", BINARY_SHAPES, False, True, False),
    "binary_int32": lambda: _family_model(0, "int32", BINARY_SHAPES, False, True, True),
    "int16_ops": _all_ops_model,
    "int16_conv_acc32": lambda: _conv_graph(bias_dtype="int32"),
    "int16_transpose_conv": lambda: single_model(
        0, (3, 3), 2, 2, (3, 3), (2, 2), "SAME", (0, 0), dtype="int16", bias_dtype="int64"
    ),
    "reductions": _combined_model,
    "unary": _chain,
    "transpose_conv": _upsampler,
    "conv_variants": variants_chain,
    "movement": board_model,
    "matmul_int8": lambda: matmul_model((1, 2, 3), (1, 3, 2)),
    "matmul_int16": lambda: matmul_model((1, 2, 3), (1, 3, 2), dtype="int16"),
    "resize_nearest": lambda: resize_model("RESIZE_NEAREST_NEIGHBOR", (1, 2, 2, 1), (4, 4), (False, False)),
    "leftovers": _leftovers,
    # SVDF with an int16 memory and the int16 softmax after it; both SVDF memories; resource variables
    "keyword_scrambled": lambda: parse_tflite((CORPUS / "keyword_scrambled.tflite").read_bytes()),
    "svdf": stacked_svdf_model,
    "resource_variables": lambda: parse_tflite(running_sum(np.ones((1, 6)))),
    "plain_numbers": _plain_numbers,
    "lstm": stacked_lstm_model,  # int8 and 16x8
    "audio_preprocessor": lambda: parse_tflite(PREPROCESSOR.read_bytes()),  # the signal library's ops
}


def _command(board: Board) -> list[str]:
    return shlex.split(host_compiler()) if board.native else ["arm-none-eabi-gcc", *arm_flags(board.core, board.fpu)]


BOARDS = {board.id: board for board in list_boards()}
# The host and each (core, FPU) the board profiles name -> a board of it.
TARGETS = {"host" if b.native else f"{b.core}+{b.fpu}": b for b in BOARDS.values()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    """Each model's generated sources, in a folder of its own; returns name -> folder."""
    root = tmp_path_factory.mktemp("models")
    folders = {}
    for name, graph in MODELS.items():
        compiled = compile_model(loaded(graph(), name), optimize="memory")  # in place wherever it saves bytes
        compiled.generated.write(root / name)
        folders[name] = root / name
    return folders


def _compile(board: Board, sources: list[Path], include: list[Path], workdir: Path) -> None:
    """Compile for the board's core with -c, the sources shared among one compiler process per CPU;
    fails on any diagnostic."""
    command = _command(board)
    if shutil.which(command[0]) is None:
        pytest.skip(f"needs {command[0]}")
    includes = [f"-I{folder}" for folder in include]
    shares = [sources[i :: os.cpu_count() or 1] for i in range(min(len(sources), os.cpu_count() or 1))]
    runs = [
        subprocess.Popen(
            [*command, *FLAGS, *includes, "-c", *map(str, share)], cwd=workdir, stderr=subprocess.PIPE, text=True
        )
        for share in shares
    ]
    diagnostics = "".join(run.communicate()[1] for run in runs)
    assert all(run.returncode == 0 for run in runs) and not diagnostics, diagnostics


def test_the_models_call_every_kernel(generated):
    declared = set()
    for header in FIRMWARE.glob("tg_*.h"):
        if header.name in HELPER_HEADERS:
            continue
        declared |= set(re.findall(r"^void (tg_\w+)\(", header.read_text(encoding="utf-8"), re.M))
    called = set()
    for folder in generated.values():
        called |= set(re.findall(r"^    (tg_\w+)\(&tg_layer", (folder / "model.c").read_text(encoding="utf-8"), re.M))
    missing = sorted(declared - called)
    assert not missing, f"no model here calls {', '.join(missing)}: add one to MODELS"


@pytest.mark.parametrize("target", TARGETS)
def test_the_kernels_compile_clean(target, tmp_path):
    _compile(TARGETS[target], list(FIRMWARE.glob("tg_*.c")), [FIRMWARE], tmp_path)
    if TARGETS[target].native:
        return
    # The fit check's code estimate (tinygen/compiler/fit.py) bounds each file's code on this core.
    for obj in tmp_path.glob("tg_*.o"):
        _, text, data, _ = read_sizes(obj)
        assert text + data <= kernel_code_bytes(f"{obj.stem}.c"), f"{obj.name}: {text + data} bytes on {target}"


@pytest.mark.parametrize("board_id", BOARDS)
def test_the_firmware_compiles_clean(board_id, generated, tmp_path):
    """What the board's firmware compiles besides the model: its main, the link server and its HAL
    (the host: the harness and the link server), against one model's model.h and its tg_board.h."""
    board = BOARDS[board_id]
    if board.native:
        sources = [FIRMWARE / "host" / HARNESS, *(FIRMWARE / "link").glob("*.c")]
    else:
        # With a bundled input and labels: every line of the readable output's C is compiled.
        compiled = compile_model(loaded(zoo.ds_cnn(), "ds_cnn"))
        graph = compiled.model.graph
        demo = Demo([bytes(graph.tensor(graph.inputs[0]).nbytes)], "zeros", [f"class {i}" for i in range(12)])
        files = firmware_sources(board, compiled, demo)
        for name, text in files.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
        sources = [tmp_path / name for name in files if name.endswith(".c")]
        sources += [FIRMWARE / "hal" / name for name in hal_sources(board) if name.endswith(".c")]
    (tmp_path / "tg_board.h").write_text(board_header(board), encoding="utf-8")
    include = [tmp_path, FIRMWARE / "link", FIRMWARE / "hal", generated["ds_cnn"]]
    _compile(board, sources, include, tmp_path)


@pytest.mark.parametrize("target", TARGETS)
def test_generated_models_compile_clean(target, generated, tmp_path):
    """Model i is compiled for targets i, i + 1, ... (modulo their number)."""
    position, count = list(TARGETS).index(target), len(TARGETS)
    for i, name in enumerate(MODELS):
        if (position - i) % count < TARGETS_PER_MODEL:
            _compile(TARGETS[target], [generated[name] / "model.c"], [generated[name]], tmp_path)
