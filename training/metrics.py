"""The evaluation's measures: accuracy with 95% intervals, per-group and per-class accuracy,
confusion, reliability and expected calibration error."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Confidence bins of the reliability diagram and the expected calibration error (Guo et al., 2017).
CALIBRATION_BINS = 15


@dataclass
class Results:
    """Labels, probabilities (a row of NaN where preprocessing found no digit) and group tags."""

    labels: list[int] = field(default_factory=list)
    probabilities: list[np.ndarray] = field(default_factory=list)
    groups: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, label: int, probabilities: np.ndarray, tags: tuple[str, ...] = ()) -> None:
        for tag in tags:
            self.groups[tag].append(len(self.labels))
        self.labels.append(label)
        self.probabilities.append(probabilities)

    def correct(self) -> np.ndarray:
        probs = np.array(self.probabilities)
        return np.nan_to_num(probs, nan=-1).argmax(1) == np.array(self.labels)

    def accuracy(self) -> float:
        return float(self.correct().mean())

    def summary(self) -> dict[str, float]:
        k, n = int(self.correct().sum()), len(self.labels)
        low, high = wilson_interval(k, n)
        rejected = int(np.isnan(np.array(self.probabilities)[:, 0]).sum())
        return {"n": n, "accuracy": k / n, "low": low, "high": high, "ece": expected_calibration_error(self),
                "rejected": rejected}


def expected_calibration_error(results: Results, bins: int = CALIBRATION_BINS) -> float:
    """Mean |accuracy - confidence| over confidence bins, weighted by bin size (rejections skipped)."""
    return float(sum(abs(b["accuracy"] - b["confidence"]) * b["share"] for b in reliability(results, bins)))


def reliability(results: Results, bins: int = CALIBRATION_BINS) -> list[dict[str, float]]:
    """Per confidence bin: mean confidence, accuracy and share of the answers (rejections skipped)."""
    probs = np.array(results.probabilities)
    found = ~np.isnan(probs[:, 0])
    confidence = probs[found].max(1)
    correct = results.correct()[found]
    which = np.clip(np.digitize(confidence, np.linspace(0, 1, bins + 1)) - 1, 0, bins - 1)
    return [{"confidence": float(confidence[which == b].mean()), "accuracy": float(correct[which == b].mean()),
             "share": float(np.mean(which == b))} for b in range(bins) if np.any(which == b)]


def wilson_interval(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% confidence interval of an accuracy measured as `correct` of `n` (Wilson score)."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def natural_order(tag: str) -> list:
    """Sort key that puts "brush 2-5%" before "brush 10-17%"."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", tag)]


def group_stats(results: Results, within: list[int] | None = None) -> dict[str, dict[str, float]]:
    """Accuracy, count and 95% interval of every group, counting only the images in `within`."""
    correct = results.correct()
    keep = set(range(len(results.labels)) if within is None else within)
    stats = {}
    for tag in sorted(results.groups, key=natural_order):
        index = [i for i in results.groups[tag] if i in keep]
        k = int(correct[index].sum())
        low, high = wilson_interval(k, len(index))
        stats[tag] = {"accuracy": k / max(len(index), 1), "n": len(index), "low": low, "high": high}
    return stats


def confusion_matrix(results: Results) -> np.ndarray:
    """10 x 11 counts: rows true digit, columns predicted digit, the last column 'no digit'."""
    probs = np.array(results.probabilities)
    predicted = np.where(np.isnan(probs[:, 0]), 10, np.nan_to_num(probs, nan=0).argmax(1))
    matrix = np.zeros((10, 11), int)
    np.add.at(matrix, (np.array(results.labels), predicted), 1)
    return matrix


def describe(results: Results) -> dict[str, Any]:
    """What the report keeps of a set: summary, conditions, confusion, per-class accuracy, reliability."""
    matrix = confusion_matrix(results)
    return {**results.summary(), "conditions": group_stats(results), "confusion": matrix.tolist(),
            "per_class": [float(matrix[d, d] / max(matrix[d].sum(), 1)) for d in range(10)],
            "reliability": reliability(results)}
