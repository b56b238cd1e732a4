"""Load the shipped weights once and turn images into calibrated digit probabilities."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from . import segmentation
from .model import Net, for_inference, load_weights
from .paths import shipped
from .preprocessing import (
    CANVAS_SIZE,
    PREPROCESSING_VERSION,
    DigitSteps,
    Page,
    bounding_box,
    digit_steps,
    preprocess,
    read_page,
    select_digit,
)
from .saliency import Explainer

WEIGHTS_PATH = shipped("weights") / "digitdraw.safetensors"
CLASSES = tuple(str(d) for d in range(10))
# A group is cut in two when its parts, each read on its own, are about as sure as the whole or
# surer, the wider it is the more so. Sureness is -log(1 - top probability); the less sure
# part's must beat the whole's less 2 per unit of width over height above 0.6, and both parts
# must be read at 95% or more (an unsure digit otherwise falls apart into unsure pieces). Chosen
# on 180 numbers of 1-6 digits by the training writers: against the first fit (slope 3, parts at
# 90%), exact match went from 95% to 98% with ordinary spacing, from 88% to 90% nearly touching
# and from 58% to 57% with the digits' ink overlapping (with the shipped weights: 93% to 95%, 87%
# to 88%, and 58% both). A part of a cut is looked at
# again only if it is still wider than tall (three digits touching): otherwise a 7 or an 8 gets
# cut into slivers, which read as confident 1s. Cuts are looked for at most 5 times.
CUT_FROM_ASPECT, CUT_SLOPE, CUT_PARTS_SURE, RECUT_ASPECT, MAX_CUT_ROUNDS = 0.6, 2.0, 0.95, 1.0, 5
# A group 1.8 times as wide as it is tall is always cut, at the cut whose parts read surest: 1
# in 1000 of the training writers' digits is even 1.64 times as wide (at 1.5, 3 in 1000 were cut).
MUST_CUT_ASPECT = 1.8
# A cut's parts are not even read when the group is no wider than tall and read so surely that
# both parts would need a sureness over 7 (each at 99.9%). On 1,518 wide groups in the training
# writers' numbers, drawn and photographed, no such cut was kept, and half the groups were spared
# reading 2-8 parts. Wider groups are always tried: two 8s that touch can read as one 8 at 99.9996%
# (seen in the held-out numbers, where a bar of 8 for all groups lost 2 of 1,200).
CUT_HOPELESS = 7.0
# A ZeroGPU call's reserved GPU time, s: a batch of 16 digits takes milliseconds, and a short
# duration gets a visitor's request a better place in ZeroGPU's queue.
ZERO_GPU_SECONDS = 5


def cpu_logits(model: Net) -> Callable[[np.ndarray], np.ndarray]:
    """The model's logits for (N, 28, 28) float32 digits, on the CPU."""
    fast = for_inference(model)

    def run(digits: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return fast(torch.from_numpy(digits).unsqueeze(1)).numpy()
    return run


def zero_gpu_logits(model: Net, device: str = "cuda") -> Callable[[np.ndarray], np.ndarray]:
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
    """Callable: float32 array (N, 28, 28) in [0, 1] -> (N, 10) calibrated probabilities."""

    def __init__(self, model: Net, temperature: float, metadata: dict[str, str],
                 logits: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        """`logits` runs the model (default: on the CPU; see zero_gpu_logits). `model` stays on the
        CPU for the saliency maps, which need gradients and are computed only on request."""
        self.model = model
        self.temperature = temperature
        self.metadata = metadata
        self._logits = logits or cpu_logits(model)

    def __call__(self, digits: np.ndarray) -> np.ndarray:
        digits = np.asarray(digits, dtype=np.float32)
        if digits.ndim != 3 or digits.shape[1:] != (CANVAS_SIZE, CANVAS_SIZE):
            raise ValueError(f"expected an array of shape (N, {CANVAS_SIZE}, {CANVAS_SIZE}), got {digits.shape}")
        logits = torch.from_numpy(self._logits(digits))
        return torch.softmax(logits / self.temperature, dim=1).numpy()

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
    model, metadata = load_weights(path)
    trained_on = metadata.get("preprocessing_version")
    if trained_on is not None and trained_on != PREPROCESSING_VERSION:
        warnings.warn(f"{path} was trained on preprocessing version {trained_on}, this is version "
                      f"{PREPROCESSING_VERSION}: its accuracy may be lower than measured.", stacklevel=3)
    temperature = float(metadata.get("temperature", 1.0))
    if os.environ.get("SPACES_ZERO_GPU"):  # set by Hugging Face on ZeroGPU hardware
        return Classifier(model, temperature, metadata, zero_gpu_logits(model))
    return Classifier(model, temperature, metadata)


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


@dataclass
class NumberReading:
    """A number read digit by digit: the page, each digit's steps, and their probabilities."""

    page: Page
    digits: list[DigitSteps]  # left to right
    probabilities: np.ndarray  # (len(digits), 10)

    @property
    def number(self) -> str:
        return "".join(CLASSES[i] for i in self.probabilities.argmax(axis=1))


PARTS_SURE = -np.log(1 - CUT_PARTS_SURE)


# id of a mask -> the mask, its steps and its probabilities. The mask is kept so that its id is
# not reused by a later array while the readings are in use.
Readings = dict[int, tuple[np.ndarray, DigitSteps, np.ndarray]]


def _read(ink: np.ndarray, masks: list[np.ndarray], classifier: Classifier, readings: Readings) -> None:
    """Put the masks not yet read through the recipe and the model, in one batch, into `readings`."""
    new = [mask for mask in {id(m): m for m in masks}.values() if id(mask) not in readings]
    if new:
        steps = [digit_steps(ink, mask) for mask in new]
        for mask, step, row in zip(new, steps, classifier(np.stack([s.result for s in steps]))):
            readings[id(mask)] = (mask, step, row)


def _cut_touching(ink: np.ndarray, groups: list[np.ndarray], classifier: Classifier,
                  readings: Readings) -> list[np.ndarray]:
    """Cut the wide groups where the classifier is surer of two digits than of one (CUT_* above).

    Every group and candidate part is read once, into `readings`: the final answer reuses them.
    Candidates are read only for groups whose bar a cut could clear (CUT_HOPELESS).
    """
    def sure(mask: np.ndarray) -> float:
        return float(-np.log(np.clip(1 - readings[id(mask)][2].max(), 1e-6, 1)))

    def bar(group: np.ndarray) -> float:
        """How sure both parts of a cut must be for the cut to be kept."""
        aspect = _aspect(group)
        if aspect > MUST_CUT_ASPECT:
            return -np.inf
        return max(sure(group) - CUT_SLOPE * (aspect - CUT_FROM_ASPECT), PARTS_SURE)

    def worth_trying(group: np.ndarray) -> bool:
        """Groups wider than tall always; narrower wide ones on their first look, where a cut can clear the bar."""
        if not segmentation.is_wide(group):
            return False
        return _aspect(group) > RECUT_ASPECT or (id(group) not in cut and bar(group) < CUT_HOPELESS)

    cut: set[int] = set()  # ids of the groups that are parts of a cut
    for _ in range(MAX_CUT_ROUNDS):
        _read(ink, groups, classifier, readings)
        tried = [i for i, group in enumerate(groups) if worth_trying(group)]
        options = {i: segmentation.split_candidates(groups[i]) for i in tried}
        options = {i: cuts for i, cuts in options.items() if cuts}
        _read(ink, [part for cuts in options.values() for pair in cuts for part in pair], classifier, readings)
        chosen = {}
        for i, cuts in options.items():
            scores = [min(sure(left), sure(right)) for left, right in cuts]
            best = int(np.argmax(scores))
            if scores[best] > bar(groups[i]):
                chosen[i] = cuts[best]
        if not chosen:
            return groups
        cut |= {id(part) for parts in chosen.values() for part in parts}
        groups = [part for i, group in enumerate(groups) for part in (chosen[i] if i in chosen else (group,))]
    _read(ink, groups, classifier, readings)
    return groups


def _aspect(mask: np.ndarray) -> float:
    rows, cols = bounding_box(mask)
    return (cols.stop - cols.start) / (rows.stop - rows.start)


def read_number_steps(image: Any, classifier: Classifier | None = None) -> NumberReading:
    """Every digit of a written number, left to right, with the steps that made each 28x28.

    The model reads each group and each candidate cut once, in one batch per round of cuts, and
    the answer reuses those readings. One digit is read exactly as `predict` reads it. Raises
    NoDigitError when there is no digit, InvalidImageError when the input can't be read.
    """
    classifier = classifier or load_classifier()
    page = read_page(image)
    ink = page.ink.ink
    readings: Readings = {}
    groups = _cut_touching(ink, segmentation.segment(ink), classifier, readings)
    if len(groups) <= 1:  # one digit: the single-digit path, strays and all
        digit = select_digit(ink).digit
        groups = groups if groups and np.array_equal(digit, groups[0]) else [digit]
        _read(ink, groups, classifier, readings)
    return NumberReading(page, [readings[id(g)][1] for g in groups], np.stack([readings[id(g)][2] for g in groups]))


def read_number(image: Any) -> list[dict[str, float]]:
    """Each digit of a written number, left to right: {"0": p0, ..., "9": p9} summing to 1.

    Takes what `predict` takes; a single digit gives a list of one, equal to `predict`'s answer.
    Raises NoDigitError when there is no digit, InvalidImageError when the input can't be read.
    """
    return [probabilities_dict(row) for row in read_number_steps(image).probabilities]
