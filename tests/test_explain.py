""""How it was read": the steps' pictures and captions, and the saliency maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageOps

from digitdraw import answers, load_classifier, preprocess
from digitdraw.errors import InvalidImageError
from digitdraw.explain import digit_pictures, heatmap
from digitdraw.mnist_form import CANVAS_SIZE
from digitdraw.reading import read_number_steps
from tests.harness import ROOT
from tests.images import canvas_of, draw_seven, note_on_a_desk


def explained(image) -> dict:
    return answers.explanation(load_classifier(), image)


def captions(image) -> dict[str, str]:
    return {step["name"]: step["caption"] for step in explained(image)["steps"]}


def test_the_last_step_is_what_preprocess_gives(held_out_digits, seven):
    for image in (seven, canvas_of(held_out_digits[50]), ImageOps.invert(seven)):
        digit = read_number_steps(image).digits[0].steps
        np.testing.assert_array_equal(digit.result, preprocess(image))
        last = digit_pictures(digit)[-1]
        assert last.name == "center" and last.image.shape == (CANVAS_SIZE, CANVAS_SIZE, 3)  # its own pixels
        np.testing.assert_array_equal(last.image[..., 0], (np.clip(digit.result, 0, 1) * 255).astype(np.uint8))


def test_the_steps_come_in_order_with_a_caption_each(seven):
    steps = explained(seven)["steps"]
    assert [s["name"] for s in steps] == ["input", "ink", "selected", "crop", "fit", "center"]
    assert all(s["caption"] and s["image"].startswith("data:image/png;base64,") for s in steps)
    assert captions(seven)["input"] == "as received: 400x400 px"


def test_captions_say_an_image_was_inverted(seven):
    assert "dark ink on a light background" in captions(seven)["ink"]
    assert captions(ImageOps.invert(seven))["ink"].startswith("light ink on a dark background: inverted")


def test_captions_say_a_note_on_a_desk_was_read_on_the_note(seven):
    photo = note_on_a_desk(1 - np.asarray(seven, np.float32) / 255)
    assert "read on the sheet, not the darker surface around it" in captions(photo)["ink"]
    assert "read on the sheet" not in captions(seven)["ink"]


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
    ImageDraw.Draw(image).line([(120, 80), (300, 80), (170, 320)], fill=0, width=16)  # a 7: its mass high and right
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


def saliency_cases(digits) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Preprocessed drawings, their logits, and each one's top class and runner-up."""
    x = np.stack([preprocess(canvas_of(digit)) for digit in digits])
    logits = load_classifier().logits(x)
    order = np.argsort(logits, axis=1)[:, ::-1]
    return x, logits, order[:, 0], order[:, 1]


def integrated_gradients(x: np.ndarray, target, steps: int = 256) -> np.ndarray:
    """The reference the maps are checked against: integrated gradients from black, by midpoints."""
    model = load_classifier().model
    alphas = ((torch.arange(steps) + 0.5) / steps)[:, None, None, None]
    path = (alphas * torch.from_numpy(x)[None, None]).requires_grad_(True)
    (gradient,) = torch.autograd.grad(target(model(path)).sum(), path)
    return (torch.from_numpy(x) * gradient.mean(dim=0)[0]).numpy()


def test_saliency_of_drawn_digits_lies_on_the_ink(held_out_digits):
    x, _, tops, runner_ups = saliency_cases(held_out_digits[::12])
    maps = load_classifier().attributions(x, tops, runner_ups)
    assert maps.shape == (len(x), 2, CANVAS_SIZE, CANVAS_SIZE) and np.isfinite(maps).all()
    for digit, saliency in zip(x, maps):
        on_ink = np.abs(saliency[0])[digit > 0.1].sum() / np.abs(saliency[0]).sum()
        assert on_ink > 0.8, on_ink


def test_saliency_adds_up_to_the_change_of_the_logits(held_out_digits):
    # DeepLIFT's completeness: each map sums to its logit's change from a black image, exactly.
    classifier = load_classifier()
    x, logits, tops, runner_ups = saliency_cases(held_out_digits[5::12])
    black = classifier.logits(np.zeros((1, CANVAS_SIZE, CANVAS_SIZE)))[0]
    maps = classifier.attributions(x, tops, runner_ups)
    for i, (top, runner_up) in enumerate(zip(tops, runner_ups)):
        assert maps[i, 0].sum() == pytest.approx(logits[i, top] - black[top], rel=1e-3, abs=1e-3)
        versus = (logits[i, top] - logits[i, runner_up]) - (black[top] - black[runner_up])
        assert maps[i, 1].sum() == pytest.approx(versus, rel=1e-3, abs=1e-3)


def test_saliency_agrees_with_integrated_gradients(held_out_digits):
    x, _, tops, runner_ups = saliency_cases(held_out_digits[7::24])
    maps = load_classifier().attributions(x, tops, runner_ups)
    cosines = []
    for i, (top, runner_up) in enumerate(zip(tops, runner_ups)):
        reference = (integrated_gradients(x[i], lambda logits: logits[:, top]),
                     integrated_gradients(x[i], lambda logits: logits[:, top] - logits[:, runner_up]))
        cosines += [float((m * r).sum() / np.linalg.norm(m) / np.linalg.norm(r)) for m, r in zip(maps[i], reference)]
    # Measured on 60 held-out drawings: median 0.78, lowest 0.52. Unrelated maps give about 0.
    assert np.median(cosines) > 0.65 and min(cosines) > 0.3, cosines


def test_a_number_is_explained_in_one_batch_like_its_digits_one_by_one(held_out_digits):
    x, _, tops, runner_ups = saliency_cases(held_out_digits[:4])
    together = load_classifier().attributions(x, tops, runner_ups)
    for i in range(len(x)):
        alone = load_classifier().attributions(x[i:i + 1], tops[i:i + 1], runner_ups[i:i + 1])
        np.testing.assert_allclose(alone[0], together[i], atol=1e-5)


def test_heatmap_marks_up_in_red_and_down_in_blue():
    digit = np.zeros((28, 28), np.float32)
    attribution = np.zeros((28, 28), np.float32)
    attribution[5, 5], attribution[20, 20] = 1.0, -1.0
    picture = heatmap(digit, attribution)
    assert picture[5, 5, 0] > 200 and picture[5, 5, 2] < 60
    assert picture[20, 20, 2] > 200 and picture[20, 20, 0] < 80


def test_bad_requests_get_a_message():
    assert answers.image_of_data_url("data:image/png;base64,iVBORw0KGgo=")  # decodes; the engine judges the bytes
    for bad in (None, 3, "hello", "data:text/html;base64,PGI+", "data:image/png;base64,***"):
        with pytest.raises(InvalidImageError):
            answers.image_of_data_url(bad)
    assert explained(Image.new("L", (300, 300), 255))["status"].startswith("No digit found")


def test_the_largest_image_data_url_fits_a_request_and_the_page_sends_no_larger():
    from digitdraw.limits import MAX_BODY

    largest = "data:image/png;base64," + "A" * (answers.MAX_IMAGE_BYTES * 4 // 3 // 4 * 4)
    assert answers.image_of_data_url(largest) and len(largest) + 1000 < MAX_BODY  # with the JSON around it
    with pytest.raises(InvalidImageError, match="over 2 MB"):
        answers.image_of_data_url(largest + "A" * 200)
    upload_js = (ROOT / "digitdraw" / "static" / "upload.js").read_text()
    assert f"const MAX_SEND = {answers.MAX_IMAGE_BYTES // 2**20} * 1024 * 1024;" in upload_js
