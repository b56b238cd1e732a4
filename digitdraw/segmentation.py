"""Split the ink of a written number into its digits, left to right. No torch, no gradio.

    groups = segment(ink, marks)        # one boolean mask per digit candidate, left to right
    cuts = split_candidates(mask)       # ways to cut a group that may hold touching digits

Connected pieces of ink are grouped so that each digit's strokes stay together: a short piece
goes with the tall one it is stacked on (a 5's flag, a 7's crossbar, a 4 drawn in two strokes),
and pieces that almost touch are one (a broken stroke). Dots, specks and dashes far smaller than
the digits are dropped, and so are lines under them or along the page's edge.
A group much wider than a digit may be two or more digits that touch; `split_candidates` offers
cuts at the thinnest columns, and cuts.py keeps the cut the classifier is most sure of.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .errors import NoDigitError
from .lines import Marks
from .masks import EIGHT_NEIGHBOURS, Box, bounding_box, box_size, gap, shared_columns, stacked

# A short piece (under 60% of a digit's height: a 5's flag, a 7's crossbar, part of a 4) stacked
# over or under a tall one belongs with it (masks.stacked). Two tall pieces side by side are two
# digits, however they overhang.
STACK_SHORT = 0.6
# Pieces closer than 1.5% of a digit's height are one digit's broken stroke. Digits written close
# in a number may be joined here too: a group that comes out too wide is cut again.
NEAR_GAP = 0.015
# Pieces under 0.5% of the largest one's ink are dust: left out before grouping (a photo of
# grainy paper has thousands).
DUST_SHARE = 0.005
# The digit height is set by pieces with at least a fifth of the most ink: a long thin flick is not a digit.
HEAVY_SHARE = 0.2
# A group under 35% of a digit's height ...
STRAY_HEIGHT = 0.35
# ... with under 20% of a digit's ink is a dot, a dash or a speck, not a digit ("1" is tall; "-"
# in a phone number and a decimal point are not digits).
STRAY_MASS = 0.2
# A piece is a line, whatever its ink (an underline, the paper's edge, a shadow across a photo),
# when it is under 60% of a digit's height (touching digits are full height) ...
LINE_HEIGHT = 0.6
# ... and over 1.5 digits' heights wide (single digits are 0.35-1.5 times as wide as tall). It is
# dropped before grouping, so that it cannot join the digit it runs under. (Cut as a wide group,
# a shadow along a photo's edge came out as 19 "1"s.)
LINE_WIDTH = 1.5
# Pieces over 3 times as wide as tall do not set the digit height (no digit is; a dash is).
LINE_ASPECT = 3.0
# A group wider than 0.6 times its height may be digits that touch (single digits are 0.35-1.5
# as wide as tall, touching pairs 0.8-1.8); the classifier decides (cuts.py).
WIDE_ASPECT = 0.6
# Cuts are tried at the thinnest columns in its middle 70% (a digit is rarely narrower than 15%
# of a pair) ...
CUT_RANGE = 0.7
# ... at most 4 of them ...
MAX_CUTS = 4
# ... each at least a quarter of its height from the others (two cuts closer than that make the same parts).
CUT_SPACING = 0.25



def _digit_height(boxes: list[Box], masses: np.ndarray) -> float:
    """A digit's height: the tallest piece among those with at least a fifth of the most ink,
    lines (LINE_ASPECT) left out unless there is nothing else."""
    shaped = np.array([width <= LINE_ASPECT * height for height, width in map(box_size, boxes)])
    if shaped.any():
        boxes, masses = [box for box, keep in zip(boxes, shaped) if keep], masses[shaped]
    heavy = masses >= HEAVY_SHARE * masses.max()
    return float(max(box_size(box)[0] for box, keep in zip(boxes, heavy) if keep))


def _is_line(box: Box, height: float) -> bool:
    tall, wide = box_size(box)
    return tall < LINE_HEIGHT * height and wide > LINE_WIDTH * height


def _near(a: Box, b: Box, height: float) -> bool:
    return bool(np.hypot(gap(a, b, 0), gap(a, b, 1)) <= NEAR_GAP * height)


def _owner(piece: Box, tall: list[tuple[int, Box]], height: float) -> int | None:
    """The tall piece a short one belongs to: the one it is stacked on most, else one it nearly
    touches, else none."""
    on = [(shared_columns(piece, box), i) for i, box in tall if stacked(piece, box, height)]
    if on:
        return max(on)[1]
    near = [i for i, box in tall if _near(piece, box, height)]
    return near[0] if near else None


def segment(ink: np.ndarray, marks: Marks) -> list[np.ndarray]:
    """Masks of the digit candidates among the marks, left to right (ruled lines left out).

    Tall pieces (STACK_SHORT of a digit's height or more) anchor digits, and join each other only
    when they nearly touch; a short piece joins the one tall piece it belongs to (`_owner`), so a
    flag over two digits cannot join them. Raises NoDigitError when no ink is left.
    """
    labels, count = ndimage.label(marks.strokes, structure=EIGHT_NEIGHBOURS)
    if count == 0:
        raise NoDigitError("No digit found — only ruled lines or faint marks.")
    masses = np.bincount(labels.ravel(), weights=ink.ravel())[1:]
    kept = np.flatnonzero(masses >= DUST_SHARE * masses.max())
    boxes = [ndimage.find_objects(labels)[i] for i in kept]
    masses = masses[kept]
    height = _digit_height(boxes, masses)
    keep = np.array([not _is_line(box, height) for box in boxes])
    if keep.any():  # only lines: leave them to the stray rule and the single-digit path
        kept, masses, boxes = kept[keep], masses[keep], [box for box, k in zip(boxes, keep) if k]
    tall = [(i, box) for i, box in enumerate(boxes) if box_size(box)[0] >= STACK_SHORT * height]
    group_of = {i: i for i, _ in tall}
    for i, a in tall:  # tall pieces that nearly touch: one digit's broken stroke
        for j, b in tall:
            if j > i and _near(a, b, height):
                old, new = group_of[j], group_of[i]
                group_of = {k: new if g == old else g for k, g in group_of.items()}
    for i, box in enumerate(boxes):
        if i not in group_of:
            owner = _owner(box, tall, height)
            group_of[i] = i if owner is None else group_of[owner]
    groups: dict[int, list[int]] = {}
    for i in range(len(boxes)):
        groups.setdefault(group_of[i], []).append(i)
    masks = [np.isin(labels, kept[members] + 1) for members in groups.values()]
    group_mass = np.array([masses[members].sum() for members in groups.values()])
    typical = float(np.median(group_mass[group_mass >= HEAVY_SHARE * group_mass.max()]))
    digits = []
    for mask, mass in zip(masks, group_mass):
        rows = bounding_box(mask)[0]
        if rows.stop - rows.start < STRAY_HEIGHT * height and mass < STRAY_MASS * typical:
            continue
        digits.append(mask)
    return sorted(digits, key=lambda mask: ndimage.center_of_mass(mask)[1])


def is_wide(mask: np.ndarray) -> bool:
    """Whether a group is wide enough to be digits that touch (see WIDE_ASPECT)."""
    rows, cols = bounding_box(mask)
    return cols.stop - cols.start > WIDE_ASPECT * (rows.stop - rows.start)


def split_candidates(mask: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Ways to cut a wide group in two at a column: the thinnest columns of its middle first."""
    rows, cols = bounding_box(mask)
    height, width = rows.stop - rows.start, cols.stop - cols.start
    profile = mask[rows, cols].sum(axis=0).astype(np.float64)
    margin = int((1 - CUT_RANGE) / 2 * width)
    middle = np.arange(margin, width - margin)
    if middle.size == 0:
        return []
    cuts: list[int] = []
    for column in middle[np.argsort(profile[middle], kind="stable")]:
        if all(abs(column - c) >= CUT_SPACING * height for c in cuts):
            cuts.append(int(column))
        if len(cuts) == MAX_CUTS:
            break
    pairs = []
    for column in cuts:
        left = mask.copy()
        left[:, cols.start + column:] = False
        right = mask & ~left
        if left.any() and right.any():
            pairs.append((left, right))
    return pairs
