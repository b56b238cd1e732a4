"""A photo of a sheet (a note, a card, a page) lying on a darker surface: find the sheet, and read
it alone, so that the page is not taken for one big light shape on a dark background.

    found = read_sheet(gray)    # (the sheet's gray, its InkMap), or None: read the whole image
                                # NoDigitError: an empty page
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from .errors import NoDigitError
from .ink import POLARITY_SIZE, InkMap, extract_ink, otsu, ring
from .lines import find_marks
from .loading import block_mean
from .masks import bounding_box, box_size, outline, stroke_width
from .selection import MIN_DIGIT_STROKES, select_digit

# A quick test, for every image: a sheet's surround is under 60% as bright as the sheet, so a
# border over 75% as bright as the image's brightest tenth (paper, a canvas) is no surround ...
QUICK_BORDER = 0.75
# ... (the brightest tenth: the 90th percentile, robust to a few glints).
QUICK_PERCENTILE = 90
# A sheet is looked for when under half of the border is on the bright side of an Otsu split.
SHEET_RING = 0.5
# The largest bright region, holes filled, is a sheet if it covers 15% of the image ...
SHEET_MIN_AREA = 0.15
# ... is a quadrilateral: its convex hull fills 85% of the smallest rectangle around it at any
# angle (rendered sheets on desks: 97% at the median, 1 in 100 under 85% in perspective or cut by
# the photo's edge; an ellipse, a fat 0, fills 79%) ...
SHEET_RECTANGLE = 0.85
# ... (the rectangle is tried every 3 degrees: the area is off by under 1% at 1.5 degrees) ...
RECTANGLE_STEP = 3
# (a pixel centre on the hull's edge is inside it: half a pixel of rounding either way)
HULL_SLACK = 0.5
# ... does not run across the photo, touching two opposite sides: that is a lit band above a
# shadow. It may run off one side, or off a corner (kept to one side, 40 more of the evaluation's
# 500 desk photos read wrong) ...
# ... and its outline, holes filled, covers 80% of its hull: writing is a hole in the paper, and a
# fat digit covers a third of a small note (such notes were 69-79% paper), while a fat light
# digit's hull takes in the dark between its strokes, which is open to the outside (white-on-black
# MNIST crops then read on a "sheet": 12 of 2,667, against 11 when writing counted against the
# paper; the evaluation's desk photos read wrong: 22 of 500, against 28) ...
SHEET_PAPER = 0.8
# ... and what surrounds it is under 75% as bright (desks 10-71%, a light desk in shadow beside a
# lit page the brightest). A shadow darkens paper by 20-45%, and the lit band above one passes for
# a sheet on that alone, but it runs across the photo; with it ruled out, 75% read 4 more of the
# evaluation's 500 desk photos than 60% did, and no other photo differently.
SHEET_CONTRAST = 0.25
# The sheet's blurred edge: its surround is read 2 thumbnail pixels off it.
EDGE_BLUR = 2
# Its edge and the shadow along it are left out: the sheet is read from 4% of its short side inside.
SHEET_INSET = 0.04
# An empty sheet is a page if its rectangle's short side is half its long one or more (A4: 0.71; a
# sticky note: 1): a fat light 1 on black is a rectangle too, about a third as wide as it is tall.
PAGE_ASPECT = 0.5
# Writing on it is thinner than 15% of its short side (a USPS digit as tall as the page: ~11%).
SHEET_STROKE = 0.15


def _convex_hull(mask: np.ndarray) -> tuple[np.ndarray, float, float]:
    """The mask's convex hull, as a mask; the hull's area over that of the smallest rectangle
    around it; and that rectangle's short side over its long. The hull, not the mask: a stroke or a
    shadow across the sheet's edge bites into the bright region, and a small sheet's jagged outline
    is no measure of its shape."""
    ys, xs = np.nonzero(outline(mask))
    points = np.column_stack([xs, ys]).astype(float)
    hull = ConvexHull(points)
    angles = np.radians(np.arange(0, 90, RECTANGLE_STEP))[:, None]
    u = xs * np.cos(angles) + ys * np.sin(angles)
    v = ys * np.cos(angles) - xs * np.sin(angles)
    grid_y, grid_x = np.indices(mask.shape)
    pixels = np.column_stack([grid_x.ravel(), grid_y.ravel(), np.ones(mask.size)])
    inside = (pixels @ hull.equations.T <= HULL_SLACK).all(axis=1).reshape(mask.shape)
    sides = np.sort(np.column_stack([np.ptp(u, axis=1), np.ptp(v, axis=1)]), axis=1)
    smallest = int(np.argmin(sides.prod(axis=1)))
    return inside | mask, float(hull.volume / sides[smallest].prod()), float(sides[smallest, 0] / sides[smallest, 1])


def find_sheet(gray: np.ndarray) -> tuple[tuple[slice, slice], np.ndarray, bool] | None:
    """A sheet of paper on a darker surface (see SHEET_RING): its box in `gray`, inset by
    SHEET_INSET, the sheet's mask inside that box, and whether it is shaped like a page
    (PAGE_ASPECT). None when the border is mostly paper."""
    if np.median(ring(gray)) >= QUICK_BORDER * np.percentile(gray[::4, ::4], QUICK_PERCENTILE):
        return None
    step = -(-max(gray.shape) // POLARITY_SIZE)
    thumb = block_mean(gray, step)
    bright = thumb > otsu(thumb)
    if ring(bright).mean() >= SHEET_RING:
        return None
    labels, count = ndimage.label(bright)
    if count == 0:
        return None
    paper = labels == 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))
    filled = ndimage.binary_fill_holes(paper)
    rows, cols = bounding_box(filled)
    across = (rows.start == 0 and rows.stop == thumb.shape[0]) or (cols.start == 0 and cols.stop == thumb.shape[1])
    if filled.mean() < SHEET_MIN_AREA or across:
        return None
    try:
        sheet, rectangularity, aspect = _convex_hull(filled)
    except QhullError:  # all in a line: no sheet
        return None
    if rectangularity < SHEET_RECTANGLE or filled.sum() < SHEET_PAPER * sheet.sum():
        return None
    surround = thumb[~ndimage.binary_dilation(sheet, iterations=EDGE_BLUR)]
    level = float(np.median(thumb[paper]))
    if surround.size == 0 or float(np.median(surround)) > (1 - SHEET_CONTRAST) * level:
        return None
    full = np.repeat(np.repeat(sheet, step, 0), step, 1)
    full = np.pad(full, [(0, max(0, g - f)) for g, f in zip(gray.shape, full.shape)], mode="edge")[
        : gray.shape[0], : gray.shape[1]]  # a sliver thinner than a block is sampled, not averaged
    # The thumbnail's edge is a block off the sheet's, either way: step it inside, then the inset.
    inset = step + SHEET_INSET * step * min(box_size((rows, cols)))
    # The photo's edge counts as the sheet's edge: a sheet cut by it may run along it, just off the
    # photo, with a sliver of desk between the two that would be read as a stroke.
    inside = ndimage.distance_transform_edt(np.pad(full, 1))[1:-1, 1:-1] > inset
    box = bounding_box(inside)
    return (box, inside[box], aspect >= PAGE_ASPECT) if box is not None else None


def read_sheet(gray: np.ndarray) -> tuple[np.ndarray, InkMap] | None:
    """The sheet's gray (the surface around it painted over) and its ink, if there is a sheet with
    writing on it: dark strokes, thin for the sheet (SHEET_STROKE). Otherwise None, and the whole
    image is read as before: what passes for a sheet may be a fat light digit, whose holes are
    blobs, or as wide as a marker stroke on a note (such digits were called blank on the sheet).

    Raises NoDigitError for a page-shaped sheet with nothing on it: read whole, an empty page
    passes for one light blob, and the model refused only 57 of 100 such photos (98 this way).
    """
    found = find_sheet(gray)
    if found is None:
        return None
    box, on_sheet, page_shaped = found
    # Paint the surface over with the nearest sheet pixel: a flat colour would pass for a canvas.
    nearest = ndimage.distance_transform_edt(~on_sheet, return_distances=False, return_indices=True)
    paper = gray[box][tuple(nearest)]
    try:
        ink = extract_ink(paper)
    except NoDigitError:
        if page_shaped:  # an empty page: read whole, it would pass for one light blob
            raise NoDigitError("No digit found — the page is empty.") from None
        return None
    try:
        digit = select_digit(ink.ink, find_marks(ink.ink))
    except NoDigitError:
        return None
    inner = bounding_box(digit)
    extent, width = max(box_size(inner)), stroke_width(digit[inner])
    if not ink.dark_ink or extent < MIN_DIGIT_STROKES * width or width > SHEET_STROKE * min(paper.shape):
        return None
    return paper, ink
