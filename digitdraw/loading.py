"""Any input to a small gray array: files and bytes decoded (EXIF applied, first frame, any mode,
transparency kept), a drawing's strokes (as the app's pad sends them) drawn as a canvas, and the
result shrunk early so that a huge photo stays cheap.

    image = load_image(anything)     # a PIL image (EXIF applied) or an array
    gray = to_grayscale(image)       # (H, W) float32 in [0, 1], long side at most WORKING_SIZE
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from .errors import InvalidImageError, NoDigitError

# Images are shrunk (by an integer factor, area-averaged) until their long side is at most this.
# A digit that fills a quarter of the frame still gets ~70 px here, plenty for a 20 px box.
WORKING_SIZE = 320
# Inputs larger than this are refused before decoding (PIL's decompression-bomb guard): 50 MP is
# more than any phone camera takes (a 12 MP photo is a quarter of it).
MAX_PIXELS = 50_000_000
# A tiny image is enlarged until its short side is at least 32 px: finding the paper needs a few
# pixels of it clear of the strokes, and a scan of a 1 cropped to its ink, 11 x 57 px, had none
# (13 of USPS's 176 held-out 1s were called blank).
MIN_SHORT_SIDE = 32
# A drawing's strokes: at most 4096 px a side, so that no request can ask for a huge raster...
MAX_DRAWING_SIDE = 4096
# ... and at most 20,000 points (a minute of scribbling sends ~3,000), so that none asks for a long loop.
MAX_DRAWING_POINTS = 20_000
# ITU-R 601 luma weights: colour to gray as a JPEG decoder does.
LUMA = (0.299, 0.587, 0.114)
# Alpha at least this (1 - 1/255, up to 8-bit rounding) everywhere is an opaque image.
OPAQUE = 0.999

Image.MAX_IMAGE_PIXELS = MAX_PIXELS
TOO_MANY_PIXELS = f"The image has too many pixels (over {MAX_PIXELS // 1_000_000} megapixels)."


def draw_strokes(draw: ImageDraw.ImageDraw, strokes: list[np.ndarray], width: float, fill: int) -> None:
    """Polylines with round joints and caps, as a canvas brush draws them (a single point is a dot)."""
    radius = width / 2
    for xy in strokes:
        points = [tuple(p) for p in np.asarray(xy, np.float64).tolist()]
        if len(points) > 1:
            draw.line(points, fill=fill, width=max(1, round(width)), joint="curve")
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)


def drawing_strokes(drawing: dict) -> tuple[list[np.ndarray], float, tuple[int, int]]:
    """A drawing's strokes in the pixels of its rendering (see render_drawing), their brush there,
    and the rendering's size (width, height). Raises as render_drawing does."""
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
    return [stroke * scale for stroke in strokes], brush * scale, (max(1, round(width * scale)), max(1, round(height * scale)))


def render_drawing(drawing: dict) -> Image.Image:
    """A drawing as the app's pad sends it, black on a white canvas at most WORKING_SIZE a side.

    `drawing` is {"width": w, "height": h, "brush": px, "strokes": [[[x, y], ...], ...]} in the
    pad's pixels. Raises InvalidImageError for anything else, NoDigitError when there are no strokes.
    """
    strokes, brush, size = drawing_strokes(drawing)
    image = Image.new("L", size, 255)
    draw_strokes(ImageDraw.Draw(image), strokes, brush, 0)
    return image


def _open(source: str | Path | bytes | bytearray) -> Image.Image:
    """Decode a file or bytes; a JPEG at 1/2..1/8 scale in the DCT, so 12 MP costs milliseconds."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
            if opened.format == "JPEG":
                opened.draft(opened.mode, (WORKING_SIZE, WORKING_SIZE))
            opened.load()
    except FileNotFoundError as e:
        raise InvalidImageError(f"No such file: {source}") from e
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise InvalidImageError(TOO_MANY_PIXELS) from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise InvalidImageError("The file is not a readable image (corrupt or wrong format).") from e
    return opened


def load_image(image: Any) -> Image.Image | np.ndarray:
    """Open paths, bytes and drawings; return a PIL image (EXIF applied) or an array."""
    if isinstance(image, dict):
        return render_drawing(image)
    if isinstance(image, np.ndarray):
        return image
    if isinstance(image, (str, Path, bytes, bytearray)):
        image = _open(image)
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


def block_mean(gray: np.ndarray, step: int) -> np.ndarray:
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
    if alpha.min() >= OPAQUE:
        return color
    ink_level = float(np.average(color, weights=alpha)) if alpha.sum() > 0 else 0.0
    backdrop = 1.0 if ink_level < 0.5 else 0.0  # dark ink (under mid-gray) goes onto white
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
        gray = color @ np.array(LUMA, np.float32) if channels >= 3 else color[:, :, 0]
        alpha = values[:, :, channels - 1] if channels in (2, 4) else None
    if alpha is not None:
        gray = _flatten_alpha(gray, alpha)
    gray = block_mean(gray.astype(np.float32), _shrink_factor(gray.shape))
    return _enlarge_tiny(gray)


def _enlarge_tiny(gray: np.ndarray) -> np.ndarray:
    """Enlarge (bilinear) an image whose short side is under MIN_SHORT_SIDE, the long side at most
    WORKING_SIZE."""
    scale = min(MIN_SHORT_SIDE / min(gray.shape), WORKING_SIZE / max(gray.shape))
    if scale <= 1:
        return gray
    size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    return np.asarray(Image.fromarray(gray).resize(size, Image.Resampling.BILINEAR), np.float32)
