"""The page's own components, made as Gradio 6 custom HTML components (gr.HTML subclasses).

- DrawingPad: a canvas for mouse, touch and pen, with Undo and Clear under it. After every stroke
  and, throttled, while one is drawn, it sends the drawing as strokes (a few KB) to its server
  function, one POST answered directly. Its value, for API callers, is a drawing or an image file.
- UploadPanel: choose, take (on a phone), drop or paste a photo; big ones are shrunk in the
  browser; the image goes to its server function. ExamplesPanel: example images to click.
- ResultsPanel: one per tab: the answer (status, bars, the 28x28 the model read; for a number, one
  small panel per digit), drawn in the browser, in a box of fixed height.
- ExplainPanel: one per tab: "How it was read", the steps and the saliency maps of what its tab
  shows, asked of its server function only while it is open.
- InsidePanel and MnistPanel: the Learn tab's look inside the model and its MNIST browser.

Each one's HTML, JavaScript and CSS live in static/ beside this file; static/state.js, the one
object they share in the browser (window.digitdraw), is prepended to each one's script.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Callable

import gradio as gr

from .gradio_compat import file_url, is_uploaded_file

STATIC = Path(__file__).resolve().parent / "static"

PAD_DESCRIPTION = ("Drawing pad: draw a digit or a number with the mouse, a finger or a pen. "
                   "Control+Z undoes the last stroke, Escape clears the pad.")

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


def _static(name: str) -> str:
    return (STATIC / name).read_text()


def _script(name: str) -> str:
    """A component's js_on_load: the shared state, then its own code."""
    return _static("state.js") + _static(name)


def _parts(name: str) -> dict[str, Any]:
    """A component's template, CSS and script from static/NAME.html, .css and .js; no block padding
    (the pad gets the column's whole width on a phone)."""
    return {"html_template": _static(f"{name}.html"), "css_template": _static(f"{name}.css"),
            "js_on_load": _script(f"{name}.js"), "padding": False}


class DrawingPad(gr.HTML):
    """A drawing pad whose value is the drawing: strokes from the browser, or an uploaded image."""

    def __init__(self, read_drawing: Callable[[Any], dict[str, Any]], hint: str = "Draw here", **kwargs: Any) -> None:
        """`read_drawing(drawing) -> answer` is what the browser calls after each stroke."""
        super().__init__(value=None, server_functions=[read_drawing], hint=hint, description=PAD_DESCRIPTION,
                         **_parts("pad"), **kwargs)

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


class UploadPanel(gr.HTML):
    """Choose, take, drop or paste an image; `read_upload({id, image: data URL}) -> answer` reads it."""

    def __init__(self, read_upload: Callable[[Any], dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(value=None, server_functions=[read_upload], **_parts("upload"), **kwargs)


class ExamplesPanel(gr.HTML):
    """Example images as buttons (each with its name, for screen readers); a click reads it on the Upload tab."""

    def __init__(self, examples: list[tuple[Path, str]], **kwargs: Any) -> None:
        """`examples`: (file in a folder given to gr.set_static_paths, what it shows)."""
        items = "".join(
            f'<li><button type="button" data-url="{html.escape(file_url(path))}" data-label="{html.escape(label)}" '
            f'aria-label="Example: {html.escape(label)}"><img src="{html.escape(file_url(path))}" alt=""></button></li>'
            for path, label in examples)
        super().__init__(value=None, items=items, **_parts("examples"), **kwargs)


class ResultsPanel(gr.HTML):
    """What the model read, drawn in the browser (see static/results.js), for one tab's `source`."""

    def __init__(self, prompt: str, source: str, **kwargs: Any) -> None:
        super().__init__(value=None, prompt=prompt, source=source, **_parts("results"), **kwargs)


class ExplainPanel(gr.HTML):
    """How one tab's answer was read (see static/explain.js): steps and saliency, on demand."""

    def __init__(self, explain: Callable[[Any], dict[str, Any]], source: str, empty: str, **kwargs: Any) -> None:
        """`explain_reading({"drawing": ...} or {"image": data URL}) -> {status, steps, saliency}`;
        `empty` is what it says while there is nothing to explain."""
        super().__init__(value=None, server_functions=[explain], source=source, empty=empty, **_parts("explain"),
                         **kwargs)


class InsidePanel(gr.HTML):
    """Inside the shipped model (static/inside.js): `inside({drawing} or {image}) -> maps, pooled, logits`."""

    def __init__(self, inside: Callable[[Any], dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(value=None, server_functions=[inside], **_parts("inside"), **kwargs)


class MnistPanel(gr.HTML):
    """Browse MNIST's test digits (static/mnist.js): `browse(request) -> one digit and its readings`."""

    def __init__(self, browse: Callable[[Any], dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(value=None, server_functions=[browse], **_parts("mnist"), **kwargs)
