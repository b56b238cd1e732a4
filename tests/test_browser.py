"""A real browser (Debian chromium driven by Playwright) drawing and uploading on the live app.

Strokes follow real pen trajectories of writers the model never saw. Waits are on conditions in
the page, never fixed sleeps. A screenshot of each failing test is saved in test-artifacts/.
"""

from __future__ import annotations

import io
import os
import re

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, sync_playwright

from digitdraw import model_tab
from digitdraw.gradio_compat import SERVER_FUNCTION_ROUTE
from tests.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    accessibility_violations,
    draw_with_mouse,
    draw_with_touch,
    screen_points,
)
from training import synth
from training.data import PenDigit

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
SMALL_PHONE = {"viewport": {"width": 360, "height": 640}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}
WAIT_MS = 15_000
READING = re.compile(re.escape(SERVER_FUNCTION_ROUTE) + "/?$")  # the components' server functions: one POST each
PHOTO = ROOT / "examples" / "photo-blue-digit-9.jpg"


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
    page.wait_for_function("window.digitdraw !== undefined && document.querySelector('#draw-results .status').textContent !== ''")
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


SCREENS = {"desktop": DESKTOP, "phone": PHONE, "small phone": SMALL_PHONE}


@pytest.fixture(params=list(SCREENS))
def screen(browser, app_url, request):
    page = open_app(browser, app_url, SCREENS[request.param])
    page.touch = request.param != "desktop"
    yield page
    keep_screenshot_if_failed(page, request)


@pytest.fixture(params=["phone", "small phone"])
def touch_screen(browser, app_url, request):
    page = open_app(browser, app_url, SCREENS[request.param])
    yield page
    keep_screenshot_if_failed(page, request)


def settled(page: Page) -> str:
    """The digit shown once the answer to the pad's current drawing is on the page ("" for none)."""
    page.wait_for_function("window.digitdraw.drawing > 0 && window.digitdraw.shown === window.digitdraw.drawing",
                           timeout=WAIT_MS)
    return page.evaluate("document.querySelector('#draw-results .probs').dataset.top")


def uploaded(page: Page) -> str:
    """The digits read once the answer to the current upload is on the page."""
    page.wait_for_function("window.digitdraw.upload.id > 0 && window.digitdraw.upload.shown === window.digitdraw.upload.id",
                           timeout=WAIT_MS)
    return page.evaluate("document.querySelector('#upload-results .probs').dataset.top")


def draw(page: Page, digit: PenDigit, touch: bool = False) -> str:
    (draw_with_touch if touch else draw_with_mouse)(page, screen_points(page, digit))
    return settled(page)


def status(page: Page, tab: str = "draw") -> str:
    return page.inner_text(f"#{tab}-results .status")


def upload(page: Page, path=PHOTO) -> str:
    page.get_by_role("tab", name="Upload").click()
    page.locator("#upload input.choose").set_input_files(str(path))
    return uploaded(page)


def in_view(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]


def test_page_opens_ready_to_draw(page):
    assert "digitdraw" in page.title()
    assert status(page) == "Draw a digit or a number"
    assert page.get_attribute("#sketch canvas", "aria-label").startswith("Drawing pad")
    assert page.get_attribute("#sketch button[data-action=undo]", "aria-disabled") == "true"
    assert page.get_attribute("#draw-results .status", "aria-live") == "polite"
    assert page.errors == []


def test_drawing_real_pen_strokes_with_the_mouse(page, held_out_digits):
    digits = held_out_digits[::12]  # one of each class, by writers the model never saw
    shown = []
    for digit in digits:
        shown.append((digit.label, draw(page, digit)))
        page.click("#sketch button[data-action=clear]")
    assert sum(str(label) == read for label, read in shown) >= len(digits) - 1, shown
    assert page.errors == []


def test_a_finger_draws_with_the_answer_in_view_and_nothing_moving(touch_screen, held_out_digits):
    screen = touch_screen
    results = screen.locator("#draw-results").bounding_box()
    pad = screen.locator("#sketch canvas").bounding_box()
    shown = []
    for digit in held_out_digits[5::24] + [held_out_digits[24], held_out_digits[2]]:
        shown.append((digit.label, draw(screen, digit, touch=True)))
        assert screen.evaluate("window.scrollY") == 0  # the page did not move under the finger
        assert screen.locator("#sketch canvas").bounding_box() == pad  # nor did the pad
        assert screen.locator("#draw-results").bounding_box()["height"] == results["height"]  # nor the answer's box
        for selector in ("#draw-results .status", "#draw-results .probs li.top"):
            assert in_view(screen, selector), selector  # the answer is in view without scrolling
        screen.tap("#sketch button[data-action=clear]")
        screen.wait_for_function("window.digitdraw.current().strokes.length === 0", timeout=WAIT_MS)
    assert sum(str(label) == read for label, read in shown) >= len(shown) - 1, shown


