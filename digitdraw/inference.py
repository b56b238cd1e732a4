"""Load the shipped weights once and turn 28x28 digits into calibrated probabilities.

    classifier = load_classifier()          # the shipped weights, loaded once per process
    probabilities = classifier(digits)      # (N, 28, 28) float32 in [0, 1] -> (N, 11): digits, not a digit

On a Hugging Face ZeroGPU Space the batched model call runs under `@spaces.GPU`; elsewhere on the CPU.
"""

from __future__ import annotations

import os
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .model import Contract, Net, WeightsMismatchError, for_inference, load_weights
from .paths import shipped
from .preprocessing import PREPROCESSING_VERSION
from .saliency import Explainer

WEIGHTS_PATH = shipped("weights") / "digitdraw.safetensors"
# A ZeroGPU call's reserved GPU time, s: a batch of 16 digits takes milliseconds, and a short
# duration gets a visitor's request a better place in ZeroGPU's queue.
ZERO_GPU_SECONDS = 5

Logits = Callable[[np.ndarray], np.ndarray]


def cpu_logits(model: Net) -> Logits:
    """The model's logits for (N, 28, 28) float32 digits, on the CPU."""
    fast = for_inference(model)

    def run(digits: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return fast(torch.from_numpy(digits).unsqueeze(1)).numpy()
    return run


def zero_gpu_logits(model: Net, device: str = "cuda") -> Logits:
    """The logits on a Hugging Face ZeroGPU Space, as its documentation shows: the model is put on
    `cuda` at start-up, and only the batched model call runs inside a `@spaces.GPU` function,
    which gets the real GPU for its duration. CPU arrays go in and come out; preprocessing stays
    outside, on the CPU."""
    import spaces  # only here: the rest of the app, and every other host, never needs it

    fast = for_inference(model).to(device)

    @spaces.GPU(duration=ZERO_GPU_SECONDS)
    def run(digits: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return fast(torch.from_numpy(digits).to(device).unsqueeze(1)).float().cpu().numpy()
    return run


class Classifier:
    """Callable: float32 array (N, 28, 28) in [0, 1] -> (N, 11) calibrated probabilities of the
    contract's classes: the ten digits, then "not a digit"."""

    def __init__(self, model: Net, contract: Contract, logits: Logits | None = None) -> None:
        """`logits` runs the model (default: on the CPU; see zero_gpu_logits). `model` stays on the
        CPU for the saliency maps, which need gradients and are computed only on request."""
        self.model = model
        self.contract = contract
        self._logits = logits or cpu_logits(model)

    def __call__(self, digits: np.ndarray) -> np.ndarray:
        size = self.contract.input_size
        digits = np.asarray(digits, dtype=np.float32)
        if digits.ndim != 3 or digits.shape[1:] != (size, size):
            raise ValueError(f"expected an array of shape (N, {size}, {size}), got {digits.shape}")
        logits = torch.from_numpy(self._logits(digits))
        return torch.softmax(logits / self.contract.temperature, dim=1).numpy()

    @property
    def not_a_digit_above(self) -> float:
        """A "not a digit" probability over this refuses the image (the contract's, from held-out data)."""
        return self.contract.not_a_digit_above

    @cached_property
    def explainer(self) -> Explainer:
        return Explainer(self.model)

    def attributions(self, digits: np.ndarray, tops: np.ndarray, runner_ups: np.ndarray) -> np.ndarray:
        """Saliency of (N, 28, 28) digits (see saliency.py): (N, 2, 28, 28), how much each pixel
        raised the logit of its top class, and the top class's over the runner-up's."""
        return self.explainer(digits, tops, runner_ups)

    def logits(self, digits: np.ndarray) -> np.ndarray:
        """The model's logits for (N, 28, 28) digits (before calibration)."""
        return self._logits(np.asarray(digits, np.float32))


@lru_cache(maxsize=4)
def _load(path: str) -> Classifier:
    model, contract = load_weights(path)
    if contract.preprocessing_version != PREPROCESSING_VERSION:
        raise WeightsMismatchError(
            f"{path} was trained on preprocessing version {contract.preprocessing_version}, and this digitdraw "
            f"runs version {PREPROCESSING_VERSION}: retrain (the command is in the file: {contract.command}).")
    if os.environ.get("SPACES_ZERO_GPU"):  # set by Hugging Face on ZeroGPU hardware
        return Classifier(model, contract, zero_gpu_logits(model))
    return Classifier(model, contract)


def load_classifier(path: str | Path | None = None) -> Classifier:
    """The classifier with the weights at `path` (None: the shipped weights), loaded once.

    Raises WeightsMismatchError for weights made for another model or preprocessing.
    """
    return _load(str(Path(path or WEIGHTS_PATH).resolve()))
