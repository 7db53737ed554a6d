"""tinygen against its peer, tflite-micro with CMSIS-NN kernels, on the same emulated cores.

Builds tflite-micro (TFLM) with OPTIMIZED_KERNEL_DIR=cmsis_nn for each board with the compiler and
the -mcpu/-mfpu/-mfloat-abi/-O2 flags of tinygen's firmware, links it with our harness
(benchmarks/peer/main.cc) on tinygen's bare-metal HAL and linker script, runs the MLPerf Tiny
reference models in QEMU under -icount with tinygen's instruction counter, runs tinygen's side of
the same models (`tinygen profile`, `plan`, `build`), and rewrites the "peer" section of
BENCHMARKS.md: instructions, arena and flash of both, per model and board, and per-layer tables.

    bash benchmarks/fetch-peers.sh [DIR]          # once: the pinned sources (needs git and a network)
    python3 benchmarks/peers.py [--peers DIR] [--boards mps2-an386 ...] [--jobs N] [--dry-run]

DIR defaults to $TINYGEN_PEERS_DIR, else ~/.cache/tinygen/peers; builds go to DIR/build and are
reused while their flags and sources stay the same. Only the sources of TFLM and CMSIS-NN come from
them: the list of sources and TFLM's own compile flags (release build) are read from TFLM's
Makefile, the compiling, the harness and the measuring are ours. Needs Debian's toolchain with
C++ (gcc-arm-none-eabi, libnewlib-arm-none-eabi, libstdc++-arm-none-eabi-newlib), qemu-system-arm
and make.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import write_section  # noqa: E402
from tinygen.boards import Board, load_board  # noqa: E402
from tinygen.compiler.pipeline import read_model  # noqa: E402
from tinygen.device import qemu  # noqa: E402
from tinygen.device.cflags import arm_flags  # noqa: E402
from tinygen.device.pio.project import board_header, hal_sources, read_sizes  # noqa: E402
from tinygen.device.qemu import ICOUNT_SHIFT  # noqa: E402
from tinygen.resources import render, resource_dir  # noqa: E402
from tinygen.verify import random_samples  # noqa: E402

TFLM_COMMIT = "90b983c2b3f1480642e040bbd2ddb37b998f3424"  # benchmarks/fetch-peers.sh pins the rest
CMSIS_NN_COMMIT = "4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae"
MAKEFILE = "tensorflow/lite/micro/tools/make/Makefile"
HARNESS = ROOT / "benchmarks" / "peer" / "main.cc"
CORPUS = ROOT / "tests" / "corpus" / "mlperf-tiny"
MODELS = {  # the MLPerf Tiny reference models as published
    "KWS DS-CNN": "kws_ref_model.tflite",
    "VWW MobileNetV1-0.25": "vww_96_int8.tflite",
    "IC ResNet-8": "pretrainedResnet_quant.tflite",
    "AD FC autoencoder": "ad01_int8.tflite",
}
BOARDS = ("mps2-an386", "mps2-an500", "mps2-an505")
LAYER_BOARD = "mps2-an386"  # per-layer tables for this board
ARENA_BYTES = 512 * 1024  # TFLM's arena: more than any of the models needs (it reports what it used)
SEED = 0  # the input: `tinygen profile`'s random sample with this seed, on both sides
BUILD_TYPE = "release"  # TFLM's smallest and fastest build: NDEBUG, TF_LITE_STRIP_ERROR_STRINGS
# TF_LITE_STRIP_ERROR_STRINGS also compiles out the interpreter's profiler hook. The per-layer
# firmware links the release library with these files compiled without it (as BUILD_TYPE=
# release_with_logs would): the hook and the logging it calls; every kernel stays the release one.
PROFILER_HOOK = (
    "tensorflow/lite/micro/micro_interpreter_graph.cc",
    "tensorflow/lite/micro/micro_log.cc",
    "tensorflow/lite/micro/cortex_m_generic/debug_log.cc",
)
STRIP = "-DTF_LITE_STRIP_ERROR_STRINGS"
CC, CXX, AR = "arm-none-eabi-gcc", "arm-none-eabi-g++", "arm-none-eabi-gcc-ar"


def cpu_flags(board: Board) -> list[str]:
    """What tinygen's firmware builder passes (tinygen/device/pio/platform/builder/main.py)."""
    return arm_flags(board.core, board.fpu)