def test_the_pads_tools_are_off_the_drawing_area(screen):
    pad = screen.locator("#sketch canvas").bounding_box()
    for name in ("undo", "clear"):
        tool = screen.locator(f"#sketch button[data-action={name}]").bounding_box()
        overlap_x = min(pad["x"] + pad["width"], tool["x"] + tool["width"]) - max(pad["x"], tool["x"])
        overlap_y = min(pad["y"] + pad["height"], tool["y"] + tool["height"]) - max(pad["y"], tool["y"])
        assert overlap_x <= 0 or overlap_y <= 0, name
        assert tool["height"] >= 40 and in_view(screen, f"#sketch button[data-action={name}]")  # big enough for a thumb


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


def test_a_number_is_read_digit_by_digit_with_a_panel_for_each(screen, held_out_digits):
    digits = [held_out_digits[i] for i in (24, 2, 30, 75, 13, 84)]  # 2 0 2 6 1 7: the 1 has a runner-up, a 7
    results = screen.locator("#draw-results").bounding_box()
    (draw_with_touch if screen.touch else draw_with_mouse)(screen, number_points(screen, digits))
    assert settled(screen) == "202617"
    assert status(screen).startswith("Reads 202617")
    cards = screen.locator("#draw-results .digits li")
    assert cards.count() == 6
    labels = [cards.nth(i).get_attribute("aria-label") for i in range(6)]
    assert [label.split(",")[0] for label in labels] == [f"Digit {i + 1}: {d}" for i, d in enumerate("202617")]
    # The runner-up in words, on the panel and read out alike, unless it rounds to 0%.
    shown = [cards.nth(i).locator("small").inner_text() for i in range(6)]
    for label, text in zip(labels, shown):
        runner_up = re.search(r"; then (\d), (\d+)%$", label)
        assert text.endswith(f", or {runner_up[1]}: {runner_up[2]}%") if runner_up else "," not in text, (label, text)
        assert not text.endswith(" 0%")
    assert sum("; then " in label for label in labels) == 1  # the 1's runner-up, a 7
    assert len({round(cards.nth(i).bounding_box()["height"]) for i in range(6)}) == 1  # the last one too
    assert screen.locator("#draw-results .probs li").count() == 0  # one digit's big bars give way to the panels
    assert screen.locator("#draw-results").bounding_box()["height"] == results["height"]  # in the same box
    assert in_view(screen, "#draw-results .digits li:last-child")
    assert screen.evaluate("document.documentElement.scrollWidth") <= screen.viewport_size["width"]
    assert screen.errors == []


def test_the_page_scrolls_under_a_finger_outside_the_pad_and_not_on_it(phone):
    phone.evaluate("document.body.style.minHeight = '2000px'")  # room to scroll, whatever the page's height
    pad = phone.locator("#sketch canvas").bounding_box()
    swipe_up(phone, pad["x"] + pad["width"] / 2, pad["y"] + pad["height"] - 10)
    assert phone.evaluate("window.scrollY") == 0
    results = phone.locator("#draw-results").bounding_box()
    swipe_up(phone, results["x"] + 40, results["y"] + results["height"] - 10)
    assert phone.evaluate("window.scrollY") > 0


def test_clear_while_a_drawing_is_being_read_leaves_no_stale_answer(page, held_out_digits):
    held, holding = [], [True]
    page.route(READING, lambda route: held.append(route) if holding[0] else route.continue_())
    draw_with_mouse(page, screen_points(page, held_out_digits[84]))  # a 7; its reading is held back
    page.wait_for_function("window.digitdraw.drawing > 0")
    assert held, "no reading was sent"
    page.click("#sketch button[data-action=clear]")
    assert status(page) == "Draw a digit or a number"  # at once, without waiting for the server
    holding[0] = False
    for route in held:
        route.continue_()  # the answer for the 7 arrives now, after the Clear
    page.wait_for_load_state("networkidle")  # the held answers have all arrived
    assert status(page) == "Draw a digit or a number"
    assert page.evaluate("document.querySelector('#draw-results .probs').dataset.top") == ""
    assert draw(page, held_out_digits[36]) == "3"  # a 3 drawn after the clear is read


