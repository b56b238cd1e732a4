"""Turn any image of one handwritten digit into a 28x28 MNIST-style array: the pipeline.

`trace` runs the steps and keeps what each one made; `preprocess` is `trace(image).result`:

    load_image, to_grayscale   decode (EXIF, first frame, any mode, alpha), shrink early  (loading)
    read_sheet                 a sheet on a darker desk is read alone                     (sheet)
    extract_ink                background and polarity: ink map in [0, 1]                 (ink)
    find_marks                 the marks, and the ruled lines among them                  (lines)
    select_digit               specks and stray marks dropped: the digit's mask           (selection)
    digit_steps                crop, thicken hairlines, fit 20x20, centre the mass in 28x28 (mnist_form)

Nothing here imports torch or gradio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from PIL import Image

from .ink import InkMap, extract_ink
from .lines import Marks, find_marks
from .loading import load_image, to_grayscale
from .mnist_form import DigitSteps, digit_steps
from .selection import select_digit
from .sheet import read_sheet

# Bump when a change in the pipeline changes what the model is given: weights record the version
# they were trained with, and refuse to load with another.
PREPROCESSING_VERSION = "4"  # 3: ruled lines tilted up to 10 degrees; 4: writing on a sheet is dark

Step = Callable[[str], None]


def _no_step(name: str) -> None:
    pass


@dataclass
class Page:
    """The image as loaded, in gray, and its ink: what every digit in it is cut from."""

    image: Image.Image | np.ndarray  # as loaded: EXIF applied
    gray: np.ndarray  # on a sheet lying on a darker surface: the sheet only (see sheet.py)
    ink: InkMap
    on_sheet: bool = False


@dataclass
class Trace:
    """What each step of `preprocess` made, for the app's "How it was read" and the benchmarks."""

    page: Page
    marks: Marks
    digit: DigitSteps

    @property
    def result(self) -> np.ndarray:
        return self.digit.result


def read_page(image: Any, done: Step = _no_step) -> Page:
    """Load the image, make it gray and find its ink, calling `done(name)` after each step."""
    loaded = load_image(image)
    done("decode")
    gray = to_grayscale(loaded)
    done("grayscale")
    sheet = read_sheet(gray)
    page = Page(loaded, *sheet, on_sheet=True) if sheet else Page(loaded, gray, extract_ink(gray))
    done("ink")
    return page


def trace(image: Any, on_step: Step | None = None) -> Trace:
    """Run every step on `image`, calling `on_step(name)` after each (the benchmark times them).

    Raises NoDigitError if there is no digit, InvalidImageError if the input can't be read.
    """
    done = on_step or _no_step
    page = read_page(image, done)
    marks = find_marks(page.ink.ink)
    done("lines")
    mask = select_digit(page.ink.ink, marks)
    done("select")
    steps = digit_steps(page.ink.ink, mask)
    done("mnist form")
    return Trace(page, marks, steps)


def preprocess(image: Any) -> np.ndarray:
    """Any image of one digit -> (28, 28) float32 in [0, 1], white digit on black, MNIST-style.

    Raises NoDigitError if there is no digit, InvalidImageError if the input can't be read.
    """
    return trace(image).result
