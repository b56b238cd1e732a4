"""The Gradio app: draw or upload a digit, and see what the model reads and how sure it is.

The event functions take batches (lists) because Gradio batches concurrent requests into one
model call. Nothing a user draws or uploads is stored: no flagging, and Gradio's cache of
uploads is emptied every minute.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

from .components import DrawingPad, ResultsPanel
from .gradio_compat import UploadImage
from .inference import Classifier, probabilities_dict
from .paths import shipped
from .preprocessing import InvalidImageError, NoDigitError, preprocess

UNSURE_BELOW = 0.6  # a top probability under this is shown as a guess
MAX_BATCH = 16
DELETE_CACHE = (60, 60)  # every minute, delete uploads older than a minute

DRAW_PROMPT = "Draw a digit"
UPLOAD_PROMPT = "Upload a photo or an image of one digit"

# A compact header: on a phone the pad and the answer under it must fit in one screen.
HEADER = """
<h1>digitdraw</h1>
<p>Draw a digit, or upload a photo of one. It is cleaned up the way MNIST digits were made (cropped,
fitted into 20x20 pixels, centred by its mass in 28x28), then a small CNN reads it.</p>
"""
HEADER_CSS = """
h1 { margin: 0; font-size: var(--text-xl); }
p { margin: 2px 0 0; font-size: var(--text-sm); color: var(--body-text-color-subdued); }
@media (max-width: 640px) { p { display: none; } }
"""


# --------------------------------------------------------------------------- answers

def png_data_url(digit: np.ndarray) -> str:
    """The 28x28 model input as a PNG data URL (the browser scales it up, pixel by pixel)."""
    buffer = io.BytesIO()
    Image.fromarray((np.clip(digit, 0, 1) * 255).astype(np.uint8), "L").save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def digit_answer(digit: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    best = int(np.argmax(probabilities))
    return {"digit": str(best), "confidence": float(probabilities[best]),
            "unsure": bool(probabilities[best] < UNSURE_BELOW),
            "probabilities": probabilities_dict(probabilities), "preview": png_data_url(digit)}


def status_line(answer: dict[str, Any]) -> str:
    ranked = sorted(answer["probabilities"].items(), key=lambda kv: kv[1], reverse=True)
    (best, p_best), (second, p_second) = ranked[:2]
    if answer["unsure"]:
        return f"Not sure: maybe a {best} ({p_best:.0%}), or a {second} ({p_second:.0%}). Try drawing it larger or clearer."
    return f"It's a {best} ({p_best:.0%} sure)."


def message(status: str, drawing: int | None = None) -> dict[str, Any]:
    return {"drawing": drawing, "status": status, "number": "", "digits": []}


def drawing_id(value: Any) -> int | None:
    """The pad's id for this drawing (None for an uploaded file): the browser drops older answers."""
    return value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), int) else None


def recognize_batch(classifier: Classifier, images: list[Any], prompt: str, blank_is_empty: bool) -> list[dict[str, Any]]:
    """Preprocess each image, classify all digits found in one model call, explain the rest.

    With `blank_is_empty` an image without any mark (a cleared pad) gets the prompt.
    """
    answers = [message(prompt, drawing_id(image)) for image in images]
    found: dict[int, np.ndarray] = {}
    for i, image in enumerate(images):
        if image is None:
            continue
        try:
            found[i] = preprocess(image)
        except NoDigitError as e:
            answers[i]["status"] = prompt if e.blank and blank_is_empty else str(e)
        except InvalidImageError as e:
            answers[i]["status"] = f"Can't read that file — {e}"
    if found:
        for i, row in zip(found, classifier(np.stack(list(found.values())))):
            digit = digit_answer(found[i], row)
            answers[i].update(number=digit["digit"], digits=[digit], status=status_line(digit))
    return answers


# --------------------------------------------------------------------------- layout

def example_files() -> list[str]:
    return sorted(str(p) for p in shipped("examples").glob("*") if p.suffix in (".png", ".jpg"))


def build_ui(classifier: Classifier) -> gr.Blocks:
    """The whole page: Draw and Upload tabs feeding one results panel."""

    def read_drawing(drawing: Any) -> dict[str, Any]:
        """The pad's server function: one drawing (strokes) -> its answer. Files are not read here."""
        if not isinstance(drawing, dict):
            return message("Can't read that drawing.", None)
        return recognize_batch(classifier, [drawing], DRAW_PROMPT, blank_is_empty=True)[0]

    def predict_sketch(drawings: list[Any]) -> tuple[list[dict[str, Any]]]:
        """Batch event for API callers: drawings (strokes or image files) -> answers."""
        return (recognize_batch(classifier, drawings, DRAW_PROMPT, blank_is_empty=True),)

    def predict_upload(paths: list[str | None]) -> tuple[list[dict[str, Any]]]:
        """Batch event: uploaded files -> answers."""
        return (recognize_batch(classifier, paths, UPLOAD_PROMPT, blank_is_empty=False),)

    with gr.Blocks(title="digitdraw", delete_cache=DELETE_CACHE) as demo:
        gr.HTML(HEADER, css_template=HEADER_CSS, elem_id="header", js_on_load=None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                with gr.Tab("Draw"):
                    pad = DrawingPad(read_drawing, hint="Draw a digit here", elem_id="sketch")
                with gr.Tab("Upload"):
                    upload = UploadImage(
                        type="filepath", image_mode=None, sources=["upload", "webcam", "clipboard"],
                        label="Photo or image of one digit", elem_id="upload",
                    )
                    gr.Examples(example_files(), inputs=upload, examples_per_page=20,
                                label="Examples: MNIST test digits and photos")
            with gr.Column(scale=2, min_width=300):
                results = ResultsPanel(DRAW_PROMPT, elem_id="results")
        # The browser reads drawings through the pad's server function; this event is the same
        # reading for API callers (gradio_client), who may send an image file.
        pad.change(predict_sketch, pad, results, api_name="predict_sketch", batch=True, max_batch_size=MAX_BATCH,
                   show_progress="hidden")
        upload.change(predict_upload, upload, results, api_name="predict_upload", batch=True,
                      max_batch_size=MAX_BATCH, show_progress="hidden")
    return demo
