"""digitdraw: draw or upload a handwritten digit and see what a small CNN reads, live.

    python app.py                 # http://127.0.0.1:7860
    python app.py --share         # plus a temporary public link
    python app.py --host 0.0.0.0 --port 8080

Hugging Face Spaces and `gradio app.py` import this module and use `demo`. `digitdraw serve`
does the same as `python app.py`.
"""

from __future__ import annotations

import argparse

from digitdraw import serving
from digitdraw.inference import load_classifier
from digitdraw.ui import build_ui

serving.configure_process()
# The weights load at start-up, not on the first request; the readers fork with them loaded.
demo = build_ui(load_classifier(), serving.reading_processes())

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the digitdraw app.")
    serving.add_server_arguments(parser)
    args = parser.parse_args()
    serving.launch(demo, args.host, args.port, args.share)
