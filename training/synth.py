"""Realistic images made from real handwriting.

`render_canvas` draws tablet pen strokes the way a sketchpad delivers them (white canvas, black
ink, no anti-aliasing, any size, brush and position). `render_photo` puts a digit (pen strokes or
a USPS scan) on paper or a chalk board under uneven light, with ruled lines, smudges, noise, JPEG
compression and sometimes an EXIF orientation tag.

What is drawn is random within a distribution (`CanvasDistribution`, `PhotoDistribution`) that
the caller passes: training passes its own, evaluation pins its own, so changing the training mix
never changes a test set.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from training.data import PenDigit


@dataclass(frozen=True)
class CanvasStyle:
    """How a digit is drawn on a canvas; sizes in pixels, position as the digit's centre."""

    size: int
    height: float
    center: tuple[float, float]
    brush: int
    slant: float
    stray: bool


@dataclass(frozen=True)
class CanvasDistribution:
    """How random canvases are drawn: sizes, digit heights, brushes, slant, cuts and stray marks."""

    sizes: tuple[int, int]  # canvas side, px
    heights: tuple[float, float]  # digit height, share of the canvas
    cut: float  # chance that the digit runs off an edge
    cut_margin: float  # a cut digit's centre may come this close to the edge (share of a half-height)
    max_brush: float  # thickest brush, share of the digit height (log-uniform from 1 px)
    slanted: float  # chance of a slant, up to `max_slant` either way
    max_slant: float
    stray: float  # chance of a stray dot or flick

    def sample(self, rng: np.random.Generator) -> CanvasStyle:
        size = int(rng.integers(self.sizes[0], self.sizes[1] + 1))
        height = size * rng.uniform(*self.heights)
        margin = 0.5 * height * (self.cut_margin if rng.random() < self.cut else 1.0)
        low, high = margin * 0.7, size - margin * 0.7
        center = (rng.uniform(low, max(low, high)), rng.uniform(margin, max(margin, size - margin)))
        brush = int(round(np.exp(rng.uniform(np.log(1), np.log(max(2.0, self.max_brush * height))))))
        slant = rng.uniform(-self.max_slant, self.max_slant) if rng.random() < self.slanted else 0.0
        return CanvasStyle(size, height, center, brush, slant, bool(rng.random() < self.stray))


def _place_strokes(digit: PenDigit, height: float, center: tuple[float, float], slant: float) -> list[np.ndarray]:
    """Scale strokes so the digit is `height` px tall, slant them, and centre them at `center`."""
    points = np.concatenate(digit.strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.maximum(high - low, 1)
    scale = height / max(span[1], span[0] / 0.9)  # a wide digit is limited by its width
    mid = (low + high) / 2
    placed = []
    for stroke in digit.strokes:
        xy = (stroke - mid) * scale
        xy[:, 0] -= slant * xy[:, 1]
        placed.append(xy + np.array(center, np.float32))
    return placed


def _draw_strokes(draw: ImageDraw.ImageDraw, strokes: list[np.ndarray], width: int, fill: int) -> None:
    """Polylines with round joints and caps, like a canvas brush."""
    radius = width / 2
    for xy in strokes:
        points = [tuple(p) for p in xy.tolist()]
        if len(points) > 1:
            draw.line(points, fill=fill, width=width, joint="curve")
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)


def render_canvas(digit: PenDigit, style: CanvasStyle, rng: np.random.Generator | None = None) -> Image.Image:
    """The digit as a sketchpad composite: mode L, white canvas, black ink, no anti-aliasing."""
    image = Image.new("L", (style.size, style.size), 255)
    draw = ImageDraw.Draw(image)
    strokes = _place_strokes(digit, style.height, style.center, style.slant)
    _draw_strokes(draw, strokes, style.brush, 0)
    if style.stray:
        rng = rng or np.random.default_rng(0)
        _draw_stray_mark(draw, style, strokes, rng)
    return image


def _draw_stray_mark(draw: ImageDraw.ImageDraw, style: CanvasStyle, strokes: list[np.ndarray],
                     rng: np.random.Generator) -> None:
    """A dot or a short flick away from the digit, as a slip of the mouse leaves."""
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    for _ in range(20):
        x, y = rng.uniform(0, style.size, 2)
        gap = 0.15 * style.height
        if not (low[0] - gap < x < high[0] + gap and low[1] - gap < y < high[1] + gap):
            break
    else:
        return
    if rng.random() < 0.6:
        r = max(1.0, style.brush / 2)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
    else:
        length = 0.08 * style.height
        angle = rng.uniform(0, np.pi)
        end = (x + length * np.cos(angle), y + length * np.sin(angle))
        draw.line([(x, y), end], fill=0, width=max(1, style.brush))


def as_alpha_ink(canvas: Image.Image) -> Image.Image:
    """The same drawing as RGBA with the ink only in alpha (transparent background)."""
    alpha = Image.eval(canvas, lambda v: 255 - v)
    black = Image.new("L", canvas.size, 0)
    return Image.merge("RGBA", (black, black, black, alpha))