def test_undo_brings_back_the_previous_answer_and_keeps_the_focus(page):
    box = page.locator("#sketch canvas").bounding_box()
    x, y, h = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.2, box["height"] * 0.6
    stem = [(x, y + 0.05 * h), (x, y + h)]
    draw_with_mouse(page, [stem])
    first = settled(page)
    draw_with_mouse(page, [[(x - 0.4 * h, y), (x + 0.05 * h, y)]])  # a bar across the top: now a 7
    assert settled(page) != first
    page.click("#sketch button[data-action=undo]")
    assert settled(page) == first == "1"
    page.focus("#sketch button[data-action=undo]")
    page.keyboard.press("Enter")  # undo the last stroke from the keyboard: the pad is empty
    assert settled(page) == "" and status(page) == "Draw a digit or a number"
    assert page.get_attribute("#sketch button[data-action=undo]", "aria-disabled") == "true"
    assert page.evaluate("document.activeElement.dataset.action") == "undo"  # the focus stayed, not on <body>
    draw_with_mouse(page, [stem])
    assert settled(page) == "1"
    page.keyboard.press("Escape")  # clear from the keyboard
    assert status(page) == "Draw a digit or a number"


def test_each_reading_is_one_small_request(page, held_out_digits):
    posts = []
    page.on("request", lambda r: posts.append((r.url, len(r.post_data_buffer or b""))) if r.method == "POST" else None)
    draw(page, held_out_digits[48])
    readings = [size for url, size in posts if SERVER_FUNCTION_ROUTE in url]
    assert readings and len(readings) == len(posts)  # nothing but the readings: no uploads, no queue
    assert max(readings) < 20_000  # strokes, not images: a few KB


def open_explanation(page: Page, tab: str = "draw") -> None:
    toggle = page.locator(f"#{tab}-explain .disclosure")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"


def test_how_it_was_read_shows_the_steps_only_when_open(page, held_out_digits):
    posts = []
    page.on("request", lambda r: posts.append(r.post_data or "") if SERVER_FUNCTION_ROUTE in r.url else None)
    assert draw(page, held_out_digits[84]) == "7"
    assert not [p for p in posts if "explain_reading" in p]  # closed: nothing computed
    open_explanation(page)
    page.wait_for_function("document.querySelectorAll('#draw-explain .steps li').length === 6", timeout=WAIT_MS)
    captions = page.locator("#draw-explain .steps li span:last-child").all_inner_texts()
    assert captions[0].startswith("as received") and "dark ink on a light background" in captions[1]
    assert "to centre the mass in 28x28" in captions[-1] or "already centred" in captions[-1]
    assert page.locator("#draw-explain .saliency img").count() == 2
    assert "why a 7 and not " in page.inner_text("#draw-explain .saliency")
    page.click("#sketch button[data-action=clear]")
    assert draw(page, held_out_digits[36]) == "3"  # a new drawing: the open panel follows it
    page.wait_for_function("document.querySelector('#draw-explain .explain-status')?.textContent === 'Read as 3.'",
                           timeout=WAIT_MS)
    assert page.errors == []


def test_how_it_was_read_shows_no_headings_over_nothing(page, held_out_digits):
    # Opened before anything is read, the panel says so; its "Steps" and "What the model looked at"
    # appear with what goes under them.
    open_explanation(page)
    parts = "#draw-explain .steps-part", "#draw-explain .saliency-part"
    assert not any(page.locator(part).is_visible() for part in parts)
    assert draw(page, held_out_digits[84]) == "7"
    page.wait_for_function("document.querySelectorAll('#draw-explain .saliency img').length === 2", timeout=WAIT_MS)
    assert all(page.locator(part).is_visible() for part in parts)
    page.click("#sketch button[data-action=clear]")
    page.wait_for_function("document.querySelector('#draw-explain .steps-part').hidden", timeout=WAIT_MS)
    assert page.errors == []


