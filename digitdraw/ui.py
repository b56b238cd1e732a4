"""The Gradio app's layout: draw or upload a digit or a number, and see what the model reads.

    demo = build_ui(load_classifier())

Each tab keeps its own answer and "How it was read". The event functions are thin: answers.py
makes every answer. Nothing a user draws or uploads is stored: no flagging, no run history in the
browser, and Gradio's cache of uploads is emptied every minute.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import gradio as gr

from . import model_tab
from .answers import Answer, drawing_id, explanation, image_of_data_url, message, recognize_batch
from .components import DrawingPad, ExamplesPanel, ExplainPanel, ResultsPanel, UploadPanel
from .errors import InvalidImageError
from .gradio_compat import PAGE_CSS, UploadImage, server_function_session
from .inference import Classifier
from .learn_tab import learn_tab, yours
from .paths import shipped
from .pool import ReadingPool
from .readers import DrawingReaders

# Gradio's batch size for the API events: a burst of concurrent calls is read in one call.
MAX_BATCH = 16
# Every minute, delete uploads older than a minute: nothing a user sends stays.
DELETE_CACHE = (60, 60)
DRAW_PROMPT = "Draw a digit or a number"
UPLOAD_PROMPT = "Upload a photo or an image of a digit or a number"
EXAMPLES_DIR = shipped("examples")

# A compact header: on a phone the pad and the answer under it must fit in one screen.
HEADER = """
<h1>digitdraw</h1>
<p>Draw a digit or a whole number, or upload a photo of one. Each digit is cleaned up the way MNIST
digits were made (cropped, fitted into 20x20 pixels, centred by its mass in 28x28), then a small CNN
reads it.</p>
"""
HEADER_CSS = """
h1 { margin: 0; font-size: var(--text-xl); }
p { margin: 2px 0 0; font-size: var(--text-sm); color: var(--body-text-color); }
@media (max-width: 640px) { p { display: none; } }
"""


def example_label(path: Path) -> str:
    """What an example shows, from its name: "mnist-test-00000-digit-7" -> "MNIST test digit 7"."""
    mnist = re.fullmatch(r"mnist-test-\d+-digit-(\d)", path.stem)
    if mnist:
        return f"MNIST test digit {mnist[1]}"
    photo = re.fullmatch(r"photo-(\w+)-digit-(\d)", path.stem)
    if photo:
        ink = {"blue": "in blue ink", "chalk": "in chalk", "pencil": "in pencil"}.get(photo[1], photo[1])
        return f"photo of a {photo[2]} {ink}"
    return path.stem.replace("-", " ")


def example_files() -> list[Path]:
    return sorted(p for p in EXAMPLES_DIR.glob("*") if p.suffix in (".png", ".jpg"))


def build_ui(classifier: Classifier, reading_processes: int = 0) -> gr.Blocks:
    """The whole page: the Draw and Upload tabs, each with its answer, and the Model tab. The pad's
    drawings are read in `reading_processes` worker processes (serving.reading_processes()), or on
    the pool's threads with none."""
    readers = DrawingReaders(classifier, reading_processes)  # forked before the pool starts its threads

    def read_one(job: tuple[dict, str | None]) -> Answer:
        drawing, session = job
        answer, digits = readers.read(drawing, DRAW_PROMPT)
        theirs = yours(session, digits) if digits is not None else None
        return answer if theirs is None else {**answer, "yours": theirs}

    pool = ReadingPool(read_one, superseded=lambda job: message("", drawing_id(job[0])))

    async def read_drawing(drawing: Any, request: gr.Request) -> Answer:
        """The pad's server function: one drawing (strokes) -> its answer, and this session's own
        trained model's beside it (the Learn tab). Read on the pool's few threads, a pad's newest
        drawing first; a coroutine, so that a waiting request holds no thread. Files are not read here."""
        if not isinstance(drawing, dict):
            return message("Can't read that drawing.", None)
        session = await server_function_session(request)
        return await asyncio.wrap_future(pool.submit(session or "", (drawing, session), live=drawing.get("live") is True))

    def read_upload(request: Any) -> Answer:
        """The upload panel's server function: {"id": n, "image": data URL} -> its answer."""
        try:
            image = image_of_data_url(request.get("image") if isinstance(request, dict) else None)
        except InvalidImageError as e:
            return message(f"Can't read that file — {e}")
        return recognize_batch(classifier, [image], UPLOAD_PROMPT, blank_is_empty=False)[0]

    def explain_reading(request: Any) -> Answer:
        """The explanation panels' server function: {"drawing": strokes} or {"image": data URL}."""
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
        """Batch event for API callers: uploaded files -> answers."""
        return (recognize_batch(classifier, paths, UPLOAD_PROMPT, blank_is_empty=False),)

    def read_number(image: str | None) -> dict[str, Any]:
        """Read the number written, drawn or photographed in an image, digit by digit, left to right. Nothing is stored.

        Args:
            image: a photo, a scan or a drawing of one digit or a whole number (PNG, JPEG, WebP, ...).

        Returns:
            "number": the digits read, left to right ("" if there are none)
            "status": one sentence on what was read, or on why nothing was (no digit, not a digit, not an image)
            "digits": for each digit, {"digit", "confidence" from 0 to 1, "unsure" (under 60%), "probabilities" of "0" to "9"}
        """
        answer = recognize_batch(classifier, [image], UPLOAD_PROMPT, blank_is_empty=False, previews=False)[0]
        return {key: answer[key] for key in ("number", "status", "digits")}

    def read_digit(image: str | None) -> dict[str, Any]:
        """Read one handwritten digit in an image, with the probability of each of the ten digits. Nothing is stored.

        Args:
            image: a photo, a scan or a drawing of one digit (PNG, JPEG, WebP, ...).

        Returns:
            "digit": the digit read ("" if there is none)
            "confidence": its probability, from 0 to 1; "unsure" is true under 60%
            "probabilities": of each digit, "0" to "9", summing to 1
            "status": one sentence on what was read, or on why nothing was (no digit, not a digit, not an image)
        """
        answer = recognize_batch(classifier, [image], UPLOAD_PROMPT, blank_is_empty=False, previews=False,
                                 one_digit=True)[0]
        digit = answer["digits"][0] if answer["digits"] else {"digit": "", "confidence": 0.0, "unsure": True,
                                                              "probabilities": {}}
        return {**digit, "status": answer["status"]}

    gr.set_static_paths([model_tab.PLOTS_DIR, EXAMPLES_DIR])
    with gr.Blocks(title="digitdraw", delete_cache=DELETE_CACHE) as demo:
        gr.HTML(HEADER, css_template=HEADER_CSS, elem_id="header", js_on_load=None)
        with gr.Tabs():
            with gr.Tab("Draw", elem_id="draw-tab"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300):
                        pad = DrawingPad(read_drawing, hint="Draw a digit or a number here", elem_id="sketch")
                    with gr.Column(scale=2, min_width=300):
                        ResultsPanel(DRAW_PROMPT, "drawing", elem_id="draw-results")
                        ExplainPanel(explain_reading, "drawing", "Draw a digit or a number to see how it is read.",
                                     elem_id="draw-explain")
            with gr.Tab("Upload", elem_id="upload-tab"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300):
                        UploadPanel(read_upload, elem_id="upload")
                    with gr.Column(scale=2, min_width=300):
                        ResultsPanel(UPLOAD_PROMPT, "upload", elem_id="upload-results")
                        ExplainPanel(explain_reading, "upload", "Upload an image to see how it is read.",
                                     elem_id="upload-explain")
                ExamplesPanel([(path, example_label(path)) for path in example_files()], elem_id="examples")
            with gr.Tab("Learn", elem_id="learn-tab"):
                learn_tab(classifier, pad)
            with gr.Tab("Model", elem_id="model-tab"):
                gr.HTML(model_tab.model_card_html(classifier), css_template=model_tab.CSS, elem_id="model-card",
                        js_on_load=None)
        gr.HTML(f"<style>{PAGE_CSS}</style>", elem_id="page-style", js_on_load=None, padding=False)
        # API only (gradio_client, and MCP for the two tools): the page reads through the components'
        # server functions. Hidden components give each endpoint its input and its types.
        answer = gr.JSON(visible=False)
        image = UploadImage(type="filepath", image_mode=None, visible=False)
        image.change(read_number, image, answer, api_name="read_number", show_progress="hidden")
        image.change(read_digit, image, answer, api_name="read_digit", show_progress="hidden")
        # The page's own readings, for API callers: not MCP tools (undocumented: hidden from the tools' list).
        pad.change(predict_sketch, pad, answer, api_name="predict_sketch", batch=True, max_batch_size=MAX_BATCH,
                   show_progress="hidden", api_visibility="undocumented")
        image.change(predict_upload, image, answer, api_name="predict_upload", batch=True, max_batch_size=MAX_BATCH,
                     show_progress="hidden", api_visibility="undocumented")
    return demo
