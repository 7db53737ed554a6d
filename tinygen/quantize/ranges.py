"""Range observers: from the calibration set's activations to one (low, high) per tensor.

- minmax (default): the extremes seen. Nothing is clipped, so it suits small, clean
  calibration sets and tensors whose extremes matter (the logits before a softmax).
- percentile: the 0.01st and 99.99th percentiles. Helps when rare outliers (a spike in a
  sensor, one saturated pixel) would stretch the range and waste int8 levels on them.
- mse: the clipping range with the least squared quantization error over the observed
  distribution, rounding and clipping together. Helps for long-tailed activations
  (unbounded ReLU outputs) where the best trade between resolution and clipping is
  not at a fixed percentile; it costs a search per tensor.

percentile and mse build a histogram per tensor over the min/max range, so they need
a second pass over the calibration set (observe_histogram after observe_minmax).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

METHODS = ("minmax", "percentile", "mse")
BINS = 2048
PERCENTILE = 99.99


@dataclass
class TensorStats:
    low: float = np.inf
    high: float = -np.inf
    histogram: np.ndarray | None = field(default=None, repr=False)

    def observe_minmax(self, x: np.ndarray) -> None:
        self.low = min(self.low, float(x.min()))
        self.high = max(self.high, float(x.max()))

    def observe_histogram(self, x: np.ndarray) -> None:
        counts, _ = np.histogram(x, bins=BINS, range=(self.low, max(self.high, self.low + 1e-12)))
        self.histogram = counts if self.histogram is None else self.histogram + counts

    def range(self, method: str) -> tuple[float, float]:
        """The clipping range, always holding 0 (TFLite needs zero exactly representable)."""
        if method == "minmax" or self.histogram is None or self.high <= self.low:
            low, high = self.low, self.high
        elif method == "percentile":
            low, high = self._percentiles(100 - PERCENTILE, PERCENTILE)
        elif method == "mse":
            low, high = self._min_mse()
        else:
            raise ValueError(f"unknown range method {method!r}; choose one of {', '.join(METHODS)}")
        return min(low, 0.0), max(high, 0.0)

    def _centers(self) -> np.ndarray:
        edges = np.linspace(self.low, self.high, BINS + 1)
        return (edges[:-1] + edges[1:]) / 2

    def _percentiles(self, low_pct: float, high_pct: float) -> tuple[float, float]:
        cdf = np.cumsum(self.histogram) / self.histogram.sum()
        centers = self._centers()
        low = centers[min(np.searchsorted(cdf, low_pct / 100), BINS - 1)]
        high = centers[min(np.searchsorted(cdf, high_pct / 100), BINS - 1)]
        return float(low), float(high)

    def _min_mse(self) -> tuple[float, float]:
        """Grid search over shrinking each end of the range; an end at zero stays there."""
        centers, counts = self._centers(), self.histogram.astype(np.float64)
        low0, high0 = min(self.low, 0.0), max(self.high, 0.0)
        fractions = np.linspace(0.2, 1.0, 41)
        lows = low0 * fractions if low0 < 0 else np.zeros(1)
        highs = high0 * fractions if high0 > 0 else np.zeros(1)
        best, best_error = (low0, high0), np.inf
        for low in lows:
            for high in highs:
                if high - low <= 0:
                    continue
                scale = (high - low) / 255
                zero = np.round(-128 - low / scale)
                q = np.clip(np.round(centers / scale) + zero, -128, 127)
                error = np.dot(counts, (centers - (q - zero) * scale) ** 2)
                if error < best_error:
                    best, best_error = (float(low), float(high)), error
        return best


def quant_params(low: float, high: float) -> tuple[float, int]:
    """Asymmetric int8 (scale, zero point) for a range holding 0, with zero exactly representable."""
    if high - low <= 0:
        return 1.0, 0  # a constant-zero tensor: any scale represents it
    scale = float(np.float32((high - low) / 255))
    zero_point = int(np.clip(np.round(-128 - low / scale), -128, 127))
    return scale, zero_point
