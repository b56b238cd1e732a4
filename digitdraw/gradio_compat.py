"""Everything that reaches into Gradio 6.31's internals, in one file, so that a Gradio upgrade
reviews one file: private attributes, routes, the DOM of its components, and workarounds.

Each one says what it is for. When upgrading Gradio, check each against the new version and
delete the ones it no longer needs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import gradio as gr
from gradio_client.utils import is_file_obj_with_meta

# The route of a gr.HTML component's server functions: the pad posts every reading here (tests
# and benchmarks hold it back or replay it).
SERVER_FUNCTION_ROUTE = "/gradio_api/component_server"
# Files under gr.set_static_paths are served from here.
FILE_ROUTE = "/gradio_api/file="
# Uploads (multipart) go here; the MCP server (launch(mcp_server=True)) lives under this.
UPLOAD_ROUTE = "/gradio_api/upload"
MCP_ROUTE = "/gradio_api/mcp"
# CSS for Gradio's own DOM: its footer's grey text (1.9:1 on white) and its selected tab's orange
# (2.8:1) made readable, at least 4.5:1 in the light theme and the dark; and on a phone, the page's
# 32 px side padding cut to 8, so that the pad gets the width.
PAGE_CSS = """
footer, footer a, footer button { color: #4b5563 !important; }
.dark footer, .dark footer a, .dark footer button { color: #d1d5db !important; }
[role="tab"][aria-selected="true"] { color: var(--body-text-color) !important; }
@media (max-width: 640px) { .main.fillable { padding-left: 8px !important; padding-right: 8px !important; } }
"""


def file_url(path: Path) -> str:
    """The URL of a file in a folder given to gr.set_static_paths."""
    return f"{FILE_ROUTE}{path}"


def is_uploaded_file(payload: Any) -> bool:
    """Whether a component's payload is a file Gradio received (and checked is in its upload folder)."""
    return is_file_obj_with_meta(payload)


# Gradio's queue rebuilds a pandas table of its last 10,000 events after every event, for a
# monitoring page that is off unless enabled (/monitoring/summary): once the table is full that
# is 7 ms of CPU per request, under the interpreter lock. Rebuilding it every 1,000 events spares
# it; the variable is read when the queue is made (`Blocks.queue`).
ANALYTICS_EVERY = 1000


def spare_queue_analytics() -> None:
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(ANALYTICS_EVERY))


def queue_analytics_every(demo: gr.Blocks) -> int:
    """How often the demo's queue rebuilds its analytics table (a private attribute, misspelt upstream)."""
    return demo._queue.ANAYLTICS_CACHE_FREQUENCY


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


async def server_function_session(request: Any) -> str | None:
    """The session of a call to a gr.HTML server function. Gradio 6.31 hands such a function the
    raw starlette request, not a gr.Request with its `session_hash`; the hash is in the request's
    JSON body, which Gradio has read, and starlette cached, by then."""
    try:
        body = await request.json()
    except Exception:  # a multipart call, or a caller without a request
        return None
    return body.get("session_hash") if isinstance(body, dict) else None
