"""A real browser (Debian chromium driven by Playwright) drawing on the live app.

Strokes follow real pen trajectories of writers the model never saw. Waits are on conditions in
the page, never fixed sleeps. A screenshot of each failing test is saved in test-artifacts/.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from playwright.sync_api import Page, sync_playwright

from digitdraw.gradio_compat import EXAMPLE_BUTTON, FILE_INPUT, SERVER_FUNCTION_ROUTE
from tests.harness import CHROMIUM, CHROMIUM_ARGS, ROOT, draw_with_mouse, draw_with_touch, screen_points
from training import synth
from training.data import PenDigit

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
WAIT_MS = 15_000
READING = re.compile(re.escape(SERVER_FUNCTION_ROUTE) + "/?$")  # the pad's server function: one POST per reading


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
    assert status(page) == "Draw a digit or a number"
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


def number_points(page: Page, digits: list[PenDigit], seed: int = 0) -> list[list[tuple[float, float]]]:
    """The digits written as one number across the pad, ordinarily spaced, in page pixels."""
    layout = synth.lay_out_number(digits, np.random.default_rng(seed), (0.2, 0.4))
    box = page.locator("#sketch canvas").bounding_box()
    scale = min(box["width"] / layout.size[0], box["height"] / layout.size[1])
    x0 = box["x"] + (box["width"] - scale * layout.size[0]) / 2
    y0 = box["y"] + (box["height"] - scale * layout.size[1]) / 2
    return [[(x0 + scale * x, y0 + scale * y) for x, y in stroke.tolist()] for stroke in layout.strokes]


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_number_is_read_digit_by_digit_with_a_panel_for_each(device, page, phone, held_out_digits):
    screen = page if device == "desktop" else phone
    digits = [held_out_digits[i] for i in (24, 2, 30, 75)]  # 2 0 2 6
    points = number_points(screen, digits)
    (draw_with_touch if device == "phone" else draw_with_mouse)(screen, points)
    assert settled(screen) == "2026"
    assert status(screen).startswith("Reads 2026")
    cards = screen.locator("#digits li")
    assert cards.count() == 4
    assert [cards.nth(i).get_attribute("aria-label").split(",")[0] for i in range(4)] == \
        ["Digit 1: 2", "Digit 2: 0", "Digit 3: 2", "Digit 4: 6"]
    assert screen.locator("#probs li").count() == 0  # one digit's big bars give way to the panels
    last = cards.nth(3).bounding_box()
    assert last["y"] + last["height"] <= screen.viewport_size["height"]  # the answer is in view
    if device == "phone":
        assert screen.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    assert screen.errors == []


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
    assert status(page) == "Draw a digit or a number"  # at once, without waiting for the server
    holding[0] = False
    for route in held:
        route.continue_()  # the answer for the 7 arrives now, after the Clear
    page.wait_for_load_state("networkidle")  # the held answers have all arrived
    assert status(page) == "Draw a digit or a number"
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
    assert settled(page) == "" and status(page) == "Draw a digit or a number"
    draw_with_mouse(page, [stem])
    assert settled(page) == "1"
    page.keyboard.press("Escape")  # clear from the keyboard
    assert status(page) == "Draw a digit or a number" and page.is_disabled("#sketch button[data-action=undo]")


def test_each_reading_is_one_small_request(page, held_out_digits):
    posts = []
    page.on("request", lambda r: posts.append((r.url, len(r.post_data_buffer or b""))) if r.method == "POST" else None)
    draw(page, held_out_digits[48])
    readings = [size for url, size in posts if SERVER_FUNCTION_ROUTE in url]
    assert readings and len(readings) == len(posts)  # nothing but the readings: no uploads, no queue
    assert max(readings) < 20_000  # strokes, not images: a few KB


def explain_requests(page: Page) -> list[str]:
    posts = []
    page.on("request", lambda r: posts.append(r.post_data or "") if SERVER_FUNCTION_ROUTE in r.url else None)
    return posts


def test_how_it_was_read_shows_the_steps_only_when_open(page, held_out_digits):
    posts = explain_requests(page)
    assert draw(page, held_out_digits[84]) == "7"
    assert not [p for p in posts if "explain_reading" in p]  # closed: nothing computed
    page.get_by_text("How it was read").click()
    page.wait_for_function("document.querySelectorAll('#steps li').length === 6", timeout=WAIT_MS)
    captions = page.locator("#steps li span").all_inner_texts()
    assert captions[0].startswith("as received") and "dark ink on a light background" in captions[1]
    assert "to centre the mass in 28x28" in captions[-1] or "already centred" in captions[-1]
    assert page.locator("#saliency img").count() == 2
    assert "why a 7 and not a" in page.inner_text("#saliency")
    page.click("#clear")
    assert draw(page, held_out_digits[36]) == "3"  # a new drawing: the open panel follows it
    page.wait_for_function("document.querySelector('#explain .explain-status')?.textContent === 'Read as 3.'",
                           timeout=WAIT_MS)
    assert page.errors == []


def test_the_model_tab_shows_the_model_card(page):
    page.get_by_role("tab", name="Model").click()
    card = page.locator("#model-card")
    card.locator("table").wait_for()
    page.wait_for_function("[...document.querySelectorAll('#model-card img')].length === 4 && "
                           "[...document.querySelectorAll('#model-card img')].every((i) => i.complete && i.naturalWidth > 0)",
                           timeout=WAIT_MS)
    assert "150,698 parameters" in card.inner_text()
    assert card.locator("tbody tr").count() == 11
    assert page.errors == []


def test_upload_tab_reads_a_photo(page):
    page.get_by_role("tab", name="Upload").click()
    page.locator(f"#upload {FILE_INPUT}").set_input_files(str(ROOT / "examples" / "photo-blue-digit-9.jpg"))
    page.wait_for_function("document.querySelector('#probs').dataset.top === '9'", timeout=WAIT_MS)
    assert status(page).startswith("It's a 9")
    page.get_by_text("How it was read").click()  # the photo's steps: the page sends the image it shows
    page.wait_for_function("document.querySelector('#explain .explain-status')?.textContent === 'Read as 9.'",
                           timeout=WAIT_MS)
    assert "paper" in page.locator("#steps li span").nth(1).inner_text()


def test_clicking_an_example(page):
    page.get_by_role("tab", name="Upload").click()
    examples = page.locator(EXAMPLE_BUTTON)
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
