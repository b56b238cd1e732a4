""""How it was read": the steps' pictures and captions, and the saliency maps."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from conftest import canvas_of, draw_seven
from digitdraw import load_classifier, preprocess, ui
from digitdraw.explain import digit_pictures, heatmap
from digitdraw.inference import read_number_steps
from digitdraw.preprocessing import CANVAS_SIZE


def explained(image) -> dict:
    return ui.explanation(load_classifier(), image)


def captions(image) -> dict[str, str]:
    return {step["name"]: step["caption"] for step in explained(image)["steps"]}


def as_28(picture: np.ndarray) -> np.ndarray:
    """A picture scaled up pixel by pixel, sampled back at the 28x28's pixel centres."""
    centres = ((np.arange(CANVAS_SIZE) + 0.5) * picture.shape[0] / CANVAS_SIZE).astype(int)
    return picture[np.ix_(centres, centres)][..., 0]


def test_the_last_step_is_what_preprocess_gives(held_out_digits, seven):
    for image in (seven, canvas_of(held_out_digits[50]), ImageOps.invert(seven)):
        digit = read_number_steps(image).digits[0]
        np.testing.assert_array_equal(digit.result, preprocess(image))
        last = digit_pictures(digit)[-1]
        assert last.name == "center"
        np.testing.assert_array_equal(as_28(last.image), (np.clip(digit.result, 0, 1) * 255).astype(np.uint8))


def test_the_steps_come_in_order_with_a_caption_each(seven):
    steps = explained(seven)["steps"]
    assert [s["name"] for s in steps] == ["input", "ink", "selected", "crop", "fit", "center"]
    assert all(s["caption"] and s["image"].startswith("data:image/png;base64,") for s in steps)
    assert captions(seven)["input"] == "as received: 400x400 px"


def test_captions_say_an_image_was_inverted(seven):
    assert "dark ink on a light background" in captions(seven)["ink"]
    assert captions(ImageOps.invert(seven))["ink"].startswith("light ink on a dark background: inverted")


def test_captions_count_dropped_specks_and_ruled_lines(seven):
    assert captions(seven)["selected"] == "kept the digit; nothing else to drop"
    speckled = seven.copy()
    ImageDraw.Draw(speckled).ellipse((40, 40, 46, 46), fill=0)
    assert captions(speckled)["selected"] == "kept the digit; dropped 1 speck"
    lined = np.asarray(draw_seven(400, (150, 60, 250, 340), width=12)).copy()
    lined[200:202, :] = np.minimum(lined[200:202, :], 120)  # one grey ruled line across the page
    assert captions(Image.fromarray(lined))["selected"] == "kept the digit; dropped the ruled lines"


def test_captions_say_how_far_the_mass_was_moved():
    image = Image.new("L", (400, 400), 255)
    ImageDraw.Draw(image).line([(200, 80), (200, 320), (300, 320)], fill=0, width=16)  # an L: its mass low and left
    caption = captions(image)["center"]
    assert caption.startswith("moved ") and " px " in caption and "to centre the mass in 28x28" in caption


def test_a_number_gets_steps_for_each_digit(seven):
    pair = Image.new("L", (800, 400), 255)
    pair.paste(seven, (0, 0))
    pair.paste(seven, (400, 0))
    answer = explained(pair)
    assert answer["status"] == "Read as 77."
    assert captions(pair)["selected"] == "found 2 digits; nothing else to drop"
    assert [s["caption"].split(":")[0] for s in answer["steps"][3:]] == ["digit 1"] * 3 + ["digit 2"] * 3
    assert [s["digit"] for s in answer["saliency"]] == ["7", "7"]


def test_saliency_of_drawn_digits_lies_on_the_ink(held_out_digits):
    classifier = load_classifier()
    for digit in held_out_digits[::12]:
        x = preprocess(canvas_of(digit))
        top, runner_up = np.argsort(classifier(x[None])[0])[::-1][:2]
        maps = classifier.attributions(x, int(top), int(runner_up))
        assert maps.shape == (2, CANVAS_SIZE, CANVAS_SIZE) and np.isfinite(maps).all()
        on_ink = np.abs(maps[0])[x > 0.1].sum() / np.abs(maps[0]).sum()
        assert on_ink > 0.8, (digit.label, on_ink)


def test_saliency_adds_up_to_the_change_of_the_logits(held_out_digits):
    # Integrated gradients' completeness: each map sums to its logit's change from a black image.
    classifier = load_classifier()
    for digit in held_out_digits[5::24]:
        x = preprocess(canvas_of(digit))
        logits, black = classifier.logits(np.stack([x, np.zeros_like(x)]))
        top, runner_up = (int(c) for c in np.argsort(logits)[::-1][:2])
        maps = classifier.attributions(x, top, runner_up)
        assert maps[0].sum() == pytest.approx(logits[top] - black[top], rel=0.08, abs=0.2)
        versus = (logits[top] - logits[runner_up]) - (black[top] - black[runner_up])
        assert maps[1].sum() == pytest.approx(versus, rel=0.08, abs=0.2)


def test_heatmap_marks_up_in_red_and_down_in_blue():
    digit = np.zeros((28, 28), np.float32)
    attribution = np.zeros((28, 28), np.float32)
    attribution[5, 5], attribution[20, 20] = 1.0, -1.0
    picture = heatmap(digit, attribution, side=28)
    assert picture[5, 5, 0] > 200 and picture[5, 5, 2] < 60
    assert picture[20, 20, 2] > 200 and picture[20, 20, 0] < 80


def test_bad_requests_get_a_message():
    assert ui.image_of_data_url("data:image/png;base64,iVBORw0KGgo=")  # decodes; the engine judges the bytes
    for bad in (None, 3, "hello", "data:text/html;base64,PGI+", "data:image/png;base64,***"):
        with pytest.raises(ui.InvalidImageError):
            ui.image_of_data_url(bad)
    assert explained(Image.new("L", (300, 300), 255))["status"].startswith("No digit found")
