"""Read an image: one digit's probabilities, or a written number digit by digit.

    predict(image)               # {"0": p0, ..., "9": p9}
    read_number(image)           # one such dict per digit, left to right
    read_number_steps(image)     # NumberReading: the page, its marks, each digit's Reading

The image goes one way: preprocessing (page, marks) -> segmentation (groups) -> cuts (each group
read, touching digits cut) -> probabilities. A group the model reads as "not a digit" is dropped;
an image with nothing else raises NotADigitError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .cuts import MAX_CUT_ROUNDS, Reading, cut_touching, read
from .errors import NotADigitError
from .inference import Classifier, load_classifier
from .lines import Marks, find_marks
from .loading import drawing_strokes
from .masks import dilate
from .model import DIGITS
from .preprocessing import Page, read_page, trace
from .segmentation import segment
from .selection import select_digit

NOT_A_DIGIT = "That doesn't look like a digit."
NOT_A_NUMBER = "That doesn't look like a digit or a number."
# A digit is drawn with a pen path at most 5 times its size (the 1,498 held-out pendigits digits:
# 4.96 at most; numbers of 2-6 of them side by side, 0.15 of their height apart: 5.6 at most); a
# scribble goes over itself: 99% of 600 drawn tangles are over 7 times, and the 12 of them the
# weights of 2026-12-03 read as a sure 8, loops whose pixels are an 8's, 8.4 times or more. Coils
# and hatching are shorter (about 56% and 68% of them over 7): the model itself learns those.
RETRACED_PATH = 7
# A coil is shorter for its size, but it winds round: one stroke turning 4 times or more the same
# way (the 7,494 pendigits digits of all 30 writers: 3.3 times at most, an 8 drawn as two loops
# turning the same way, and 99.9% under 2.9; negatives.py's coils: 4 to 10). Fat ones merge into
# one bar, which the model reads as a sure 1 (3 of the evaluation's 1,000 drawn scribbles).
COILED_TURNS = 4
# A turn sharper than 120 degrees is a cusp, where the pen goes back over its stroke: which way it
# turned is not known, so it counts neither way.
CUSP = np.radians(120)


@dataclass
class NumberReading:
    """A number read digit by digit: the page, its marks, each digit's reading (left to right), and
    the groups that were read as not digits and dropped."""

    page: Page
    marks: Marks
    digits: list[Reading]
    dropped: list[Reading] = field(default_factory=list)

    @property
    def probabilities(self) -> np.ndarray:
        """(len(digits), 10): each digit's probabilities, given that it is a digit."""
        return np.stack([d.digit_probabilities for d in self.digits])

    @property
    def number(self) -> str:
        return "".join(DIGITS[i] for i in self.probabilities.argmax(axis=1))


def probabilities_dict(row: np.ndarray) -> dict[str, float]:
    """One row of 10 probabilities as {"0": p0, ..., "9": p9}."""
    return dict(zip(DIGITS, map(float, row)))


def predict(image: Any) -> dict[str, float]:
    """Any image of one digit -> {"0": p0, ..., "9": p9}, probabilities summing to 1.

    Raises NoDigitError when there is no digit (NotADigitError when what is there is not one),
    InvalidImageError when the input can't be read.
    """
    return probabilities_dict(read_digit_steps(image).digits[0].digit_probabilities)


