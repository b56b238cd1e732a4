"""Turn any image of one handwritten digit into a 28x28 MNIST-style array.

MNIST digits were cropped, fitted into a 20x20 box keeping their aspect ratio (anti-aliased) and
placed in 28x28 with their centre of mass at the centre, white on black. Real input (a drawing, a
phone photo, a scan) is brought to exactly that form. `trace` runs the steps and keeps what each
one made; `preprocess` is `trace(image).result`:

    load_image        EXIF orientation, first frame, any mode, transparency kept
    to_grayscale      (H, W) float32 in [0, 1], shrunk early so huge photos stay cheap
    extract_ink       background estimated and removed, polarity found: ink map in [0, 1]
    select_digit      specks, ruled lines and stray marks dropped: the digit's mask
    crop_digit        the digit's ink in its bounding box; hairlines thickened
    fit_in_box        long side BOX_SIZE px, aspect kept, anti-aliased
    center_by_mass    centre of mass at the centre of CANVAS_SIZE x CANVAS_SIZE

Nothing here imports torch or gradio.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

# Bump when a change here changes what the model is given: weights record the version they were
# trained with, and the app warns when the two differ.
PREPROCESSING_VERSION = "1"

# The MNIST recipe: digit box and canvas.
BOX_SIZE = 20
CANVAS_SIZE = 28

# Images are shrunk (by an integer factor, area-averaged) until their long side is at most this.
# A digit that fills a quarter of the frame still gets ~70 px here, plenty for a 20 px box.
WORKING_SIZE = 320
# Inputs larger than this are refused before decoding (PIL's decompression-bomb guard).
MAX_PIXELS = 50_000_000

# Polarity is decided on a thumbnail this size: enough to see strokes, cheap to median-filter.
BACKGROUND_SIZE = 48
# Background window, as a share of the image's long side: wider than any pen stroke in a photo.
BACKGROUND_WINDOW = 0.15
# A canvas is flat: more than half its pixels within 1% of the median brightness.
FLAT_TOLERANCE, FLAT_SHARE = 0.01, 0.5
# Less than this between the darkest and brightest pixel is a blank image (JPEG noise is ~0.02).
MIN_CONTRAST = 0.06
# Ink must stand this far above the paper: 4 noise sigmas, and 5% of full scale for clean canvases.
CANDIDATE_SIGMAS, CANDIDATE_MIN = 4, 0.05
# The ink's strength (its 90th percentile) must reach 12% of full scale and 6 noise sigmas, or the
# image is blank, too faint or only noise (chosen on empty-paper photos and noise images).
PEAK_PERCENTILE, PEAK_MIN, PEAK_SIGMAS = 90, 0.12, 6
# Ink below 3 noise sigmas or a quarter of the peak is paper: keeps faint pencil, drops grain.
FLOOR_SIGMAS, FLOOR_SHARE = 3, 0.25

# A pixel is ink for the masks when its strength is over this (a fifth of full ink).
INK_THRESHOLD = 0.2
# A ruled line crosses at least 85% of the width, straight for 70% of it; shorter images have none.
RULE_SPAN, RULE_STRAIGHT, RULE_MIN_LENGTH = 0.85, 0.7, 20
# Strokes closer than 10% of the largest stroke's size belong to one digit (a 5's flag, a 4's bar).
GROUP_GAP = 0.1
# A group with at least half the main group's ink is part of the digit (a 4 drawn in two strokes).
GROUP_MASS_SHARE = 0.5
# Inside the digit, parts under 0.5% of its ink (and 3 px) are specks of dust or grain.
SPECK_SHARE, SPECK_PIXELS = 0.005, 3
# A digit needs 8 ink pixels and a side of 6 px and 3% of the image: anything smaller is a speck.
MIN_DIGIT_PIXELS, MIN_DIGIT_SIDE, MIN_DIGIT_SHARE = 8, 6, 0.03

# MNIST strokes are about 2-3 px thick in the 20 px box; clearly thinner input (under half of
# this) is thickened to 80% of it, so ordinary widths are never touched and nothing jumps.
TARGET_STROKE, THIN_SHARE, THICKEN_TO = 2.2, 0.5, 0.8
# The fit crops to pixels over this: anti-aliasing fringes do not widen the box.
FIT_THRESHOLD = 0.05

Image.MAX_IMAGE_PIXELS = MAX_PIXELS
TOO_MANY_PIXELS = f"The image has too many pixels (over {MAX_PIXELS // 1_000_000} megapixels)."


class NoDigitError(ValueError):
    """The image holds no digit: blank, uniform, too faint, or only tiny specks.

    `blank` is True when the image has no marks at all (an empty canvas, a uniform image).
    """

    def __init__(self, message: str, blank: bool = False) -> None:
        super().__init__(message)
        self.blank = blank


class InvalidImageError(ValueError):
    """The input is not an image digitdraw can read (corrupt file, wrong type, too large)."""


# --------------------------------------------------------------------------- loading

def load_image(image: Any) -> Image.Image | np.ndarray:
    """Open paths, bytes and sketchpad dicts; return a PIL image (EXIF applied) or an array."""
    if isinstance(image, dict):
        if "composite" not in image:
            raise InvalidImageError("A sketchpad value needs a 'composite' image.")
        if image["composite"] is None:
            raise NoDigitError("The canvas is empty. Draw a digit.", blank=True)
        return load_image(image["composite"])
    if isinstance(image, np.ndarray):
        return image
    if isinstance(image, (str, Path, bytes, bytearray)):
        source = io.BytesIO(image) if isinstance(image, (bytes, bytearray)) else image
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                opened = Image.open(source)
                if opened.format == "JPEG":  # decode at 1/2..1/8 scale in the DCT: 12 MP costs ms
                    opened.draft(opened.mode, (WORKING_SIZE, WORKING_SIZE))
                opened.load()
        except FileNotFoundError as e:
            raise InvalidImageError(f"No such file: {image}") from e
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            raise InvalidImageError(TOO_MANY_PIXELS) from e
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
            raise InvalidImageError("The file is not a readable image (corrupt or wrong format).") from e
        image = opened
    if isinstance(image, Image.Image):
        if image.width * image.height > MAX_PIXELS:
            raise InvalidImageError(TOO_MANY_PIXELS)
        if image.width == 0 or image.height == 0:
            raise NoDigitError("No digit found — the image has no pixels.", blank=True)
        try:
            return ImageOps.exif_transpose(image)
        except (OSError, SyntaxError, ValueError, TypeError, KeyError):
            return image  # a broken EXIF block must not cost the whole image
    raise InvalidImageError(f"Cannot read an image from a {type(image).__name__}.")


def _plain_mode(image: Image.Image) -> Image.Image:
    """Palette, CMYK, 16-bit, 1-bit and other modes to one of L, LA, RGB, RGBA, I, F."""
    if image.mode in ("L", "LA", "RGB", "RGBA", "I", "F"):
        return image
    if image.mode.startswith("I;16"):
        return image.convert("I")
    if image.mode in ("P", "PA") or "A" in image.getbands() or "transparency" in image.info:
        return image.convert("RGBA")  # a palette may hold alpha itself
    return image.convert("RGB" if len(image.getbands()) >= 3 else "L")


def _shrink_factor(size: tuple[int, ...]) -> int:
    """The integer factor that brings the long side to at most WORKING_SIZE."""
    return -(-max(size) // WORKING_SIZE)


def _array_to_unit(array: np.ndarray) -> np.ndarray:
    """Any numeric array to float32 in [0, 1]: 8/16-bit by their range, others by min-max."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535
    if array.dtype == bool:
        return array.astype(np.float32)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise InvalidImageError(f"Cannot read an image from an array of {array.dtype}.")
    values = np.clip(np.nan_to_num(array.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0), -1e300, 1e300)
    low, high = float(values.min(initial=0.0)), float(values.max(initial=0.0))
    if np.issubdtype(array.dtype, np.floating) and low >= 0 and high <= 1:
        return values.astype(np.float32)
    if low >= 0 and high <= 255:
        return (values / 255).astype(np.float32)
    span = high - low
    return ((values - low) / span if span > 0 else np.zeros_like(values)).astype(np.float32)


