"""One interface for every place a compiled model runs: the host process, an emulator, a board.

`open_target` picks the place from the board profile and the options (a host board runs the
model as a host process; a port means a board already flashed with the model; otherwise the
board's emulator runs freshly built firmware). verify, invoke and profile then make the same
calls whatever the place: run samples, profile one, trace one layer by layer where supported.
"""

from __future__ import annotations

import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..boards import Board
from ..compiler.pipeline import CompiledModel
from ..errors import TinygenError

# One inference's values: one array per model input (or output).
Sample = list[np.ndarray]


@dataclass(frozen=True)
class Counts:
    """Per-layer counts of one inference, in the unit the target measures."""

    unit: str  # "cycles" or "instructions"
    layers: list[int]  # per entry of tg_model_layers (0 for layers that run nothing)

    @property
    def total(self) -> int:
        return sum(self.layers)


class Target(ABC):
    """A running compiled model. Use as a context manager: closing stops what the target started.

    A model with state (variable tensors, kernels that keep state: tg_model_reset_state()) carries it
    from one invoke to the next, so samples run as a sequence: each run starts from the state that
    tg_model_init() leaves, and its samples go through in order."""

    name: str = "target"

    @abstractmethod
    def run(self, samples: list[Sample], progress: bool = False) -> list[Sample]:
        """The samples as one sequence, from the initial state; the outputs of each, in order."""

    def run_sequences(self, sequences: list[list[Sample]], progress: bool = False) -> list[list[Sample]]:
        """Several sequences, each from the initial state; the outputs of every step of each."""
        return [self.run(sequence, progress) for sequence in sequences]

    def profile(self, sample: Sample) -> Counts:
        """Per-layer counts of one inference."""
        raise TinygenError(
            f"{self.name} cannot profile: it has no cycle or instruction counter (profile on an emulated or real board)"
        )

    def trace(self, samples: list[Sample]) -> list[np.ndarray] | None:
        """After running the samples as a sequence, the output of every layer that runs in the last one,
        in execution order; None where the target cannot trace."""
        return None

    def close(self) -> None:  # noqa: B027 - most targets hold nothing to release
        """Release what the target holds (a port, an emulator)."""

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextmanager
def open_target(
    compiled: CompiledModel, board: Board, port: str | None = None, workdir: Path | None = None
) -> Iterator[Target]:
    """The compiled model running for `board`: built into workdir (a temporary folder by default)."""
    with ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tinygen-")))
        if board.native:
            if port:
                raise TinygenError(f"--port needs a firmware board; board '{board.id}' runs on this computer")
            from .host import HostTarget

            yield stack.enter_context(HostTarget.build(compiled, workdir))
            return
        from .link_target import LinkTarget

        elf = None
        if port is None:
            if not board.qemu_machine:
                raise TinygenError(
                    f"board '{board.id}' has no emulator: flash it (tinygen build, tinygen flash) and pass --port"
                )
            from .firmware import build_firmware

            elf = build_firmware(compiled, board, workdir).build.elf
        stateful = compiled.plan.state_bytes > 0
        target = LinkTarget.open(board, compiled.model.graph, port=port, elf=elf, stateful=stateful)
        stack.enter_context(target)
        target.check_model(compiled.model.model_hash)
        yield target
