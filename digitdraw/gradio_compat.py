"""Workarounds for Gradio 6.31 internals, in one file so that a Gradio upgrade reviews one file.

Each one says what it works around. When upgrading Gradio, check each against the new version and
delete the ones it no longer needs.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

import gradio as gr

UNCLAIMED_DRAWING_SECONDS = 60.0  # a drawing uploaded by the sketchpad is claimed within a second

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
