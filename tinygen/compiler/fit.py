"""Does a compiled model fit a board? Flash and RAM needed against what the board offers.

Flash: the model's constants (weights, biases, per-channel multipliers and shifts,
layer parameters; exact) + code (an estimate, see CODE_BYTES_*) + the board's framework
reserve. RAM: the planned arena (exact) + the state kept between invokes (exact) + stack + heap +
the framework reserve.
The estimate is checked before anything is built; the ELF's real sizes come after.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..boards import Board
from ..errors import TinygenError
from .pipeline import CompiledModel

# Measured with arm-none-eabi-gcc 12 -O2 for Cortex-M3/M4: every kernel source is under 1,500
# bytes of code, and a layer's call wrapper and table entry about 40; rounded up.
CODE_BYTES_PER_KERNEL_FILE = 2048
CODE_BYTES_PER_LAYER = 64
CODE_BYTES_MODEL = 256  # init, the invoke loop, the tensor tables


@dataclass(frozen=True)
class Region:
    name: str  # "flash" or "RAM"
    needed_bytes: int
    available_bytes: int

    @property
    def fits(self) -> bool:
        return self.needed_bytes <= self.available_bytes

    @property
    def headroom_bytes(self) -> int:
        return self.available_bytes - self.needed_bytes

    def describe(self) -> str:
        verdict = f"{self.headroom_bytes:,} bytes to spare" if self.fits else f"over by {-self.headroom_bytes:,} bytes"
        return f"{self.name}: needs {self.needed_bytes:,} of {self.available_bytes:,} bytes ({verdict})"


@dataclass(frozen=True)
class FitReport:
    board: str
    weights_bytes: int  # constant tensors and per-layer constant arrays in flash
    code_estimate_bytes: int
    arena_bytes: int
    state_bytes: int  # the persistent region: variable tensors, kernels' own state
    flash: Region
    ram: Region

    @property
    def fits(self) -> bool:
        return self.flash.fits and self.ram.fits

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
        }


def layer_flash_bytes(compiled: CompiledModel) -> list[int]:
    """Flash bytes of each layer's constants: the weights it reads first (a tensor shared by
    several layers counts once, at its first), its per-layer arrays and its params struct."""
    lowered, graph = compiled.lowered, compiled.model.graph
    counted: set[int] = set()
    sizes = []
    for layer in lowered.layers:
        new = {compiled.plan.root(t) for t in layer.tensor_refs()} - counted
        counted |= new
        size = sum(graph.tensor(t).nbytes for t in new if graph.tensor(t).is_constant)
        size += sum(v.nbytes for v in layer.consts.values())
        size += sum(b.reset.nbytes for b in layer.state if not isinstance(b.reset, int))  # reset images
        sizes.append(size + (4 * _int_fields(layer.params) if layer.kernel else 0))
    return sizes


def estimate_fit(compiled: CompiledModel, board: Board) -> FitReport:
    lowered = compiled.lowered
    weights = sum(layer_flash_bytes(compiled))
    c_files = {type(layer.params).C_FILE for layer in lowered.layers if layer.kernel}
    code = CODE_BYTES_MODEL + CODE_BYTES_PER_KERNEL_FILE * len(c_files) + CODE_BYTES_PER_LAYER * len(lowered.layers)
    arena, state = compiled.plan.arena_bytes, compiled.plan.state_bytes
    flash = Region("flash", weights + code + board.reserved.flash_bytes, board.flash.size_bytes)
    ram_needed = arena + state + board.stack_bytes + board.heap_bytes + board.reserved.ram_bytes
    ram = Region("RAM", ram_needed, board.ram.size_bytes)
    return FitReport(board.id, weights, code, arena, state, flash, ram)


def check_fit(compiled: CompiledModel, board: Board) -> FitReport:
    """The fit report; raises a TinygenError with the numbers when the model does not fit."""
    report = estimate_fit(compiled, board)
    if not report.fits:
        short = "; ".join(r.describe() for r in (report.flash, report.ram) if not r.fits)
        raise TinygenError(f"the model does not fit {board.id}: {short}")
    return report


def _int_fields(params) -> int:
    """How many int32 fields a params struct has (nested structs included)."""
    return sum(
        _int_fields(getattr(params, f.name)) if dataclasses.is_dataclass(getattr(params, f.name)) else 1
        for f in dataclasses.fields(params)
    )