def test_an_explanation_arriving_after_the_clear_is_not_shown(page, held_out_digits):
    # The answer for the drawing before the Clear is stale when it arrives; the panel stays empty.
    open_explanation(page)
    empty = page.inner_text("#draw-explain .explain-status")
    held, holding = [], [True]
    explaining = lambda route: holding[0] and "explain_reading" in (route.request.post_data or "")  # noqa: E731
    page.route(READING, lambda route: held.append(route) if explaining(route) else route.continue_())
    assert draw(page, held_out_digits[84]) == "7"
    page.wait_for_function("document.querySelector('#draw-explain .explain-status').textContent === 'Reading…'",
                           timeout=WAIT_MS)
    assert held, "no explanation was asked for"
    page.click("#sketch button[data-action=clear]")
    holding[0] = False
    for route in held:
        route.continue_()
    page.wait_for_load_state("networkidle")  # the held answers have all arrived
    page.evaluate("() => new Promise(requestAnimationFrame)")  # and their handlers have run
    assert page.inner_text("#draw-explain .explain-status") == empty
    assert page.locator("#draw-explain .steps-part").is_hidden()
    assert page.errors == []


def test_a_thin_ones_steps_are_pictures_in_boxes_no_taller_than_the_pad(screen):
    box = screen.locator("#sketch canvas").bounding_box()
    x, top = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.1
    (draw_with_touch if screen.touch else draw_with_mouse)(screen, [[(x, top), (x + 1, top + box["height"] * 0.8)]])
    assert settled(screen) == "1"
    open_explanation(screen)
    screen.wait_for_function("document.querySelectorAll('#draw-explain .steps img').length === 6", timeout=WAIT_MS)
    screen.wait_for_function("[...document.querySelectorAll('#draw-explain img')].every((i) => i.complete)")
    pictures = screen.evaluate("""[...document.querySelectorAll('#draw-explain .steps img, #draw-explain .saliency img')]
        .map((i) => ({w: i.getBoundingClientRect().width, h: i.getBoundingClientRect().height,
                      nw: i.naturalWidth, nh: i.naturalHeight, fit: getComputedStyle(i).objectFit}))""")
    for picture in pictures:
        assert picture["h"] <= min(box["height"], 112) and picture["w"] <= 112, picture  # a fixed box
        assert picture["fit"] == "contain"  # shown whole, its aspect kept: a 2x20 fit stays a thin line
    fit = screen.locator("#draw-explain .box.fit img")
    assert fit.evaluate("(i) => i.naturalWidth < i.naturalHeight / 4")  # the 1 fitted into 20x20 is thin
    assert screen.evaluate("document.documentElement.scrollWidth") <= screen.viewport_size["width"]


def test_the_model_tab_shows_the_model_card_on_any_screen(screen):
    screen.get_by_role("tab", name="Model").click()
    card = screen.locator("#model-card")
    card.locator("table").wait_for()
    assert card.locator("img.light-only").count() == len(model_tab.PLOTS) == 5
    for image in card.locator("img.light-only").all():  # lazy: each loads once it is scrolled to
        image.scroll_into_view_if_needed()
        image.evaluate("(i) => i.decode()")  # rejects if the picture does not load
    text = card.inner_text()
    assert "233,011 parameters" in text and "3x3 convolution: 40 filters" in text
    assert "BatchNorm2d(" not in text and "../shared" not in text  # plain words, no machine's paths
    assert card.locator("tbody tr").count() == 11
    assert screen.evaluate("document.documentElement.scrollWidth") <= screen.viewport_size["width"]
    for image in card.locator("img.light-only").all():  # the pictures fit the screen
        assert image.bounding_box()["width"] <= screen.viewport_size["width"]
    assert screen.errors == []


def test_the_model_tabs_pictures_follow_the_theme(browser, app_url):
    for scheme, shown in (("light", "light-only"), ("dark", "dark-only")):
        page = open_app(browser, app_url, {**DESKTOP, "color_scheme": scheme})
        page.get_by_role("tab", name="Model").click()
        page.locator("#model-card table").wait_for()
        visible = page.evaluate("[...document.querySelectorAll('#model-card img')].filter((i) => i.offsetParent)"
                                ".map((i) => i.className)")
        assert visible and set(visible) == {shown}, (scheme, visible)
        page.context.close()


def test_the_upload_tab_reads_a_photo_and_explains_it(page):
    assert upload(page) == "9"
    assert status(page, "upload").startswith("It's a 9")
    open_explanation(page, "upload")
    page.wait_for_function("document.querySelector('#upload-explain .explain-status')?.textContent === 'Read as 9.'",
                           timeout=WAIT_MS)
    assert "paper" in page.locator("#upload-explain .steps li span:last-child").nth(1).inner_text()


