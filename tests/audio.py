"""Real-ish int16 audio for the audio front end's tests: a tone sweep with noise, at a level that
changes from frame to frame (so the FFT's auto scale takes many shifts), plus the edge cases; and a
spoken word from espeak-ng."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000


def sweep(samples: int, seed: int = 0) -> np.ndarray:
    """A chirp from 100 Hz to 7 kHz with white noise, its level changing every 160 samples, int16."""
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / SAMPLE_RATE
    duration = max(samples / SAMPLE_RATE, 1e-3)
    phase = 2 * np.pi * (100 * t + (7000 - 100) * t**2 / (2 * duration))
    signal = np.sin(phase) + 0.1 * rng.standard_normal(samples)
    levels = 2.0 ** rng.uniform(2, 15, samples // 160 + 1)
    return np.clip(np.round(signal * np.repeat(levels, 160)[:samples]), -32768, 32767).astype(np.int16)


def frames(length: int, count: int, seed: int = 0, shape: tuple[int, ...] | None = None) -> list[list[np.ndarray]]:
    """`count` consecutive, overlapping frames of `length` samples (hop = 2/3 of a frame, as 30 ms
    windows every 20 ms), one per sample, each shaped `shape` (default (length,)); every fifth
    frame also holds the extremes -32768 and 32767, and the last is silence."""
    hop = max(2 * length // 3, 1)
    audio = sweep(hop * count + length, seed)
    result = []
    for k in range(count):
        frame = audio[k * hop : k * hop + length].copy()
        if k % 5 == 4:
            frame[k % length] = -32768
            frame[(3 * k) % length] = 32767
        if k == count - 1:
            frame[:] = 0
        result.append([frame.reshape(shape or (length,))])
    return result


def uint32_values(rng: np.random.Generator, size: int) -> np.ndarray:
    """uint32 values of every magnitude (random bit lengths), with 0, 1, 2 and the maximum."""
    values = rng.integers(0, 2**32, size, dtype=np.uint64) >> rng.integers(0, 32, size).astype(np.uint64)
    values[: min(size, 4)] = [0, 1, 2, 2**32 - 1][: min(size, 4)]
    return values.astype(np.uint32)


def spoken_word(word: str, directory) -> np.ndarray | None:
    """`word` spoken by Debian's espeak-ng (scripts/install-deps.sh installs it), resampled from its
    22,050 Hz to 16 kHz by linear interpolation, int16; None without espeak-ng."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        return None
    path = Path(directory) / "word.wav"
    subprocess.run([espeak, "-w", str(path), word], check=True, capture_output=True, timeout=60)
    with wave.open(str(path)) as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2, "espeak-ng writes 16-bit mono"
        rate = wav.getframerate()
        audio = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)
    times = np.arange(int(len(audio) * SAMPLE_RATE / rate)) / SAMPLE_RATE
    return np.round(np.interp(times, np.arange(len(audio)) / rate, audio)).astype(np.int16)


def framed(audio: np.ndarray, length: int, hop: int, shape: tuple[int, ...]) -> list[list[np.ndarray]]:
    """The audio cut into frames of `length` samples every `hop` (zero-padded at the end), one per sample."""
    padded = np.concatenate([audio, np.zeros(length, np.int16)])
    return [[padded[start : start + length].reshape(shape)] for start in range(0, len(audio), hop)]
