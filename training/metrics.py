"""The evaluation's measures: accuracy with 95% intervals, per-group and per-class accuracy,
confusion, reliability and expected calibration error."""

from __future__ import annotations

import base64
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from training.negatives import NOT_A_DIGIT

# Confidence bins of the reliability diagram and the expected calibration error (Guo et al., 2017).
CALIBRATION_BINS = 15
# At most this many non-digits shown as a sure digit are kept in the report (as 28x28 bytes), and
# shown in the model card's picture of them: three rows.
SURE_EXAMPLES = 24


def read_as(probabilities: np.ndarray | list[np.ndarray]) -> np.ndarray:
    """The digit each row of ten probabilities is read as; NOT_A_DIGIT where none was read (a NaN
    row). An argmax alone takes a NaN row for a 0, and counted every refused 0 as read right."""
    probabilities = np.asarray(probabilities)
    return np.where(np.isnan(probabilities[:, 0]), NOT_A_DIGIT, np.nan_to_num(probabilities).argmax(1))


@dataclass
class Results:
    """Labels, the ten digits' probabilities (a row of NaN where no digit was read: the
    preprocessing found none, or the model refused the image as not a digit) and group tags."""

    labels: list[int] = field(default_factory=list)
    probabilities: list[np.ndarray] = field(default_factory=list)
    groups: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    refused: list[bool] = field(default_factory=list)  # the model read it as not a digit
    sure: list[bool] = field(default_factory=list)  # the app shows it as a digit it is sure of
    # The 28x28s of things that are not digits shown as a sure digit, to be looked at: (read as, 28x28).
    sure_non_digits: list[tuple[int, np.ndarray]] = field(default_factory=list)

    def add(self, label: int, probabilities: np.ndarray, tags: tuple[str, ...] = (), refused: bool = False,
            sure: bool = False, digit: np.ndarray | None = None) -> None:
        """One image's result; `digit`, its 28x28, is kept when it is no digit shown as a sure one."""
        for tag in tags:
            self.groups[tag].append(len(self.labels))
        self.labels.append(label)
        self.probabilities.append(probabilities)
        self.refused.append(refused)
        self.sure.append(sure)
        if sure and label == NOT_A_DIGIT and digit is not None:
            self.sure_non_digits.append((int(np.argmax(probabilities)), digit))

    def correct(self) -> np.ndarray:
        return read_as(self.probabilities) == np.array(self.labels)

    def accuracy(self) -> float:
        return float(self.correct().mean())

    def rejected(self) -> np.ndarray:
        """Where no digit was read (found none, or refused)."""
        return np.isnan(np.array(self.probabilities)[:, 0])

    def summary(self) -> dict[str, float]:
        k, n = int(self.correct().sum()), len(self.labels)
        low, high = wilson_interval(k, n)
        refused = int(np.sum(self.refused))
        return {"n": n, "accuracy": k / n, "low": low, "high": high, "ece": expected_calibration_error(self),
                "no_digit_found": int(self.rejected().sum()) - refused, "not_a_digit": refused}


def share_with_interval(count: int, n: int) -> dict[str, float]:
    """A share (of rejections, say) with its 95% interval."""
    low, high = wilson_interval(count, n)
    return {"n": n, "share": count / max(n, 1), "low": low, "high": high}


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
    matrix = np.zeros((10, 11), int)
    np.add.at(matrix, (np.array(results.labels), read_as(results.probabilities)), 1)
    return matrix


def per_class(results: Results) -> list[dict[str, float]]:
    """Each class's accuracy, count and 95% interval."""
    correct, labels = results.correct(), np.array(results.labels)
    rows = []
    for d in range(10):
        k, n = int(correct[labels == d].sum()), int((labels == d).sum())
        low, high = wilson_interval(k, n)
        rows.append({"accuracy": k / max(n, 1), "n": n, "low": low, "high": high})
    return rows


def describe(results: Results) -> dict[str, Any]:
    """What the report keeps of a set: summary, conditions, confusion, per-class accuracy, reliability."""
    return {**results.summary(), "conditions": group_stats(results), "confusion": confusion_matrix(results).tolist(),
            "per_class": per_class(results), "reliability": reliability(results)}


def describe_rejection(results: Results) -> dict[str, Any]:
    """What the report keeps of a set of things that are not digits: how many were rejected, by
    condition, what the others were read as, and how many were shown as a digit the app is sure of."""
    rejected = results.rejected()
    conditions = {}
    for tag in sorted(results.groups, key=natural_order):
        index = results.groups[tag]
        conditions[tag] = share_with_interval(int(rejected[index].sum()), len(index))
    read = read_as(results.probabilities)[~rejected]
    return {**share_with_interval(int(rejected.sum()), len(results.labels)), "conditions": conditions,
            "refused_by_the_model": int(np.sum(results.refused)),
            "shown_as_sure": share_with_interval(int(np.sum(results.sure)), len(results.labels)),
            "read_as": {str(d): int(np.sum(read == d)) for d in range(10)},
            "sure_examples": [{"read_as": digit, "pixels": base64.b64encode(
                (np.clip(image, 0, 1) * 255).astype(np.uint8).tobytes()).decode()}
                for digit, image in results.sure_non_digits[:SURE_EXAMPLES]]}
