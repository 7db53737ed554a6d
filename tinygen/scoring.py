"""Outputs scored against labels: top-1 accuracy for a classifier, mean absolute error for a regressor.

A model with one output value per sample is a regressor (the argmax of one value is always 0, so
top-1 would read 100%): its labels are the real values it should output. A model with more is
scored top-1, against class indices (whole numbers) or one-hot / score rows as wide as its output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ACCURACY, MAE = "accuracy", "mae"


@dataclass(frozen=True)
class Score:
    metric: str  # ACCURACY or MAE
    value: float

    def show(self) -> str:
        return f"{self.value:.2%}" if self.metric == ACCURACY else f"{self.value:.4g}"


def describe(metric: str) -> str:
    return "accuracy" if metric == ACCURACY else "mean absolute error"


def score(outputs: np.ndarray, labels: np.ndarray) -> Score | None:
    """outputs: (N, values) real values of the first output; labels: N labels. None when the labels
    say nothing about these outputs (fractional class indices)."""
    outputs = np.asarray(outputs, np.float64).reshape(len(outputs), -1)
    labels = np.asarray(labels)
    if outputs.shape[1] == 1:
        return Score(MAE, float(np.mean(np.abs(outputs[:, 0] - labels.reshape(len(labels), -1)[:, 0]))))
    if labels.ndim > 1 and labels.shape[-1] == outputs.shape[1]:
        truth = labels.reshape(len(labels), -1).argmax(axis=-1)
    elif labels.ndim == 1 and np.all(np.mod(labels, 1) == 0):
        truth = labels.astype(np.int64)
    else:
        return None
    return Score(ACCURACY, float(np.mean(outputs.argmax(axis=-1) == truth)))
