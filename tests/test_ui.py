"""The app's event functions and components, called in-process as Gradio calls them."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from digitdraw import answers, gradio_compat, load_classifier, ui
from digitdraw.components import DrawingPad
from tests.harness import drawing_of
from tests.images import save_png
from training import synth


def read_drawings(drawings):
    return answers.recognize_batch(load_classifier(), drawings, ui.DRAW_PROMPT, blank_is_empty=True)


def read_uploads(paths):
    return answers.recognize_batch(load_classifier(), paths, ui.UPLOAD_PROMPT, blank_is_empty=False)


def test_a_drawing_gives_its_digit_ten_probabilities_a_preview_and_a_status(held_out_digits):
    digit = held_out_digits[40]
    drawing = {**drawing_of(digit), "id": 12}
    [answer] = read_drawings([drawing])
    assert answer["drawing"] == 12  # the browser drops answers for drawings older than the pad's
    [read] = answer["digits"]
    assert read["digit"] == answer["number"] == str(digit.label)
    assert set(read["probabilities"]) == {str(d) for d in range(10)}
    assert sum(read["probabilities"].values()) == pytest.approx(1, abs=1e-5)
    assert read["confidence"] == max(read["probabilities"].values())
    assert answer["status"].startswith(f"It's a {digit.label}")
    png = base64.b64decode(read["preview"].removeprefix("data:image/png;base64,"))
    assert Image.open(io.BytesIO(png)).size == (28, 28)


def test_an_empty_pad_asks_for_a_digit():
    [answer] = read_drawings([{"id": 4, "width": 400, "height": 300, "brush": 16, "strokes": []}])
    assert answer == {"drawing": 4, "status": "Draw a digit or a number", "number": "", "digits": []}


def test_a_blank_upload_says_no_digit(tmp_path):
    [answer] = read_uploads([str(save_png(Image.new("L", (400, 400), 255), tmp_path / "white.png"))])
    assert answer["digits"] == [] and answer["status"] == "No digit found — the image is blank."
    assert answer["drawing"] is None


def test_a_tap_on_the_pad_says_no_digit():
    [answer] = read_drawings([{"id": 1, "width": 400, "height": 400, "brush": 16, "strokes": [[[200, 200]]]}])
    assert answer["digits"] == [] and answer["status"].startswith("No digit found")


def test_a_malformed_drawing_gets_a_clear_message():
    [answer] = read_drawings([{"id": 1, "strokes": "nonsense"}])
    assert answer["digits"] == [] and answer["status"].startswith("Can't read that file")


def test_upload_of_a_file(seven, tmp_path):
    [answer] = read_uploads([str(save_png(seven, tmp_path / "seven.png"))])
    assert answer["number"] == "7" and answer["status"].startswith("It's a 7")


def test_bad_files_give_clear_messages(tmp_path):
    for name, content in {"zero.png": b"", "text.png": b"plain text", "gif.gif": b"GIF89a\x01\x00"}.items():
        (tmp_path / name).write_bytes(content)
        [answer] = read_uploads([str(tmp_path / name)])
        assert answer["digits"] == [] and answer["status"].startswith("Can't read that file —"), answer


def test_animated_gif_uses_its_first_frame(seven, tmp_path):
    frames = [seven, Image.new("L", seven.size, 255)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert read_uploads([str(tmp_path / "anim.gif")])[0]["number"] == "7"


def test_a_batch_mixes_digits_and_problems(held_out_digits):
    seven = drawing_of(held_out_digits[84])
    answers = read_drawings([seven, {"id": 2, "width": 400, "height": 400, "brush": 16, "strokes": []}, seven])
    assert [bool(a["digits"]) for a in answers] == [True, False, True]
    assert answers[1]["status"] == "Draw a digit or a number"


def test_unsure_answers_are_shown_as_unsure():
    probabilities = np.array([0.15 / 8] * 10)
    probabilities[4], probabilities[9] = 0.45, 0.4
    read = answers.digit_answer(np.zeros((28, 28), np.float32), probabilities)
    assert read["unsure"]
    status = answers.status_line([read])
    assert status == "Not sure: maybe a 4 (45%), or a 9 (40%)."
    sure = answers.digit_answer(np.zeros((28, 28), np.float32), np.eye(10)[2])
    assert answers.status_line([sure, sure, sure]) == "Reads 222."
    assert answers.status_line([sure, read, sure]) == "Reads 242, not sure of the 2nd digit (4 or 9)."
    # However many digits are unsure, one short sentence.
    assert answers.status_line([read] * 7 + [sure]) == "Reads 44444442, not sure of 7 of its 8 digits."


def test_an_eight_is_an_eight():
    eight = answers.digit_answer(np.zeros((28, 28), np.float32), np.eye(10)[8])
    assert answers.status_line([eight]) == "It's an 8 (100% sure)."
    probabilities = np.full(10, 0.01)
    probabilities[3], probabilities[8] = 0.5, 0.42
    assert answers.status_line([answers.digit_answer(np.zeros((28, 28)), probabilities)]).endswith("or an 8 (42%).")


def test_a_drawn_number_is_read_digit_by_digit(held_out_digits):
    rng = np.random.default_rng(0)
    digits = [held_out_digits[i] for i in (24, 2, 30, 75)]  # 2 0 2 6, by held-out writers
    layout = synth.lay_out_number(digits, rng, (0.2, 0.4))
    strokes = [stroke.tolist() for stroke in layout.strokes]
    drawing = {"id": 9, "width": layout.size[0], "height": layout.size[1], "brush": layout.brush, "strokes": strokes}
    answer = read_drawings([drawing])[0]
    assert answer["number"] == "2026" and answer["status"].startswith("Reads 2026")
    assert [d["digit"] for d in answer["digits"]] == list("2026")
    assert all(d["preview"].startswith("data:image/png;base64,") for d in answer["digits"])


def test_the_pad_reads_an_uploaded_file_only_as_gradio_delivers_it(tmp_path):
    pad = DrawingPad(lambda drawing: {})
    upload = {"path": str(tmp_path / "x.png"), "meta": {"_type": "gradio.FileData"}}
    assert gradio_compat.is_uploaded_file(upload) and pad.preprocess(upload) == upload["path"]
    # A bare path is not an upload Gradio has checked: it goes to the engine as a drawing, and fails there.
    assert pad.preprocess({"path": "/etc/passwd"}) == {"path": "/etc/passwd"}
    assert read_drawings([pad.preprocess({"path": "/etc/passwd"})])[0]["status"].startswith("Can't read that file")


def test_the_serving_process_spares_the_queue_its_per_event_analytics(monkeypatch):
    # Gradio reads the variable when the queue is made; an upgrade that renames it fails here.
    from digitdraw import serving

    monkeypatch.delenv("GRADIO_ANALYTICS_CACHE_FREQUENCY", raising=False)
    serving.configure_process()
    demo = ui.build_ui(load_classifier()).queue()
    assert gradio_compat.queue_analytics_every(demo) == gradio_compat.ANALYTICS_EVERY
