"""The Gradio app: draw or upload a digit, see the probabilities and what the model sees.

The event functions take batches (lists) because Gradio batches concurrent requests into one
model call. Nothing a user draws or uploads is stored: no flagging, and Gradio's cache is emptied
every minute.
"""

from __future__ import annotations

import functools
import threading
import time
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from .inference import CLASSES, load_classifier
from .preprocessing import InvalidImageError, NoDigitError, preprocess

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
CANVAS_PIXELS = (400, 400)
BRUSH_SIZE = 16  # px on the 400 px canvas: a felt-tip look, close to MNIST's relative stroke width
PREVIEW_SCALE = 8  # 28 px -> 224 px, each model pixel a visible block
UNSURE_BELOW = 0.6  # top probability under this is called a guess
MAX_BATCH = 16
MAX_FILE_SIZE = "10mb"
DELETE_CACHE = (60, 60)  # every minute, delete uploads older than a minute
UNCLAIMED_DRAWING_SECONDS = 60.0  # a drawing uploaded by the sketchpad is claimed within a second

DRAW_PROMPT = "Draw a digit"
UPLOAD_PROMPT = "Upload a photo or an image of one digit"

HEADER = """
# digitdraw: handwritten digit recognition
Draw a digit (0-9) or upload a photo of one. The image is cleaned up the way MNIST digits were made:
the ink is found whatever the colours and lighting, specks and stray marks are dropped, and the digit
is cropped, fitted into 20x20 pixels and centred by its centre of mass in 28x28. A small CNN then
gives a calibrated probability for each digit.
"""

# Gradio 6.31 opens the sketchpad (and re-opens it after a clear) with no tool selected.
SELECT_BRUSH = """setTimeout(() => document.querySelector('#sketch button[aria-label="Brush"]')?.click(), 300);"""

# After each stroke the sketchpad spends about half a second exporting and uploading the drawing
# before the prediction is asked for. A Clear pressed meanwhile was followed by a prediction of the
# drawing it had just erased. So the page remembers whether anything was drawn since the last
# clear, and a change with nothing drawn since then sends no drawing.
ON_LOAD_JS = f"""
() => {{
  window.digitdrawBlank = true;
  document.addEventListener('pointerdown', (event) => {{
    if (event.target.tagName === 'CANVAS' && event.target.closest('#sketch')) window.digitdrawBlank = false;
  }}, true);
  {SELECT_BRUSH}
}}
"""
ON_CLEAR_JS = f"() => {{ window.digitdrawBlank = true; {SELECT_BRUSH} }}"
DROP_ERASED_DRAWING_JS = "(drawing) => window.digitdrawBlank ? null : drawing"

# Setting the sketchpad's value to None from the server empties its value but not its drawing in
# Gradio 6.31; its own trash button resets both, and fires the clear event.
CLEAR_CANVAS_JS = """
() => { document.querySelector('#sketch button[aria-label="Clear canvas"]')?.click(); }
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

def recognize_batch(images: list[Any], empty_message: str, blank_is_empty: bool) -> tuple[list, list, list]:
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
        probabilities = load_classifier()(np.stack(list(found.values())))
        for i, row in zip(found, probabilities):
            labels[i] = dict(zip(CLASSES, map(float, row)))
            previews[i] = preview_image(found[i])
            statuses[i] = status_line(labels[i])
    return labels, previews, statuses


def predict_sketch(values: list[Any]) -> tuple[list, list, list]:
    """Batch event: sketchpad values (dicts) -> labels, previews, status lines."""
    return recognize_batch(values, DRAW_PROMPT, blank_is_empty=True)


def predict_upload(paths: list[str | None]) -> tuple[list, list, list]:
    """Batch event: uploaded files -> labels, previews, status lines."""
    return recognize_batch(paths, UPLOAD_PROMPT, blank_is_empty=False)


def cleared() -> tuple[None, None, str]:
    """No results, and the prompt to draw."""
    return None, None, DRAW_PROMPT


class ExpiringBlobs(dict):
    """The sketchpad's uploaded drawings, each dropped once unclaimed for `max_age` seconds.

    Gradio 6.31 keeps each drawing the sketchpad uploads (three PNGs, ~18 KB) until a prediction
    claims it, but the sketchpad leaves about one upload per drawing unclaimed: without expiry the
    server would keep them all, for as long as it runs.
    """

    def __init__(self, max_age: float = UNCLAIMED_DRAWING_SECONDS):
        super().__init__()
        self.max_age = max_age
        self.written_at: dict[str, float] = {}  # oldest first
        self.lock = threading.Lock()  # uploads arrive on several server threads

    def __setitem__(self, key: str, value: Any) -> None:
        with self.lock:
            now = time.monotonic()
            self.written_at.pop(key, None)
            self.written_at[key] = now
            super().__setitem__(key, value)
            oldest = next(iter(self.written_at))
            while now - self.written_at[oldest] > self.max_age:
                del self.written_at[oldest]
                self.pop(oldest, None)
                oldest = next(iter(self.written_at))


# Gradio opens images with PIL before our functions run, and a file PIL can't open would fail
# there with no message for the user. UploadImage and DrawingPad pass such files on to the engine
# instead, which raises InvalidImageError with a clear message.

class UploadImage(gr.Image):
    is_template = True  # Gradio's convention: render with the parent's frontend ("image")

    def preprocess(self, payload: Any) -> Any:
        try:
            return super().preprocess(payload)
        except Exception:  # noqa: BLE001 - any decoder failure; the engine reports it clearly
            return payload.path if payload is not None else None


class DrawingPad(gr.Sketchpad):
    is_template = True

    @functools.wraps(gr.Sketchpad.__init__)  # Gradio reads the component's settings off this signature
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.blob_storage = ExpiringBlobs()

    def get_block_name(self) -> str:
        return "imageeditor"  # gr.Sketchpad is itself a template of the image editor

    get_block_class = get_block_name

    def convert_and_format_image(self, file: Any, flatten_on_white: bool = False) -> Any:
        try:
            return super().convert_and_format_image(file, flatten_on_white)
        except Exception:  # noqa: BLE001 - as above
            return getattr(file, "path", file)


# --------------------------------------------------------------------------- layout

def example_files() -> list[str]:
    return sorted(str(p) for p in EXAMPLES_DIR.glob("*") if p.suffix in (".png", ".jpg"))


def build_ui() -> gr.Blocks:
    """The whole page: Draw and Upload tabs feeding one results panel."""
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
