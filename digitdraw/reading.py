"""Read an image: one digit's probabilities, or a written number digit by digit.

    predict(image)               # {"0": p0, ..., "9": p9}
    read_number(image)           # one such dict per digit, left to right
    read_number_steps(image)     # NumberReading: the page, its marks, and each digit's Reading

The image goes one way: preprocessing (page, marks) -> segmentation (groups) -> cuts (each group
read, touching digits cut) -> probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .cuts import Reading, cut_touching, read
from .inference import Classifier, load_classifier
from .lines import Marks, find_marks
from .model import DIGITS
from .preprocessing import Page, preprocess, read_page
from .segmentation import segment
from .selection import select_digit


@dataclass
class NumberReading:
    """A number read digit by digit: the page, its marks, and each digit's reading, left to right."""

    page: Page
    marks: Marks
    digits: list[Reading]

    @property
    def probabilities(self) -> np.ndarray:
        """(len(digits), 10)."""
        return np.stack([d.probabilities for d in self.digits])

    @property
    def number(self) -> str:
        return "".join(DIGITS[i] for i in self.probabilities.argmax(axis=1))


def probabilities_dict(row: np.ndarray) -> dict[str, float]:
    """One row of 10 probabilities as {"0": p0, ..., "9": p9}."""
    return dict(zip(DIGITS, map(float, row)))


def predict(image: Any) -> dict[str, float]:
    """Any image of one digit -> {"0": p0, ..., "9": p9}, probabilities summing to 1.

    Raises NoDigitError when there is no digit, InvalidImageError when the input can't be read.
    """
    return probabilities_dict(load_classifier()(preprocess(image)[None])[0])


def read_number_steps(image: Any, classifier: Classifier | None = None) -> NumberReading:
    """Every digit of a written number, left to right, with the steps that made each 28x28.

    The model reads each group and each candidate cut once, in one batch per round of cuts, and
    the answer reuses those readings. One digit is read exactly as `predict` reads it. Raises
    NoDigitError when there is no digit, InvalidImageError when the input can't be read.
    """
    classify = classifier or load_classifier()
    page = read_page(image)
    ink = page.ink.ink
    marks = find_marks(ink)
    digits = cut_touching(ink, segment(ink, marks), classify)
    if len(digits) <= 1:  # one digit: the single-digit path, strays and all
        mask = select_digit(ink, marks)
        if not digits or not np.array_equal(mask, digits[0].mask):
            digits = read(ink, [mask], classify)
    return NumberReading(page, marks, digits)


def read_number(image: Any) -> list[dict[str, float]]:
    """Each digit of a written number, left to right: {"0": p0, ..., "9": p9} summing to 1.

    Takes what `predict` takes; a single digit gives a list of one, equal to `predict`'s answer.
    Raises NoDigitError when there is no digit, InvalidImageError when the input can't be read.
    """
    return [probabilities_dict(d.probabilities) for d in read_number_steps(image).digits]