def test_a_phone_upload_puts_the_answer_in_view(touch_screen):
    screen = touch_screen
    screen.get_by_role("tab", name="Upload").click()
    assert screen.locator("#upload button[data-action=camera]").is_visible()  # phones offer the camera
    assert screen.get_attribute("#upload input.camera", "capture") == "environment"
    assert upload(screen) == "9"
    screen.wait_for_function("(() => { const b = document.querySelector('#upload-results .status').getBoundingClientRect();"
                             " return b.top >= 0 && b.bottom <= window.innerHeight; })()", timeout=WAIT_MS)
    assert in_view(screen, "#upload-results .probs li.top")


def test_each_tab_keeps_its_own_answer(page, held_out_digits):
    assert draw(page, held_out_digits[84]) == "7"
    page.get_by_role("tab", name="Upload").click()
    assert status(page, "upload") == "Upload a photo or an image of a digit or a number"  # not the drawing's 7
    assert upload(page) == "9"
    page.get_by_role("tab", name="Draw").click()
    assert status(page).startswith("It's a 7") and "Can't read" not in status(page)
    page.get_by_role("tab", name="Upload").click()
    assert status(page, "upload").startswith("It's a 9")


def test_a_twenty_megabyte_phone_photo_is_read(page, tmp_path):
    photo = Image.open(PHOTO).convert("RGB").resize((6000, 8000), Image.Resampling.BICUBIC)
    noise = np.random.default_rng(0).integers(-8, 9, (8000, 6000, 1), dtype=np.int16)  # sensor grain: JPEG keeps it
    photo = Image.fromarray(np.clip(np.asarray(photo, np.int16) + noise, 0, 255).astype(np.uint8))
    path = tmp_path / "phone.jpg"
    photo.save(path, "JPEG", quality=98)
    assert path.stat().st_size > 20_000_000  # over the server's 10 MB: shrunk in the browser first
    sent = []
    page.on("request", lambda r: sent.append(len(r.post_data_buffer or b"")) if SERVER_FUNCTION_ROUTE in r.url else None)
    assert upload(page, path) == "9"
    assert max(sent) < 4_000_000


def test_clicking_an_example_reads_it(page):
    page.get_by_role("tab", name="Upload").click()
    examples = page.locator("#examples button")
    assert examples.count() >= 10
    assert examples.first.get_attribute("aria-label") == "Example: MNIST test digit 7"
    examples.first.click()
    assert uploaded(page) == "7"


def test_pasting_without_the_clipboard_permission_says_how_to_paste(page):
    page.get_by_role("tab", name="Upload").click()
    page.click("#upload button[data-action=paste]")  # headless chromium grants no clipboard permission
    page.wait_for_function("document.querySelector('#upload .note').textContent.includes('Ctrl+V')", timeout=WAIT_MS)
    assert page.errors == []


def test_pasting_an_image_reads_it(page):
    page.get_by_role("tab", name="Upload").click()
    png = io.BytesIO()
    Image.open(ROOT / "examples" / "mnist-test-00001-digit-2.png").save(png, "PNG")
    page.evaluate("""(bytes) => {
        const file = new File([new Uint8Array(bytes)], 'pasted.png', {type: 'image/png'});
        const data = new DataTransfer(); data.items.add(file);
        document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data}));
    }""", list(png.getvalue()))
    assert uploaded(page) == "2"


def test_nothing_of_the_user_stays_in_the_browser(page, held_out_digits):
    draw(page, held_out_digits[84])
    upload(page)
    assert page.locator("footer").get_by_text("Runs").count() == 0  # no run history
    stored = page.evaluate("JSON.stringify({local: {...localStorage}, session: {...sessionStorage}})")
    assert "data:image" not in stored and "strokes" not in stored and "gradio" not in stored.lower()


def shown_answer(page: Page, top: float) -> tuple[str, str]:
    """The status colour and the card borders the results panel gives an answer of this confidence."""
    page.evaluate("""(top) => {
        const probabilities = Object.fromEntries([...'0123456789'].map((d) => [d, d === '4' ? top : (1 - top) / 9]));
        const digit = {digit: '4', confidence: top, unsure: top < 0.6, probabilities, preview: ''};
        window.digitdraw.drawing += 1;
        window.dispatchEvent(new CustomEvent('digitdraw:answer', {detail: {drawing: window.digitdraw.drawing,
            status: 'an answer', digits: [digit]}}));
    }""", top)
    return page.evaluate("getComputedStyle(document.querySelector('#draw-results .status')).color"), \
        page.evaluate("document.querySelector('#draw-results .results').className")


