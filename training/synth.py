"""Realistic images made from real handwriting.

`render_canvas` draws tablet pen strokes the way a sketchpad delivers them (white canvas, black
ink, no anti-aliasing, any size, brush and position); `crop_around` crops one tight, as a
screenshot would. `render_photo` puts a digit (pen strokes or a USPS scan) on plain, ruled or
squared paper or a chalk board under uneven light, with smudges, noise, JPEG compression,
sometimes cropped around the digit and sometimes with an EXIF orientation tag. `render_scan`
cuts a USPS digit from a form, in either polarity, with a small margin.

What is drawn is random within a distribution (`CanvasDistribution`, `PhotoDistribution`,
`ScanDistribution`) that the caller passes: training passes its own, evaluation pins its own, so
changing the training mix never changes a test set.
"""

from __future__ import annotations

import io
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from digitdraw.errors import NoDigitError
from digitdraw.loading import draw_strokes
from digitdraw.preprocessing import preprocess
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


def place_strokes(digit: PenDigit, height: float, center: tuple[float, float], slant: float) -> list[np.ndarray]:
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


def render_canvas(digit: PenDigit, style: CanvasStyle, rng: np.random.Generator | None = None) -> Image.Image:
    """The digit as a sketchpad composite: mode L, white canvas, black ink, no anti-aliasing."""
    image = Image.new("L", (style.size, style.size), 255)
    draw = ImageDraw.Draw(image)
    strokes = place_strokes(digit, style.height, style.center, style.slant)
    draw_strokes(draw, strokes, style.brush, 0)
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


# The colour forms a drawing reaches the app in: as the pad draws it, exported with the ink only
# in alpha (a transparent PNG), or inverted (a dark-mode screenshot).
FORMS = ("plain", "alpha-only RGBA", "white on black")


def in_form(canvas: Image.Image, form: str) -> Image.Image:
    """A canvas (mode L, black on white) in one of FORMS."""
    return {"plain": canvas, "alpha-only RGBA": as_alpha_ink(canvas), "white on black": as_inverted(canvas)}[form]


def tight_drawing(digit: PenDigit, style: CanvasStyle, margin: float) -> Image.Image:
    """The digit drawn in the middle of a canvas in `style`, then cropped to its ink plus `margin`
    (share of its long side), as a screenshot tool would crop it."""
    centred = CanvasStyle(style.size, style.height, (style.size / 2, style.size / 2), style.brush, style.slant, False)
    return crop_around(render_canvas(digit, centred), margin)


def bitmap_canvas(ink: np.ndarray, style: CanvasStyle) -> Image.Image:
    """A bitmap's digit (an ink map: optdigits' 32x32, a USPS scan) drawn as a canvas in `style`:
    scaled to the style's height, placed at its centre, black on white, no anti-aliasing."""
    placed = usps_ink_map(ink, (style.size, style.size), style.height, style.center)
    return Image.fromarray(np.where(placed > 0.5, 0, 255).astype(np.uint8))


def mnist_as_drawing(image28: np.ndarray, size: int = 280) -> Image.Image:
    """A 28x28 MNIST digit (white on black) as a large black-on-white image."""
    big = Image.fromarray(255 - image28).resize((size, size), Image.Resampling.BILINEAR)
    return big


def crop_around(image: Image.Image, margin: float, background: int = 255) -> Image.Image:
    """A canvas (mode L) cropped to its ink, plus `margin` of the ink's long side on every side.

    Beyond the canvas the crop is filled with the background, as a screenshot tool would.
    """
    ink = np.asarray(image) != background
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    pad = int(round(margin * max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)))
    box = (int(cols[0]) - pad, int(rows[0]) - pad, int(cols[-1]) + 1 + pad, int(rows[-1]) + 1 + pad)
    out = Image.new("L", (box[2] - box[0], box[3] - box[1]), background)
    out.paste(image.crop((max(box[0], 0), max(box[1], 0), min(box[2], image.width), min(box[3], image.height))),
              (max(-box[0], 0), max(-box[1], 0)))
    return out


