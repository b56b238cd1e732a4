"""A real browser (Debian chromium driven by Playwright) drawing on the live app.

Strokes follow real pen trajectories of writers the model never saw. Waits are on conditions in
the page, never fixed sleeps. A screenshot of each failing test is saved in test-artifacts/.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, sync_playwright

from benchmarks.common import CHROMIUM, CHROMIUM_ARGS, draw_with_mouse, draw_with_touch, screen_points
from conftest import ROOT
from training.data import PenDigit

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
WAIT_MS = 15_000
READING = re.compile(r"/component_server/?$")  # the pad's server function: one POST per reading


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_app(browser, app_url: str, options: dict) -> Page:
    page = browser.new_context(**options).new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(app_url)
    page.wait_for_selector("#sketch canvas")
    page.wait_for_function("window.digitdraw !== undefined && document.querySelector('#status').textContent !== ''")
    return page


def keep_screenshot_if_failed(page: Page, request) -> None:
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    page.context.close()


@pytest.fixture
def page(browser, app_url, request):
    page = open_app(browser, app_url, DESKTOP)
    yield page
    keep_screenshot_if_failed(page, request)


@pytest.fixture
def phone(browser, app_url, request):
    page = open_app(browser, app_url, PHONE)
    yield page
    keep_screenshot_if_failed(page, request)


def settled(page: Page) -> str:
    """The digit shown once the answer to the pad's current drawing is on the page ("" for none)."""
    page.wait_for_function("window.digitdraw.drawing > 0 && window.digitdraw.shown === window.digitdraw.drawing",
                           timeout=WAIT_MS)
    return page.evaluate("document.querySelector('#probs').dataset.top")


def draw(page: Page, digit: PenDigit, touch: bool = False) -> str:
    (draw_with_touch if touch else draw_with_mouse)(page, screen_points(page, digit))
    return settled(page)


def status(page: Page) -> str:
    return page.inner_text("#status")


def test_page_opens_ready_to_draw(page):
    assert "digitdraw" in page.title()
    assert status(page) == "Draw a digit"
    assert page.get_attribute("#sketch canvas", "aria-label").startswith("Drawing pad")
    assert page.is_disabled("#sketch button[data-action=undo]") and page.is_enabled("#clear")
    assert page.get_attribute("#status", "aria-live") == "polite"
    assert page.errors == []


def test_drawing_real_pen_strokes_with_the_mouse(page, held_out_digits):
    digits = held_out_digits[::12]  # one of each class, by writers the model never saw
    shown = []
    for digit in digits:
        shown.append((digit.label, draw(page, digit)))
        page.click("#clear")
    assert sum(str(label) == read for label, read in shown) >= len(digits) - 1, shown
    assert page.errors == []


def test_drawing_with_a_finger_on_a_phone_keeps_the_answer_in_view(phone, held_out_digits):
    digits = held_out_digits[5::12]
    shown = []
    for digit in digits:
        before = phone.evaluate("window.scrollY")
        shown.append((digit.label, draw(phone, digit, touch=True)))
        assert phone.evaluate("window.scrollY") == before  # the page did not move under the finger
        for selector in ("#status", "#probs li.top"):  # the answer is in view without scrolling
            box = phone.locator(selector).bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= 844, (selector, box)
        phone.tap("#clear")
        phone.wait_for_function("window.digitdraw.current().strokes.length === 0", timeout=WAIT_MS)
    assert sum(str(label) == read for label, read in shown) >= len(digits) - 1, repr(shown)


def swipe_up(page: Page, x: float, y: float, distance: float = 200) -> None:
    draw_with_touch(page, [[(x, y - distance * k / 10) for k in range(11)]])


