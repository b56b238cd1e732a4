"""Pictures and captions of how an image was read, for the app's "How it was read". No torch, no gradio.

    steps = page_steps(page, marks, masks)       # input, ink map, what was kept and dropped
    steps += digit_pictures(digit_steps)         # per digit: crop, 20x20 fit, centred in 28x28
    heat = heatmap(digit, attribution)           # a saliency map over the 28x28 the model read

Every picture is drawn from what the pipeline itself made (preprocessing.Page, lines.Marks,
mnist_form.DigitSteps): nothing here recomputes a step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from .lines import Marks
from .loading import to_grayscale
from .masks import EIGHT_NEIGHBOURS
from .mnist_form import BOX_SIZE, CANVAS_SIZE, DigitSteps
from .preprocessing import Page

PICTURE_SIDE = 160  # the long side of the page pictures, px: small enough for six in a row
# The digit's own pictures (its crop when small, its 20x20 fit, the 28x28, the saliency maps) are
# sent at their own pixels: the page scales them by whole factors, every pixel a square.
DIGIT_COLOURS = np.array([(255, 255, 255), (255, 214, 102), (130, 220, 255), (180, 255, 160), (255, 160, 220)], np.uint8)
DROPPED_RGB = np.array((255, 120, 40), np.uint8)  # specks and stray marks
LINE_RGB = np.array((70, 140, 255), np.uint8)  # ruled lines
HEAT_GAIN = 0.9  # share of the strongest attribution's colour at full strength


@dataclass
class Picture:
    name: str
    caption: str
    image: np.ndarray  # (H, W, 3) uint8


def _gray_rgb(values: np.ndarray) -> np.ndarray:
    g = (np.clip(values, 0, 1) * 255).astype(np.uint8)
    return np.stack([g, g, g], axis=-1)


def _fit(image: np.ndarray, side: int = PICTURE_SIDE, nearest: bool = False) -> np.ndarray:
    """Scale an RGB picture so its long side is `side` px."""
    h, w = image.shape[:2]
    scale = side / max(h, w)
    if scale == 1:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    method = Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(image).resize(size, method))


def _count(mask: np.ndarray) -> int:
    return int(ndimage.label(mask, structure=EIGHT_NEIGHBOURS)[1])


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def page_steps(page: Page, marks: Marks, masks: list[np.ndarray], not_digits: list[np.ndarray] = ()) -> list[Picture]:
    """The input as received, the ink map, and the digits kept among everything that was dropped
    (specks, stray marks, ruled lines, and the groups the model read as not digits)."""
    image = page.image
    received = np.asarray(image.convert("RGB")) if isinstance(image, Image.Image) else _gray_rgb(to_grayscale(image))
    h, w = received.shape[:2]
    pictures = [Picture("input", f"as received: {w}x{h} px", _fit(received))]

    ink = page.ink
    background = "a flat background" if ink.flat else "paper: its shading evened out"
    if page.on_sheet:
        background = "read on the sheet, not the darker surface around it; " + background
    polarity = "dark ink on a light background" if ink.dark_ink else "light ink on a dark background: inverted"
    pictures.append(Picture("ink", f"{polarity}; {background}", _fit(_gray_rgb(ink.ink))))

    kept = np.zeros_like(marks.pixels)
    picture = np.zeros(marks.pixels.shape + (3,), np.uint8)
    for i, mask in enumerate(masks):
        picture[mask] = DIGIT_COLOURS[i % len(DIGIT_COLOURS)]
        kept |= mask
    rejected = np.logical_or.reduce([np.zeros_like(kept), *not_digits])
    dropped = marks.strokes & ~kept & ~rejected
    picture[dropped | rejected] = DROPPED_RGB
    picture[marks.lines] = LINE_RGB
    what = "kept the digit" if len(masks) == 1 else f"found {len(masks)} digits"
    specks = _count(dropped)
    # Lines are named, not counted: a digit's stroke cuts a line in two, and squared paper is one grid.
    drops = ([_plural(specks, "speck")] if specks else []) + (["the ruled lines"] if marks.lines.any() else [])
    if not_digits:
        drops.append("1 mark that is not a digit" if len(not_digits) == 1 else f"{len(not_digits)} marks that are not digits")
    caption = f"{what}; dropped {' and '.join(drops)}" if drops else f"{what}; nothing else to drop"
    pictures.append(Picture("selected", caption, _fit(picture, nearest=True)))
    return pictures


def digit_pictures(digit: DigitSteps, number: int | None = None) -> list[Picture]:
    """One digit's crop, its fit into BOX_SIZE, and its shift to centre its mass in 28x28."""
    which = "" if number is None else f"digit {number}: "
    h, w = digit.crop.shape
    fh, fw = digit.fitted.shape
    top, left = digit.offset
    dy, dx = top - (CANVAS_SIZE - fh) / 2, left - (CANVAS_SIZE - fw) / 2  # against plain centring
    moves = [f"{abs(v):g} px {word[v > 0]}" for v, word in ((dx, ("left", "right")), (dy, ("up", "down"))) if v]
    shift = "moved " + " and ".join(moves) + " to centre the mass" if moves else "its mass already centred"
    crop = _gray_rgb(digit.crop)
    return [
        Picture("crop", f"{which}cropped to its ink: {w}x{h} px",
                _fit(crop, nearest=True) if max(h, w) > PICTURE_SIDE else crop),
        Picture("fit", f"{which}scaled x{BOX_SIZE / max(h, w):.2f} so the long side is {BOX_SIZE} px: {fw}x{fh}",
                _gray_rgb(digit.fitted)),
        Picture("center", f"{which}{shift} in {CANVAS_SIZE}x{CANVAS_SIZE}", _gray_rgb(digit.result)),
    ]


def heatmap(digit: np.ndarray, attribution: np.ndarray) -> np.ndarray:
    """The 28x28 in gray, red where a pixel pushed the answer up, blue where it pushed it down."""
    base = 0.35 * np.clip(digit, 0, 1)[..., None]
    strength = attribution / (np.abs(attribution).max() or 1.0) * HEAT_GAIN
    up, down = np.clip(strength, 0, 1)[..., None], np.clip(-strength, 0, 1)[..., None]
    rgb = base * (1 - up - down) + up * np.array([1.0, 0.25, 0.1]) + down * np.array([0.2, 0.5, 1.0])
    return (np.clip(rgb, 0, 1) * 255).astype(np.uint8)