def as_inverted(canvas: Image.Image) -> Image.Image:
    """The same drawing white on black."""
    return Image.eval(canvas, lambda v: 255 - v)


def mnist_as_drawing(image28: np.ndarray, size: int = 280) -> Image.Image:
    """A 28x28 MNIST digit (white on black) as a large black-on-white image."""
    big = Image.fromarray(255 - image28).resize((size, size), Image.Resampling.BILINEAR)
    return big


# --------------------------------------------------------------------------- photos

_INK_RGB = {"black": (0.08, 0.08, 0.1), "blue": (0.1, 0.18, 0.55), "pencil": (0.3, 0.3, 0.32),
            "chalk": (0.92, 0.92, 0.9)}


def stroke_ink_map(digit: PenDigit, size: tuple[int, int], height: float, center: tuple[float, float],
                   width: int, slant: float = 0.0) -> np.ndarray:
    """Pen strokes as a float ink map (1 = ink) of `size` (w, h), anti-aliased by 2x supersampling."""
    big = Image.new("L", (size[0] * 2, size[1] * 2), 0)
    strokes = _place_strokes(digit, 2 * height, (2 * center[0], 2 * center[1]), slant)
    _draw_strokes(ImageDraw.Draw(big), strokes, max(1, 2 * width), 255)
    return np.asarray(big.reduce(2), np.float32) / 255


def usps_ink_map(ink16: np.ndarray, size: tuple[int, int], height: float, center: tuple[float, float]) -> np.ndarray:
    """A 16x16 USPS scan (1 = ink) scaled to `height` px and placed at `center` in a (w, h) map."""
    side = max(4, int(round(height)))
    digit = np.asarray(Image.fromarray(ink16.astype(np.float32), mode="F").resize((side, side), Image.Resampling.BICUBIC))
    canvas = np.zeros((size[1], size[0]), np.float32)
    top, left = int(round(center[1] - side / 2)), int(round(center[0] - side / 2))
    t0, l0 = max(top, 0), max(left, 0)
    t1, l1 = min(top + side, size[1]), min(left + side, size[0])
    if t1 > t0 and l1 > l0:
        canvas[t0:t1, l0:l1] = digit[t0 - top: t1 - top, l0 - left: l1 - left]
    return np.clip(canvas, 0, 1)


@dataclass(frozen=True)
class PhotoDistribution:
    """How random photos are made: ink, digit size and stroke, ruled lines, light, size, JPEG."""

    inks: tuple[tuple[str, float], ...]  # (ink, chance): black, blue, pencil or chalk
    heights: tuple[float, float]  # digit height, share of the photo's short side
    strokes: tuple[float, float]  # pen width, share of the digit height
    max_slant: float
    ruled: float  # chance of ruled lines (never on a chalk board)
    sides: tuple[int, int]  # long side of the JPEG, px
    sideways: float  # chance of being stored sideways with an EXIF orientation tag
    qualities: tuple[int, int]  # JPEG quality

    def ink_kind(self, rng: np.random.Generator) -> str:
        names, weights = zip(*self.inks)
        return str(rng.choice(names, p=weights))


GENERATION_SIZE = (640, 480)  # photos are made at this size (w, h), then scaled to their side


def random_photo_layout(rng: np.random.Generator, dist: PhotoDistribution) -> tuple[tuple[int, int], float, tuple[float, float]]:
    """Generation size (w, h), a digit height and a centre that keeps the digit inside."""
    long_side, short_side = GENERATION_SIZE
    size = (long_side, short_side) if rng.random() < 0.5 else (short_side, long_side)
    height = min(size) * rng.uniform(*dist.heights)
    cx = rng.uniform(0.5 * height, size[0] - 0.5 * height)
    cy = rng.uniform(0.55 * height, size[1] - 0.55 * height)
    return size, height, (cx, cy)


