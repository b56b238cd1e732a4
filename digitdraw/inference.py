"""Load the shipped weights once and turn images into calibrated digit probabilities."""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .model import Net, load_weights
from .paths import shipped
from .preprocessing import CANVAS_SIZE, PREPROCESSING_VERSION, preprocess

WEIGHTS_PATH = shipped("weights") / "digitdraw.safetensors"
CLASSES = tuple(str(d) for d in range(10))


class Classifier:
    """Callable: float32 array (N, 28, 28) in [0, 1] -> (N, 10) calibrated probabilities."""

    def __init__(self, model: Net, temperature: float, metadata: dict[str, str]) -> None:
        self.model = model
        self.temperature = temperature
        self.metadata = metadata

    def __call__(self, digits: np.ndarray) -> np.ndarray:
        digits = np.asarray(digits, dtype=np.float32)
        if digits.ndim != 3 or digits.shape[1:] != (CANVAS_SIZE, CANVAS_SIZE):
            raise ValueError(f"expected an array of shape (N, {CANVAS_SIZE}, {CANVAS_SIZE}), got {digits.shape}")
        with torch.inference_mode():
            logits = self.model(torch.from_numpy(digits).unsqueeze(1))
            return torch.softmax(logits / self.temperature, dim=1).numpy()


@lru_cache(maxsize=4)
def _load(path: str) -> Classifier:
    model, metadata = load_weights(path)
    trained_on = metadata.get("preprocessing_version")
    if trained_on is not None and trained_on != PREPROCESSING_VERSION:
        warnings.warn(f"{path} was trained on preprocessing version {trained_on}, this is version "
                      f"{PREPROCESSING_VERSION}: its accuracy may be lower than measured.", stacklevel=3)
    return Classifier(model, float(metadata.get("temperature", 1.0)), metadata)


def load_classifier(path: str | Path | None = None) -> Classifier:
    """The classifier with the weights at `path` (None: the shipped weights), loaded once."""
    return _load(str(Path(path or WEIGHTS_PATH).resolve()))


def probabilities_dict(row: np.ndarray) -> dict[str, float]:
    """One row of 10 probabilities as {"0": p0, ..., "9": p9}."""
    return dict(zip(CLASSES, map(float, row)))


def predict(image: Any) -> dict[str, float]:
    """Any image of one digit -> {"0": p0, ..., "9": p9}, probabilities summing to 1.

    Raises NoDigitError when there is no digit, InvalidImageError when the input can't be read.
    """
    return probabilities_dict(load_classifier()(preprocess(image)[None])[0])
