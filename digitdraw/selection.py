"""Choose the one digit among an image's marks: the largest ink group and the parts that belong
with it; specks, smudges and stray marks far from it are dropped.

    digit = select_digit(ink, marks)    # the digit's mask, the size of the ink map

Raises NoDigitError when what is left is too small, a dot, or nothing.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .errors import NoDigitError
from .lines import Marks
from .masks import EIGHT_NEIGHBOURS, bounding_box, box_size, stacked, stroke_width

# Strokes closer than 10% of the largest stroke's size belong to one digit (a 5's flag, a 4's bar).
GROUP_GAP = 0.1
# A group with at least half the main group's ink is part of the digit (a 4 drawn in two strokes).
GROUP_MASS_SHARE = 0.5
# Inside the digit, parts under 0.5% of its ink ...
SPECK_SHARE = 0.005
# ... or under 3 px are specks of dust or grain.
SPECK_PIXELS = 3
# A digit needs 8 ink pixels ...
MIN_DIGIT_PIXELS = 8
# ... and a side of 6 px ...
MIN_DIGIT_SIDE = 6
# ... and of 3% of the image: anything smaller is a speck.
MIN_DIGIT_SHARE = 0.03
# A digit is a stroke: its long side spans at least 2.5 stroke widths (a dot, a tap, spans 2).
MIN_DIGIT_STROKES = 2.5
# Only small blobs (under a quarter of the image) are dots: a big one is a digit drawn in a blot,
# left for the model (one MNIST test 8 is a solid blob).
DOT_SHARE = 0.25



def _belongs(groups: list[tuple[slice, slice] | None], main: int) -> np.ndarray:
    """For each group label (0 first), whether it is stacked over or under group `main` (masks.stacked)."""
    base = groups[main - 1]
    height = box_size(base)[0]
    over = np.zeros(len(groups) + 1, bool)
    for label, box in enumerate(groups, start=1):
        over[label] = box is not None and stacked(box, base, height)
    return over


def select_digit(ink: np.ndarray, marks: Marks) -> np.ndarray:
    """The digit's mask: the largest ink group and the parts that belong with it.

    Strokes closer than GROUP_GAP of the digit's size are grouped, so a digit drawn in several
    strokes stays whole, while specks, smudges and stray marks far from it are dropped.
    """
    full = marks.strokes
    box = bounding_box(full)
    if box is None:
        raise NoDigitError("No digit found — only ruled lines or faint marks.")
    mask, ink_in = full[box], ink[box]  # all the work happens inside the inked area
    labels, count = ndimage.label(mask, structure=EIGHT_NEIGHBOURS)
    pixels = np.bincount(labels.ravel(), minlength=count + 1)
    sizes = np.bincount(labels.ravel(), weights=ink_in.ravel(), minlength=count + 1)
    sizes[0] = 0
    largest = int(np.argmax(sizes))
    region = ndimage.find_objects(labels, max_label=largest)[largest - 1]
    gap = max(1, int(round(GROUP_GAP * max(box_size(region)))))
    # Grouping: parts whose gap to each other is below `gap` join one group. A part lies wholly
    # in one group, so the rest is decided part by part, not pixel by pixel.
    grouped, groups = ndimage.label(ndimage.maximum_filter(mask, size=gap + 1), structure=EIGHT_NEIGHBOURS)
    group_of = np.zeros(count + 1, grouped.dtype)
    group_of[labels[mask]] = grouped[mask]
    group_mass = np.bincount(group_of[1:], weights=sizes[1:], minlength=groups + 1)
    main = group_of[largest]
    keep = group_mass >= GROUP_MASS_SHARE * group_mass[main]
    keep |= _belongs(ndimage.find_objects(grouped), main)
    keep[main] = True
    kept = keep[group_of]
    kept[0] = False
    kept &= pixels >= max(SPECK_PIXELS, SPECK_SHARE * pixels[kept].sum())
    digit = kept[labels]
    inner = bounding_box(digit)
    if inner is None or digit.sum() < MIN_DIGIT_PIXELS or \
            max(box_size(inner)) < max(MIN_DIGIT_SIDE, MIN_DIGIT_SHARE * max(ink.shape)):
        raise NoDigitError("No digit found — only tiny specks. Draw the digit larger.")
    extent = max(box_size(inner))
    if extent < DOT_SHARE * max(ink.shape) and extent < MIN_DIGIT_STROKES * stroke_width(digit[inner]):
        raise NoDigitError("No digit found — only a dot. Draw the digit larger.")
    whole = np.zeros_like(full)
    whole[box] = digit
    return whole
