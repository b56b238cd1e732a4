"""Boolean masks of ink: which pixels are marks, their box, their stroke width, and the one rule
for "a short piece stacked over or under a taller one" that selection and segmentation share."""

from __future__ import annotations

import numpy as np

Box = tuple[slice, slice]

# Pixels touching by a side or a corner are one piece of ink (a stroke drawn diagonally stays whole).
EIGHT_NEIGHBOURS = np.ones((3, 3), bool)

# A pixel is ink for the masks when its strength is over this: a fifth of full ink, above the
# faint rim that anti-aliasing and JPEG leave around a stroke.
INK_THRESHOLD = 0.2
# A piece is stacked on another (a 5's flag, a 7's crossbar, half of a 4) when they share at
# least half of the narrower one's columns...
STACK_SHARE = 0.5
# ... and are at most half a digit's height apart (the dot of a stray "i" is further).
STACK_GAP = 0.5


def bounding_box(mask: np.ndarray) -> Box | None:
    """The smallest (rows, cols) slices holding every True pixel, None if there is none."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def box_size(box: Box) -> tuple[int, int]:
    """(height, width) of a box."""
    return box[0].stop - box[0].start, box[1].stop - box[1].start


# erode and dilate: scipy's binary_erosion/binary_dilation with their default cross and one
# iteration, pixel for pixel, by shifting the mask: on a digit-sized mask scipy's call costs
# 0.15-0.3 ms, most of it setting up, and these cost 0.02 ms (a fifth of the engine's time went there).


def erode(mask: np.ndarray) -> np.ndarray:
    """The pixels whose four side neighbours are all in `mask` (outside the image counts as out)."""
    out = mask.copy()
    out[1:] &= mask[:-1]
    out[:-1] &= mask[1:]
    out[:, 1:] &= mask[:, :-1]
    out[:, :-1] &= mask[:, 1:]
    out[:1] = out[-1:] = False
    out[:, :1] = out[:, -1:] = False
    return out


def dilate(mask: np.ndarray) -> np.ndarray:
    """`mask` grown by one pixel to each side (not diagonally)."""
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def outline(mask: np.ndarray) -> np.ndarray:
    """The mask's pixels that touch the outside by a side."""
    return mask & ~erode(mask)


def stroke_width(mask: np.ndarray) -> float:
    """Typical stroke thickness in pixels: area over half the outline length."""
    return float(2 * mask.sum() / max(outline(mask).sum(), 1))


def shared_columns(a: Box, b: Box) -> int:
    return min(a[1].stop, b[1].stop) - max(a[1].start, b[1].start)


def gap(a: Box, b: Box, axis: int) -> int:
    """Pixels between two boxes along an axis (0: rows, 1: columns); 0 where they overlap."""
    return max(a[axis].start - b[axis].stop, b[axis].start - a[axis].stop, 0)


def stacked(piece: Box, base: Box, height: float) -> bool:
    """Whether `piece` sits over or under `base`, for digits `height` px tall (see STACK_SHARE)."""
    narrower = min(box_size(piece)[1], box_size(base)[1])
    return shared_columns(piece, base) >= STACK_SHARE * narrower and gap(piece, base, 0) <= STACK_GAP * height
