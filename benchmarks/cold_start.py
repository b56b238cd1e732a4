"""Cold start: from `python app.py` to the first successful prediction, and idle memory.

    python -m benchmarks.cold_start [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from gradio_client import handle_file

from benchmarks.common import default_report, write_json
from tests.harness import drawing_files, free_port, local_client, rss_mb, start_app, stop


def cold_start(work: Path, drawing: Path) -> tuple[float, float, float]:
    """Seconds to first HTTP answer, seconds to first prediction, idle RSS (MB) after it."""
    port = free_port()
    t0 = time.perf_counter()
    app = start_app(port, work / f"app-{port}.log")
    try:
        http_s = time.perf_counter() - t0
        client = local_client(f"http://127.0.0.1:{port}/")
        answer = client.predict(handle_file(str(drawing)), api_name="/predict_sketch")
        first_s = time.perf_counter() - t0
        assert answer["digits"]
        time.sleep(5)
        return http_s, first_s, rss_mb(app.pid)
    finally:
        stop(app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=default_report("cold_start"), help="where to write the report")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="digitdraw-cold-"))
    drawing = drawing_files(work, count=1)[0][0]
    runs = [cold_start(work, drawing) for _ in range(args.runs)]
    result = {"http_s": statistics.median(r[0] for r in runs), "first_prediction_s": statistics.median(r[1] for r in runs),
              "idle_rss_mb": statistics.median(r[2] for r in runs), "runs": runs}
    print(f"cold start (median of {args.runs}): first HTTP answer {result['http_s']:.1f} s, "
          f"first prediction {result['first_prediction_s']:.1f} s; idle RSS {result['idle_rss_mb']:.0f} MB")
    write_json(args.json, result)


if __name__ == "__main__":
    main()
