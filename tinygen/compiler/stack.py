"""The worst-case stack of one inference on the board's core, measured at build time.

The model's sources (model.c and the kernels it calls) are compiled with arm-none-eabi-gcc for the
board's core as the firmware compiles them, with -fstack-usage -fcallgraph-info=su, and the deepest
chain of frames from tg_model_invoke or tg_model_invoke_hooked down is the inference's stack
(tinygen/compiler/callgraph.py). The invoke calls its layers through the layer table: those calls
lead to every layer function. The hook tg_model_invoke_hooked may call is the caller's code; tinygen's
firmware counts it in FIRMWARE_STACK_BYTES. The C library and the compiler's helpers (memcpy, roundf,
the soft-float and 64-bit arithmetic) are not compiled here: LIBRARY_CALL_BYTES at the bottom of the
chain covers one such call. docs/architecture.md says what this covers and what it does not.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..boards import Board
from ..device import processes
from ..device.cflags import arm_flags
from ..errors import TinygenError
from .callgraph import CallGraph, Frame, Unbounded
from .codegen import GeneratedModel

CROSS_COMPILER = "arm-none-eabi-gcc"
ENTRIES = ["tg_model_invoke", "tg_model_invoke_hooked"]
COMPILE_TIMEOUT_S = 300
# newlib-nano and libgcc for Cortex-M (arm-none-eabi 12): memcpy and memset push 5 registers
# (20 bytes), the soft-float and 64-bit helpers at most 5 then 3 (32 bytes); rounded up.
LIBRARY_CALL_BYTES = 64
# tinygen's firmware's own deepest chain of frames besides the layers' (tests/test_stack.py measures
# it on every board): from the reset handler through main and the link server, to the replies or to
# tg_model_invoke_hooked and the profiling hook. At most 144 bytes with arm-none-eabi-gcc 12 -O2.
FIRMWARE_STACK_BYTES = 256

MEASURED, NOT_MEASURED, UNBOUNDED = "measured", "not measured", "unbounded"


@dataclass(frozen=True)
class StackUsage:
    core: str
    status: str  # MEASURED, NOT_MEASURED or UNBOUNDED
    frames: tuple[Frame, ...] = ()  # the deepest chain, the invoke first (measured only)
    note: str = ""  # why there is no number (not measured, unbounded)

    @property
    def bytes(self) -> int | None:
        """One inference's worst case: the deepest chain plus a library call; None without a bound."""
        if self.status != MEASURED:
            return None
        return sum(frame.bytes for frame in self.frames) + LIBRARY_CALL_BYTES

    def describe(self) -> str:
        """The deepest chain with each frame's bytes, or why there is no number."""
        if self.status != MEASURED:
            return f"{self.status}: {self.note}"
        chain = " > ".join(f"{frame.function} {frame.bytes}" for frame in self.frames)
        return f"{chain} > a C library call {LIBRARY_CALL_BYTES}"

    def as_json(self) -> dict:
        return {
            "status": self.status,
            "bytes": self.bytes,
            "core": self.core,
            "frames": [{"function": f.function, "bytes": f.bytes} for f in self.frames],
            "library_call_bytes": LIBRARY_CALL_BYTES if self.status == MEASURED else None,
            "note": self.note,
        }


_measured: dict[str, StackUsage] = {}  # by the sources' and the flags' digest: the fit is asked often


def measure_stack(generated: GeneratedModel, board: Board) -> StackUsage:
    """The model's inference stack on the board's core, or why it was not measured."""
    if board.native:
        return StackUsage(board.core, NOT_MEASURED, note="the host build runs on the operating system's stack")
    if shutil.which(CROSS_COMPILER) is None:
        return StackUsage(board.core, NOT_MEASURED, note=f"{CROSS_COMPILER} is not installed")
    flags = arm_flags(board.core, board.fpu)
    sources = {**generated.kernel_files, **generated.files}
    digest = hashlib.sha256(repr((sorted(sources.items()), flags)).encode()).hexdigest()
    if digest not in _measured:
        with tempfile.TemporaryDirectory(prefix="tinygen-stack-") as directory:
            try:
                _measured[digest] = measure_in(Path(directory), generated, board)
            except TinygenError as e:  # a toolchain without newlib, say: the build will say more
                return StackUsage(board.core, NOT_MEASURED, note=str(e))
    return _measured[digest]


def measure_in(directory: Path, generated: GeneratedModel, board: Board) -> StackUsage:
    """Compile the model's sources in directory (where the .su and .ci files stay) and walk the graph."""
    graph = call_graph(directory, {**generated.kernel_files, **generated.files}, board)
    try:
        frames = graph.deepest(ENTRIES, {entry: list(generated.layer_functions) for entry in ENTRIES})
    except Unbounded as e:
        return StackUsage(board.core, UNBOUNDED, note=str(e))
    return StackUsage(board.core, MEASURED, tuple(frames))


def call_graph(directory: Path, sources: dict[str, str], board: Board) -> CallGraph:
    """Write the sources into directory, compile the C files for the board's core as the firmware
    does, with -fstack-usage and -fcallgraph-info=su, and read the call graph."""
    for name, text in sources.items():
        (directory / name).write_text(text, encoding="utf-8", newline="\n")
    c_files = sorted(name for name in sources if name.endswith(".c"))
    command = [CROSS_COMPILER, *arm_flags(board.core, board.fpu), "-std=c99", "-O2", "-fstack-usage"]
    command += ["-fcallgraph-info=su", "-I.", "-c", *c_files]
    result = processes.run(command, COMPILE_TIMEOUT_S, CROSS_COMPILER, cwd=directory)
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").splitlines()
        first = next((line for line in lines if "error" in line), lines[0] if lines else "")
        raise TinygenError(f"measuring the stack: {CROSS_COMPILER} failed: {first}")
    return CallGraph.read(sorted(directory / Path(name).with_suffix(".ci").name for name in c_files))
