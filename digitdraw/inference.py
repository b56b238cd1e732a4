"""Load the shipped weights once and turn 28x28 digits into calibrated probabilities."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .model import Net, load_weights
from .preprocessing import preprocess

WEIGHTS_PATH = Path(__file__).resolve().parent.parent / "weights" / "digitdraw.safetensors"
CLASSES = tuple(str(d) for d in range(10))


class Classifier:
    """Callable: float32 array (N, 28, 28) in [0, 1] -> (N, 10) calibrated probabilities."""

    def __init__(self, model: Net, temperature: float, metadata: dict[str, str]) -> None:
        self.model = model
        self.temperature = temperature
        self.metadata = metadata

    def __call__(self, digits: np.ndarray) -> np.ndarray:
        digits = np.asarray(digits, dtype=np.float32)
        if digits.ndim != 3 or digits.shape[1:] != (28, 28):
            raise ValueError(f"expected an array of shape (N, 28, 28), got {digits.shape}")
        with torch.inference_mode():
            logits = self.model(torch.from_numpy(digits).unsqueeze(1))
            return torch.softmax(logits / self.temperature, dim=1).numpy()


@lru_cache(maxsize=4)
def _load(path: str) -> Classifier:
    model, metadata = load_weights(path)
    return Classifier(model, float(metadata.get("temperature", 1.0)), metadata)


def load_classifier(path: str | Path | None = None) -> Classifier:
    """The classifier with the weights at `path` (None: the shipped weights), loaded once."""
    return _load(str(Path(path or WEIGHTS_PATH).resolve()))


def classify(digit: np.ndarray) -> dict[str, float]:
    """One preprocessed (28, 28) digit -> {"0": p0, ..., "9": p9} with the shipped weights."""
    probabilities = load_classifier()(digit[None])[0]
    return dict(zip(CLASSES, map(float, probabilities)))


def predict(image: Any) -> dict[str, float]:
    """Any image of one digit -> {"0": p0, ..., "9": p9}, probabilities summing to 1.

    Raises NoDigitError when there is no digit, InvalidImageError when the input can't be read.
    """
    return classify(preprocess(image))
