"""The Learn tab on a real server: how fast a training learns, and what it costs everyone else.

    python -m benchmarks.learn            # about 6 minutes on 2 cores

1. "Inside the model" and "Browse MNIST" as the page asks for them (their server functions, one
   POST each, in one session on one connection): 40 held-out writers' drawings looked inside, 40
   test digits browsed (p50, p95).
2. One epoch of the original app's small CNN on all of MNIST's 60,000 training images, through
   /train as the page starts it: the time to the end, the MNIST test accuracy, and the longest gap
   between two curve updates the browser got.
3. The same training again while 5 pupils draw on the Draw tab (benchmarks.classroom's pupils):
   their pen-up to answer p95, and a second training started meanwhile, which must wait its turn.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from benchmarks.classroom import component_of, run_class
from benchmarks.common import default_report, write_json
from digitdraw.gradio_compat import SERVER_FUNCTION_ROUTE
from tests.harness import drawing_of, free_port, local_client, start_app, stop
from training import data

CALLS = 40
PUPILS = 5


def server_function_ms(url: str, component: int, name: str, requests: list) -> dict:
    """p50 and p95 of one server function's answers, asked as one page asks: one session, on one
    kept-alive connection. (A new connection a call adds about 35 ms of the client's own set-up, and
    a new session 15 ms of the server's, which no page pays.)"""
    times = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for request in requests:
            body = {"data": request, "component_id": component, "session_hash": f"learn-{name}", "fn_name": name}
            start = time.perf_counter()
            response = client.post(SERVER_FUNCTION_ROUTE, json=body)
            times.append((time.perf_counter() - start) * 1000)
            response.raise_for_status()
    return {"p50_ms": float(np.percentile(times, 50)), "p95_ms": float(np.percentile(times, 95)), "calls": len(times)}


def training(url: str, images: int = 60_000) -> dict:
    """One epoch of the small CNN through /train: seconds, accuracy, the longest wait for an update."""
    start = time.monotonic()
    arrivals, last = [], None
    for output in local_client(url).submit(1, "small", False, images, api_name="/train"):
        arrivals.append(time.monotonic())
        last = output
    gaps = np.diff(arrivals) if len(arrivals) > 1 else np.array([0.0])  # every streamed record moves the curves
    return {"seconds": time.monotonic() - start, "training_seconds": last["seconds"], "why": last["why"],
            "mnist_test_accuracy": last["mnist_test_accuracy"], "drawings_accuracy": last["drawings_accuracy"],
            "updates": len(arrivals), "longest_gap_s": float(gaps.max()), "began": arrivals[0], "ended": arrivals[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=default_report("learn"), help="where to write the report")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="digitdraw-learn-"))
    port = free_port()
    app = start_app(port, work / "app.log")
    url = f"http://127.0.0.1:{port}/"
    try:
        digits = data.pendigits_for(data.TEST_WRITERS)
        drawings = [{"drawing": drawing_of(digits[i * 37 % len(digits)])} for i in range(CALLS)]
        inside, browse = component_of(url, "inside"), component_of(url, "mnist")
        server_function_ms(url, browse, "browse", [{"index": 0}])  # MNIST loaded once, as on a first visit
        result = {"inside": server_function_ms(url, inside, "inside", drawings),
                  "browse": server_function_ms(url, browse, "browse", [{"index": i * 251} for i in range(CALLS)])}
        print(f"inside the model {result['inside']['p50_ms']:.0f} ms p50, {result['inside']['p95_ms']:.0f} ms p95; "
              f"browse MNIST {result['browse']['p50_ms']:.0f} / {result['browse']['p95_ms']:.0f} ms", flush=True)
        result["alone"] = training(url)
        print(f"1 epoch alone: {result['alone']['seconds']:.0f} s, MNIST test {result['alone']['mnist_test_accuracy']:.2%}, "
              f"longest gap between updates {result['alone']['longest_gap_s']:.1f} s", flush=True)
        during, second = {}, {}
        first = threading.Thread(target=lambda: during.update(training(url)))
        first.start()
        time.sleep(2)
        queued = threading.Thread(target=lambda: second.update(training(url, images=3000)))
        queued.start()
        pupils = run_class(url, component_of(url, "sketch"), PUPILS, 60, app.pid)
        first.join()
        queued.join()
        # The second's first record comes when its job starts, which the queue allows only once the
        # first has ended; the two streams arrive on two connections, so allow them 1 s of skew.
        result["second"] = second
        result["with_pupils"] = {**during, "pupils": pupils, "second_waited": second["began"] >= during["ended"] - 1
                                 and second["why"] == "done"}
        print(f"1 epoch with {PUPILS} pupils drawing: {during['seconds']:.0f} s; their pen-up to answer p95 "
              f"{pupils['p95_ms']:.0f} ms, {pupils['errors']} errors; a second training waited its turn: "
              f"{result['with_pupils']['second_waited']}", flush=True)
    finally:
        stop(app)
    write_json(args.json, result)


if __name__ == "__main__":
    main()
