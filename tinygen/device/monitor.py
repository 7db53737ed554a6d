"""`tinygen monitor`: the readable lines a firmware prints (firmware/talk/tg_talk.h), gathered into live
results, latency, and input statistics held against what the model was calibrated on.

A quantized input's int8 range is the range its calibration data covered. A value at an int8 limit is
either that range's end (a calibrated minimum of 0.0 is -128) or a real input beyond it, clipped; a
limit counts as clipping where it lies beyond what the calibration data reached (without the data:
unless it is the real value 0, the floor of non-negative inputs). Many clipped values, or an input
mean outside the calibration set's, means the inputs have drifted from what the model was built for,
and its answers can no longer be trusted; the monitor says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..escape import terminal_line
from ..ir import Graph

RESULT = re.compile(
    r"result top=(?P<top>\d+) score=(?P<score>-?\d+(?:\.\d+)?|nan) us=(?P<us>\d+) "
    r"in_min=(?P<in_min>-?\d+(?:\.\d+)?) in_max=(?P<in_max>-?\d+(?:\.\d+)?) in_mean=(?P<in_mean>-?\d+(?:\.\d+)?) "
    r"in_sat=(?P<in_sat>\d+)/(?P<in_count>\d+)(?: in_low=(?P<in_low>\d+))?(?: label=(?P<label>.*))?$"
)
BANNER = re.compile(r"tinygen: (?P<board>\S+) runs .* \((?P<hash>[0-9a-f]{8})\)")
INT8_LIMITS = (-128, 127)
SATURATION_LIMIT = 0.01  # more inputs than this at the int8 limits: out of the calibrated range
MEAN_MARGIN = 0.1  # of the calibration means' spread, either side, before a mean counts as drifted


@dataclass(frozen=True)
class Result:
    top: int
    score: float
    us: int
    in_min: float  # raw values of input 0, as the model received them
    in_max: float
    in_mean: float
    in_saturated: int
    in_count: int
    label: str | None
    in_low: int | None = None  # of in_saturated, those at the type's lowest value (None: not reported)

    def as_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


def parse_result(line: str) -> Result | None:
    match = RESULT.match(line.strip())
    if not match:
        return None
    g = match.groupdict()
    return Result(
        int(g["top"]),
        float(g["score"]),
        int(g["us"]),
        float(g["in_min"]),
        float(g["in_max"]),
        float(g["in_mean"]),
        int(g["in_sat"]),
        int(g["in_count"]),
        g["label"],
        int(g["in_low"]) if g["in_low"] is not None else None,
    )


@dataclass(frozen=True)
class Baseline:
    """What the model expects of input 0: its quantization (real = scale * (q - zero point)) and,
    given the calibration set, the range of its samples' means (real units)."""

    scale: float
    zero_point: int
    hash: str | None = None  # the model's, to tell a board running another model
    calibration_means: tuple[float, float] | None = None
    clips: tuple[bool, bool] = (True, True)  # whether values at the lowest, highest int8 value are clipped

    @classmethod
    def of(cls, graph: Graph, model_hash: str | None, calibration: list[np.ndarray] | None) -> Baseline:
        t = graph.tensor(graph.inputs[0])
        scale, zero_point = (t.scale, t.zero_point) if t.quant is not None else (1.0, 0)
        means = None
        # Without calibration data, real 0 at a limit is the floor (or ceiling) of the inputs, not clipping.
        clips = (zero_point != INT8_LIMITS[0], zero_point != INT8_LIMITS[1])
        if calibration is not None:
            values = np.asarray(calibration[0], np.float64).reshape(len(calibration[0]), -1)
            per_sample = values.mean(axis=1)
            means = (float(per_sample.min()), float(per_sample.max()))
            # A limit clips where its real value lies beyond the data's end by more than half a step.
            low, high = (scale * (q - zero_point) for q in INT8_LIMITS)
            clips = (low < values.min() - scale / 2, high > values.max() + scale / 2)
        return cls(scale, zero_point, model_hash, means, clips)

    def real(self, raw: float) -> float:
        return self.scale * (raw - self.zero_point)

    def clipped(self, result: Result) -> int:
        """How many of a result's input values sit at a limit that clips."""
        if result.in_low is None:  # firmware that does not tell the limits apart
            return result.in_saturated if any(self.clips) else 0
        return self.clips[0] * result.in_low + self.clips[1] * (result.in_saturated - result.in_low)