def test_an_unsure_answer_looks_unsure(page):
    sure_colour, sure_classes = shown_answer(page, 0.95)
    unsure_colour, unsure_classes = shown_answer(page, 0.45)
    assert "unsure" in unsure_classes and "unsure" not in sure_classes
    assert unsure_colour != sure_colour


ACCESSIBILITY_SCREENS = {"desktop, light": {**DESKTOP, "color_scheme": "light"},
                         "desktop, dark": {**DESKTOP, "color_scheme": "dark"},
                         "phone": PHONE, "small phone": SMALL_PHONE}


@pytest.mark.parametrize("name", list(ACCESSIBILITY_SCREENS))
def test_no_critical_or_serious_accessibility_violation_in_any_state(browser, app_url, held_out_digits, name):
    page = open_app(browser, app_url, ACCESSIBILITY_SCREENS[name])
    touch = "phone" in name
    found = {}

    def check(state: str) -> None:
        found[state] = accessibility_violations(page)

    try:
        check("ready to draw")
        draw(page, held_out_digits[84], touch)
        check("a digit read")
        open_explanation(page)
        page.wait_for_function("document.querySelectorAll('#draw-explain .steps li').length > 0", timeout=WAIT_MS)
        check("how it was read, open")
        page.click("#sketch button[data-action=clear]")
        (draw_with_touch if touch else draw_with_mouse)(page, number_points(page, [held_out_digits[i] for i in (24, 2)]))
        settled(page)
        check("a number read")
        page.click("#sketch button[data-action=clear]")
        box = page.locator("#sketch canvas").bounding_box()
        (draw_with_touch if touch else draw_with_mouse)(page, [[(box["x"] + 20, box["y"] + box["height"] / 2),
                                                                (box["x"] + box["width"] - 20, box["y"] + box["height"] / 2)]])
        settled(page)
        check("a line, not a digit")
        page.get_by_role("tab", name="Upload").click()
        check("upload, nothing yet")
        upload(page)
        check("upload, a photo read")
        page.get_by_role("tab", name="Model").click()
        page.locator("#model-card table").wait_for()
        check("the model tab")
    finally:
        page.context.close()
    assert not any(found.values()), {state: v for state, v in found.items() if v}


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


def test_training_a_model_in_the_app_and_comparing_it_on_the_pad(page, held_out_digits):
    page.get_by_role("tab", name="Learn").click()
    images = page.locator("#train-images input[type=number]")
    images.fill("8000")  # a subset, for speed: 63 steps, a curve point every 25
    images.press("Enter")
    page.click("#train")
    page.wait_for_function("document.querySelector('#train-status').innerText.startsWith('Training: epoch')",
                           timeout=60_000)  # the curve moves while it trains
    page.wait_for_function("document.querySelector('#train-status').innerText.startsWith('Done: MNIST test')",
                           timeout=120_000)
    assert page.locator("#loss-plot canvas, #loss-plot svg").count() > 0
    page.get_by_role("tab", name="Draw").click()
    assert draw(page, held_out_digits[84]) == "7"
    assert "Your model reads" in status(page)  # the comparison appears beside the shipped model's answer
    assert page.locator("#draw-results .results.compared .bar .mine").count() == 10
    assert page.errors == []


def test_looking_inside_the_model_at_a_drawing(page, held_out_digits):
    draw(page, held_out_digits[84])
    page.get_by_role("tab", name="Learn").click()
    page.get_by_role("button", name="Look inside: the Draw tab's drawing").click()
    page.wait_for_function("document.querySelectorAll('#inside figure.layer').length === 5", timeout=WAIT_MS)
    assert page.locator("#inside figure.pooled").count() == 1 and page.locator("#inside tbody tr").count() == 11
    assert "Convolution 1: 40 filters" in page.inner_text("#inside")


def test_browsing_to_a_digit_the_shipped_model_misreads(page):
    page.get_by_role("tab", name="Learn").click()
    page.get_by_role("button", name="Next one the shipped model gets wrong").click()
    page.wait_for_function("document.querySelector('#mnist .said').textContent.includes('wrong')", timeout=60_000)
    said = page.inner_text("#mnist .said")
    label, read = re.search(r"labelled (\d)\. The shipped model reads (\d)", said).groups()
    assert label != read and page.locator("#mnist .bars li").count() == 10
