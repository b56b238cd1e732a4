"""The app's event functions, called in-process as Gradio calls them (batches of values)."""

from __future__ import annotations

import io
import time

import numpy as np
from gradio.components.image_editor import AcceptBlobs, EditorData
from PIL import Image

from conftest import canvas_of, save_png
from digitdraw import gradio_compat, load_classifier, ui


def predict_sketch(values):
    return ui.recognize_batch(load_classifier(), values, ui.DRAW_PROMPT, blank_is_empty=True)


def predict_upload(paths):
    return ui.recognize_batch(load_classifier(), paths, ui.UPLOAD_PROMPT, blank_is_empty=False)


def single(outputs):
    labels, previews, statuses = outputs
    assert len(labels) == len(previews) == len(statuses) == 1
    return labels[0], previews[0], statuses[0]


def test_a_drawn_digit_gives_ten_probabilities_a_preview_and_a_status(held_out_digits):
    digit = held_out_digits[40]
    canvas = canvas_of(digit)
    label, preview, status = single(predict_sketch([{"background": None, "layers": [], "composite": canvas}]))
    assert set(label) == {str(d) for d in range(10)}
    assert abs(sum(label.values()) - 1) < 1e-5
    assert max(label, key=label.get) == str(digit.label)
    assert preview.shape == (224, 224) and preview.dtype == np.uint8
    assert status.startswith(f"It's a {digit.label}")


def test_empty_sketchpad_asks_for_a_digit():
    label, preview, status = single(predict_sketch([{"background": None, "layers": None, "composite": None}]))
    assert (label, preview, status) == (None, None, "Draw a digit")


def test_blank_canvas_asks_for_a_digit_and_a_blank_upload_says_no_digit(tmp_path):
    white = Image.new("L", (400, 400), 255)
    label, preview, status = single(predict_sketch([{"background": None, "layers": [], "composite": white}]))
    assert (label, preview, status) == (None, None, "Draw a digit")  # what a cleared sketchpad sends
    label, _, status = single(predict_upload([str(save_png(white, tmp_path / "white.png"))]))
    assert label is None and status == "No digit found — the image is blank."


def test_canvas_with_only_a_speck_says_no_digit_found():
    canvas = Image.new("L", (400, 400), 255)
    canvas.putpixel((200, 200), 0)
    label, _, status = single(predict_sketch([{"background": None, "layers": [], "composite": canvas}]))
    assert label is None and status.startswith("No digit found —")


def test_sketchpad_value_with_missing_or_extra_keys(seven):
    label, _, status = single(predict_sketch([{"layers": []}]))
    assert label is None and status.startswith("Can't read that file")
    label, _, _ = single(predict_sketch([{"composite": seven, "background": None, "layers": [], "extra": 1}]))
    assert max(label, key=label.get) == "7"


def test_upload_of_a_file(seven, tmp_path):
    path = save_png(seven, tmp_path / "seven.png")
    label, _, status = single(predict_upload([str(path)]))
    assert max(label, key=label.get) == "7" and status.startswith("It's a 7")


def test_bad_files_give_clear_messages(tmp_path):
    cases = {"zero.png": b"", "text.png": b"plain text", "gif.gif": b"GIF89a\x01\x00"}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        label, _, status = single(predict_upload([str(tmp_path / name)]))
        assert label is None and status.startswith("Can't read that file —"), status


def test_animated_gif_uses_its_first_frame(seven, tmp_path):
    frames = [seven, Image.new("L", seven.size, 255)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    label, _, _ = single(predict_upload([str(tmp_path / "anim.gif")]))
    assert max(label, key=label.get) == "7"


def test_a_batch_mixes_digits_and_problems(seven):
    labels, previews, statuses = predict_sketch([
        {"background": None, "layers": [], "composite": seven},
        {"background": None, "layers": None, "composite": None},
        {"background": None, "layers": [], "composite": seven},
    ])
    assert [label is None for label in labels] == [False, True, False]
    assert statuses[1] == "Draw a digit"


def test_unsure_predictions_are_flagged():
    status = ui.status_line({str(d): (0.45 if d == 4 else 0.4 if d == 9 else 0.15 / 8) for d in range(10)})
    assert status.startswith("Not sure") and "4" in status and "9" in status


def test_preview_shows_each_model_pixel_as_a_block():
    digit = np.zeros((28, 28), np.float32)
    digit[10, 12] = 1
    preview = ui.preview_image(digit)
    assert preview.shape == (224, 224)
    assert (preview[81:88, 97:104] == 255).all() and preview[0:8, 0:8].max() < 255


def test_drawings_the_sketchpad_uploads_and_never_claims_are_dropped(seven):
    pad = gradio_compat.DrawingPad(type="pil", image_mode="L")
    pad.blob_storage.max_age = 0.2
    png = io.BytesIO()
    seven.save(png, format="PNG")

    def upload(drawing_id: str) -> None:  # as the browser does after each stroke, through Gradio's own handler
        blob = {"type": "composite", "index": None, "file": b"", "id": drawing_id}
        pad.accept_blobs(AcceptBlobs(data=blob, files=[("composite.png", png.getvalue())]))

    upload("never claimed")
    time.sleep(0.3)
    upload("claimed")
    assert list(pad.blob_storage) == ["claimed"]
    value = pad.preprocess(EditorData(id="claimed", background=None, layers=[], composite=None))
    assert value["composite"].size == seven.size
    assert not pad.blob_storage
