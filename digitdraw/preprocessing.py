"""Turn any image of one handwritten digit into a 28x28 MNIST-style array.

MNIST digits were cropped, fitted into a 20x20 box keeping their aspect ratio (anti-aliased) and
placed in 28x28 with their centre of mass at the centre, white on black. Real input (a drawing, a
phone photo, a scan) is brought to exactly that form. `trace` runs the steps and keeps what each
one made; `preprocess` is `trace(image).result`:

    load_image        EXIF orientation, first frame, any mode, transparency kept; a drawing's
                      strokes (as the app's pad sends them) drawn as a canvas
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
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError
from scipy import ndimage

# Bump when a change here changes what the model is given: weights record the version they were
# trained with, and the app warns when the two differ.
PREPROCESSING_VERSION = "2"

# The MNIST recipe: digit box and canvas.
BOX_SIZE = 20
CANVAS_SIZE = 28

# Images are shrunk (by an integer factor, area-averaged) until their long side is at most this.
# A digit that fills a quarter of the frame still gets ~70 px here, plenty for a 20 px box.
WORKING_SIZE = 320
# Inputs larger than this are refused before decoding (PIL's decompression-bomb guard).
MAX_PIXELS = 50_000_000
# A drawing's strokes: at most 4096 px a side and 20,000 points (a minute of scribbling sends
# ~3,000), so that no request can ask for a huge raster or a long loop.
MAX_DRAWING_SIDE, MAX_DRAWING_POINTS = 4096, 20_000

# The paper is read off the image's border: a ring 3% of the long side wide (at least 1 px).
# Paper surrounds the digit, so even a digit cropped to its ink leaves most of the ring paper.
RING_SHARE = 0.03
# A canvas: at least half of the ring within 1% of its median brightness (JPEG noise is ~2%).
FLAT_TOLERANCE, FLAT_SHARE = 0.01, 0.5
# Less than this between the darkest and brightest pixel is a blank image (JPEG noise is ~0.02).
MIN_CONTRAST = 0.06
# Polarity is voted on a thumbnail this size. At 48 px, thin photo strokes drowned under shadow
# edges (3.5% of photos got the wrong polarity); at 96 px none did, and it costs 0.3 ms.
POLARITY_SIZE = 96
# Local contrast: each pixel against the median of a window a third of the thumbnail wide, and
# only differences over 4 noise sigmas (and 4% of full scale) count.
LOCAL_WINDOW, LOCAL_SIGMAS, LOCAL_MIN = 1 / 3, 4, 0.04
# The ring's brightness is placed between the 0.5th and 99.5th percentiles of the image (the
# 2nd was shadowed paper, not ink, where a thin digit covers under 2% of a photo).
EXTREME_PERCENTILE = 0.5
# A clean ring (its spread under 16% of the image's range: no shadow across the border) that
# votes firmly (over 0.5) decides alone: in a crop a fat digit fills, the neighbourhood is ink
# and local contrast is confidently wrong. Chosen on training writers' and scans' crops and
# photos (3 errors in 2,500; the plain sum made 4% errors on scans cropped to their ink).
RING_CLEAN, RING_SURE = 0.16, 0.5
# Background window, as a share of the image's long side: wider than any pen stroke in a photo,
# and narrow enough to follow shadows (a wider one fills a shadowed corner with lit paper).
BACKGROUND_WINDOW = 0.15
# A digit that fills the frame (what the first window finds spans 80% of its width or height)
# can have strokes wider than that: the window then grows to 2.5 times the widest stroke of the
# Otsu-split image, up to 60% of it. Such crops have little room for shadows.
FILL_SHARE, STROKE_WINDOW, MAX_WINDOW = 0.8, 2.5, 0.6
# The paper's level and texture are read from pixels on the paper side of an Otsu split that lie
# at least 2 px (on the half-resolution sample) from the ink side: a blurred stroke's rim is
# neither. With fewer than 16 of them (a scan cropped to a fat stroke), the texture is read from
# the ink's own solid interior instead; with neither (noise), from the whole image.
PAPER_CLEARANCE, MIN_PAPER_PIXELS = 2, 16
# Ink must stand this far above the paper: 4 noise sigmas, and 5% of full scale for clean canvases.
CANDIDATE_SIGMAS, CANDIDATE_MIN = 4, 0.05
# The ink's strength (its 90th percentile) must reach 12% of full scale and 6 noise sigmas, or the
# image is blank, too faint or only noise (chosen on empty-paper photos and noise images).
PEAK_PERCENTILE, PEAK_MIN, PEAK_SIGMAS = 90, 0.12, 6
# For dark ink that threshold scales with the paper's brightness under 70% (well-lit paper is
# brighter): a photo taken in dim light, paper and ink alike darker, needs less contrast, down to
# half of it. On photos in dim light this lifted accuracy from 91% to 98% (pencil: 65% to 90%), and
# cost 1-4 points of empty-paper rejection; dimmer paper than 35% is too noisy to go further.
PAPER_REFERENCE, DIMMEST_PAPER = 0.7, 0.35
# Ink below 3 noise sigmas or a quarter of the peak is paper: keeps faint pencil, drops grain.
FLOOR_SIGMAS, FLOOR_SHARE = 3, 0.25

# A photo of a sheet (a note, a card, a page) lying on a darker surface: when under half of the
# border is on the bright side of an Otsu split, the largest bright region, holes filled, is a sheet
# if it covers 15% of the image, is a quadrilateral (it fills 90% of the smallest rectangle around
# it at any angle: rendered sheets on desks 89-98%, fat light USPS digits up to 88%), touches at
# most one side, is 80% paper (writing covers far less of a sheet; a fat light 0's hole more), and
# what surrounds it is under 55% as bright (desks 12-54%; a shadow darkens paper by 20-45%, and the
# lit patches between shadows that passed the other tests were 66-81%).
SHEET_RING, SHEET_MIN_AREA, SHEET_RECTANGLE, SHEET_SIDES, SHEET_PAPER = 0.5, 0.15, 0.9, 1, 0.8
SHEET_CONTRAST = 0.45
# Its edge and the shadow along it are left out: the sheet is read from 4% of its short side inside.
# Writing on it is thinner than 15% of its short side (a USPS digit as tall as the page: ~11%).
SHEET_INSET, SHEET_STROKE = 0.04, 0.15

# A pixel is ink for the masks when its strength is over this (a fifth of full ink).
INK_THRESHOLD = 0.2
# A ruled line spans at least 85% of the image, in one run over 70% of it once gaps up to 3% of
# the width are bridged (a thin line shrunk to half a pixel breaks up); narrower images have none.
RULE_SPAN, RULE_STRAIGHT, RULE_GAP, RULE_MIN_LENGTH = 0.85, 0.7, 0.03, 20
# Lines are looked for at tilts up to 6 degrees (photos are seldom straighter), in 1-degree steps.
RULE_MAX_TILT, RULE_TILT_STEP = 6, 1
# A line is at most 5 px or 4% of the image thick: inside a fat stroke every row is a "run".
RULE_THICKNESS, RULE_THICKNESS_SHARE = 5, 0.04
# A line that runs with the digit's strokes is the digit's own (a tight-cropped 7's bar, a 1's
# foot), unless it is paler (under 70% of the digit's ink) or thinner (under 60% of its stroke
# width): printed rules are fainter and finer than pen. Three or more are ruled or squared paper.
RULE_PALER, RULE_THINNER, RULE_MANY = 0.7, 0.6, 3
# Strokes closer than 10% of the largest stroke's size belong to one digit (a 5's flag, a 4's bar).
GROUP_GAP = 0.1
# A group with at least half the main group's ink is part of the digit (a 4 drawn in two strokes).
GROUP_MASS_SHARE = 0.5
# So is a group over or under the main one: half its width within the main group's columns, and
# at most half the main group's height away (a 5's flag, a 7's bar, the dot of a stray "i" is not).
OVER_SHARE, OVER_GAP = 0.5, 0.5
# Inside the digit, parts under 0.5% of its ink (and 3 px) are specks of dust or grain.
SPECK_SHARE, SPECK_PIXELS = 0.005, 3
# A digit needs 8 ink pixels and a side of 6 px and 3% of the image: anything smaller is a speck.
MIN_DIGIT_PIXELS, MIN_DIGIT_SIDE, MIN_DIGIT_SHARE = 8, 6, 0.03
# A digit is a stroke: its long side spans at least 2.5 stroke widths (a dot, a tap, spans 2).
# Only small blobs (under a quarter of the image) are dots: a big one is a digit drawn in a blot,
# left for the model (one MNIST test 8 is a solid blob).
MIN_DIGIT_STROKES, DOT_SHARE = 2.5, 0.25

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

def draw_strokes(draw: ImageDraw.ImageDraw, strokes: list[np.ndarray], width: float, fill: int) -> None:
    """Polylines with round joints and caps, as a canvas brush draws them (a single point is a dot)."""
    radius = width / 2
    for xy in strokes:
        points = [tuple(p) for p in np.asarray(xy, np.float64).tolist()]
        if len(points) > 1:
            draw.line(points, fill=fill, width=max(1, round(width)), joint="curve")
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)


def render_drawing(drawing: dict) -> Image.Image:
    """A drawing as the app's pad sends it, black on a white canvas at most WORKING_SIZE a side.

    `drawing` is {"width": w, "height": h, "brush": px, "strokes": [[[x, y], ...], ...]} in the
    pad's pixels. Raises InvalidImageError for anything else, NoDigitError when there are no strokes.
    """
    try:
        width, height, brush = (float(drawing[key]) for key in ("width", "height", "brush"))
        strokes = [np.asarray(stroke, np.float64).reshape(-1, 2) for stroke in drawing["strokes"]]
    except (KeyError, TypeError, ValueError) as e:
        raise InvalidImageError("A drawing needs a width, a height, a brush and strokes of [x, y] points.") from e
    if not (0 < width <= MAX_DRAWING_SIDE and 0 < height <= MAX_DRAWING_SIDE and 0 < brush <= min(width, height)):
        raise InvalidImageError(f"A drawing must be at most {MAX_DRAWING_SIDE} px a side, with a brush inside it.")
    if sum(len(stroke) for stroke in strokes) > MAX_DRAWING_POINTS:
        raise InvalidImageError(f"A drawing may have at most {MAX_DRAWING_POINTS} points.")
    strokes = [stroke for stroke in strokes if len(stroke) and np.isfinite(stroke).all()]
    if not strokes:
        raise NoDigitError("The pad is empty. Draw a digit.", blank=True)
    scale = min(1.0, WORKING_SIZE / max(width, height))
    image = Image.new("L", (max(1, round(width * scale)), max(1, round(height * scale))), 255)
    draw_strokes(ImageDraw.Draw(image), [stroke * scale for stroke in strokes], brush * scale, 0)
    return image


def load_image(image: Any) -> Image.Image | np.ndarray:
    """Open paths, bytes and drawings; return a PIL image (EXIF applied) or an array."""
    if isinstance(image, dict):
        return render_drawing(image)
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
    """Robust standard deviation (median absolute deviation) of the values."""
    median = np.median(values)
    return float(1.4826 * np.median(np.abs(values - median)))  # MAD to sigma for Gaussian noise


def _ring(image: np.ndarray) -> np.ndarray:
    """The pixels of a border RING_SHARE of the long side wide."""
    k = max(1, int(round(RING_SHARE * max(image.shape))))
    inner = np.ones(image.shape, bool)
    inner[k:-k, k:-k] = False
    return image[inner]


def _otsu(values: np.ndarray, bins: int = 64) -> float:
    """The threshold that best splits the values into two classes (Otsu, 1979)."""
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return high
    counts, edges = np.histogram(values, bins=bins, range=(low, high))
    share = counts / counts.sum()
    centres = (edges[:-1] + edges[1:]) / 2
    below, mass = np.cumsum(share), np.cumsum(share * centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mass[-1] * below - mass) ** 2 / (below * (1 - below))
    return float(edges[int(np.nanargmax(between[:-1])) + 1])


def _neighbourhood_median(thumb: np.ndarray) -> np.ndarray:
    """Each pixel's neighbourhood median (LOCAL_WINDOW wide), computed at half resolution.

    The median is smooth, and a median filter's cost grows with its window's area: at full
    resolution it took 40 ms of a photo's 55.
    """
    half = _block_mean(thumb, 2)
    window = max(3, int(LOCAL_WINDOW * max(half.shape))) | 1
    smooth = np.repeat(np.repeat(ndimage.median_filter(half, size=window, mode="nearest"), 2, 0), 2, 1)
    return np.pad(smooth, [(0, max(0, a - b)) for a, b in zip(thumb.shape, smooth.shape)], mode="edge")[
        : thumb.shape[0], : thumb.shape[1]]


def ink_is_dark(thumb: np.ndarray) -> bool:
    """Vote on the polarity with two cues that fail in different places.

    - The ring: the border is paper, so paper is bright if the ring sits near the bright end.
      Right on tight crops; shading across a photo's border can fool it.
    - Local contrast: strokes stand out from their neighbourhood. Right on photos; a digit that
      fills the frame leaves it no neighbourhood of paper.
    Each gives a vote in [-1, 1] (positive: dark ink). A clean, firm ring decides alone
    (RING_CLEAN); otherwise the sum decides.
    """
    ring = _ring(thumb)
    level = float(np.median(ring))
    low, high = np.percentile(thumb, (EXTREME_PERCENTILE, 100 - EXTREME_PERCENTILE))
    span = max(float(high - low), 1e-6)
    ring_vote = ((level - low) - (high - level)) / span
    if _noise_level(ring) < RING_CLEAN * span and abs(ring_vote) > RING_SURE:
        return ring_vote > 0
    diff = thumb - _neighbourhood_median(thumb)
    cut = max(LOCAL_SIGMAS * _noise_level(diff[::2, ::2]), LOCAL_MIN)
    darker, lighter = np.clip(-diff - cut, 0, None).sum(), np.clip(diff - cut, 0, None).sum()
    local_vote = (darker - lighter) / max(float(darker + lighter), 1e-6)
    return bool(ring_vote + local_vote >= 0)


def _closing(gray: np.ndarray, window: int, dark_ink: bool) -> np.ndarray:
    """A grey closing (opening for light ink): the paper, with every stroke narrower than `window` gone."""
    first, second = (ndimage.maximum_filter, ndimage.minimum_filter) if dark_ink else \
        (ndimage.minimum_filter, ndimage.maximum_filter)
    return second(first(gray, size=window, mode="reflect"), size=window, mode="reflect")


def _fills_frame(ink: np.ndarray) -> bool:
    """Whether the clear ink (over half strength) spans FILL_SHARE of the width or the height."""
    box = bounding_box(ink > 0.5)
    return box is not None and (box[0].stop - box[0].start >= FILL_SHARE * ink.shape[0]
                                or box[1].stop - box[1].start >= FILL_SHARE * ink.shape[1])


def _stroke_window(thumb: np.ndarray, dark_ink: bool, scale: float) -> int:
    """STROKE_WINDOW times the widest stroke of the Otsu-split thumbnail, in working pixels."""
    strokes = thumb < _otsu(thumb) if dark_ink else thumb > _otsu(thumb)
    widest = 2 * float(ndimage.distance_transform_edt(strokes).max()) * scale
    return int(min(STROKE_WINDOW * widest, MAX_WINDOW * max(thumb.shape) * scale)) | 1


def _strength(ink: np.ndarray, peak_min: float) -> np.ndarray:
    """Raw ink (paper subtracted, up to an offset) in [0, 1], against the paper's own texture.

    Raises NoDigitError when nothing stands out from the paper.
    """
    sample = ink[::2, ::2]
    paper_side = sample < _otsu(sample)
    paper = sample[ndimage.distance_transform_edt(paper_side) > PAPER_CLEARANCE]
    solid = sample[ndimage.distance_transform_edt(~paper_side) > PAPER_CLEARANCE]
    if paper.size >= MIN_PAPER_PIXELS:
        ink = ink - np.median(paper)
        noise = _noise_level(paper)
    else:
        noise = _noise_level(solid if solid.size >= MIN_PAPER_PIXELS else sample)
    return _scaled(ink, noise, peak_min)


def _scaled(ink: np.ndarray, noise: float, peak_min: float) -> np.ndarray:
    """Ink over the paper's noise, scaled so that its typical strength (PEAK_PERCENTILE) is 1."""
    candidates = ink[ink > max(CANDIDATE_SIGMAS * noise, CANDIDATE_MIN)]
    if candidates.size < 4:
        raise NoDigitError("No digit found — the image is blank or too faint.")
    peak = float(np.percentile(candidates, PEAK_PERCENTILE))
    if peak < peak_min or peak < PEAK_SIGMAS * noise:
        raise NoDigitError("No digit found — nothing stands out from the background (blank, too faint, or only noise).")
    floor = max(FLOOR_SIGMAS * noise, FLOOR_SHARE * peak)
    return np.clip((ink - floor) / (peak - floor), 0, 1).astype(np.float32)