# --------------------------------------------------------------------------- numbers

@dataclass(frozen=True)
class NumberLayout:
    """A written number: the digits' strokes in place, and each digit's columns (left, right)."""

    strokes: list[np.ndarray]
    columns: list[tuple[float, float]]
    size: tuple[int, int]  # (w, h) of the page they are on
    brush: int


def lay_out_number(digits: list[PenDigit], rng: np.random.Generator, gaps: tuple[float, float],
                   page_height: int = 300) -> NumberLayout:
    """The digits written left to right, as one person writes a number on a wide pad.

    Each digit is 45-60% of the page's height (+-8% between digits), its baseline moves by up to
    4%; the space between two digits' ink is drawn from `gaps` (share of the digit height: 0.15-0.5
    is ordinary spacing, under 0.08 nearly touching). The page is twice as wide as tall or more.
    """
    height = page_height * rng.uniform(0.45, 0.6)
    brush = max(2, int(round(height * rng.uniform(0.05, 0.1))))
    placed, columns, x = [], [], 0.0
    for digit in digits:
        h = height * rng.uniform(0.92, 1.08)
        strokes = place_strokes(digit, h, (0.0, rng.uniform(-0.04, 0.04) * height), 0.0)
        points = np.concatenate(strokes)
        left, right = float(points[:, 0].min()), float(points[:, 0].max())
        shift = x - left
        placed.extend(stroke + np.array([shift, 0], np.float32) for stroke in strokes)
        columns.append((left + shift - brush / 2, right + shift + brush / 2))
        x = right + shift + brush + rng.uniform(*gaps) * height
    width = columns[-1][1] - columns[0][0]
    size = (int(max(2 * page_height, width + page_height * rng.uniform(0.3, 0.8))), page_height)
    offset = np.array([(size[0] - width) / 2 - columns[0][0], page_height / 2], np.float32)
    return NumberLayout([s + offset for s in placed], [(a + offset[0], b + offset[0]) for a, b in columns], size, brush)


def render_number_canvas(layout: NumberLayout) -> Image.Image:
    """The number as the pad's drawing: black on a white canvas."""
    image = Image.new("L", layout.size, 255)
    draw_strokes(ImageDraw.Draw(image), layout.strokes, layout.brush, 0)
    return image


def render_number_photo(layout: NumberLayout, rng: np.random.Generator, dist: "PhotoDistribution", ink_kind: str,
                        paper: str) -> bytes:
    """The number written on paper and photographed (scaled to fit the photo's generation size)."""
    scale = min(GENERATION_SIZE[0] / layout.size[0], GENERATION_SIZE[1] / layout.size[1]) * 0.9
    big = Image.new("L", (2 * GENERATION_SIZE[0], 2 * GENERATION_SIZE[1]), 0)
    centre = np.array(GENERATION_SIZE, np.float32) - np.array(layout.size, np.float32) * scale
    draw_strokes(ImageDraw.Draw(big), [2 * (s * scale) + centre for s in layout.strokes], 2 * layout.brush * scale, 255)
    ink = np.asarray(big.reduce(2), np.float32) / 255
    return render_photo(ink, rng, dist, ink_kind=ink_kind, paper=paper, output_side=int(rng.integers(600, 1600)))


# --------------------------------------------------------------------------- photos

_INK_RGB = {"black": (0.08, 0.08, 0.1), "blue": (0.1, 0.18, 0.55), "pencil": (0.3, 0.3, 0.32),
            "chalk": (0.92, 0.92, 0.9)}
# Printed lines: light blue, grey, green and red, as on school pads and graph paper.
_LINE_RGB = ((0.55, 0.7, 0.9), (0.6, 0.6, 0.62), (0.6, 0.8, 0.65), (0.9, 0.55, 0.55))
_MARGIN_RGB = ((0.85, 0.3, 0.35), (0.9, 0.5, 0.55), (0.8, 0.35, 0.5))  # red and pink margin lines


