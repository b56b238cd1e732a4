"""Shared fixtures: synthetic digits with known geometry, and real pen strokes."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from benchmarks.common import free_port, start_app, stop
from training import data, synth

ROOT = Path(__file__).resolve().parent.parent


def draw_seven(size: int = 400, box: tuple[int, int, int, int] = (150, 100, 250, 300), width: int = 14) -> Image.Image:
    """A '7' (black on white, mode L) inside `box` = (left, top, right, bottom)."""
    image = Image.new("L", (size, size), 255)
    left, top, right, bottom = box
    draw = ImageDraw.Draw(image)
    draw.line([(left, top), (right, top), (left + (right - left) // 3, bottom)], fill=0, width=width, joint="curve")
    return image


@pytest.fixture
def seven() -> Image.Image:
    return draw_seven()


@pytest.fixture(scope="session")
def held_out_digits() -> list[data.PenDigit]:
    """Pen strokes of the writers held out of training, a few of each class."""
    digits = data.pendigits_for(data.TEST_WRITERS)
    return [d for label in range(10) for d in [x for x in digits if x.label == label][:12]]


def canvas_of(digit: data.PenDigit, size: int = 400, brush: int = 14) -> Image.Image:
    style = synth.CanvasStyle(size, 0.7 * size, (size / 2, size / 2), brush, 0.0, False)
    return synth.render_canvas(digit, style)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
    """The real app, started once for the API and browser tests."""
    port = free_port()
    process = start_app(port, tmp_path_factory.mktemp("app") / "app.log")
    yield f"http://127.0.0.1:{port}/"
    stop(process)


def save_png(image: Image.Image, path: Path) -> Path:
    image.save(path)
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the test item, so fixtures can see if the test failed."""
    outcome = yield
    setattr(item, f"rep_{call.when}", outcome.get_result())