HAL_CFLAGS = ["-O2", "-Wall", "-ffunction-sections", "-fdata-sections", "-std=c99"]  # tinygen's C flags
LINK_FLAGS = ["--specs=nano.specs", "--specs=nosys.specs", "-nostartfiles", "-Wl,--gc-sections"]


def run(argv: list[str], cwd: Path | None = None, timeout_s: float = 600) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        raise SystemExit(f"failed: {shlex.join(argv)}\n{(done.stderr or done.stdout).strip()[-3000:]}")
    return done.stdout


# ---------------------------------------------------------------------------------------------
# TFLM + CMSIS-NN: the library, built from the Makefile's source list with our compile


def tflm_arch(board: Board) -> str:
    """The cortex_m_generic TARGET_ARCH for the board's core (it sets TFLM's CPU_* defines)."""
    if board.fpu == "none" or board.core in ("cortex-m33", "cortex-m55", "cortex-m85"):
        return board.core
    return f"{board.core}+fp"


@dataclass
class LibraryConfig:
    sources: list[str]
    cxxflags: list[str]
    cflags: list[str]
    includes: list[str]

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.__dict__, sort_keys=True).encode()).hexdigest()[:16]


def library_config(tflm: Path, board: Board) -> LibraryConfig:
    """TFLM's Makefile's sources and flags for cortex_m_generic with CMSIS-NN, our CPU and -O flags.

    The Makefile is only parsed (its own rules would download kissfft for the signal library,
    which these models do not use): `microlite_test=` keeps it from generating test data while
    parsing, signal/ sources are left out, and its -O levels (-Os for the interpreter, -O2 for
    kernels) and CPU flags give way to tinygen's firmware flags."""
    make = [
        "make",
        "-s",
        "-f",
        MAKEFILE,
        "TARGET=cortex_m_generic",
        f"TARGET_ARCH={tflm_arch(board)}",
        "OPTIMIZED_KERNEL_DIR=cmsis_nn",
        "TOOLCHAIN=gcc",
        f"TARGET_TOOLCHAIN_ROOT={Path(shutil.which(CC) or CC).parent}/",
        f"BUILD_TYPE={BUILD_TYPE}",
        "microlite_test=",
    ]

    def value(name: str) -> str:
        out = run([*make, f"print-{name}"], cwd=tflm)
        return next(line for line in out.splitlines() if line.startswith(f"{name}="))[len(name) + 1 :]

    sources = run([*make, "list_library_sources"], cwd=tflm).split()
    sources += run([*make, "list_third_party_sources"], cwd=tflm).split()
    sources = sorted({s for s in sources if not s.startswith("signal/")})

    def ours(flags: str) -> list[str]:
        drop = ("-mcpu=", "-mfpu=", "-mfloat-abi=", "-O")
        kept = [f for f in shlex.split(flags) if not f.startswith(drop) and f not in ("-mthumb", "-MD")]
        return kept + cpu_flags(board) + ["-O2"]

    return LibraryConfig(sources, ours(value("CXXFLAGS")), ours(value("CCFLAGS")), shlex.split(value("INCLUDES")))


def compile_tflm(tflm: Path, source: str, obj: Path, config: LibraryConfig, drop: tuple[str, ...] = ()) -> Path:
    obj.parent.mkdir(parents=True, exist_ok=True)
    flags = config.cxxflags if source.endswith(".cc") else config.cflags
    compiler = CXX if source.endswith(".cc") else CC
    part = obj.with_name(obj.name + ".part")  # an interrupted compile leaves no object behind
    run([compiler, *(f for f in flags if f not in drop), *config.includes, "-c", source, "-o", str(part)], cwd=tflm)
    part.replace(obj)
    return obj