def test_the_page_scrolls_under_a_finger_outside_the_pad_and_not_on_it(phone):
    phone.evaluate("document.body.style.minHeight = '2000px'")  # room to scroll, whatever the page's height
    pad = phone.locator("#sketch canvas").bounding_box()
    swipe_up(phone, pad["x"] + pad["width"] / 2, pad["y"] + pad["height"] - 10)
    assert phone.evaluate("window.scrollY") == 0
    results = phone.locator("#results").bounding_box()
    swipe_up(phone, results["x"] + 40, results["y"] + results["height"] - 10)
    assert phone.evaluate("window.scrollY") > 0


def test_clear_while_a_drawing_is_being_read_leaves_no_stale_answer(page, held_out_digits):
    held, holding = [], [True]
    page.route(READING, lambda route: held.append(route) if holding[0] else route.continue_())
    draw_with_mouse(page, screen_points(page, held_out_digits[84]))  # a 7; its reading is held back
    page.wait_for_function("window.digitdraw.drawing > 0")
    assert held, "no reading was sent"
    page.click("#clear")
    assert status(page) == "Draw a digit"  # at once, without waiting for the server
    holding[0] = False
    for route in held:
        route.continue_()  # the answer for the 7 arrives now, after the Clear
    page.wait_for_load_state("networkidle")  # the held answers have all arrived
    assert status(page) == "Draw a digit"
    assert page.evaluate("document.querySelector('#probs').dataset.top") == ""
    assert draw(page, held_out_digits[36]) == "3"  # a 3 drawn after the clear is read


def test_undo_brings_back_the_previous_answer(page):
    box = page.locator("#sketch canvas").bounding_box()
    x, y, h = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.2, box["height"] * 0.6
    stem = [(x, y + 0.05 * h), (x, y + h)]
    draw_with_mouse(page, [stem])
    first = settled(page)
    draw_with_mouse(page, [[(x - 0.4 * h, y), (x + 0.05 * h, y)]])  # a bar across the top: now a 7
    assert settled(page) != first
    page.click("#sketch button[data-action=undo]")
    assert settled(page) == first == "1"
    page.keyboard.press("Control+z")  # undo from the keyboard: the pad is empty
    assert settled(page) == "" and status(page) == "Draw a digit"
    draw_with_mouse(page, [stem])
    assert settled(page) == "1"
    page.keyboard.press("Escape")  # clear from the keyboard
    assert status(page) == "Draw a digit" and page.is_disabled("#sketch button[data-action=undo]")


def test_each_reading_is_one_small_request(page, held_out_digits):
    posts = []
    page.on("request", lambda r: posts.append((r.url, len(r.post_data_buffer or b""))) if r.method == "POST" else None)
    draw(page, held_out_digits[48])
    readings = [size for url, size in posts if "component_server" in url]
    assert readings and len(readings) == len(posts)  # nothing but the readings: no uploads, no queue
    assert max(readings) < 20_000  # strokes, not images: a few KB


def test_upload_tab_reads_a_photo(page):
    page.get_by_role("tab", name="Upload").click()
    page.locator("#upload input[type=file]").set_input_files(str(ROOT / "examples" / "photo-blue-digit-9.jpg"))
    page.wait_for_function("document.querySelector('#probs').dataset.top === '9'", timeout=WAIT_MS)
    assert status(page).startswith("It's a 9")


def test_clicking_an_example(page):
    page.get_by_role("tab", name="Upload").click()
    examples = page.locator("button.gallery-item")
    assert examples.count() >= 10
    examples.first.click()  # mnist-test-00000-digit-7.png
    page.wait_for_function("document.querySelector('#probs').dataset.top === '7'", timeout=WAIT_MS)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_screenshot_of_the_app_in_use(browser, app_url, held_out_digits, size):
    page = open_app(browser, app_url, DESKTOP if size == "desktop" else PHONE)
    try:
        assert draw(page, held_out_digits[72], touch=size == "phone") == "6"
        assert re.match(r"It's a 6", status(page))
        name = "screenshot.png" if size == "desktop" else "screenshot-phone.png"
        target = ROOT / "docs" / name if os.environ.get("UPDATE_SCREENSHOT") else ARTIFACTS / name
        target.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(target))
    finally:
        page.context.close()
