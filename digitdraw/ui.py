"""The Gradio app: draw or upload a digit or a number, and see what the model reads and how sure it is.

The event functions take batches (lists), as Gradio hands them concurrent requests; each image
is read with one model call per round of cut trials (inference.read_number_steps). Nothing a
user draws or uploads is stored: no flagging, and Gradio's cache of uploads is emptied every
minute.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

from . import explain
from .components import STATIC, DrawingPad, ExplainPanel, ResultsPanel
from .gradio_compat import UploadImage
from .inference import CLASSES, Classifier, probabilities_dict, read_number_steps
from .model import layer_table
from .paths import shipped
from .preprocessing import InvalidImageError, NoDigitError, select_digit

UNSURE_BELOW = 0.6  # a top probability under this is shown as a guess
MAX_BATCH = 16
DELETE_CACHE = (60, 60)  # every minute, delete uploads older than a minute
MAX_EXPLAIN_BYTES = 20 * 1024 * 1024  # an uploaded image sent back for its explanation, as data URL
MODEL_PLOTS_DIR = STATIC / "model"  # drawn by training/plots.py from the evaluation report
MODEL_PLOTS = (("per_class.png", "Accuracy per class on drawn digits"), ("confusion.png", "Confusion matrix"),
               ("conditions.png", "Accuracy by condition, with 95% intervals"), ("reliability.png", "Reliability"))

DRAW_PROMPT = "Draw a digit or a number"
UPLOAD_PROMPT = "Upload a photo or an image of a digit or a number"

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


# --------------------------------------------------------------------------- answers

def png_data_url(picture: np.ndarray) -> str:
    """A picture as a PNG data URL: floats in [0, 1] (gray) or uint8 RGB (the browser scales it)."""
    if picture.dtype != np.uint8:
        picture = (np.clip(picture, 0, 1) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def digit_answer(digit: np.ndarray, probabilities: np.ndarray, preview: bool = True) -> dict[str, Any]:
    best = int(np.argmax(probabilities))
    answer = {"digit": str(best), "confidence": float(probabilities[best]),
              "unsure": bool(probabilities[best] < UNSURE_BELOW), "probabilities": probabilities_dict(probabilities)}
    return {**answer, "preview": png_data_url(digit)} if preview else answer


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def runner_up(answer: dict[str, Any]) -> tuple[tuple[str, float], tuple[str, float]]:
    ranked = sorted(answer["probabilities"].items(), key=lambda kv: kv[1], reverse=True)
    return ranked[0], ranked[1]


def status_line(digits: list[dict[str, Any]]) -> str:
    """One sentence on what was read: a digit and how sure, or a number and which digits are unsure."""
    if len(digits) == 1:
        (best, p_best), (second, p_second) = runner_up(digits[0])
        if digits[0]["unsure"]:
            return (f"Not sure: maybe a {best} ({p_best:.0%}), or a {second} ({p_second:.0%}). "
                    "Try drawing it larger or clearer.")
        return f"It's a {best} ({p_best:.0%} sure)."
    number = "".join(d["digit"] for d in digits)
    doubts = [f"the {ordinal(i + 1)} digit ({' or '.join(label for label, _ in runner_up(d))})"
              for i, d in enumerate(digits) if d["unsure"]]
    return f"Reads {number}." if not doubts else f"Reads {number}, not sure of " + " and ".join(doubts) + "."


def message(status: str, drawing: int | None = None) -> dict[str, Any]:
    return {"drawing": drawing, "status": status, "number": "", "digits": []}


def drawing_id(value: Any) -> int | None:
    """The pad's id for this drawing (None for an uploaded file): the browser drops older answers."""
    return value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), int) else None