def _peak_min(paper_brightness: float, dark_ink: bool) -> float:
    """PEAK_MIN for dark ink on paper this bright: dim light darkens ink and paper alike."""
    if not dark_ink:  # light ink: the "paper" is a board or a screen, whose level says nothing of the light
        return PEAK_MIN
    return PEAK_MIN * min(1.0, max(paper_brightness, DIMMEST_PAPER) / PAPER_REFERENCE)


def extract_ink(gray: np.ndarray) -> InkMap:
    """Ink strength in [0, 1] per pixel, whatever the polarity and lighting of the image.

    A canvas's paper is one value, the ring's median, and the ink is whatever differs from it.
    Otherwise the paper is a grey closing (opening for light ink): it removes every dark feature
    narrower than its window (BACKGROUND_WINDOW; wider when the digit fills the frame, see
    FILL_SHARE), which strokes are, and follows everything broader, shadows included.

    Raises NoDigitError when nothing stands out from the background.
    """
    if float(gray.max() - gray.min()) < MIN_CONTRAST:
        raise NoDigitError("No digit found — the image is blank.", blank=True)
    ring = _ring(gray)
    level = float(np.median(ring))
    if np.mean(np.abs(ring - level) < FLAT_TOLERANCE) > FLAT_SHARE:
        dark_ink = bool(np.sum(np.clip(level - gray, 0, None)) >= np.sum(np.clip(gray - level, 0, None)))
        return InkMap(_scaled(level - gray if dark_ink else gray - level, 0.0, _peak_min(level, dark_ink)), dark_ink, True)
    thumb = _block_mean(gray, -(-max(gray.shape) // POLARITY_SIZE))
    dark_ink = ink_is_dark(thumb)
    sign = 1 if dark_ink else -1
    window = max(3, int(BACKGROUND_WINDOW * max(gray.shape))) | 1
    paper = _closing(gray, window, dark_ink)
    peak_min = _peak_min(float(np.median(paper[::4, ::4])), dark_ink)
    ink = _strength(sign * (paper - gray), peak_min)
    if _fills_frame(ink):
        wider = _stroke_window(thumb, dark_ink, gray.shape[0] / thumb.shape[0])
        if wider > window:
            ink = _strength(sign * (_closing(gray, wider, dark_ink) - gray), peak_min)
    return InkMap(ink, dark_ink, False)


# --------------------------------------------------------------------------- choosing the digit

def bounding_box(mask: np.ndarray) -> tuple[slice, slice] | None:
    """The smallest (rows, cols) slices holding every True pixel, None if there is none."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _tilted_rows(shape: tuple[int, int], degrees: float) -> np.ndarray:
    """Row index of each pixel when rows are tilted by `degrees` (a shear: cheap, enough for 6)."""
    h, w = shape
    rise = np.round((np.arange(w) - w / 2) * np.tan(np.radians(degrees))).astype(int)
    return np.arange(h)[:, None] + rise[None, :]


def _straight_runs(ink: np.ndarray) -> list[np.ndarray]:
    """Masks of the straight, near-horizontal lines that cross the image's width.

    A line is a band of rows, at the tilt that concentrates the ink most, in which any ink (even
    fainter than a mark) runs straight across (RULE_SPAN, RULE_STRAIGHT, RULE_GAP), and which is
    at most RULE_THICKNESS thick.
    """
    h, w = ink.shape
    faint = ink > 0
    box = bounding_box(faint)
    if w < RULE_MIN_LENGTH or box is None or box[1].stop - box[1].start < RULE_SPAN * w:
        return []  # nothing spans the image, so there is no ruled line
    padded = np.pad(faint, ((h, h), (0, 0)))  # room for the shear

    def sheared(degrees: float) -> np.ndarray:
        return padded[np.clip(_tilted_rows(ink.shape, degrees) + h, 0, 3 * h - 1), np.arange(w)]

    tilts = np.arange(-RULE_MAX_TILT, RULE_MAX_TILT + RULE_TILT_STEP, RULE_TILT_STEP)
    tilt = max(tilts, key=lambda t: float(np.square(sheared(t).sum(axis=1, dtype=np.int64)).sum()))
    level = ndimage.maximum_filter1d(sheared(tilt), 3, axis=0)  # a line may still wander by a pixel
    gap = max(1, int(RULE_GAP * w))
    bridged = ndimage.minimum_filter1d(ndimage.maximum_filter1d(level, gap, axis=1), gap, axis=1)
    straight = ndimage.minimum_filter1d(bridged, int(RULE_STRAIGHT * w), axis=1).any(axis=1)
    first, last = level.argmax(axis=1), w - 1 - level[:, ::-1].argmax(axis=1)
    covered = straight & (last - first + 1 >= RULE_SPAN * w)
    bands, count = ndimage.label(covered)
    rows = _tilted_rows(ink.shape, -tilt)  # the sheared row each pixel lands in
    found = []
    for band in ndimage.find_objects(bands):
        if band[0].stop - band[0].start - 2 > max(RULE_THICKNESS, RULE_THICKNESS_SHARE * h):  # less the slack
            continue  # inside a fat stroke every row is covered
        inside = (rows >= band[0].start) & (rows < band[0].stop)
        found.append(ndimage.binary_dilation(inside, iterations=1) & (ink > INK_THRESHOLD))
    return [line for line in found if line.any()]


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
    across, down = _straight_runs(ink), [run.T for run in _straight_runs(ink.T)]
    if not across and not down:
        return np.zeros_like(marks)
    rest = marks & ~np.logical_or.reduce(across + down)  # the digit's ink, and whatever else is not a line
    paper = [run for runs in (across, down) for run in runs if _is_paper_line(run, rest, ink, len(runs))]
    if not paper:
        return np.zeros_like(marks)
    thickness = max(run.sum() / max(int(run.any(axis=0).sum()), int(run.any(axis=1).sum()), 1) for run in paper)
    lines = np.logical_or.reduce(paper)
    near = lines & ndimage.maximum_filter(rest, size=2 * int(np.ceil(thickness)) + 3)
    return lines & ~ndimage.binary_propagation(rest, structure=np.ones((3, 3), bool), mask=rest | near)


@dataclass
class Selection:
    """The ink pixels that were considered, the ruled lines among them, and the digit kept."""

    marks: np.ndarray  # every pixel with ink over INK_THRESHOLD
    lines: np.ndarray  # the ruled lines removed from the marks
    digit: np.ndarray  # the digit: what is left once specks and stray marks are dropped


def _over_or_under(regions: list[tuple[slice, slice] | None], main: int) -> np.ndarray:
    """For each group label (0 first), whether it sits over or under group `main` (see OVER_SHARE)."""
    rows, cols = regions[main - 1]
    height = rows.stop - rows.start
    over = np.zeros(len(regions) + 1, bool)
    for label, region in enumerate(regions, start=1):
        if region is None:
            continue
        shared = min(region[1].stop, cols.stop) - max(region[1].start, cols.start)
        gap = max(region[0].start - rows.stop, rows.start - region[0].stop, 0)
        over[label] = shared >= OVER_SHARE * (region[1].stop - region[1].start) and gap <= OVER_GAP * height
    return over


def select_digit(ink: np.ndarray) -> Selection:
    """The digit's mask: the largest ink group and the parts that belong with it.

    Strokes closer than GROUP_GAP of the digit's size are grouped, so a digit drawn in several
    strokes stays whole, while specks, smudges and stray marks far from it are dropped.
    """
    marks = ink > INK_THRESHOLD
    lines = ruled_lines(marks, ink)
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
    keep |= _over_or_under(ndimage.find_objects(grouped), main)
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
    extent = max(s.stop - s.start for s in inner)
    if extent < DOT_SHARE * max(ink.shape) and extent < MIN_DIGIT_STROKES * stroke_width(digit[inner]):
        raise NoDigitError("No digit found — only a dot. Draw the digit larger.")
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

Step = Callable[[str], None]


def _no_step(name: str) -> None:
    pass


@dataclass
class Page:
    """The image as loaded, in gray, and its ink: what every digit in it is cut from."""

    image: Image.Image | np.ndarray  # as loaded: EXIF applied
    gray: np.ndarray  # on a sheet lying on a darker surface: the sheet only (see find_sheet)
    ink: InkMap
    on_sheet: bool = False


@dataclass
class DigitSteps:
    """The MNIST recipe's steps for one digit, from its mask in the ink map to the 28x28."""

    mask: np.ndarray  # the digit's pixels in the ink map
    crop: np.ndarray  # its ink in its bounding box, hairlines thickened
    fitted: np.ndarray  # long side BOX_SIZE
    offset: tuple[int, int]  # where `fitted` sits in the result, (top, left)
    result: np.ndarray  # (CANVAS_SIZE, CANVAS_SIZE)


@dataclass
class Trace:
    """What each step of `preprocess` made, for the app's "How it was read" and the benchmarks."""

    page: Page
    selection: Selection
    digit: DigitSteps

    @property
    def result(self) -> np.ndarray:
        return self.digit.result


def _rectangularity(mask: np.ndarray) -> float:
    """The mask's area over that of the smallest rectangle around it, tried every 3 degrees."""
    ys, xs = np.nonzero(mask & ~ndimage.binary_erosion(mask))  # the outline decides the extent
    angles = np.radians(np.arange(0, 90, 3))[:, None]
    u, v = xs * np.cos(angles) + ys * np.sin(angles), ys * np.cos(angles) - xs * np.sin(angles)
    areas = (np.ptp(u, axis=1) + 1) * (np.ptp(v, axis=1) + 1)
    return float(mask.sum() / areas.min())


def find_sheet(gray: np.ndarray) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """A sheet of paper on a darker surface (see SHEET_RING): its box in `gray`, inset by
    SHEET_INSET, and the sheet's mask inside that box. None when the border is mostly paper."""
    # A quick test, for every image: a sheet's surround is under 55% as bright as the sheet, so a
    # border over 75% as bright as the image's brightest tenth (paper, a canvas) is no surround.
    if np.median(_ring(gray)) >= 0.75 * np.percentile(gray[::4, ::4], 90):
        return None
    step = -(-max(gray.shape) // POLARITY_SIZE)
    thumb = _block_mean(gray, step)
    bright = thumb > _otsu(thumb)
    if _ring(bright).mean() >= SHEET_RING:
        return None
    labels, count = ndimage.label(bright)
    if count == 0:
        return None
    paper = labels == 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))
    sheet = ndimage.binary_fill_holes(paper)
    rows, cols = bounding_box(sheet)
    sides = (rows.start == 0) + (cols.start == 0) + (rows.stop == thumb.shape[0]) + (cols.stop == thumb.shape[1])
    if sheet.mean() < SHEET_MIN_AREA or sides > SHEET_SIDES or paper.sum() < SHEET_PAPER * sheet.sum() \
            or _rectangularity(sheet) < SHEET_RECTANGLE:
        return None
    surround = thumb[~ndimage.binary_dilation(sheet, iterations=2)]  # off the sheet's blurred edge
    level = float(np.median(thumb[paper]))
    if surround.size == 0 or float(np.median(surround)) > (1 - SHEET_CONTRAST) * level:
        return None
    full = np.repeat(np.repeat(sheet, step, 0), step, 1)
    full = np.pad(full, [(0, max(0, g - f)) for g, f in zip(gray.shape, full.shape)], mode="edge")[
        : gray.shape[0], : gray.shape[1]]  # a sliver thinner than a block is sampled, not averaged
    # The thumbnail's edge is a block off the sheet's, either way: step it inside, then the inset.
    inset = step + SHEET_INSET * step * min(rows.stop - rows.start, cols.stop - cols.start)
    inside = ndimage.distance_transform_edt(full) > inset
    box = bounding_box(inside)
    return (box, inside[box]) if box is not None else None


def _read_sheet(gray: np.ndarray) -> tuple[np.ndarray, InkMap] | None:
    """The sheet's gray (the surface around it painted over) and its ink, if there is a sheet with
    writing on it: dark strokes, thin for the sheet (SHEET_STROKE). Otherwise None, and the whole
    image is read as before: what passes for a sheet may be a fat light digit, whose holes are
    blobs, or as wide as a marker stroke on a note (such digits were called blank on the sheet).
    """
    found = find_sheet(gray)
    if found is None:
        return None
    box, on_sheet = found
    # Paint the surface over with the nearest sheet pixel: a flat colour would pass for a canvas.
    nearest = ndimage.distance_transform_edt(~on_sheet, return_distances=False, return_indices=True)
    paper = gray[box][tuple(nearest)]
    try:
        ink = extract_ink(paper)
        digit = select_digit(ink.ink).digit
    except NoDigitError:
        return None
    inner = bounding_box(digit)
    extent, width = max(s.stop - s.start for s in inner), stroke_width(digit[inner])
    if not ink.dark_ink or extent < MIN_DIGIT_STROKES * width or width > SHEET_STROKE * min(paper.shape):
        return None
    return paper, ink


def read_page(image: Any, done: Step = _no_step) -> Page:
    """Load the image, make it gray and find its ink, calling `done(name)` after each step."""
    loaded = load_image(image)
    done("decode")
    gray = to_grayscale(loaded)
    done("grayscale")
    sheet = _read_sheet(gray)
    page = Page(loaded, *sheet, on_sheet=True) if sheet else Page(loaded, gray, extract_ink(gray))
    done("ink")
    return page


def digit_steps(ink: np.ndarray, mask: np.ndarray, done: Step = _no_step) -> DigitSteps:
    """One digit of the ink map (its mask) through the MNIST recipe: crop, fit, centre."""
    crop = normalize_strokes(crop_digit(ink, mask))
    done("crop")
    fitted = fit_in_box(crop)
    done("fit")
    offset = mass_offset(fitted)
    result = place(fitted, offset)
    done("center")
    return DigitSteps(mask, crop, fitted, offset, result)


def trace(image: Any, on_step: Step | None = None) -> Trace:
    """Run every step on `image`, calling `on_step(name)` after each (the benchmark times them).

    Raises NoDigitError if there is no digit, InvalidImageError if the input can't be read.
    """
    done = on_step or _no_step
    page = read_page(image, done)
    selection = select_digit(page.ink.ink)
    done("select")
    return Trace(page, selection, digit_steps(page.ink.ink, selection.digit, done))


def preprocess(image: Any) -> np.ndarray:
    """Any image of one digit -> (28, 28) float32 in [0, 1], white digit on black, MNIST-style.

    Raises NoDigitError if there is no digit, InvalidImageError if the input can't be read.
    """
    return trace(image).result