def build_library(tflm: Path, out: Path, config: LibraryConfig, jobs: int) -> tuple[Path, list[Path]]:
    """libtflm.a in out, and the profiler hook's objects. What a build with the same sources and
    flags (the stamp) left there is reused."""
    lib, stamp = out / "libtflm.a", out / "stamp"
    if not stamp.exists() or stamp.read_text() != config.digest():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        stamp.write_text(config.digest())
    jobs_list = [(s, out / "obj" / (s + ".o"), ()) for s in config.sources]
    hook = [(s, out / "hook" / (Path(s).name + ".o"), (STRIP,)) for s in PROFILER_HOOK]
    missing = [job for job in jobs_list + hook if not job[1].exists()]
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda job: compile_tflm(tflm, job[0], job[1], config, drop=job[2]), missing))
    if missing or not lib.exists():
        lib.unlink(missing_ok=True)
        run([AR, "rcs", str(lib), *(str(obj) for _, obj, _ in jobs_list)])
    return lib, [obj for _, obj, _ in hook]


# ---------------------------------------------------------------------------------------------
# The harness firmware: one model, one Invoke


def resolver_method(kind: str) -> str:
    """MicroMutableOpResolver's Add method for a builtin op: CONV_2D -> AddConv2D."""
    return "Add" + "".join(part if part[:1].isdigit() else part.capitalize() for part in kind.split("_"))


def c_bytes(data: bytes) -> str:
    return ",\n".join(", ".join(f"0x{b:02x}" for b in data[i : i + 16]) for i in range(0, len(data), 16))


def write_model_sources(out: Path, tflite: bytes, kinds: list[str], sample: bytes) -> None:
    adds = " ".join(f"r.{resolver_method(k)}();" for k in kinds)
    (out / "peer_model.h").write_text(
        "/* Written by benchmarks/peers.py. */\n#pragma once\n#include <stdint.h>\n\n"
        f"#define PEER_ARENA_BYTES {ARENA_BYTES}\n#define PEER_OP_KINDS {len(kinds)}\n"
        f"#define PEER_ADD_OPS(r) do {{ {adds} }} while (0)\n\n"
        "extern const unsigned char g_peer_model[];\n"
        f"extern const uint8_t g_peer_input[{len(sample)}];\n"
    )
    (out / "peer_model.cc").write_text(
        '/* Written by benchmarks/peers.py. */\n#include "peer_model.h"\n\n'
        f"alignas(16) const unsigned char g_peer_model[{len(tflite)}] = {{\n{c_bytes(tflite)}}};\n\n"
        f"const uint8_t g_peer_input[{len(sample)}] = {{\n{c_bytes(sample)}}};\n"
    )


def write_board_files(out: Path, board: Board) -> list[Path]:
    """tg_board.h and linker.ld as tinygen renders them for its own firmware; the HAL sources."""
    (out / "tg_board.h").write_text(board_header(board))
    (out / "linker.ld").write_text(render("linker.ld.j2", board=board))
    hal = resource_dir("firmware") / "hal"
    return [hal / name for name in hal_sources(board) if name.endswith(".c")]


def build_firmware(
    out: Path, board: Board, lib: Path, extra: list[Path], config: LibraryConfig, tflm: Path, model: Model
) -> Path:
    """The harness with one model, linked with the library (and extra objects ahead of it)."""
    out.mkdir(parents=True, exist_ok=True)
    write_model_sources(out, model.tflite, model.kinds, model.sample)
    hal = write_board_files(out, board)
    hal_dir = resource_dir("firmware") / "hal"
    objects = []
    tflm_includes = [f"-I{tflm / f[2:]}" if f.startswith("-I") else f for f in config.includes]
    includes = [f"-I{out}", f"-I{hal_dir}", *tflm_includes]
    for source in (HARNESS, out / "peer_model.cc"):
        obj = out / (source.stem + ".o")
        run([CXX, *config.cxxflags, "-Wno-missing-field-initializers", *includes, "-c", str(source), "-o", str(obj)])
        objects.append(obj)
    for source in hal:
        obj = out / (source.stem + ".o")
        run([CC, *cpu_flags(board), *HAL_CFLAGS, f"-I{out}", f"-I{hal_dir}", "-c", str(source), "-o", str(obj)])
        objects.append(obj)
    elf = out / "firmware.elf"
    run(
        [CXX, *cpu_flags(board), *LINK_FLAGS, "-T", str(out / "linker.ld"), *map(str, objects + extra), str(lib), "-lm"]
        + ["-o", str(elf)]
    )
    return elf


LINE = re.compile(r"^(peer-[a-z-]+): (.*)$", re.M)


