"""Does a compiled model fit a board? Flash and RAM needed against what the board offers.

Flash: the model's constants (weights, biases, per-channel multipliers and shifts,
layer parameters; exact) + code (an estimate, see CODE_BYTES_*) + the board's framework
reserve. RAM: the planned arena (exact) + the state kept between invokes (exact) + stack + heap +
the framework reserve. Stack: one inference's worst case on the board's core (measured,
tinygen/compiler/stack.py) + the firmware's own frames, within the board's stack_bytes.
The estimate is checked before anything is built; the ELF's real sizes come after.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..boards import Board
from ..errors import TinygenError
from ..ops.cstruct import initializer
from .pipeline import CompiledModel
from .stack import FIRMWARE_STACK_BYTES, UNBOUNDED, StackUsage, measure_stack

# Code of each runtime .c file the model compiles, measured with arm-none-eabi-gcc 12 -O2 on every
# core the boards name, the largest rounded up (tests/test_c_warnings.py checks each file against
# it): most are under 2 KiB; the fast kernels' files are bigger. A layer's call wrapper and table
# entry take about 40 bytes.
CODE_BYTES_PER_KERNEL_FILE = 2048
CODE_BYTES_OF_KERNEL_FILE = {
    "tg_activations.c": 2304,
    "tg_binary.c": 7680,
    "tg_conv.c": 4608,
    "tg_depthwise.c": 18432,
    "tg_depthwise_rows.c": 3328,
    "tg_elementwise.c": 5120,
    "tg_fully_connected.c": 3840,
    "tg_lstm.c": 3840,
    "tg_matmul.c": 6400,
    "tg_pool.c": 2560,
    "tg_quantize.c": 3328,
    "tg_rfft.c": 2560,
    "tg_transpose_conv.c": 2304,
    "tg_unary.c": 2816,
}
CODE_BYTES_PER_LAYER = 64
CODE_BYTES_MODEL = 256  # init, the invoke loop, the tensor tables


@dataclass(frozen=True)
class Region:
    name: str  # "flash", "RAM" or "stack"
    needed_bytes: int
    available_bytes: int
    parts: tuple[tuple[str, int], ...] = ()  # what needed_bytes is made of, where it is a sum

    @property
    def fits(self) -> bool:
        return self.needed_bytes <= self.available_bytes

    @property
    def headroom_bytes(self) -> int:
        return self.available_bytes - self.needed_bytes

    def describe(self) -> str:
        verdict = f"{self.headroom_bytes:,} bytes to spare" if self.fits else f"over by {-self.headroom_bytes:,} bytes"
        parts = f": {' + '.join(f'{name} {size:,}' for name, size in self.parts if size)}" if self.parts else ""
        return f"{self.name}: needs {self.needed_bytes:,} of {self.available_bytes:,} bytes ({verdict}){parts}"

    def breakdown(self) -> dict[str, int]:
        return {name.replace(" ", "_"): size for name, size in self.parts}


@dataclass(frozen=True)
class FitReport:
    board: str
    weights_bytes: int  # constant tensors and per-layer constant arrays in flash
    code_estimate_bytes: int
    arena_bytes: int
    state_bytes: int  # the persistent region: variable tensors, kernels' own state
    flash: Region
    ram: Region
    inference_stack: StackUsage
    stack: Region | None  # inference + firmware frames against stack_bytes; None when not measured

    @property
    def fits(self) -> bool:
        stack_fits = self.stack.fits if self.stack else self.inference_stack.status != UNBOUNDED
        return self.flash.fits and self.ram.fits and stack_fits

    def problems(self) -> list[str]:
        """What does not fit, with the numbers, one item per region."""
        problems = [region.describe() for region in (self.flash, self.ram) if not region.fits]
        if (self.stack and not self.stack.fits) or self.inference_stack.status == UNBOUNDED:
            problems.append(self.describe_stack())
        return problems

    def describe_stack(self) -> str:
        """The stack needed against the board's, or why the inference's was not measured."""
        usage = self.inference_stack
        if self.stack is None:
            return f"stack: inference {usage.describe()}"
        return f"{self.stack.describe()}: inference {usage.bytes:,} + firmware {FIRMWARE_STACK_BYTES:,}"

    def as_json(self) -> dict:
        return {
            "board": self.board,
            "fits": self.fits,
            "weights_bytes": self.weights_bytes,
            "code_estimate_bytes": self.code_estimate_bytes,
            "arena_bytes": self.arena_bytes,
            "state_bytes": self.state_bytes,
            "flash_bytes": self.flash.needed_bytes,
            "flash_available_bytes": self.flash.available_bytes,
            "flash_headroom_bytes": self.flash.headroom_bytes,
            "ram_bytes": self.ram.needed_bytes,
            "ram_available_bytes": self.ram.available_bytes,
            "ram_headroom_bytes": self.ram.headroom_bytes,
            "flash_breakdown": self.flash.breakdown(),
            "ram_breakdown": self.ram.breakdown(),
            "inference_stack_bytes": self.inference_stack.bytes,
            "inference_stack": self.inference_stack.as_json(),
            "firmware_stack_bytes": FIRMWARE_STACK_BYTES,
            "stack_bytes": self.stack.needed_bytes if self.stack else None,
            "stack_available_bytes": self.stack.available_bytes if self.stack else None,
            "stack_headroom_bytes": self.stack.headroom_bytes if self.stack else None,
        }


def layer_flash_bytes(compiled: CompiledModel) -> list[int]:
    """Flash bytes of each layer's constants: the weights it reads first (a tensor shared by
    several layers counts once, at its first), its per-layer arrays and its params struct (the
    code generator defines arrays and params that layers hold alike once: the steps of a loop)."""
    lowered, graph = compiled.lowered, compiled.lowered.graph
    counted: set[int] = set()
    defined: set[tuple] = set()
    sizes = []
    for layer in lowered.layers:
        new = {compiled.plan.root(t) for t in layer.tensor_refs()} - counted
        counted |= new
        size = sum(graph.tensor(t).nbytes for t in new if graph.tensor(t).is_constant)
        for v in layer.consts.values():
            key = (v.dtype.str, v.shape, v.tobytes())
            size += 0 if key in defined else v.nbytes
            defined.add(key)
        size += sum(b.reset.nbytes for b in layer.state if not isinstance(b.reset, int))  # reset images
        if layer.kernel and (key := (type(layer.params).C_TYPE, initializer(layer.params))) not in defined:
            defined.add(key)
            size += 4 * _int_fields(layer.params)
        sizes.append(size)
    return sizes


def kernel_code_bytes(c_file: str) -> int:
    """The most code a runtime .c file compiles to, on any core."""
    return CODE_BYTES_OF_KERNEL_FILE.get(c_file, CODE_BYTES_PER_KERNEL_FILE)


def estimate_fit(compiled: CompiledModel, board: Board) -> FitReport:
    lowered = compiled.lowered
    weights = sum(layer_flash_bytes(compiled))
    code = CODE_BYTES_MODEL + CODE_BYTES_PER_LAYER * len(lowered.layers)
    code += sum(kernel_code_bytes(name) for name in compiled.generated.kernel_files if name.endswith(".c"))
    arena, state = compiled.plan.arena_bytes, compiled.plan.state_bytes
    flash_parts = (("weights", weights), ("code estimate", code), ("framework", board.reserved.flash_bytes))
    flash = Region("flash", sum(size for _, size in flash_parts), board.flash.size_bytes, flash_parts)
    ram_parts = (
        ("arena", arena),
        ("state", state),  # what outlives an inference: variables, kernels' own state (compiler/state.py)
        ("stack", board.stack_bytes),
        ("heap", board.heap_bytes),
        ("framework", board.reserved.ram_bytes),  # startup, drivers, an Arduino core: the board profile's reserve
    )
    ram = Region("RAM", sum(size for _, size in ram_parts), board.ram.size_bytes, ram_parts)
    usage = measure_stack(compiled.generated, board)
    stack = Region("stack", usage.bytes + FIRMWARE_STACK_BYTES, board.stack_bytes) if usage.bytes is not None else None
    return FitReport(board.id, weights, code, arena, state, flash, ram, usage, stack)


def check_fit(compiled: CompiledModel, board: Board) -> FitReport:
    """The fit report; raises a TinygenError with the numbers when the model does not fit."""
    report = estimate_fit(compiled, board)
    if not report.fits:
        raise TinygenError(f"the model does not fit {board.id}: {'; '.join(report.problems())}")
    return report


def _int_fields(params) -> int:
    """How many int32 fields a params struct has (nested structs included)."""
    return sum(
        _int_fields(getattr(params, f.name)) if dataclasses.is_dataclass(getattr(params, f.name)) else 1
        for f in dataclasses.fields(params)
    )