def render_photo(ink: np.ndarray | None, rng: np.random.Generator, dist: PhotoDistribution,
                 ink_kind: str | None = None, ruled: bool | None = None, output_side: int | None = None) -> bytes:
    """A JPEG photo of paper (or a chalk board) with `ink` (an ink map, or None for no digit) on it.

    Uneven light and shadow, smudges, noise, optional ruled lines, a small rotation, scaled to
    `output_side` px (drawn from `dist` when None), and sometimes stored sideways with an EXIF
    orientation tag.
    """
    h, w = (GENERATION_SIZE[1], GENERATION_SIZE[0]) if ink is None else ink.shape
    ink = np.zeros((h, w), np.float32) if ink is None else ink
    ink_kind = ink_kind or dist.ink_kind(rng)
    ruled = (ink_kind != "chalk" and rng.random() < dist.ruled) if ruled is None else ruled
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / max(h, w)

    if ink_kind == "pencil" or ink_kind == "chalk":  # grainy strokes
        grain = ndimage.gaussian_filter(rng.random((h, w)).astype(np.float32), 0.8)
        ink = ink * np.clip(0.35 + 1.6 * (grain - 0.5) + 0.55, 0.3, 1)
        ink *= rng.uniform(0.6, 0.9) if ink_kind == "pencil" else rng.uniform(0.75, 1.0)
    content = [ink]
    if ruled:
        spacing = rng.uniform(0.06, 0.1) * h
        offset = rng.uniform(0, spacing)
        lines = (np.abs(((np.arange(h) - offset) % spacing) - spacing / 2) > spacing / 2 - rng.uniform(0.7, 1.6))
        content.append(np.repeat(lines[:, None], w, axis=1).astype(np.float32) * rng.uniform(0.25, 0.5))
    angle = rng.uniform(-4, 4)
    content = [ndimage.rotate(layer, angle, reshape=False, order=1, mode="constant") for layer in content]

    if ink_kind == "chalk":
        paper = np.array([rng.uniform(0.1, 0.25), rng.uniform(0.15, 0.3), rng.uniform(0.12, 0.25)], np.float32)
    else:
        paper = np.full(3, rng.uniform(0.75, 0.97), np.float32) * np.array([1, rng.uniform(0.96, 1), rng.uniform(0.88, 1)], np.float32)
    rgb = np.broadcast_to(paper, (h, w, 3)).copy()
    if ruled:
        line_rgb = np.array([0.55, 0.7, 0.9], np.float32)
        rgb = rgb * (1 - content[1][..., None]) + line_rgb * content[1][..., None]
    for _ in range(int(rng.integers(0, 3))):  # smudges: soft, faint blobs
        cy, cx, radius = rng.uniform(0, h / max(h, w)), rng.uniform(0, w / max(h, w)), rng.uniform(0.02, 0.06)
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius ** 2))
        rgb *= 1 - (rng.uniform(0.05, 0.15) * blob)[..., None]
    ink_rgb = np.array(_INK_RGB[ink_kind], np.float32)
    rgb = rgb * (1 - content[0][..., None]) + ink_rgb * content[0][..., None]

    light = 1 - rng.uniform(0, 0.35) * (rng.uniform(-1, 1) * xx + rng.uniform(-1, 1) * yy + 1) / 2
    if rng.random() < 0.5:  # a soft shadow edge across the page
        a = rng.uniform(0, 2 * np.pi)
        edge = (np.cos(a) * (xx - rng.uniform(0.2, 0.8)) + np.sin(a) * (yy - rng.uniform(0.2, 0.8))) / 0.05
        light *= 1 - rng.uniform(0.2, 0.45) / (1 + np.exp(-edge))
    rgb *= light[..., None]
    rgb += rng.normal(0, rng.uniform(0.005, 0.03), rgb.shape).astype(np.float32)

    image = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8), "RGB")
    side = output_side or int(rng.integers(dist.sides[0], dist.sides[1] + 1))
    scale = side / max(w, h)
    image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BILINEAR)
    exif = Image.Exif()
    if rng.random() < dist.sideways:  # stored sideways; the tag says how to turn it upright
        sideways = int(rng.choice([6, 8]))
        image = image.transpose(Image.Transpose.ROTATE_90 if sideways == 6 else Image.Transpose.ROTATE_270)
        exif[0x0112] = sideways
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(rng.integers(dist.qualities[0], dist.qualities[1] + 1)), exif=exif)
    return buffer.getvalue()


def random_photo(source: PenDigit | np.ndarray, rng: np.random.Generator, dist: PhotoDistribution,
                 output_side: int | None = None) -> bytes:
    """A photo-like JPEG of a pen-stroke digit or a USPS scan (16x16 ink map)."""
    size, height, center = random_photo_layout(rng, dist)
    if isinstance(source, PenDigit):
        width = max(1, int(round(height * rng.uniform(*dist.strokes))))
        ink = stroke_ink_map(source, size, height, center, width, slant=rng.uniform(-dist.max_slant, dist.max_slant))
    else:
        ink = usps_ink_map(source, size, height, center)
    return render_photo(ink, rng, dist, output_side=output_side)


def random_blank(rng: np.random.Generator, kind: str, photos: PhotoDistribution) -> Image.Image | bytes:
    """An image with no digit: 'canvas' (empty), 'paper' (a photo of an empty page) or 'noise'."""
    if kind == "canvas":
        return Image.new("L", (int(rng.integers(280, 801)),) * 2, 255)
    if kind == "paper":
        return render_photo(None, rng, photos)
    if kind == "noise":
        size = (int(rng.integers(64, 800)), int(rng.integers(64, 800)))
        if rng.random() < 0.5:
            values = rng.integers(0, 256, (size[1], size[0]), dtype=np.uint8)
        else:
            values = np.clip(rng.normal(rng.uniform(60, 200), rng.uniform(5, 60), (size[1], size[0])), 0, 255).astype(np.uint8)
        return Image.fromarray(values, "L")
    raise ValueError(f"unknown blank kind {kind!r}")