def recognize_batch(classifier: Classifier, images: list[Any], prompt: str, blank_is_empty: bool,
                    previews: bool = True) -> list[dict[str, Any]]:
    """Read the number in each image (its digits found and classified together), explain the rest.

    With `blank_is_empty` an image without any mark (a cleared pad) gets the prompt; without
    `previews` the digits come without their 28x28 PNGs (the read_number API leaves them out).
    """
    answers = [message(prompt, drawing_id(image)) for image in images]
    for i, image in enumerate(images):
        if image is None:
            continue
        try:
            reading = read_number_steps(image, classifier)
        except NoDigitError as e:
            answers[i]["status"] = prompt if e.blank and blank_is_empty else str(e)
            continue
        except InvalidImageError as e:
            answers[i]["status"] = f"Can't read that file — {e}"
            continue
        read = [digit_answer(d.result, row, previews) for d, row in zip(reading.digits, reading.probabilities)]
        answers[i].update(number="".join(d["digit"] for d in read), digits=read, status=status_line(read))
    return answers


def explanation(classifier: Classifier, image: Any) -> dict[str, Any]:
    """How `image` was read: the steps as captioned pictures, and each digit's saliency maps."""
    try:
        reading = read_number_steps(image, classifier)
        selection = select_digit(reading.page.ink.ink)
    except NoDigitError as e:
        return {"status": str(e), "steps": [], "saliency": []}
    except InvalidImageError as e:
        return {"status": f"Can't read that file — {e}", "steps": [], "saliency": []}
    many = len(reading.digits) > 1
    pictures = explain.page_steps(reading.page, selection, [d.mask for d in reading.digits])
    order = np.argsort(reading.probabilities, axis=1)[:, ::-1]
    tops, runner_ups = order[:, 0], order[:, 1]
    maps = classifier.attributions(np.stack([d.result for d in reading.digits]), tops, runner_ups)
    saliency = []
    for i, digit in enumerate(reading.digits):
        pictures += explain.digit_pictures(digit, i + 1 if many else None)
        saliency.append({"digit": CLASSES[tops[i]], "runner_up": CLASSES[runner_ups[i]],
                         "top": png_data_url(explain.heatmap(digit.result, maps[i, 0])),
                         "versus": png_data_url(explain.heatmap(digit.result, maps[i, 1]))})
    steps = [{"name": p.name, "caption": p.caption, "image": png_data_url(p.image)} for p in pictures]
    return {"status": f"Read as {reading.number}.", "steps": steps, "saliency": saliency}


def image_of_data_url(url: Any) -> bytes:
    """The bytes of a base64 image data URL; InvalidImageError for anything else or too large."""
    if not isinstance(url, str) or not url.startswith("data:image/") or ";base64," not in url:
        raise InvalidImageError("not an image")
    if len(url) > MAX_EXPLAIN_BYTES * 4 // 3 + 100:
        raise InvalidImageError("the image is too large to explain")
    try:
        return base64.b64decode(url.split(",", 1)[1], validate=True)
    except ValueError:
        raise InvalidImageError("not an image") from None


def model_card_html(classifier: Classifier) -> str:
    """The Model tab: what the weights are, their measured accuracy as pictures, the layers."""
    meta = classifier.metadata
    layers = layer_table(classifier.model)
    rows = "".join(f"<tr><td>{name}</td><td>{what}</td><td>{count:,}</td></tr>" for name, what, count in layers)
    total = sum(count for _, _, count in layers)
    plots = "".join(f'<figure><img src="/gradio_api/file={MODEL_PLOTS_DIR / name}" alt="{title}" loading="lazy">'
                    f"<figcaption>{title}</figcaption></figure>" for name, title in MODEL_PLOTS
                    if (MODEL_PLOTS_DIR / name).exists())
    return f"""
<h2>The model</h2>
<p>A small CNN trained on MNIST and on drawings, photos and scans rendered from 20 pendigits writers
(<code>{meta.get("command", "")}</code>, {meta.get("date", "")}). MNIST test accuracy
{float(meta.get("mnist_test_accuracy", 0)):.2%}; calibrated with temperature {float(meta.get("temperature", 1)):.2f}.
Measured on writers, scans and photos it never saw (<code>python -m training.evaluate</code>):</p>
<div class="plots">{plots}</div>
<h3>Layers ({total:,} parameters)</h3>
<table><thead><tr><th>layer</th><th>what it is</th><th>parameters</th></tr></thead><tbody>{rows}</tbody></table>
"""