@dataclass
class PeerRun:
    arena_used: int
    instructions: int
    layers: list[tuple[int, str, int]]  # op index, op, instructions
    output: bytes
    flash: int
    code: int  # flash less the model (the flatbuffer)


def run_peer(board: Board, elf: Path) -> PeerRun:
    result = qemu.run(board, elf, timeout_s=300, icount_shift=ICOUNT_SHIFT)
    if result.exit_code != 0:
        raise SystemExit(f"{elf} failed in QEMU (exit {result.exit_code}):\n{result.text[-2000:]}")
    found: dict[str, list[str]] = {}
    for key, rest in LINE.findall(result.text):
        found.setdefault(key, []).append(rest.strip())

    def instructions(ticks: str) -> int:
        return qemu.instructions_from_ticks(board, int(ticks), ICOUNT_SHIFT)

    layers = []
    for line in found.get("peer-layer", []):
        index, op, ticks = line.split()
        layers.append((int(index), op, instructions(ticks)))
    _, text, data, _ = read_sizes(elf)
    flash = text + data - symbol_size(elf, "g_peer_input")  # the input sample is the harness's, not TFLM's
    return PeerRun(
        arena_used=int(found["peer-arena-used"][0]),
        instructions=instructions(found["peer-invoke"][0]),
        layers=layers,
        output=bytes.fromhex(found["peer-output"][0]),
        flash=flash,
        code=flash - symbol_size(elf, "g_peer_model"),
    )


# tinygen's model data in its firmware: the constant arrays, each layer's arrays and parameters, state resets
MODEL_DATA = re.compile(r"^tg_(const|layer|state)\d+")


def model_data_bytes(elf: Path) -> int:
    """The bytes of tinygen's model data objects (MODEL_DATA) in the firmware: flash less these is code."""
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as f:
        symbols = ELFFile(f).get_section_by_name(".symtab").iter_symbols()
        return sum(s["st_size"] for s in symbols if s["st_info"]["type"] == "STT_OBJECT" and MODEL_DATA.match(s.name))


def symbol_size(elf: Path, name: str) -> int:
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as f:
        symbols = ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name(name)
        if not symbols:
            raise SystemExit(f"{elf} has no symbol {name}")
        return symbols[0]["st_size"]


# ---------------------------------------------------------------------------------------------
# tinygen's side


def tinygen_json(*args: str) -> dict:
    out = run([sys.executable, "-m", "tinygen", *args, "--json"], cwd=ROOT)
    return json.loads(out)


@dataclass
class TinygenRun:
    instructions: int
    macs: int
    layers: dict[int, tuple[str, int]]  # op index -> op, instructions
    arena: int
    flash: int
    code: int  # flash less the model's data (MODEL_DATA)


def run_tinygen(board: Board, path: Path, scratch: Path) -> TinygenRun:
    profile = tinygen_json("profile", str(path), "--board", board.id, "--seed", str(SEED))
    plan = tinygen_json("plan", str(path), "--board", board.id)
    build = tinygen_json("build", str(path), "--board", board.id, "-o", str(scratch / f"{path.stem}-{board.id}"))
    elf = Path(build["elf"]["path"])
    _, text, data, _ = read_sizes(elf)
    return TinygenRun(
        instructions=profile["total"],
        macs=sum(layer["macs"] for layer in profile["layers"]),
        layers={layer["index"]: (layer["op"], layer["count"]) for layer in profile["layers"]},
        arena=plan["arena_bytes"],
        flash=text + data,
        code=text + data - model_data_bytes(elf),
    )


# ---------------------------------------------------------------------------------------------


@dataclass
class Model:
    name: str
    path: Path
    tflite: bytes
    kinds: list[str]  # op kinds, in first-use order
    sample: bytes  # the input, raw
    expected: bytes | None = None  # the output in the reference interpreter (tflite-micro for Python)
    peer: dict[str, PeerRun] = field(default_factory=dict)  # board -> release build run
    profiled: PeerRun | None = None  # LAYER_BOARD, release_with_logs build
    tinygen: dict[str, TinygenRun] = field(default_factory=dict)