def _block_mean(gray: np.ndarray, step: int) -> np.ndarray:
    """Shrink by an integer step, averaging step x step blocks (slivers thinner than a block are sampled)."""
    h, w = gray.shape[0] // step, gray.shape[1] // step
    if step == 1:
        return gray
    if h == 0 or w == 0:
        return gray[::step, ::step]
    return gray[: h * step, : w * step].reshape(h, step, w, step).mean(axis=(1, 3))


def _flatten_alpha(color: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Composite gray values over a backdrop that contrasts with the opaque pixels.

    Ink drawn only in alpha (any colour on a transparent background) must survive: black ink goes
    onto white, white ink onto black.
    """
    if alpha.min() >= 0.999:  # opaque up to 8-bit rounding
        return color
    ink_level = float(np.average(color, weights=alpha)) if alpha.sum() > 0 else 0.0
    backdrop = 1.0 if ink_level < 0.5 else 0.0
    return alpha * color + (1 - alpha) * backdrop


def to_grayscale(image: Image.Image | np.ndarray) -> np.ndarray:
    """Any loaded image to a (H, W) float32 gray array in [0, 1], at most WORKING_SIZE a side."""
    if isinstance(image, Image.Image):
        image = _plain_mode(image)
        factor = _shrink_factor(image.size)
        array = np.asarray(image.reduce(factor) if factor > 1 else image)
    else:
        array = image
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (2, 3, 4)):
        raise InvalidImageError(f"Cannot read an image from an array of shape {array.shape}.")
    if array.size == 0:
        raise NoDigitError("No digit found — the image has no pixels.", blank=True)
    values = _array_to_unit(array)
    if values.ndim == 2:
        gray, alpha = values, None
    else:
        channels = values.shape[2]
        color = values[:, :, :3] if channels >= 3 else values[:, :, :1]
        gray = color @ np.array([0.299, 0.587, 0.114], np.float32) if channels >= 3 else color[:, :, 0]  # ITU-R 601 luma
        alpha = values[:, :, channels - 1] if channels in (2, 4) else None
    if alpha is not None:
        gray = _flatten_alpha(gray, alpha)
    return _block_mean(gray.astype(np.float32), _shrink_factor(gray.shape))


# --------------------------------------------------------------------------- finding the ink

@dataclass
class InkMap:
    """Ink strength per pixel in [0, 1], and what was found about the image on the way."""

    ink: np.ndarray
    dark_ink: bool  # False: light ink on a dark background (chalk, a white-on-black image)
    flat: bool  # a flat background (a canvas) rather than paper with texture and shading


def _noise_level(values: np.ndarray) -> float:
    """Robust standard deviation (median absolute deviation) of the background texture."""
    values = values[::2, ::2]  # a quarter of the pixels estimate it as well, four times faster
    median = np.median(values)
    return float(1.4826 * np.median(np.abs(values - median)))  # MAD to sigma for Gaussian noise


def _background(gray: np.ndarray) -> tuple[np.ndarray | float, bool, bool]:
    """Estimate the paper (or board) brightness, whether the ink is darker than it, and flatness.

    A flat background (a canvas) is a single value. Otherwise a grey closing (opening for light
    ink) with a window of BACKGROUND_WINDOW of the image: it removes every dark feature narrower
    than that, which strokes are, and follows everything broader exactly, shadows included.
    """
    h, w = gray.shape
    thumb = _block_mean(gray, -(-max(h, w) // BACKGROUND_SIZE))
    level = float(np.median(thumb))
    if np.mean(np.abs(gray - level) < FLAT_TOLERANCE) > FLAT_SHARE:
        dark_ink = bool(np.sum(np.clip(level - gray, 0, None)) >= np.sum(np.clip(gray - level, 0, None)))
        return level, dark_ink, True
    size = max(3, max(thumb.shape) // 3) | 1  # a third of the thumbnail: wider than strokes
    diff = thumb - ndimage.median_filter(thumb, size=size, mode="nearest")
    cut = max(3 * _noise_level(diff), 0.04)
    dark_ink = bool(np.clip(-diff - cut, 0, None).sum() >= np.clip(diff - cut, 0, None).sum())
    window = max(3, int(BACKGROUND_WINDOW * max(h, w)))
    first, second = (ndimage.maximum_filter, ndimage.minimum_filter) if dark_ink else \
        (ndimage.minimum_filter, ndimage.maximum_filter)
    return second(first(gray, size=window, mode="nearest"), size=window, mode="nearest"), dark_ink, False


def extract_ink(gray: np.ndarray) -> InkMap:
    """Ink strength in [0, 1] per pixel, whatever the polarity and lighting of the image.

    Raises NoDigitError when nothing stands out from the background.
    """
    if float(gray.max() - gray.min()) < MIN_CONTRAST:
        raise NoDigitError("No digit found — the image is blank.", blank=True)
    background, dark_ink, flat = _background(gray)
    ink = background - gray if dark_ink else gray - background
    ink -= np.median(ink[::2, ::2])  # most pixels are paper: whatever offset the estimate left, remove it
    noise = _noise_level(ink)
    candidates = ink[ink > max(CANDIDATE_SIGMAS * noise, CANDIDATE_MIN)]
    if candidates.size < 4:
        raise NoDigitError("No digit found — the image is blank or too faint.")
    peak = float(np.percentile(candidates, PEAK_PERCENTILE))
    if peak < PEAK_MIN or peak < PEAK_SIGMAS * noise:
        raise NoDigitError("No digit found — nothing stands out from the background (blank, too faint, or only noise).")
    floor = max(FLOOR_SIGMAS * noise, FLOOR_SHARE * peak)
    return InkMap(np.clip((ink - floor) / (peak - floor), 0, 1).astype(np.float32), dark_ink, flat)


# --------------------------------------------------------------------------- choosing the digit

def bounding_box(mask: np.ndarray) -> tuple[slice, slice] | None:
    """The smallest (rows, cols) slices holding every True pixel, None if there is none."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def ruled_lines(mask: np.ndarray) -> np.ndarray:
    """The near-horizontal lines that cross almost the whole image (ruled paper), as a mask."""
    h, w = mask.shape
    length = int(RULE_STRAIGHT * w)
    box = bounding_box(mask)
    lines = np.zeros_like(mask)
    if length < RULE_MIN_LENGTH or box is None or box[1].stop - box[1].start < RULE_SPAN * w:
        return lines  # nothing spans the image, so there is no ruled line
    # Vertical slack lets a line that is a little tilted still fit the horizontal probe.
    slack = ndimage.maximum_filter1d(mask, 3, axis=0)
    lines = ndimage.maximum_filter1d(ndimage.minimum_filter1d(slack, length, axis=1), length, axis=1)
    if not lines.any():
        return lines
    labels, _ = ndimage.label(lines)
    for index, region in enumerate(ndimage.find_objects(labels), start=1):
        if region[1].stop - region[1].start < RULE_SPAN * w:
            lines[labels == index] = False
    return ndimage.binary_dilation(lines, iterations=1) & mask


@dataclass
class Selection:
    """The ink pixels that were considered, the ruled lines among them, and the digit kept."""

    marks: np.ndarray  # every pixel with ink over INK_THRESHOLD
    lines: np.ndarray  # the ruled lines removed from the marks
    digit: np.ndarray  # the digit: what is left once specks and stray marks are dropped


def select_digit(ink: np.ndarray) -> Selection:
    """The digit's mask: the largest ink group and the parts that belong with it.

    Strokes closer than GROUP_GAP of the digit's size are grouped, so a digit drawn in several
    strokes stays whole, while specks, smudges and stray marks far from it are dropped.
    """
    marks = ink > INK_THRESHOLD
    lines = ruled_lines(marks)
    full = marks & ~lines
    box = bounding_box(full)
    if box is None:
        raise NoDigitError("No digit found — only ruled lines or faint marks.")
    mask, ink_in = full[box], ink[box]  # all the work happens inside the inked area
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    sizes = np.bincount(labels.ravel(), weights=ink_in.ravel())
    sizes[0] = 0
    largest = int(np.argmax(sizes))
    region = ndimage.find_objects(labels, max_label=largest)[largest - 1]
    extent = max(region[0].stop - region[0].start, region[1].stop - region[1].start)
    gap = max(1, int(round(GROUP_GAP * extent)))
    # Grouping: parts whose gap to each other is below `gap` join one group.
    grouped, _ = ndimage.label(ndimage.maximum_filter(mask, size=gap + 1), structure=np.ones((3, 3), bool))
    group_mass = np.bincount(grouped.ravel(), weights=ink_in.ravel() * mask.ravel())
    group_mass[0] = 0
    main = grouped[region][labels[region] == largest][0]
    keep = group_mass >= GROUP_MASS_SHARE * group_mass[main]
    keep[main] = True
    keep[0] = False
    digit = keep[grouped] & mask
    sizes_in = np.bincount(labels[digit], minlength=count + 1)
    small = sizes_in < max(SPECK_PIXELS, SPECK_SHARE * digit.sum())
    digit &= ~small[labels]
    inner = bounding_box(digit)
    if inner is None or digit.sum() < MIN_DIGIT_PIXELS or \
            max(s.stop - s.start for s in inner) < max(MIN_DIGIT_SIDE, MIN_DIGIT_SHARE * max(ink.shape)):
        raise NoDigitError("No digit found — only tiny specks. Draw the digit larger.")
    whole = np.zeros_like(full)
    whole[box] = digit
    return Selection(marks, lines, whole)


# --------------------------------------------------------------------------- into MNIST form

def stroke_width(mask: np.ndarray) -> float:
    """Typical stroke thickness in pixels: area over half the outline length."""
    edge = mask & ~ndimage.binary_erosion(mask)
    return float(2 * mask.sum() / max(edge.sum(), 1))


def crop_digit(ink: np.ndarray, digit: np.ndarray) -> np.ndarray:
    """The ink inside the digit's bounding box, with everything outside the digit erased."""
    box = bounding_box(digit)
    keep = ndimage.binary_dilation(digit[box], iterations=1)  # the anti-aliased rim belongs to it
    return np.where(keep, ink[box], 0).astype(np.float32)


def normalize_strokes(crop: np.ndarray) -> np.ndarray:
    """Thicken hairline strokes so they are about TARGET_STROKE px in the BOX_SIZE box."""
    target = TARGET_STROKE * max(crop.shape) / BOX_SIZE
    width = stroke_width(crop > INK_THRESHOLD)
    size = int(round(THICKEN_TO * target - width))
    if width >= THIN_SHARE * target or size < 2:
        return crop
    return ndimage.maximum_filter(np.pad(crop, size), size=size)


def fit_in_box(crop: np.ndarray, box: int = BOX_SIZE) -> np.ndarray:
    """Resize keeping the aspect ratio so the long side is `box` px (anti-aliased)."""
    rows, cols = np.nonzero(crop > FIT_THRESHOLD)
    if rows.size:
        crop = crop[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    h, w = crop.shape
    scale = box / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = Image.fromarray(crop.astype(np.float32), mode="F").resize(size, Image.Resampling.BILINEAR)
    return np.clip(np.asarray(resized), 0, 1)


def mass_offset(digit: np.ndarray, size: int = CANVAS_SIZE) -> tuple[int, int]:
    """Where the digit's top-left corner goes so its centre of mass lands at the canvas centre."""
    h, w = digit.shape
    cy, cx = ndimage.center_of_mass(digit) if digit.sum() > 0 else ((h - 1) / 2, (w - 1) / 2)
    top = int(np.clip(round(size / 2 - 0.5 - cy), 0, size - h))
    left = int(np.clip(round(size / 2 - 0.5 - cx), 0, size - w))
    return top, left


def place(digit: np.ndarray, offset: tuple[int, int], size: int = CANVAS_SIZE) -> np.ndarray:
    """The digit on a size x size black canvas, its top-left corner at `offset`."""
    top, left = offset
    canvas = np.zeros((size, size), np.float32)
    canvas[top: top + digit.shape[0], left: left + digit.shape[1]] = digit
    return canvas


def center_by_mass(digit: np.ndarray, size: int = CANVAS_SIZE) -> np.ndarray:
    """Place the digit in a size x size canvas with its centre of mass at the centre."""
    return place(digit, mass_offset(digit, size), size)


# --------------------------------------------------------------------------- the whole pipeline

@dataclass
class Trace:
    """What each step of `preprocess` made, for the app's "How it was read" and the benchmarks."""

    image: Image.Image | np.ndarray  # as loaded: EXIF applied
    gray: np.ndarray
    ink: InkMap
    selection: Selection
    crop: np.ndarray  # the digit's ink in its bounding box, hairlines thickened
    fitted: np.ndarray  # long side BOX_SIZE
    offset: tuple[int, int]  # where `fitted` sits in the result, (top, left)
    result: np.ndarray  # (CANVAS_SIZE, CANVAS_SIZE)


def trace(image: Any, on_step: Callable[[str], None] | None = None) -> Trace:
    """Run every step on `image`, calling `on_step(name)` after each (the benchmark times them).

    Raises NoDigitError if there is no digit, InvalidImageError if the input can't be read.
    """
    done = on_step or (lambda name: None)
    loaded = load_image(image)
    done("decode")
    gray = to_grayscale(loaded)
    done("grayscale")
    ink = extract_ink(gray)
    done("ink")
    selection = select_digit(ink.ink)
    done("select")
    crop = normalize_strokes(crop_digit(ink.ink, selection.digit))
    done("crop")
    fitted = fit_in_box(crop)
    done("fit")
    offset = mass_offset(fitted)
    result = place(fitted, offset)
    done("center")
    return Trace(loaded, gray, ink, selection, crop, fitted, offset, result)


def preprocess(image: Any) -> np.ndarray:
    """Any image of one digit -> (28, 28) float32 in [0, 1], white digit on black, MNIST-style.

    Raises NoDigitError if there is no digit, InvalidImageError if the input can't be read.
    """
    return trace(image).result
