"""A compiled model on a device (tinygen.device.serial_device): verify it against tflite-micro, feed it
float data, profile it. With a port the firmware must already run there; without one it is built
and run in the board's emulator.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ..boards import Board
from ..errors import TinygenError
from ..ir import NUMPY_DTYPES, Tensor
from ..compiler.pipeline import CompiledModel
from ..reference import Reference
from .serial_device import Device
from ..verify import VerifyResult, compare


@contextmanager
def open_device(compiled: CompiledModel, board: Board, port: str | None, workdir: Path) -> Iterator[Device]:
    """The device running this model: the board on `port`, checked by its info, or a fresh firmware
    built into workdir and started in the emulator."""
    elf = None
    if port is None:
        if not board.qemu_machine:
            raise TinygenError(f"board '{board.id}' has no emulator: flash it (tinygen build, tinygen flash) "
                               "and pass --port")
        from .firmware import build_firmware

        elf = build_firmware(compiled, board, workdir).build.elf
    with Device.open(board, port=port, elf=elf) as device:
        device.check_model(compiled.model.model_hash)
        yield device


def quantize_input(t: Tensor, x: np.ndarray) -> np.ndarray:
    """Real values as the input tensor holds them: int8 with its scale and zero point (rounding half
    away from zero, as TFLite does), or float as it is."""
    x = np.asarray(x)
    if x.size != t.size:
        raise TinygenError(f"input has {x.size} values {list(x.shape)}; the model's input {t.name!r} "
                           f"takes {t.size} {list(t.shape)}")
    if t.dtype == "float32" or x.dtype == NUMPY_DTYPES[t.dtype]:
        return x.astype(NUMPY_DTYPES[t.dtype]).reshape(t.shape)  # already in the tensor's type
    scaled = x.astype(np.float64) / t.scale
    q = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) + t.zero_point
    info = np.iinfo(NUMPY_DTYPES[t.dtype])
    return np.clip(q, info.min, info.max).astype(NUMPY_DTYPES[t.dtype]).reshape(t.shape)


def dequantize(t: Tensor, q: np.ndarray) -> np.ndarray:
    if t.dtype == "float32" or t.quant is None:
        return np.asarray(q, dtype=np.float32)
    return ((q.astype(np.float32) - t.zero_point) * t.scale).astype(np.float32)


@dataclass
class DeviceVerifyResult:
    result: VerifyResult
    device_accuracy: float | None = None  # top-1 on the labels, when the data has them
    reference_accuracy: float | None = None

    @property
    def bit_exact(self) -> bool:
        return self.result.bit_exact

    def summary(self) -> str:
        line = self.result.summary()
        if self.device_accuracy is not None:
            line += (f"\naccuracy on device {self.device_accuracy:.2%}, "
                     f"tflite-micro {self.reference_accuracy:.2%}")
        return line

    def as_json(self) -> dict:
        data = self.result.as_json()
        if self.device_accuracy is not None:
            data.update(device_accuracy=self.device_accuracy, reference_accuracy=self.reference_accuracy)
        return data


def verify_on_device(device: Device, compiled: CompiledModel, samples: list[list[np.ndarray]],
                     labels: np.ndarray | None = None, progress: bool = False) -> DeviceVerifyResult:
    """Every sample through the device and through tflite-micro, outputs compared bit for bit;
    with labels, top-1 accuracy of both on the first output."""
    model = compiled.model
    graph = model.graph
    reference = Reference(model.tflite_bytes, graph)
    device_outputs: list[list[np.ndarray]] = []

    def run(batch):
        for sample in _progress(batch, progress, f"{device.client.name}"):
            device_outputs.append(device.run(graph, sample))
        return device_outputs

    result = DeviceVerifyResult(compare(graph, reference, run, samples))
    if labels is not None:
        truth = labels.argmax(axis=-1) if labels.ndim > 1 else labels
        result.device_accuracy = _accuracy([o[0] for o in device_outputs], truth)
        result.reference_accuracy = _accuracy([reference.run(s)[0] for s in samples], truth)
    return result


def _accuracy(outputs: list[np.ndarray], truth: np.ndarray) -> float:
    predicted = np.array([int(np.argmax(o)) for o in outputs])
    return float(np.mean(predicted == truth[:len(predicted)]))


def _progress(items, enabled: bool, label: str):
    if not enabled:
        return items
    from rich.console import Console
    from rich.progress import track

    return track(items, description=label, console=Console(stderr=True), transient=True)