def _margin_line(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A notebook's margin: one vertical line, or two close together, 8-50% across the page."""
    x = rng.uniform(0.08, 0.5) * w
    half_width = rng.uniform(0.4, 1.0)
    columns = np.arange(w, dtype=np.float32)
    cover = np.abs(columns - x) <= half_width
    if rng.random() < 0.4:
        cover |= np.abs(columns - x - rng.uniform(3, 6)) <= half_width
    return np.repeat(cover[None, :].astype(np.float32), h, axis=0) * rng.uniform(0.35, 0.7)


def stroke_ink_map(digit: PenDigit, size: tuple[int, int], height: float, center: tuple[float, float],
                   width: int, slant: float = 0.0) -> np.ndarray:
    """Pen strokes as a float ink map (1 = ink) of `size` (w, h), anti-aliased by 2x supersampling."""
    big = Image.new("L", (size[0] * 2, size[1] * 2), 0)
    strokes = place_strokes(digit, 2 * height, (2 * center[0], 2 * center[1]), slant)
    draw_strokes(ImageDraw.Draw(big), strokes, max(1, 2 * width), 255)
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


def pick(choices: tuple[tuple[str, float], ...], rng: np.random.Generator) -> str:
    """One name from (name, chance) pairs."""
    names, weights = zip(*choices)
    return str(rng.choice(names, p=weights))


@dataclass(frozen=True)
class PhotoDistribution:
    """How random photos are made: ink, paper, digit size and stroke, crop, light, size, JPEG."""

    inks: tuple[tuple[str, float], ...]  # (ink, chance): black, blue, pencil or chalk (on a board)
    papers: tuple[tuple[str, float], ...]  # (paper, chance): plain, ruled or squared; boards are plain
    heights: tuple[float, float]  # digit height, share of the photo's short side
    strokes: tuple[float, float]  # pen width, share of the digit height
    max_slant: float
    cropped: float  # chance that the photo is cropped around the digit, as people crop before uploading
    margins: tuple[float, float]  # a crop's margin on each side, share of the digit's long side
    flush: float  # chance that one side of a crop cuts the digit's edge (it touches the border)
    sides: tuple[int, int]  # long side of the JPEG, px (of a crop: up to this, down to 48)
    sideways: float  # chance of being stored sideways with an EXIF orientation tag
    qualities: tuple[int, int]  # JPEG quality
    exposure: tuple[float, float] = (1.0, 1.0)  # brightness gain: under 1 is a photo taken in dim light
    on_desk: tuple[float, float] | None = None  # the page lies on a darker desk, covering this share of each side
    max_tilt: float = 4.0  # the page is turned by up to this many degrees (photographed at an angle)
    margin_line: float = 0.0  # chance of a notebook's vertical margin line (red, once or twice)


GENERATION_SIZE = (640, 480)  # photos are made at this size (w, h), then scaled to their side


def random_photo_layout(rng: np.random.Generator, dist: PhotoDistribution) -> tuple[tuple[int, int], float, tuple[float, float]]:
    """Generation size (w, h), a digit height and a centre that keeps the digit inside."""
    long_side, short_side = GENERATION_SIZE
    size = (long_side, short_side) if rng.random() < 0.5 else (short_side, long_side)
    height = min(size) * rng.uniform(*dist.heights)
    cx = rng.uniform(0.5 * height, size[0] - 0.5 * height)
    cy = rng.uniform(0.55 * height, size[1] - 0.55 * height)
    return size, height, (cx, cy)


def _paper_lines(kind: str, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Line coverage in [0, 1] of ruled (rows) or squared (rows and columns) paper."""
    spacing = rng.uniform(0.06, 0.1) * h if kind == "ruled" else rng.uniform(0.04, 0.07) * h
    half_width = rng.uniform(0.35, 0.8)  # lines 0.7-1.6 px wide

    def lines(n: int) -> np.ndarray:
        offset = rng.uniform(0, spacing)
        return (np.abs(((np.arange(n) - offset) % spacing) - spacing / 2) > spacing / 2 - half_width).astype(np.float32)

    cover = np.repeat(lines(h)[:, None], w, axis=1)
    if kind == "squared":
        cover = np.maximum(cover, np.repeat(lines(w)[None, :], h, axis=0))
    return cover * rng.uniform(0.25, 0.6)


def _crop_box(ink: np.ndarray, rng: np.random.Generator, dist: PhotoDistribution,
              margin: float | None) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) around the digit: `margin` on every side, or drawn from `dist`."""
    rows, cols = np.flatnonzero((ink > 0.3).any(axis=1)), np.flatnonzero((ink > 0.3).any(axis=0))
    extent = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    sides = [margin] * 4 if margin is not None else list(rng.uniform(*dist.margins, 4))
    if margin is None and rng.random() < dist.flush:
        sides[int(rng.integers(4))] = rng.uniform(-0.03, 0)  # flush, or cutting a sliver off
    top, bottom, left, right = (int(round(m * extent)) for m in sides)
    h, w = ink.shape
    return (max(rows[0] - top, 0), min(rows[-1] + 1 + bottom, h), max(cols[0] - left, 0), min(cols[-1] + 1 + right, w))


_DESK_RGB = ((0.35, 0.25, 0.15), (0.5, 0.36, 0.22), (0.25, 0.25, 0.27), (0.12, 0.12, 0.13))  # woods, grey, black


def _on_desk(rgb: np.ndarray, ink: np.ndarray, rng: np.random.Generator,
             share: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The page (`rgb`, and its `ink` map alike) lying on a grainy desk, turned up to 12 degrees."""
    h, w = ink.shape
    side = rng.uniform(*share)
    big_h, big_w = int(h / side), int(w / side)
    top, left = int(rng.integers(0, big_h - h + 1)), int(rng.integers(0, big_w - w + 1))
    grain = ndimage.gaussian_filter(rng.normal(0, 1, (big_h, big_w)).astype(np.float32), (0.7, 8))
    desk = np.array(_DESK_RGB[int(rng.integers(len(_DESK_RGB)))], np.float32) * rng.uniform(0.8, 1.2)
    photo = desk + (grain * rng.uniform(0.1, 0.4) * desk.mean())[..., None]
    photo[top: top + h, left: left + w] = rgb
    page_ink = np.zeros((big_h, big_w), np.float32)
    page_ink[top: top + h, left: left + w] = ink
    angle = rng.uniform(-12, 12)
    return (ndimage.rotate(photo, angle, reshape=False, order=1, mode="nearest"),
            ndimage.rotate(page_ink, angle, reshape=False, order=1, mode="constant"))


def render_photo(ink: np.ndarray | None, rng: np.random.Generator, dist: PhotoDistribution,
                 ink_kind: str | None = None, paper: str | None = None, margin: float | None = None,
                 output_side: int | None = None) -> bytes:
    """A JPEG photo of paper (or a chalk board) with `ink` (an ink map, or None for no digit) on it.

    Uneven light and shadow, smudges, noise, ruled or squared paper, a small rotation; cropped
    around the digit (with `margin`, or as `dist` draws it); scaled to `output_side` px (drawn
    from `dist` when None), and sometimes stored sideways with an EXIF orientation tag.
    """
    h, w = (GENERATION_SIZE[1], GENERATION_SIZE[0]) if ink is None else ink.shape
    ink = np.zeros((h, w), np.float32) if ink is None else ink
    ink_kind = ink_kind or pick(dist.inks, rng)
    paper = "plain" if ink_kind == "chalk" else (paper or pick(dist.papers, rng))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / max(h, w)

    if ink_kind == "pencil" or ink_kind == "chalk":  # grainy strokes
        grain = ndimage.gaussian_filter(rng.random((h, w)).astype(np.float32), 0.8)
        ink = ink * np.clip(0.35 + 1.6 * (grain - 0.5) + 0.55, 0.3, 1)
        ink *= rng.uniform(0.45, 0.9) if ink_kind == "pencil" else rng.uniform(0.75, 1.0)
    content = [ink] if paper == "plain" else [ink, _paper_lines(paper, h, w, rng)]
    # drawn only when asked, so the other distributions keep their streams
    notebook = _margin_line(h, w, rng) if dist.margin_line and rng.random() < dist.margin_line else None
    angle = rng.uniform(-dist.max_tilt, dist.max_tilt)
    content = [ndimage.rotate(layer, angle, reshape=False, order=1, mode="constant") for layer in content]
    if notebook is not None:
        notebook = ndimage.rotate(notebook, angle, reshape=False, order=1, mode="constant")

    if ink_kind == "chalk":
        base = np.array([rng.uniform(0.1, 0.25), rng.uniform(0.15, 0.3), rng.uniform(0.12, 0.25)], np.float32)
    else:  # white to yellowish paper
        level = rng.uniform(0.75, 0.97)
        base = np.full(3, level, np.float32) * np.array([1, rng.uniform(0.93, 1), rng.uniform(0.8, 1)], np.float32)
    rgb = np.broadcast_to(base, (h, w, 3)).copy()
    if paper != "plain":
        line_rgb = np.array(_LINE_RGB[int(rng.integers(len(_LINE_RGB)))], np.float32)
        rgb = rgb * (1 - content[1][..., None]) + line_rgb * content[1][..., None]
    if notebook is not None:
        margin_rgb = np.array(_MARGIN_RGB[int(rng.integers(len(_MARGIN_RGB)))], np.float32)
        rgb = rgb * (1 - notebook[..., None]) + margin_rgb * notebook[..., None]
    for _ in range(int(rng.integers(0, 3))):  # smudges: soft, faint blobs
        cy, cx, radius = rng.uniform(0, h / max(h, w)), rng.uniform(0, w / max(h, w)), rng.uniform(0.02, 0.06)
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius ** 2))
        rgb *= 1 - (rng.uniform(0.05, 0.15) * blob)[..., None]
    ink_rgb = np.array(_INK_RGB[ink_kind], np.float32)
    rgb = rgb * (1 - content[0][..., None]) + ink_rgb * content[0][..., None]

    if dist.on_desk:  # drawn only when asked, so the other distributions keep their streams
        rgb, content[0] = _on_desk(rgb, content[0], rng, dist.on_desk)
        h, w = content[0].shape
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / max(h, w)
    light = 1 - rng.uniform(0, 0.35) * (rng.uniform(-1, 1) * xx + rng.uniform(-1, 1) * yy + 1) / 2
    if rng.random() < 0.5:  # a soft shadow edge across the page
        a = rng.uniform(0, 2 * np.pi)
        edge = (np.cos(a) * (xx - rng.uniform(0.2, 0.8)) + np.sin(a) * (yy - rng.uniform(0.2, 0.8))) / 0.05
        light *= 1 - rng.uniform(0.2, 0.45) / (1 + np.exp(-edge))
    rgb *= light[..., None]
    if dist.exposure != (1.0, 1.0):  # drawn only when asked, so the other distributions keep their streams
        rgb *= rng.uniform(*dist.exposure)
    rgb += rng.normal(0, rng.uniform(0.005, 0.03), rgb.shape).astype(np.float32)

    long_side = output_side or int(rng.integers(dist.sides[0], dist.sides[1] + 1))
    if content[0].max() > 0.3 and (margin is not None or rng.random() < dist.cropped):
        top, bottom, left, right = _crop_box(content[0], rng, dist, margin)
        rgb = rgb[top:bottom, left:right]
        h, w = rgb.shape[:2]
        long_side = output_side or int(np.exp(rng.uniform(np.log(48), np.log(max(49, dist.sides[1] // 2)))))
    image = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8), "RGB")
    scale = long_side / max(w, h)
    image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BILINEAR)
    exif = Image.Exif()
    if rng.random() < dist.sideways:  # stored sideways; the tag says how to turn it upright
        sideways = int(rng.choice([6, 8]))
        image = image.transpose(Image.Transpose.ROTATE_90 if sideways == 6 else Image.Transpose.ROTATE_270)
        exif[0x0112] = sideways
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(rng.integers(dist.qualities[0], dist.qualities[1] + 1)), exif=exif)
    return buffer.getvalue()


def digit_ink_map(source: PenDigit | np.ndarray, rng: np.random.Generator, dist: PhotoDistribution) -> np.ndarray:
    """A pen-stroke digit or a USPS scan (16x16 ink map) placed on a photo's page, as an ink map."""
    size, height, center = random_photo_layout(rng, dist)
    if isinstance(source, PenDigit):
        width = max(1, int(round(height * rng.uniform(*dist.strokes))))
        return stroke_ink_map(source, size, height, center, width, slant=rng.uniform(-dist.max_slant, dist.max_slant))
    return usps_ink_map(source, size, height, center)


def random_photo(source: PenDigit | np.ndarray, rng: np.random.Generator, dist: PhotoDistribution,
                 output_side: int | None = None, **options: object) -> bytes:
    """A photo-like JPEG of a pen-stroke digit or a USPS scan; `options` go to render_photo."""
    return render_photo(digit_ink_map(source, rng, dist), rng, dist, output_side=output_side, **options)


# --------------------------------------------------------------------------- scans

@dataclass(frozen=True)
class ScanDistribution:
    """How random scans are made: a digit cut from a form, flat light, blur, noise, JPEG."""

    margins: tuple[float, float]  # margin on each side, share of the digit's long side
    light_ink: float  # chance of light ink on a dark ground (an inverted scan)
    sides: tuple[int, int]  # long side of the image, px
    blur: tuple[float, float]  # Gaussian blur sigma, share of the digit height
    qualities: tuple[int, int]  # JPEG quality


def render_scan(ink16: np.ndarray, rng: np.random.Generator, dist: ScanDistribution,
                margin: float | None = None, light_ink: bool | None = None) -> bytes:
    """A USPS digit (16x16 ink map) as a scanned form field: `margin` around it (or drawn)."""
    side = int(rng.integers(*dist.sides))
    ink = np.asarray(Image.fromarray(ink16.astype(np.float32), mode="F").resize((side, side), Image.Resampling.BICUBIC))
    ink = ndimage.gaussian_filter(np.clip(ink, 0, 1), rng.uniform(*dist.blur) * side)
    rows, cols = np.flatnonzero((ink > 0.25).any(axis=1)), np.flatnonzero((ink > 0.25).any(axis=0))
    extent = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    pad = int(round((rng.uniform(*dist.margins) if margin is None else margin) * extent))
    ink = np.pad(ink, pad)[rows[0]: rows[-1] + 1 + 2 * pad, cols[0]: cols[-1] + 1 + 2 * pad]
    paper, dark = rng.uniform(0.75, 0.97), rng.uniform(0.03, 0.35)
    gray = paper - (paper - dark) * ink + rng.normal(0, rng.uniform(0.005, 0.03), ink.shape)
    if (rng.random() < dist.light_ink) if light_ink is None else light_ink:
        gray = 1 - gray
    buffer = io.BytesIO()
    Image.fromarray((np.clip(gray, 0, 1) * 255).astype(np.uint8)).save(
        buffer, "JPEG", quality=int(rng.integers(dist.qualities[0], dist.qualities[1] + 1)))
    return buffer.getvalue()


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


# --------------------------------------------------------------------------- many at once

def _preprocess_one(render: Callable[[Any], tuple[Any, tuple[str, ...]]], job: Any) -> tuple[np.ndarray | None, tuple[str, ...]]:
    image, tags = render(job)
    try:
        return preprocess(image), tags
    except NoDigitError:
        return None, tags  # e.g. a digit pushed almost off the canvas; the app would say so too


def render_and_preprocess(render: Callable[[Any], tuple[Any, tuple[str, ...]]], jobs: list,
                          workers: int = 2) -> list[tuple[np.ndarray | None, tuple[str, ...]]]:
    """`render(job)` -> (image, tags) for every job, through `preprocess`, in worker processes.

    `render` must be a module-level function (it is sent to the workers by name) and draw all
    its randomness from its job, so results do not depend on the workers' schedule.
    """
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_preprocess_one, [render] * len(jobs), jobs, chunksize=32))
