"""The Gradio app: draw or upload a digit, see the probabilities and what the model sees.

The event functions take batches (lists) because Gradio batches concurrent requests into one
model call. Nothing a user draws or uploads is stored: no flagging, and Gradio's cache is emptied
every minute.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import numpy as np

from .gradio_compat import CLEAR_CANVAS_JS, DROP_ERASED_DRAWING_JS, ON_CLEAR_JS, ON_LOAD_JS, DrawingPad, UploadImage
from .inference import Classifier, probabilities_dict
from .paths import shipped
from .preprocessing import InvalidImageError, NoDigitError, preprocess

CANVAS_PIXELS = (400, 400)
BRUSH_SIZE = 16  # px on the 400 px canvas: a felt-tip look, close to MNIST's relative stroke width
PREVIEW_SCALE = 8  # 28 px -> 224 px, each model pixel a visible block
UNSURE_BELOW = 0.6  # top probability under this is called a guess
MAX_BATCH = 16
MAX_FILE_SIZE = "10mb"
DELETE_CACHE = (60, 60)  # every minute, delete uploads older than a minute

DRAW_PROMPT = "Draw a digit"
UPLOAD_PROMPT = "Upload a photo or an image of one digit"

HEADER = """
# digitdraw: handwritten digit recognition
Draw a digit (0-9) or upload a photo of one. The image is cleaned up the way MNIST digits were made:
the ink is found whatever the colours and lighting, specks and stray marks are dropped, and the digit
is cropped, fitted into 20x20 pixels and centred by its centre of mass in 28x28. A small CNN then
gives a calibrated probability for each digit.
"""


# --------------------------------------------------------------------------- display

def preview_image(digit: np.ndarray, scale: int = PREVIEW_SCALE) -> np.ndarray:
    """The 28x28 model input as a large uint8 image with a faint grid between its pixels."""
    big = np.kron(digit, np.ones((scale, scale), np.float32))
    big[::scale, :] = np.maximum(big[::scale, :], 0.18)
    big[:, ::scale] = np.maximum(big[:, ::scale], 0.18)
    return (big * 255).astype(np.uint8)


def status_line(probabilities: dict[str, float]) -> str:
    ranked = sorted(probabilities.items(), key=lambda kv: kv[1], reverse=True)
    (best, p_best), (second, p_second) = ranked[:2]
    if p_best < UNSURE_BELOW:
        return f"Not sure: maybe a {best} ({p_best:.0%}), or a {second} ({p_second:.0%}). Try drawing it larger or clearer."
    return f"It's a {best} ({p_best:.0%} sure)."


# --------------------------------------------------------------------------- recognition

def recognize_batch(classifier: Classifier, images: list[Any], empty_message: str,
                    blank_is_empty: bool) -> tuple[list, list, list]:
    """Preprocess each image, classify all digits found in one model call, explain the rest.

    With `blank_is_empty` an image without any mark (a cleared canvas) gets `empty_message`.
    """
    labels: list[dict[str, float] | None] = [None] * len(images)
    previews: list[np.ndarray | None] = [None] * len(images)
    statuses = [empty_message] * len(images)
    found: dict[int, np.ndarray] = {}
    for i, image in enumerate(images):
        if image is None:
            continue
        try:
            found[i] = preprocess(image)
        except NoDigitError as e:
            statuses[i] = empty_message if e.blank and blank_is_empty else str(e)
        except InvalidImageError as e:
            statuses[i] = f"Can't read that file — {e}"
    if found:
        probabilities = classifier(np.stack(list(found.values())))
        for i, row in zip(found, probabilities):
            labels[i] = probabilities_dict(row)
            previews[i] = preview_image(found[i])
            statuses[i] = status_line(labels[i])
    return labels, previews, statuses


def cleared() -> tuple[None, None, str]:
    """No results, and the prompt to draw."""
    return None, None, DRAW_PROMPT


# --------------------------------------------------------------------------- layout

def example_files() -> list[str]:
    return sorted(str(p) for p in shipped("examples").glob("*") if p.suffix in (".png", ".jpg"))


def build_ui(classifier: Classifier) -> gr.Blocks:
    """The whole page: Draw and Upload tabs feeding one results panel."""

    def predict_sketch(values: list[Any]) -> tuple[list, list, list]:
        """Batch event: sketchpad values (dicts) -> labels, previews, status lines."""
        return recognize_batch(classifier, values, DRAW_PROMPT, blank_is_empty=True)

    def predict_upload(paths: list[str | None]) -> tuple[list, list, list]:
        """Batch event: uploaded files -> labels, previews, status lines."""
        return recognize_batch(classifier, paths, UPLOAD_PROMPT, blank_is_empty=False)

    with gr.Blocks(title="digitdraw", delete_cache=DELETE_CACHE) as demo:
        gr.Markdown(HEADER)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                with gr.Tab("Draw"):
                    sketch = DrawingPad(
                        type="pil", image_mode="L", canvas_size=CANVAS_PIXELS, fixed_canvas=True,
                        brush=gr.Brush(colors=["#000000"], default_size=BRUSH_SIZE, color_mode="fixed"),
                        layers=False, transforms=(), label="Draw a digit", elem_id="sketch",
                    )
                    clear = gr.Button("Clear", elem_id="clear")
                with gr.Tab("Upload"):
                    upload = UploadImage(
                        type="filepath", image_mode=None, sources=["upload", "webcam", "clipboard"],
                        label="Photo or image of one digit", elem_id="upload",
                    )
                    gr.Examples(example_files(), inputs=upload, examples_per_page=20,
                                label="Examples: MNIST test digits and photos")
            with gr.Column(scale=2):
                status = gr.Textbox(DRAW_PROMPT, label="Status", interactive=False, elem_id="status")
                with gr.Row():
                    probs = gr.Label(num_top_classes=10, label="Probabilities", elem_id="probs", scale=3)
                    preview = gr.Image(label="What the model sees (28x28)", interactive=False, elem_id="preview",
                                       format="png",  # WebP, the default, costs 6 ms a request, PNG 0.7 ms
                                       scale=2, buttons=[])
        outputs = [probs, preview, status]
        sketch.change(predict_sketch, sketch, outputs, api_name="predict_sketch", batch=True,
                      max_batch_size=MAX_BATCH, trigger_mode="always_last", show_progress="hidden",
                      js=DROP_ERASED_DRAWING_JS)
        upload.change(predict_upload, upload, outputs, api_name="predict_upload", batch=True,
                      max_batch_size=MAX_BATCH, show_progress="hidden")
        # A prediction already on the server when Clear is pressed is overwritten: clearing fires
        # .change too, and "always_last" runs it after the one under way.
        sketch.clear(cleared, None, outputs, js=ON_CLEAR_JS, api_visibility="private")
        clear.click(None, js=CLEAR_CANVAS_JS)
        demo.load(None, js=ON_LOAD_JS)
    return demo