def read_number_steps(image: Any, classifier: Classifier | None = None, cut: bool = True) -> NumberReading:
    """Every digit of a written number, left to right, with the steps that made each 28x28.

    The model reads each group and each candidate cut once, in one batch per round of cuts, and
    the answer reuses those readings; without `cut` (a live reading while a stroke is drawn) digits
    that touch are left as they are. One digit is read exactly as `predict` reads it. Raises
    NoDigitError when there is no digit (NotADigitError when nothing there is one),
    InvalidImageError when the input can't be read.
    """
    classify = classifier or load_classifier()
    page = read_page(image)
    ink = page.ink.ink
    marks = find_marks(ink)
    readings = cut_touching(ink, segment(ink, marks), classify, classify.not_a_digit_above, MAX_CUT_ROUNDS if cut else 0)
    if len(readings) <= 1:  # one digit: the single-digit path, strays and all
        mask = select_digit(ink, marks)
        if not readings or not np.array_equal(mask, readings[0].mask):
            readings = read(ink, [mask], classify)
    digits = [r for r in readings if r.not_a_digit <= classify.not_a_digit_above]
    if not digits:
        raise NotADigitError(NOT_A_NUMBER if len(readings) > 1 else NOT_A_DIGIT)
    return NumberReading(page, marks, digits, [r for r in readings if r not in digits])


def read_digit_steps(image: Any, classifier: Classifier | None = None) -> NumberReading:
    """The one digit of an image, read as `predict` reads it, as a NumberReading of one digit."""
    classify = classifier or load_classifier()
    steps = trace(image)
    reading = Reading(steps.digit, classify(steps.result[None])[0])
    if reading.not_a_digit > classify.not_a_digit_above:
        raise NotADigitError(NOT_A_DIGIT)
    return NumberReading(steps.page, steps.marks, [reading])


def retraced(strokes: list[np.ndarray], mask: np.ndarray) -> bool:
    """Whether the pen path drawn in the digit's `mask` (its segments' midpoints in it) is over
    RETRACED_PATH times the size of what it covers, or a stroke of it winds round COILED_TURNS
    times: a scribble, whatever the model reads in it."""
    inside = dilate(mask)  # the rim of a thin stroke's ink
    length, ends, turns = 0.0, [], 0.0
    for stroke in strokes:
        middles = np.rint((stroke[1:] + stroke[:-1]) / 2).astype(int)
        middles = np.clip(middles, 0, np.array(mask.shape[::-1]) - 1)
        hit = inside[middles[:, 1], middles[:, 0]]
        length += float(np.linalg.norm(np.diff(stroke, axis=0), axis=1)[hit].sum())
        ends += [stroke[1:][hit], stroke[:-1][hit]]
        turns = max(turns, winding(stroke, hit))
    points = np.concatenate(ends) if ends else np.empty((0, 2))
    if len(points) == 0:
        return False
    return length > RETRACED_PATH * max(float(np.ptp(points, axis=0).max()), 1.0) or turns >= COILED_TURNS


def winding(stroke: np.ndarray, segments: np.ndarray) -> float:
    """How many times the stroke's chosen `segments` (a mask over them) turn round, net of turns
    the other way: a 0 turns once, an 8 about none, a coil many times. Cusps (CUSP) left out."""
    steps = np.diff(stroke, axis=0)
    moving = segments & (np.abs(steps).sum(axis=1) > 0)  # a repeated point has no heading
    heading = np.arctan2(steps[moving, 1], steps[moving, 0])
    turn = (np.diff(heading) + np.pi) % (2 * np.pi) - np.pi
    return abs(float(turn[np.abs(turn) < CUSP].sum())) / (2 * np.pi)


def retraced_digits(image: Any, reading: NumberReading) -> list[bool]:
    """For a drawing (its strokes known), whether each digit read from it was drawn over itself, or
    the whole drawing was: a scribble cut into parts (two loops each read as an 8) is one."""
    if not isinstance(image, dict):
        return [False] * len(reading.digits)
    strokes, _, _ = drawing_strokes(image)
    whole = retraced(strokes, np.ones_like(reading.digits[0].mask))
    return [whole or retraced(strokes, digit.mask) for digit in reading.digits]


def read_number(image: Any) -> list[dict[str, float]]:
    """Each digit of a written number, left to right: {"0": p0, ..., "9": p9} summing to 1.

    Takes what `predict` takes; a single digit gives a list of one, equal to `predict`'s answer.
    Raises NoDigitError when there is no digit, InvalidImageError when the input can't be read.
    """
    return [probabilities_dict(d.digit_probabilities) for d in read_number_steps(image).digits]
