"""A photo of a sheet (a note, a card, a page) lying on a darker surface: find the sheet, and read
it alone, so that the page is not taken for one big light shape on a dark background.

    found = read_sheet(gray)    # (the sheet's gray, its InkMap), or None: read the whole image
                                # NoDigitError: an empty page
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from .errors import NoDigitError
from .ink import EDGE_STEP, POLARITY_SIZE, InkMap, edge_step, extract_ink, otsu, ring
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
# ... but over 2%: a photographed surface is never black (the evaluation's darkest desk, in shadow:
# 5%), while a digital image's background is. A fat light digit on black passed for a sheet, and
# its holes for writing on it: 11 more of the evaluation's 16,000 MNIST crops read right this way.
SURFACE_BLACK = 0.02
# The sheet's blurred edge: its surround is read 2 thumbnail pixels off it.
EDGE_BLUR = 2
# Where the split of the light misses the sheet (a shadow across the photo darkens part of the page
# as much as a lit desk), the sheet is what a sharp edge (ink.EDGE_STEP) parts from its surround:
# of the evaluation's 500 desk photos, 8 were refused and 9 read wrong without it, 2 and 7 with it,
# and no other photo or scan reads differently (with a step of 0.15 the same; 0.25 refuses one
# more). A shadowed page over a desk at 60% of its brightness still steps by 0.25.
# The edge map is grown a pixel to close the gaps at a blurred corner; once the surround is cut out,
# the sheet is shrunk back by the edge's width, 2 pixels (grown 2: two more desk photos refused;
# shrunk 1: one more refused, 3: one more read wrong) ...
EDGE_GROW, EDGE_WIDTH = 1, 2
# Inside its edges, the sheet is what is as bright as the paper within 5 pixels (SHEET_CONTRAST): a
# sliver of desk between a page and the photo's edge is too thin to be a region of its own, and was
# read as a stroke on 2 of 10 empty pages (5 and 9 pixels read the same desk photos).
PAPER_WINDOW = 5
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


def _largest(mask: np.ndarray) -> np.ndarray | None:
    labels, count = ndimage.label(mask)
    return labels == 1 + int(np.argmax(np.bincount(labels.ravel())[1:])) if count else None


def _runs_across(mask: np.ndarray) -> bool:
    """Whether the mask touches two opposite sides of the image."""
    rows, cols = bounding_box(mask)
    return (rows.start == 0 and rows.stop == mask.shape[0]) or (cols.start == 0 and cols.stop == mask.shape[1])


def _bright_region(thumb: np.ndarray) -> np.ndarray | None:
    """The largest region on the bright side of an Otsu split of the thumbnail; None when that
    side holds most of the border (SHEET_RING)."""
    bright = thumb > otsu(thumb)
    return _largest(bright) if ring(bright).mean() < SHEET_RING else None


def _not_surround(thumb: np.ndarray) -> Iterator[np.ndarray | None]:
    """What sharp edges (EDGE_STEP) part from the surround, as bright as the paper near it
    (PAPER_WINDOW), for each of the two largest regions between edges: the surround is the largest,
    or the second where the sheet fills most of the photo."""
    edges = ndimage.binary_dilation(edge_step(thumb) > EDGE_STEP, iterations=EDGE_GROW)
    labels, _ = ndimage.label(~edges)
    for label in 1 + np.argsort(-np.bincount(labels.ravel())[1:])[:2]:
        inside = _largest(ndimage.binary_erosion(labels != label, iterations=EDGE_WIDTH, border_value=1))
        # Across the photo before the slivers go, which may be all of it that touches a side (a fat
        # light 1 filling a scan: its ink, read on it as a sheet, was its own outline, a 0).
        if inside is None or _runs_across(inside):
            continue
        paper = ndimage.maximum_filter(np.where(inside, thumb, 0), size=PAPER_WINDOW)
        yield _largest(inside & (thumb > (1 - SHEET_CONTRAST) * paper))


Sheet = tuple[tuple[slice, slice], np.ndarray, bool]


def _sheet(gray: np.ndarray, thumb: np.ndarray, step: int, paper: np.ndarray) -> Sheet | None:
    """`paper` (a region of the thumbnail, `step` pixels of `gray` a side) as a sheet on a darker
    surface: its box in `gray`, inset by SHEET_INSET, the sheet's mask inside that box, and whether
    it is shaped like a page (PAGE_ASPECT). None when it is not one."""
    if ring(paper).mean() >= SHEET_RING:
        return None
    filled = ndimage.binary_fill_holes(paper)
    rows, cols = bounding_box(filled)
    if filled.mean() < SHEET_MIN_AREA or _runs_across(filled):
        return None
    try:
        sheet, rectangularity, aspect = _convex_hull(filled)
    except QhullError:  # all in a line: no sheet
        return None
    if rectangularity < SHEET_RECTANGLE or filled.sum() < SHEET_PAPER * sheet.sum():
        return None
    surround = thumb[~ndimage.binary_dilation(sheet, iterations=EDGE_BLUR)]
    level = float(np.median(thumb[paper]))
    if surround.size == 0 or not SURFACE_BLACK <= float(np.median(surround)) <= (1 - SHEET_CONTRAST) * level:
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


def find_sheets(gray: np.ndarray) -> Iterator[Sheet]:
    """Sheets of paper on a darker surface (see _sheet), as the split of the light finds one, then
    as sharp edges part one from its surround; none when the border is mostly paper (QUICK_BORDER)."""
    if np.median(ring(gray)) >= QUICK_BORDER * np.percentile(gray[::4, ::4], QUICK_PERCENTILE):
        return
    step = -(-max(gray.shape) // POLARITY_SIZE)
    thumb = block_mean(gray, step)
    for paper in chain([_bright_region(thumb)], _not_surround(thumb)):
        if paper is not None and (sheet := _sheet(gray, thumb, step, paper)) is not None:
            yield sheet


def read_sheet(gray: np.ndarray) -> tuple[np.ndarray, InkMap] | None:
    """The sheet's gray (the surface around it painted over) and its ink, for the largest sheet found
    with writing on it: dark strokes, thin for the sheet (SHEET_STROKE). The largest, as the split
    of the light may find only the lit part of a note half in shadow, with the shadow's edge for a
    stroke (a 5 under such a bar, one of the evaluation's 500 desk photos, was refused while the
    first found was read). Otherwise None, and the whole image is read as before: what passes for a
    sheet may be a fat light digit, whose holes are blobs, or as wide as a marker stroke on a note
    (such digits were called blank on the sheet).

    Raises NoDigitError for a page-shaped sheet with nothing on it, when no other sheet found has
    writing: read whole, an empty page passes for one light blob, and the model refused only 57 of
    100 such photos (98 this way). (The lit part of a shadowed page may be empty; the page is not.)
    """
    empty = None
    for sheet in sorted(find_sheets(gray), key=lambda found: -found[1].sum()):
        try:
            read = _read_on_sheet(gray, *sheet)
        except NoDigitError as error:
            empty = error
            continue
        if read is not None:
            return read
    if empty is not None:
        raise empty
    return None


def _read_on_sheet(gray: np.ndarray, box: tuple[slice, slice], on_sheet: np.ndarray, page_shaped: bool
                   ) -> tuple[np.ndarray, InkMap] | None:
    """The sheet's gray and ink if there is writing on it (see read_sheet); NoDigitError for an empty page."""
    # Paint the surface over with the nearest sheet pixel: a flat colour would pass for a canvas.
    nearest = ndimage.distance_transform_edt(~on_sheet, return_distances=False, return_indices=True)
    paper = gray[box][tuple(nearest)]
    try:
        ink = extract_ink(paper, on_sheet=True)
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