MODEL_CSS = """
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 16px; }
figure { margin: 0; } figure img { width: 100%; height: auto; }
figcaption { font-size: var(--text-sm); color: var(--body-text-color-subdued); }
table { border-collapse: collapse; font-size: var(--text-sm); } td, th { padding: 2px 10px; text-align: left; }
td:last-child { text-align: right; font-variant-numeric: tabular-nums; }
"""


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

    def explain_reading(request: Any) -> dict[str, Any]:
        """The explanation panel's server function: {"drawing": strokes} or {"image": data URL}."""
        if not isinstance(request, dict):
            return {"status": "Nothing to explain.", "steps": [], "saliency": []}
        try:
            image = request["drawing"] if "drawing" in request else image_of_data_url(request.get("image"))
        except InvalidImageError as e:
            return {"status": f"Can't read that image — {e}", "steps": [], "saliency": []}
        return explanation(classifier, image)

    def predict_sketch(drawings: list[Any]) -> tuple[list[dict[str, Any]]]:
        """Batch event for API callers: drawings (strokes or image files) -> answers."""
        return (recognize_batch(classifier, drawings, DRAW_PROMPT, blank_is_empty=True),)

    def predict_upload(paths: list[str | None]) -> tuple[list[dict[str, Any]]]:
        """Batch event: uploaded files -> answers."""
        return (recognize_batch(classifier, paths, UPLOAD_PROMPT, blank_is_empty=False),)

    def read_number(paths: list[str | None]) -> tuple[list[dict[str, Any]]]:
        """Batch event for API callers: image files -> the number read and each digit's probabilities."""
        answers = recognize_batch(classifier, paths, UPLOAD_PROMPT, blank_is_empty=False, previews=False)
        return ([{k: a[k] for k in ("number", "status", "digits")} for a in answers],)

    gr.set_static_paths([MODEL_PLOTS_DIR])
    with gr.Blocks(title="digitdraw", delete_cache=DELETE_CACHE) as demo:
        gr.HTML(HEADER, css_template=HEADER_CSS, elem_id="header", js_on_load=None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                with gr.Tab("Draw"):
                    pad = DrawingPad(read_drawing, hint="Draw a digit or a number here", elem_id="sketch")
                with gr.Tab("Upload"):
                    upload = UploadImage(
                        type="filepath", image_mode=None, sources=["upload", "webcam", "clipboard"],
                        label="Photo or image of a digit or a number", elem_id="upload",
                    )
                    gr.Examples(example_files(), inputs=upload, examples_per_page=20,
                                label="Examples: MNIST test digits and photos")
                with gr.Tab("Model", elem_id="model-tab"):
                    gr.HTML(model_card_html(classifier), css_template=MODEL_CSS, elem_id="model-card", js_on_load=None)
            with gr.Column(scale=2, min_width=300):
                results = ResultsPanel(DRAW_PROMPT, elem_id="results")
                with gr.Accordion("How it was read", open=False, elem_id="explain-accordion"):
                    ExplainPanel(explain_reading, elem_id="explain")
        # The browser reads drawings through the pad's server function; this event is the same
        # reading for API callers (gradio_client), who may send an image file.
        pad.change(predict_sketch, pad, results, api_name="predict_sketch", batch=True, max_batch_size=MAX_BATCH,
                   show_progress="hidden")
        upload.change(predict_upload, upload, results, api_name="predict_upload", batch=True,
                      max_batch_size=MAX_BATCH, show_progress="hidden")
        # API only (gradio_client): an image file in, the number as JSON out. Hidden components
        # give the endpoint its file upload and its types.
        number_file, number_read = gr.File(visible=False), gr.JSON(visible=False)
        number_file.change(read_number, number_file, number_read, api_name="read_number", batch=True,
                           max_batch_size=MAX_BATCH, show_progress="hidden")
    return demo
