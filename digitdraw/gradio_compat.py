"""Workarounds for Gradio 6.31 internals, in one file so that a Gradio upgrade reviews one file.

Each one says what it works around. When upgrading Gradio, check each against the new version and
delete the ones it no longer needs.
"""

from __future__ import annotations

import os
from typing import Any

import gradio as gr

# Gradio's queue rebuilds a pandas table of its last 10,000 events after every event, for a
# monitoring page that is off unless enabled (/monitoring/summary): once the table is full that
# is 7 ms of CPU per request, under the interpreter lock. Rebuilding it every 1,000 events spares
# it; the variable is read when the queue is made (`Blocks.queue`).
ANALYTICS_EVERY = 1000


def spare_queue_analytics() -> None:
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(ANALYTICS_EVERY))


# Gradio opens images with PIL before our functions run, and a file PIL can't open would fail
# there with no message for the user. UploadImage passes such files on to the engine instead, which
# raises InvalidImageError with a clear message.

class UploadImage(gr.Image):
    is_template = True  # Gradio's convention: render with the parent's frontend ("image")

    def preprocess(self, payload: Any) -> Any:
        try:
            return super().preprocess(payload)
        except Exception:  # noqa: BLE001 - any decoder failure; the engine reports it clearly
            return payload.path if payload is not None else None
