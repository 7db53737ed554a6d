"""The tinygen firmware reached over its serial link, on a real board's port or in the board's
emulator (QEMU with UART0 on a TCP socket): one Target for both.

Counts: a real chip's DWT counts cycles. Under QEMU, -icount makes SysTick advance exactly with
executed instructions, so the same ticks are converted to instructions: a different unit, and
every report says which.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import activity
from ..boards import Board
from ..errors import TinygenError, ToolError
from ..ir import NUMPY_DTYPES, Graph
from . import qemu
from .link.client import DeviceInfo, LinkClient, LinkError
from .target import Counts, Sample, Target

BAUD = 115200


class LinkTarget(Target):
    """Open with LinkTarget.open(); closing closes the port and stops QEMU."""

    def __init__(
        self, board: Board, client: LinkClient, emulator: qemu.QemuSerial | None, graph: Graph, stateful: bool = False
    ) -> None:
        self.board = board
        self.client = client
        self.emulator = emulator
        self.graph = graph
        self.stateful = stateful  # the model keeps state between invokes: runs start with a RESET
        self.name = client.name
        self._info: DeviceInfo | None = None

    @classmethod
    def open(
        cls,
        board: Board,
        graph: Graph,
        port: str | None = None,
        elf: Path | None = None,
        timeout_s: float = 2.0,
        stateful: bool = False,
    ) -> LinkTarget:
        """A real board on `port`, or (without one) `elf` running in the board's QEMU machine."""
        import serial

        emulator = None
        if port is None:
            if not board.qemu_machine:
                raise TinygenError(f"board '{board.id}' has no emulator: connect it and pass --port")
            emulator = qemu.start_serial(board, elf, icount_shift=qemu.ICOUNT_SHIFT)
            url, name = emulator.url, f"QEMU ({board.qemu_machine})"
        else:
            url, name = port, port
        try:
            link = serial.serial_for_url(url, baudrate=BAUD, timeout=0.05)
        except (serial.SerialException, ValueError) as e:
            if emulator:
                emulator.close()
            raise ToolError(f"cannot open {url}: {e}") from None
        return cls(board, LinkClient(link, name, timeout_s=timeout_s), emulator, graph, stateful)

    def close(self) -> None:
        if not self.emulator:  # a board stays on: let it talk to a Serial Monitor again
            self.client.talk()
        self.client.port.close()
        if self.emulator:
            self.emulator.close()

    @property
    def info(self) -> DeviceInfo:
        if self._info is None:
            self._info = self.client.info()
        return self._info

    def check_model(self, model_hash: str) -> DeviceInfo:
        """The device's info, after making sure it runs this model."""
        info = self.info
        if info.model_hash != model_hash:
            raise TinygenError(
                f"{self.client.name} runs model {info.model_hash} (board '{info.board}'), "
                f"not this model ({model_hash}): build and flash it first"
            )
        return info

    def run(self, samples: list[Sample], progress: bool = False) -> list[Sample]:
        if not self.stateful:
            return [self.run_one(sample) for sample in self._shown(samples, progress)]
        # A lost step leaves the state unknown: the whole sequence goes again, from a reset.
        retries = self.client.retries
        while True:
            try:
                self.reset()
                return [self.run_one(sample, retry=False) for sample in self._shown(samples, progress)]
            except LinkError as e:
                if not retries or not self.client.step_lost(e):
                    raise
                retries -= 1
                self.client.resync()

    def _shown(self, samples: list[Sample], progress: bool):
        return activity.counted(samples, len(samples), f"running on {self.name}") if progress else samples

    def reset(self) -> None:
        """The model's state back as tg_model_init() left it (a RESET request)."""
        self.client.reset()

    def run_one(self, sample: Sample, retry: bool = True) -> Sample:
        """One inference: the sample's arrays (one per model input) in, the outputs out."""
        graph = self.graph
        if not len(sample) == len(graph.inputs) == len(self.info.inputs):
            raise TinygenError(
                f"{len(sample)} input arrays for a model with {len(graph.inputs)} inputs "
                f"(the device reports {len(self.info.inputs)})"
            )
        inputs = []
        for index, value, spec in zip(graph.inputs, sample, self.info.inputs):
            t = graph.tensor(index)
            data = np.ascontiguousarray(value, dtype=NUMPY_DTYPES[t.dtype]).tobytes()
            if len(data) != spec.bytes:
                raise TinygenError(
                    f"input {t.name!r} has {len(data)} bytes; the device expects {spec.bytes} "
                    f"({spec.dtype} {list(spec.shape)})"
                )
            inputs.append(data)
        outputs, _ = self.client.run(inputs, [graph.tensor(i).nbytes for i in graph.outputs], retry=retry)
        result = []
        for index, data in zip(graph.outputs, outputs):
            t = graph.tensor(index)
            result.append(np.frombuffer(data, dtype=NUMPY_DTYPES[t.dtype]).reshape(t.shape))
        return result

    def profile(self, sample: Sample) -> Counts:
        with activity.step(f"profiling one inference on {self.name}"):
            self.run_one(sample)
            return self.counts(self.client.read_profile(self.info.layers))

    def counts(self, raw: list[int]) -> Counts:
        """The firmware's raw counter values in the unit they stand for on this device."""
        counter = self.info.counter
        if counter == "none":
            raise TinygenError(f"board '{self.board.id}' has no cycle counter to profile with")
        if self.emulator and counter == "systick":
            return Counts("instructions", [qemu.instructions_from_ticks(self.board, r, qemu.ICOUNT_SHIFT) for r in raw])
        return Counts("cycles", raw)  # DWT, or SysTick on the CPU clock of a real chip
