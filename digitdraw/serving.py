"""Serve the app: the process settings and the launch that `python app.py` and `digitdraw serve` share."""

from __future__ import annotations

import argparse
import ctypes
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing this module stays cheap: `digitdraw predict` parses the same arguments
    import gradio as gr

M_ARENA_MAX = -8  # glibc's mallopt() parameter for the number of malloc arenas
# The event workers that run at once: one per core here and on a free Space.
CONCURRENCY = 2
MAX_FILE_SIZE = "10mb"


def limit_malloc_arenas(count: int = 2) -> None:
    """Share `count` malloc arenas among all threads (glibc only; elsewhere nothing to do).

    glibc gives threads that allocate at once arenas of their own, up to 8 per core, and each
    keeps the memory freed in it. Gradio runs events on a pool of worker threads, so under load
    the server grew 88 MB in two minutes; with two arenas it grew 29 MB and then stayed flat.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(M_ARENA_MAX, count)


def configure_process() -> None:
    """Settings for a serving process, made before the model loads."""
    import torch

    from .gradio_compat import spare_queue_analytics

    limit_malloc_arenas()
    spare_queue_analytics()
    # One request is one small model call: a second thread only adds overhead, and the queue runs
    # requests side by side instead.
    torch.set_num_threads(1)


def reading_processes() -> int:
    """How many worker processes read the pad's drawings (readers.py): one a reading thread, but
    none on ZeroGPU, where only the serving process may use the GPU it is lent."""
    from .pool import WORKERS

    return 0 if os.environ.get("SPACES_ZERO_GPU") else WORKERS


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--share", action="store_true", help="also create a temporary public gradio.live link")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="address to listen on (default 127.0.0.1, or $GRADIO_SERVER_NAME)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)),
                        help="port to listen on (default 7860, or $GRADIO_SERVER_PORT)")


def launch(demo: gr.Blocks, host: str, port: int, share: bool) -> None:
    """Serve `demo` until interrupted: with every route's limits (limits.py), the MCP server at
    /gradio_api/mcp/, and no run history kept in the browser (a school's shared computers)."""
    from starlette.middleware import Middleware

    from .limits import RequestLimits

    demo.queue(default_concurrency_limit=CONCURRENCY).launch(
        server_name=host, server_port=port, share=share, max_file_size=MAX_FILE_SIZE, mcp_server=True,
        run_history=False, app_kwargs={"middleware": [Middleware(RequestLimits)]},
    )
