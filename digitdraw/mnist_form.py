"""One digit's ink into MNIST's form. MNIST digits were cropped, fitted into a 20x20 box keeping
their aspect ratio (anti-aliased) and placed in 28x28 with their centre of mass at the centre,
white on black:

    steps = digit_steps(ink, mask)   # DigitSteps: crop (hairlines thickened), fitted, offset, result
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from .masks import INK_THRESHOLD, bounding_box, dilate, stroke_width

# The MNIST recipe: the digit's long side in the box ...
BOX_SIZE = 20
# ... and the canvas it is centred in.
CANVAS_SIZE = 28
# MNIST strokes are about 2-3 px thick in the 20 px box ...
TARGET_STROKE = 2.2
# ... clearly thinner input (under half of this) ...
THIN_SHARE = 0.5
# ... is thickened to 80% of it, so ordinary widths are never touched and nothing jumps.
THICKEN_TO = 0.8
# Thickening by a filter under 2 px would do nothing.
MIN_THICKENING = 2
# The fit crops to pixels over this: anti-aliasing fringes do not widen the box.
FIT_THRESHOLD = 0.05


@dataclass
class DigitSteps:
    """The MNIST recipe's steps for one digit, from its mask in the ink map to the 28x28."""

    mask: np.ndarray  # the digit's pixels in the ink map
    crop: np.ndarray  # its ink in its bounding box, hairlines thickened
    fitted: np.ndarray  # long side BOX_SIZE
    offset: tuple[int, int]  # where `fitted` sits in the result, (top, left)
    result: np.ndarray  # (CANVAS_SIZE, CANVAS_SIZE)


def crop_digit(ink: np.ndarray, digit: np.ndarray) -> np.ndarray:
    """The ink inside the digit's bounding box, with everything outside the digit erased."""
    box = bounding_box(digit)
    keep = dilate(digit[box])  # the anti-aliased rim belongs to it
    return np.where(keep, ink[box], 0).astype(np.float32)


def normalize_strokes(crop: np.ndarray) -> np.ndarray:
    """Thicken hairline strokes so they are about TARGET_STROKE px in the BOX_SIZE box."""
    target = TARGET_STROKE * max(crop.shape) / BOX_SIZE
    width = stroke_width(crop > INK_THRESHOLD)
    size = int(round(THICKEN_TO * target - width))
    if width >= THIN_SHARE * target or size < MIN_THICKENING:
        return crop
    return ndimage.maximum_filter(np.pad(crop, size), size=size)


def fit_in_box(crop: np.ndarray, box: int = BOX_SIZE) -> np.ndarray:
    """Resize keeping the aspect ratio so the long side is `box` px (anti-aliased)."""
    inked = bounding_box(crop > FIT_THRESHOLD)
    if inked is not None:
        crop = crop[inked]
    h, w = crop.shape
    scale = box / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = Image.fromarray(crop.astype(np.float32), mode="F").resize(size, Image.Resampling.BILINEAR)
    return np.clip(np.asarray(resized), 0, 1)


def mass_offset(digit: np.ndarray, size: int = CANVAS_SIZE) -> tuple[int, int]:
    """Where the digit's top-left corner goes so its centre of mass lands at the canvas centre."""
    h, w = digit.shape
    rows, cols = digit.sum(axis=1, dtype=np.float64), digit.sum(axis=0, dtype=np.float64)
    total = float(rows.sum())
    if total > 0:  # ndimage.center_of_mass, without its 0.1 ms of setting up
        cy, cx = np.arange(h) @ rows / total, np.arange(w) @ cols / total
    else:
        cy, cx = (h - 1) / 2, (w - 1) / 2
    top = int(np.clip(round(size / 2 - 0.5 - cy), 0, size - h))
    left = int(np.clip(round(size / 2 - 0.5 - cx), 0, size - w))
    return top, left


def place(digit: np.ndarray, offset: tuple[int, int], size: int = CANVAS_SIZE) -> np.ndarray:
    """The digit on a size x size black canvas, its top-left corner at `offset`."""
    top, left = offset
    canvas = np.zeros((size, size), np.float32)
    canvas[top: top + digit.shape[0], left: left + digit.shape[1]] = digit
    return canvas


def digit_steps(ink: np.ndarray, mask: np.ndarray) -> DigitSteps:
    """One digit of the ink map (its mask) through the MNIST recipe: crop, fit, centre."""
    crop = normalize_strokes(crop_digit(ink, mask))
    fitted = fit_in_box(crop)
    offset = mass_offset(fitted)
    return DigitSteps(mask, crop, fitted, offset, place(fitted, offset))