@dataclass
class Watch:
    """Results as they come, and what they say about the inputs."""

    baseline: Baseline | None = None
    results: list[Result] = field(default_factory=list)
    warned: set[str] = field(default_factory=set)

    def add(self, result: Result) -> list[str]:
        """Takes a result; returns the warnings that hold now, each kind only the first time."""
        self.results.append(result)
        fresh = [(kind, text) for kind, text in self._findings() if kind not in self.warned]
        self.warned.update(kind for kind, _ in fresh)
        return [text for _, text in fresh]

    def check_banner(self, line: str) -> str | None:
        match = BANNER.match(line)
        if match and self.baseline and self.baseline.hash and not self.baseline.hash.startswith(match["hash"]):
            return f"the board runs another model (hash {match['hash']}, this model's {self.baseline.hash[:8]})"
        return None

    def saturation(self) -> float:
        """The fraction of input values clipped at the int8 limits (all values at a limit, without a model)."""
        count = sum(r.in_count for r in self.results)
        clipped = sum(self.baseline.clipped(r) if self.baseline else r.in_saturated for r in self.results)
        return clipped / count if count else 0.0

    def input_mean(self) -> float:
        """Input 0's mean over every result, in real units when the model is known, else raw."""
        raw = float(np.mean([r.in_mean for r in self.results]))
        return self.baseline.real(raw) if self.baseline else raw

    def warnings(self) -> list[str]:
        return [text for _, text in self._findings()]

    def _findings(self) -> list[tuple[str, str]]:
        """(kind, text) of each warning that holds over the results so far."""
        found = []
        if self.saturation() > SATURATION_LIMIT:
            where = ""
            if self.baseline:
                low, high = self.baseline.real(-128), self.baseline.real(127)
                where = f" [{low:.4g}, {high:.4g}]"
            text = (
                f"inputs drift: {self.saturation():.1%} of input values sit at the int8 limits, clipped: beyond "
                f"the range{where} the model was calibrated for"
            )
            found.append(("saturation", text))
        means = self.baseline.calibration_means if self.baseline else None
        if means and self.results:
            spread = max(means[1] - means[0], abs(self.baseline.scale))
            low, high = means[0] - MEAN_MARGIN * spread, means[1] + MEAN_MARGIN * spread
            mean = self.input_mean()
            if not low <= mean <= high:
                text = (
                    f"inputs drift: their mean {mean:.4g} is outside the calibration samples' means "
                    f"[{means[0]:.4g}, {means[1]:.4g}]"
                )
                found.append(("mean", text))
        return found

    def summary(self) -> dict:
        latencies = [r.us for r in self.results]
        tops: dict[str, int] = {}
        for r in self.results:
            name = r.label if r.label is not None else str(r.top)
            tops[name] = tops.get(name, 0) + 1
        return {
            "results": len(self.results),
            "latency_us": {"min": min(latencies), "mean": float(np.mean(latencies)), "max": max(latencies)}
            if latencies
            else None,
            "top": tops,
            "input": {
                "min": min((r.in_min for r in self.results), default=None),
                "max": max((r.in_max for r in self.results), default=None),
                "mean": self.input_mean() if self.results else None,
                "mean_unit": "real" if self.baseline else "raw",
                "saturated_fraction": self.saturation(),
                "calibration_means": self.baseline.calibration_means if self.baseline else None,
            },
            "warnings": self.warnings() if self.results else [],
        }


def describe(result: Result) -> str:
    """One result for a person: the class, its score, the time and input 0's statistics."""
    name = f"{result.top} {terminal_line(result.label)}" if result.label else str(result.top)
    saturated = result.in_saturated / result.in_count if result.in_count else 0.0
    return (
        f"{name}  score {result.score:.4f}  {result.us:,} us  input [{result.in_min:g}, {result.in_max:g}] "
        f"mean {result.in_mean:.2f}, {saturated:.1%} at the limits"
    )