def load_models() -> list[Model]:
    models = []
    for name, file in MODELS.items():
        path = CORPUS / file
        loaded = read_model(path)
        kinds = list(dict.fromkeys(op.kind for op in loaded.graph.ops))
        sample = random_samples(loaded.graph, 1, SEED)[0]
        if len(sample) != 1:
            raise SystemExit(f"{file}: the harness feeds one input, the model has {len(sample)}")
        model = Model(name, path, loaded.tflite_bytes, kinds, sample[0].tobytes())
        try:
            from tinygen.reference import Reference

            model.expected = Reference(loaded.tflite_bytes, loaded.graph, name=file).run(sample)[0].tobytes()
        except Exception as e:  # the verify extra is optional here: the check is then skipped
            print(f"  {file}: no reference output ({e})", file=sys.stderr)
        models.append(model)
    return models


def ratio(ours: int, theirs: int, digits: int = 2) -> str:
    return f"{ours / theirs:.{digits}f}x" if theirs else "-"


def markdown(models: list[Model], boards: list[Board]) -> str:
    rows = [
        "| board | model | MACs | TFLM + CMSIS-NN | tinygen | tinygen / TFLM | arena TFLM | arena tinygen "
        "| flash TFLM | flash tinygen | code TFLM | code tinygen | code tinygen / TFLM |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for board in boards:
        for m in models:
            p, t = m.peer[board.id], m.tinygen[board.id]
            rows.append(
                f"| {board.id} | {m.name} | {t.macs:,} | {p.instructions:,} | {t.instructions:,} | "
                f"{ratio(t.instructions, p.instructions, 3)} | {p.arena_used:,} | {t.arena:,} | "
                f"{p.flash:,} | {t.flash:,} | {p.code:,} | {t.code:,} | {ratio(t.code, p.code)} |"
            )
    layer_tables = []
    for m in models:
        if m.profiled is None or LAYER_BOARD not in m.tinygen:
            continue
        t = m.tinygen[LAYER_BOARD]
        table = [
            f"**{m.name}** ({m.path.name}, {LAYER_BOARD})\n",
            "| # | op | TFLM + CMSIS-NN | tinygen | tinygen / TFLM |",
            "|---:|---|---:|---:|---:|",
        ]
        for index, op, count in m.profiled.layers:
            ours = t.layers.get(index)
            if ours is not None and ours[0] != op:
                raise SystemExit(f"{m.path.name}: op {index} is {op} in TFLM, {ours[0]} in tinygen")
            mine = f"{ours[1]:,}" if ours else "- (no code)"
            table.append(f"| {index} | {op} | {count:,} | {mine} | {ratio(ours[1], count) if ours else '-'} |")
        peer_sum = sum(count for _, _, count in m.profiled.layers)
        table.append(f"| | sum | {peer_sum:,} | {t.instructions:,} | {ratio(t.instructions, peer_sum)} |")
        layer_tables.append("\n".join(table))
    intro = (
        "Executed instructions of one inference of the MLPerf Tiny reference models "
        "(tests/corpus/mlperf-tiny/, as published). Both sides are built by Debian's arm-none-eabi-gcc 12.2 "
        "with the same -mcpu/-mfpu/-mfloat-abi flags and -O2, linked with tinygen's bare-metal HAL and linker "
        "script, and counted by the same SysTick counter under QEMU "
        f"`-icount shift={ICOUNT_SHIFT}` (unit: instructions, not cycles; deterministic). Both get the same "
        f"input (`tinygen profile`'s random sample, seed {SEED}); TFLM's output is checked against the "
        "tflite-micro reference interpreter."
    )
    peer = (
        f"TFLM: tensorflow/tflite-micro {TFLM_COMMIT[:12]} with ARM-software/CMSIS-NN {CMSIS_NN_COMMIT[:12]} "
        "(and the flatbuffers, gemmlowp, ruy and CMSIS 6 its Makefile pins), target cortex_m_generic, "
        f"OPTIMIZED_KERNEL_DIR=cmsis_nn, BUILD_TYPE={BUILD_TYPE} (NDEBUG, TF_LITE_STRIP_ERROR_STRINGS). Its "
        "Makefile gives the sources and TFLM's own flags; its -Os (interpreter) and -O2 (kernels) give way "
        "to -O2. TFLM column: the first Invoke(), timed by our harness (benchmarks/peer/main.cc); tinygen "
        "column: the sum of `tinygen profile`'s per-layer counts. Arena: TFLM's arena_used_bytes() after "
        "AllocateTensors, and `tinygen plan`'s arena. Flash: text + data of each side's whole firmware "
        "(TFLM: model, interpreter, kernels and harness, without the input sample; tinygen: the "
        "`tinygen build` firmware, serial link server included). Code: flash less the model's data (TFLM: "
        "the flatbuffer; tinygen: the model's constant arrays, layer arrays and parameters, tg_const*, "
        "tg_layer*, tg_state*), so interpreter, kernels, runtime and each side's harness. Below 1.00x: "
        "tinygen needs less."
    )
    layers = (
        "TFLM's release build compiles the interpreter's profiler hook out: for these counts the same "
        "library is linked with micro_interpreter_graph.cc and its logging compiled without "
        "TF_LITE_STRIP_ERROR_STRINGS (as BUILD_TYPE=release_with_logs compiles them), and the harness "
        "implements MicroProfilerInterface, reading the same counter in BeginEvent/EndEvent. Ops that "
        "tinygen runs without code (RESHAPE) have no count of their own. A layer's count includes a few "
        "dozen instructions of the counting itself, on both sides; the sums leave out what runs between "
        "layers."
    )
    regenerate = (
        "Regenerate: `bash benchmarks/fetch-peers.sh` once (the pinned sources, into a cache outside the "
        "repository), then `python3 benchmarks/peers.py`. Its first run builds TFLM for each board (about "
        "12 minutes a board on 2 cores); later runs reuse those builds and take about 10 minutes, most of it "
        "in QEMU."
    )
    parts = [
        "## Speed against the peer: TFLM + CMSIS-NN on the same emulated cores",
        intro,
        peer,
        "\n".join(rows),
        f"### Per layer ({LAYER_BOARD})",
        layers,
        *layer_tables,
        regenerate,
    ]
    return "\n\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--peers",
        type=Path,
        default=Path(os.environ.get("TINYGEN_PEERS_DIR") or Path.home() / ".cache" / "tinygen" / "peers"),
        help="the folder benchmarks/fetch-peers.sh filled",
    )
    parser.add_argument("--boards", nargs="+", default=list(BOARDS))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--dry-run", action="store_true", help="print the section instead of writing it")
    args = parser.parse_args()
    started = time.monotonic()

    tflm = args.peers.resolve() / "tflite-micro"
    pinned = tflm / ".tinygen-pinned"
    if not pinned.exists() or pinned.read_text().strip() != TFLM_COMMIT:
        raise SystemExit(f"no pinned tflite-micro in {tflm}: run `bash benchmarks/fetch-peers.sh {args.peers}` first")
    builds = args.peers.resolve() / "build"
    boards = [load_board(b) for b in args.boards]
    models = load_models()

    with tempfile.TemporaryDirectory(prefix="tinygen-peers-") as scratch:
        for board in boards:
            config = library_config(tflm, board)
            print(f"{board.id}: TFLM {BUILD_TYPE} ({len(config.sources)} sources)", file=sys.stderr)
            out = builds / board.id
            lib, hook = build_library(tflm, out / "lib", config, args.jobs)
            for m in models:
                layers = board.id == LAYER_BOARD
                for profiled in (False, True) if layers else (False,):
                    fw = out / ("fw-layers" if profiled else "fw") / m.path.stem
                    peer = run_peer(board, build_firmware(fw, board, lib, hook if profiled else [], config, tflm, m))
                    if m.expected is not None and peer.output != m.expected:
                        raise SystemExit(f"{board.id} {m.path.name}: TFLM's output differs from the reference")
                    if profiled:
                        m.profiled = peer
                    else:
                        m.peer[board.id] = peer
                    print(
                        f"  {m.name}{' (per layer)' if profiled else ''}: {peer.instructions:,} instructions, "
                        f"arena {peer.arena_used:,}",
                        file=sys.stderr,
                    )
            for m in models:
                m.tinygen[board.id] = run_tinygen(board, m.path, Path(scratch))
                t = m.tinygen[board.id]
                print(f"  {m.name}: tinygen {t.instructions:,} instructions", file=sys.stderr)

    text = markdown(models, boards)
    print(f"took {time.monotonic() - started:.0f} s", file=sys.stderr)
    if args.dry_run:
        print(text)
    else:
        write_section("peer", text)
        print(text)


if __name__ == "__main__":
    main()
