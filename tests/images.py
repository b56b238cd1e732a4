"""Images for the tests: synthetic digits whose geometry we know, and held-out writers' canvases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from training import data, synth


def draw_seven(size: int = 400, box: tuple[int, int, int, int] = (150, 100, 250, 300), width: int = 14) -> Image.Image:
    """A '7' (black on white, mode L) inside `box` = (left, top, right, bottom)."""
    image = Image.new("L", (size, size), 255)
    left, top, right, bottom = box
    draw = ImageDraw.Draw(image)
    draw.line([(left, top), (right, top), (left + (right - left) // 3, bottom)], fill=0, width=width, joint="curve")
    return image


def note_on_a_desk(ink: np.ndarray, share: float = 0.7, tilt: float = 0.0, seed: int = 0) -> np.ndarray:
    """A yellow sticky note with `ink` (a square ink map) in blue pen, photographed on a dark wooden
    desk that fills the border: the note covers `share` of the photo's side, turned by `tilt` degrees."""
    rng = np.random.default_rng(seed)
    side = 600
    photo = np.array([0.35, 0.25, 0.15]) + rng.normal(0, 0.06, (side, side, 3))  # wood: dark, grainy
    size = int(side * share)
    note = np.full((size, size, 3), (0.95, 0.9, 0.45))
    pen = np.asarray(Image.fromarray((ink * 255).astype(np.uint8)).resize((size * 7 // 10,) * 2), np.float32) / 255
    at = size * 3 // 20
    window = note[at: at + pen.shape[0], at: at + pen.shape[1]]
    window[:] = window * (1 - pen[..., None]) + np.array([0.1, 0.1, 0.3]) * pen[..., None]
    top = (side - size) // 2
    photo[top: top + size, top: top + size] = note + rng.normal(0, 0.01, note.shape)
    photo = Image.fromarray((np.clip(photo, 0, 1) * 255).astype(np.uint8))
    return np.asarray(photo.rotate(tilt, resample=Image.Resampling.BILINEAR, fillcolor=(89, 64, 38)))


def canvas_of(digit: data.PenDigit, size: int = 400, brush: int = 14) -> Image.Image:
    style = synth.CanvasStyle(size, 0.7 * size, (size / 2, size / 2), brush, 0.0, False)
    return synth.render_canvas(digit, style)


def save_png(image: Image.Image, path: Path) -> Path:
    image.save(path)
    return path
