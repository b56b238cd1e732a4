"""digitdraw: draw or upload a handwritten digit and see what a small CNN reads, live.

    python app.py                 # http://127.0.0.1:7860
    python app.py --share         # plus a temporary public link
    python app.py --host 0.0.0.0 --port 8080

Hugging Face Spaces and `gradio app.py` import this module and use `demo`.
"""

from __future__ import annotations

import argparse
import ctypes
import os

import torch

from digitdraw.inference import load_classifier
from digitdraw.ui import MAX_FILE_SIZE, build_ui

M_ARENA_MAX = -8  # glibc's mallopt() parameter for the number of malloc arenas


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


limit_malloc_arenas()
# One request is one small model call: a second thread only adds overhead, and the queue runs
# requests side by side instead.
torch.set_num_threads(1)
CONCURRENCY = 2  # the event workers that run at once: one per core here and on a free Space

load_classifier()  # load the weights at start-up, not on the first request
demo = build_ui()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the digitdraw app.")
    parser.add_argument("--share", action="store_true", help="also create a temporary public gradio.live link")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="address to listen on (default 127.0.0.1, or $GRADIO_SERVER_NAME)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)),
                        help="port to listen on (default 7860, or $GRADIO_SERVER_PORT)")
    return parser.parse_args()


if __name__ == "__main__":
    args = parse_args()
    demo.queue(default_concurrency_limit=CONCURRENCY).launch(
        server_name=args.host, server_port=args.port, share=args.share, max_file_size=MAX_FILE_SIZE,
    )
