"""The marks of an ink map, and the ruled or squared paper's lines among them.

    marks = find_marks(ink)     # Marks: .pixels (ink over INK_THRESHOLD), .lines, .strokes

A line is straight, crosses the image, and is paler or thinner than the digit's strokes (or one
of many: squared paper). Where a stroke crosses a line, the stroke's pixels stay.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .masks import EIGHT_NEIGHBOURS, INK_THRESHOLD, bounding_box, dilate, stroke_width

# A ruled line spans at least 85% of the image ...
RULE_SPAN = 0.85
# ... in one run over 70% of it ...
RULE_STRAIGHT = 0.7
# ... once gaps up to 3% of the width are bridged (a thin line shrunk to half a pixel breaks up).
RULE_GAP = 0.03
# Images narrower than 20 px have no ruled lines to find (a tight crop of one digit).
RULE_MIN_LENGTH = 20
# Lines are looked for at tilts up to 10 degrees: a page photographed at an angle ...
RULE_MAX_TILT = 10
# ... in 1-degree steps: a line at half a step off still lies within the 3-row band it is found in.
RULE_TILT_STEP = 1
# A line may wander by a pixel: its rows are looked at 3 at a time.
RULE_WANDER = 3
# A line is at most 5 px ...
RULE_THICKNESS = 5
# ... or 4% of the image thick: inside a fat stroke every row is a "run".
RULE_THICKNESS_SHARE = 0.04
# A line that runs with the digit's strokes is the digit's own (a tight-cropped 7's bar, a 1's
# foot), unless it is paler (under 70% of the digit's ink) ...
RULE_PALER = 0.7
# ... or thinner (under 60% of its stroke width): printed rules are fainter and finer than pen.
RULE_THINNER = 0.6
# Three or more lines at one tilt are ruled or squared paper, whatever their ink.
RULE_MANY = 3
# Tilts searched one after another in each direction: printed lines, then a line at another
# angle (a margin beside a digit's upright stroke).
RULE_TILTS = 2


@dataclass
class Marks:
    """The pixels with ink over INK_THRESHOLD, and the ruled lines among them."""

    pixels: np.ndarray
    lines: np.ndarray

    @property
    def strokes(self) -> np.ndarray:
        """The marks that are not ruled lines: the digits, and any specks or stray marks."""
        return self.pixels & ~self.lines


def _tilted_rows(shape: tuple[int, int], degrees: float) -> np.ndarray:
    """Row index of each pixel when rows are tilted by `degrees` (a shear: cheap, and at 10 degrees
    a line's thickness is off by 1.5%)."""
    h, w = shape
    rise = np.round((np.arange(w) - w / 2) * np.tan(np.radians(degrees))).astype(int)
    return np.arange(h)[:, None] + rise[None, :]


def _runs_at_best_tilt(faint: np.ndarray, ink: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The straight runs at the one tilt that concentrates `faint` most, and the pixels they cover."""
    h, w = ink.shape
    padded = np.pad(faint, ((h, h), (0, 0)))  # room for the shear

    def sheared(degrees: float) -> np.ndarray:
        return padded[np.clip(_tilted_rows(ink.shape, degrees) + h, 0, 3 * h - 1), np.arange(w)]

    tilts = np.arange(-RULE_MAX_TILT, RULE_MAX_TILT + RULE_TILT_STEP, RULE_TILT_STEP)
    tilt = max(tilts, key=lambda t: float(np.square(sheared(t).sum(axis=1, dtype=np.int64)).sum()))
    level = ndimage.maximum_filter1d(sheared(tilt), RULE_WANDER, axis=0)
    bridge = max(1, int(RULE_GAP * w))
    bridged = ndimage.minimum_filter1d(ndimage.maximum_filter1d(level, bridge, axis=1), bridge, axis=1)
    straight = ndimage.minimum_filter1d(bridged, int(RULE_STRAIGHT * w), axis=1).any(axis=1)
    first, last = level.argmax(axis=1), w - 1 - level[:, ::-1].argmax(axis=1)
    covered = straight & (last - first + 1 >= RULE_SPAN * w)
    bands, count = ndimage.label(covered)
    rows = _tilted_rows(ink.shape, -tilt)  # the sheared row each pixel lands in
    found, swept = [], np.zeros_like(faint)
    slack = RULE_WANDER - 1  # the rows the wander window added to the band
    for band in ndimage.find_objects(bands):
        if band[0].stop - band[0].start - slack > max(RULE_THICKNESS, RULE_THICKNESS_SHARE * h):
            continue  # inside a fat stroke every row is covered
        inside = dilate((rows >= band[0].start) & (rows < band[0].stop))
        swept |= inside
        found.append(inside & (ink > INK_THRESHOLD))
    return [line for line in found if line.any()], swept


def _straight_runs(ink: np.ndarray) -> list[list[np.ndarray]]:
    """Masks of the straight, near-horizontal lines that cross the image's width, one list per tilt.

    A line is a band of rows, at the tilt that concentrates the ink most, in which any ink (even
    fainter than a mark) runs straight across (RULE_SPAN, RULE_STRAIGHT, RULE_GAP), and which is
    at most RULE_THICKNESS thick. Once lines are found at one tilt, the rest of the ink is searched
    once more (RULE_TILTS): a digit's own straight stroke can outweigh a thin margin line beside it.
    """
    h, w = ink.shape
    faint = ink > 0
    box = bounding_box(faint)
    if w < RULE_MIN_LENGTH or box is None or box[1].stop - box[1].start < RULE_SPAN * w:
        return []  # nothing spans the image, so there is no ruled line
    families = []
    for _ in range(RULE_TILTS):
        runs, swept = _runs_at_best_tilt(faint, ink)
        if not runs:
            break
        families.append(runs)
        faint = faint & ~swept
    return families


def _is_paper_line(line: np.ndarray, rest: np.ndarray, ink: np.ndarray, count: int) -> bool:
    """Whether one straight run is a printed line rather than a stroke of the digit (see RULE_PALER)."""
    if count >= RULE_MANY or not rest.any():
        return count >= RULE_MANY
    paler = float(ink[line].mean()) < RULE_PALER * float(np.median(ink[rest]))
    thickness = line.sum() / max(int(line.any(axis=0).sum()), 1)
    return paler or thickness < RULE_THINNER * stroke_width(rest)


def ruled_lines(marks: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Ruled or squared paper's lines through the marks, as a mask of the pixels to drop.

    Lines are found along the rows and along the columns. Where a stroke of the digit crosses a
    line, or runs inside it for a while, the digit's ink lies within the line's thickness of the
    line's pixels: those that join it stay.
    """
    families = _straight_runs(ink) + [[run.T for run in runs] for runs in _straight_runs(ink.T)]
    if not families:
        return np.zeros_like(marks)
    rest = marks & ~np.logical_or.reduce([run for runs in families for run in runs])  # all but the lines
    paper = [run for runs in families for run in runs if _is_paper_line(run, rest, ink, len(runs))]
    if not paper:
        return np.zeros_like(marks)
    thickness = max(run.sum() / max(int(run.any(axis=0).sum()), int(run.any(axis=1).sum()), 1) for run in paper)
    lines = np.logical_or.reduce(paper)
    # A straight stroke of the digit may have passed for a line and then been judged the digit's
    # own (a 7's stem, upright at a tilt): it is digit, and the crossings along it stay.
    digit = marks & ~lines
    near = lines & ndimage.maximum_filter(digit, size=2 * int(np.ceil(thickness)) + 3)
    return lines & ~ndimage.binary_propagation(digit, structure=EIGHT_NEIGHBOURS, mask=digit | near)


def find_marks(ink: np.ndarray) -> Marks:
    """The ink map's marks and the ruled lines among them."""
    pixels = ink > INK_THRESHOLD
    return Marks(pixels, ruled_lines(pixels, ink))
