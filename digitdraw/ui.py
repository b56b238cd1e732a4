"""The Gradio app's layout: draw or upload a digit or a number, and see what the model reads.

    demo = build_ui(load_classifier())

The event functions are thin: answers.py makes every answer. They take batches (lists), as Gradio
hands them concurrent requests. Nothing a user draws or uploads is stored: no flagging, and
Gradio's cache of uploads is emptied every minute.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from . import model_tab
from .answers import Answer, explanation, image_of_data_url, message, recognize_batch
from .components import DrawingPad, ExplainPanel, ResultsPanel
from .errors import InvalidImageError
from .gradio_compat import UploadImage
from .inference import Classifier
from .paths import shipped

# Gradio's batch size: a burst of concurrent readings is read in one call.
MAX_BATCH = 16
# Every minute, delete uploads older than a minute: nothing a user sends stays.
DELETE_CACHE = (60, 60)
DRAW_PROMPT = "Draw a digit or a number"
UPLOAD_PROMPT = "Upload a photo or an image of a digit or a number"
UPLOAD_ID = "upload"

# A compact header: on a phone the pad and the answer under it must fit in one screen.
HEADER = """
<h1>digitdraw</h1>
<p>Draw a digit or a whole number, or upload a photo of one. Each digit is cleaned up the way MNIST
digits were made (cropped, fitted into 20x20 pixels, centred by its mass in 28x28), then a small CNN
reads it.</p>
"""
HEADER_CSS = """
h1 { margin: 0; font-size: var(--text-xl); }
p { margin: 2px 0 0; font-size: var(--text-sm); color: var(--body-text-color-subdued); }
@media (max-width: 640px) { p { display: none; } }
"""


def example_files() -> list[str]:
    return sorted(str(p) for p in shipped("examples").glob("*") if p.suffix in (".png", ".jpg"))


def build_ui(classifier: Classifier) -> gr.Blocks:
    """The whole page: Draw and Upload tabs feeding one results panel, and the Model tab."""

    def read_drawing(drawing: Any) -> Answer:
        """The pad's server function: one drawing (strokes) -> its answer. Files are not read here."""
        if not isinstance(drawing, dict):
            return message("Can't read that drawing.", None)
        return recognize_batch(classifier, [drawing], DRAW_PROMPT, blank_is_empty=True)[0]

    def explain_reading(request: Any) -> Answer:
        """The explanation panel's server function: {"drawing": strokes} or {"image": data URL}."""
        if not isinstance(request, dict):
            return {"status": "Nothing to explain.", "steps": [], "saliency": []}
        try:
            image = request["drawing"] if "drawing" in request else image_of_data_url(request.get("image"))
        except InvalidImageError as e:
            return {"status": f"Can't read that image — {e}", "steps": [], "saliency": []}
        return explanation(classifier, image)

    def predict_sketch(drawings: list[Any]) -> tuple[list[Answer]]:
        """Batch event for API callers: drawings (strokes or image files) -> answers."""
        return (recognize_batch(classifier, drawings, DRAW_PROMPT, blank_is_empty=True),)

    def predict_upload(paths: list[str | None]) -> tuple[list[Answer]]:
        """Batch event: uploaded files -> answers."""
        return (recognize_batch(classifier, paths, UPLOAD_PROMPT, blank_is_empty=False),)

    def read_number_api(paths: list[str | None]) -> tuple[list[Answer]]:
        """Batch event for API callers: image files -> the number read and each digit's probabilities."""
        answers = recognize_batch(classifier, paths, UPLOAD_PROMPT, blank_is_empty=False, previews=False)
        return ([{k: a[k] for k in ("number", "status", "digits")} for a in answers],)

    gr.set_static_paths([model_tab.PLOTS_DIR])
    with gr.Blocks(title="digitdraw", delete_cache=DELETE_CACHE) as demo:
        gr.HTML(HEADER, css_template=HEADER_CSS, elem_id="header", js_on_load=None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                with gr.Tab("Draw"):
                    pad = DrawingPad(read_drawing, hint="Draw a digit or a number here", elem_id="sketch")
                with gr.Tab("Upload"):
                    upload = UploadImage(
                        type="filepath", image_mode=None, sources=["upload", "webcam", "clipboard"],
                        label="Photo or image of a digit or a number", elem_id=UPLOAD_ID,
                    )
                    gr.Examples(example_files(), inputs=upload, examples_per_page=20,
                                label="Examples: MNIST test digits and photos")
                with gr.Tab("Model", elem_id="model-tab"):
                    gr.HTML(model_tab.model_card_html(classifier), css_template=model_tab.CSS, elem_id="model-card",
                            js_on_load=None)
            with gr.Column(scale=2, min_width=300):
                results = ResultsPanel(DRAW_PROMPT, elem_id="results")
                with gr.Accordion("How it was read", open=False, elem_id="explain-accordion"):
                    ExplainPanel(explain_reading, upload_id=UPLOAD_ID, elem_id="explain")
        # The browser reads drawings through the pad's server function; this event is the same
        # reading for API callers (gradio_client), who may send an image file.
        pad.change(predict_sketch, pad, results, api_name="predict_sketch", batch=True, max_batch_size=MAX_BATCH,
                   show_progress="hidden")
        upload.change(predict_upload, upload, results, api_name="predict_upload", batch=True,
                      max_batch_size=MAX_BATCH, show_progress="hidden")
        # API only (gradio_client): an image file in, the number as JSON out. Hidden components
        # give the endpoint its file upload and its types.
        number_file, number_read = gr.File(visible=False), gr.JSON(visible=False)
        number_file.change(read_number_api, number_file, number_read, api_name="read_number", batch=True,
                           max_batch_size=MAX_BATCH, show_progress="hidden")
    return demo
