"""The app's two custom components, made as Gradio 6 custom HTML components (gr.HTML subclasses).

- DrawingPad: a canvas for mouse, touch and pen. After every stroke and, throttled, while one is
  drawn, it sends the drawing as strokes (a few KB) to its server function, one POST answered
  directly. Its value, for API callers, is a drawing or an image file.
- ResultsPanel: the answer (status, bars, the 28x28 the model read; for a number, one small
  panel per digit), drawn in the browser. It ignores answers for drawings older than the pad's current one.

- ExplainPanel: "How it was read": the steps and the saliency maps of what the results show,
  asked of its server function only while the panel is open.

Their JavaScript and CSS live in static/ beside this file; static/state.js, the one object they
share in the browser (window.digitdraw), is prepended to each one's script.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import gradio as gr

from .gradio_compat import UPLOADED_IMAGE, is_uploaded_file

STATIC = Path(__file__).resolve().parent / "static"

PAD_HTML = """
<div class="pad empty">
  <canvas tabindex="0" role="img" aria-label="${description}"></canvas>
  <p class="hint" aria-hidden="true">${hint}</p>
  <div class="tools">
    <button type="button" data-action="undo" title="Undo the last stroke (Ctrl+Z)" disabled>Undo</button>
    <button type="button" data-action="clear" id="clear" title="Clear the pad (Esc)">Clear</button>
  </div>
</div>
"""

PAD_DESCRIPTION = ("Drawing pad: draw a digit or a number with the mouse, a finger or a pen. "
                   "Control+Z undoes the last stroke, Escape clears the pad.")

RESULTS_HTML = """
<div class="results" data-prompt="${prompt}">
  <p id="status" role="status" aria-live="polite"></p>
  <div class="answer"><div id="probs"></div><div id="preview"></div></div>
  <ol id="digits" aria-label="Each digit read"></ol>
</div>
"""

# A drawing as the pad sends it, for the API page; an image file is accepted as well.
DRAWING_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "width": {"type": "number"},
        "height": {"type": "number"},
        "brush": {"type": "number"},
        "strokes": {"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}},
    },
}
FILE_SCHEMA = {"type": "object", "properties": {"path": {"type": "string"}, "meta": {"type": "object"}},
               "description": "an image file (gradio_client: handle_file(path))"}


EXPLAIN_HTML = """
<div class="explain">
  <p class="explain-status" role="status">Draw or upload a digit to see how it is read.</p>
  <h4>Steps</h4>
  <ol id="steps"></ol>
  <h4>What the model looked at</h4>
  <p class="legend">Each pixel of the 28x28 the model read, against a blank image (DeepLIFT):
  <span class="up">red</span> pixels raised the answer, <span class="down">blue</span> ones lowered it.</p>
  <div id="saliency"></div>
</div>
"""


def _static(name: str) -> str:
    return (STATIC / name).read_text()


def _script(name: str) -> str:
    """A component's js_on_load: the shared state, then its own code."""
    return _static("state.js") + _static(name)


class DrawingPad(gr.HTML):
    """A drawing pad whose value is the drawing: strokes from the browser, or an uploaded image."""

    def __init__(self, read_drawing: Callable[[Any], dict[str, Any]], hint: str = "Draw here", **kwargs: Any) -> None:
        """`read_drawing(drawing) -> answer` is what the browser calls after each stroke."""
        super().__init__(value=None, html_template=PAD_HTML, css_template=_static("pad.css"),
                         js_on_load=_script("pad.js"), server_functions=[read_drawing], hint=hint,
                         description=PAD_DESCRIPTION, **kwargs)

    def preprocess(self, payload: Any) -> Any:
        """An uploaded file (Gradio has checked that it is in its upload folder) as its path; a
        drawing as the dict the engine reads; anything else as is, for the engine to refuse."""
        if is_uploaded_file(payload):
            return payload["path"]
        return payload

    def api_info(self) -> dict[str, Any]:
        return {"anyOf": [FILE_SCHEMA, DRAWING_SCHEMA]}

    def example_payload(self) -> Any:
        return {"id": 1, "width": 400, "height": 200, "brush": 8, "strokes": [[[200, 40], [200, 160]]]}

    def example_value(self) -> Any:
        return self.example_payload()


class ResultsPanel(gr.HTML):
    """What the model read, drawn in the browser (see static/results.js)."""

    def __init__(self, prompt: str, **kwargs: Any) -> None:
        super().__init__(value={"drawing": None, "status": prompt, "digits": []}, html_template=RESULTS_HTML,
                         css_template=_static("results.css"), js_on_load=_script("results.js"), prompt=prompt,
                         **kwargs)

    def preprocess(self, payload: Any) -> Any:
        return payload

    def postprocess(self, value: Any) -> Any:
        return value

    def api_info(self) -> dict[str, Any]:
        return {"type": "object", "description": "status, number read, and per digit its probabilities and 28x28 preview"}

    def example_payload(self) -> Any:
        return {"drawing": None, "status": "Draw a digit", "digits": []}

    def example_value(self) -> Any:
        return self.example_payload()


class ExplainPanel(gr.HTML):
    """How the shown answer was read (see static/explain.js): steps and saliency, on demand."""

    def __init__(self, explain: Callable[[Any], dict[str, Any]], upload_id: str, **kwargs: Any) -> None:
        """`explain_reading({"drawing": ...} or {"image": data URL}) -> {status, steps, saliency}`;
        an upload's image is the one shown by the component with elem_id `upload_id`."""
        super().__init__(value=None, html_template=EXPLAIN_HTML, css_template=_static("explain.css"),
                         js_on_load=_script("explain.js"), server_functions=[explain],
                         uploaded_image=f"#{upload_id} {UPLOADED_IMAGE}", **kwargs)
