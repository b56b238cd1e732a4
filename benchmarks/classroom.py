"""A whole class drawing at once: simulated pupils replay the pad's own requests at its cadence.

    python -m benchmarks.classroom                       # 10, 30 and 60 pupils, 30 s each
    python -m benchmarks.classroom --pupils 30 --seconds 60

Each pupil draws held-out writers' digits on the pad, as the browser does it: while a stroke is
drawn, the drawing so far is sent at most every 150 ms with one reading in flight at a time (marked
live); when the pen lifts, the whole drawing goes at once, in flight or not; then the
pupil looks at the answer for 1.5 s and draws the next digit. Every request is the pad's POST to
its server function (gradio_compat.SERVER_FUNCTION_ROUTE), on its own connection, to a real
server (`python app.py`) on this machine. Reported per class size: pen-up to answer (p50, p95,
p99), readings a second, errors, answers that were not for the pupil's newest drawing, digits
read right, and the server's CPU time per reading (the server's workers included). Each pupil
has the page open before the class starts: its session's first request is not timed. The pupils
run in 4 processes, asyncio each.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from benchmarks.common import default_report, write_json
from digitdraw.gradio_compat import SERVER_FUNCTION_ROUTE
from tests.harness import cpu_seconds, drawing_of, free_port, rss_mb, start_app, stop
from training import data

THROTTLE_S = 0.15  # the pad: while a stroke is drawn, at most one reading this often (static/pad.js)
LOOK_S = 1.5  # a pupil looks at the answer before drawing the next digit
POINT_S = 0.012  # a stroke's points come this fast: a digit of 60 points is drawn in about 0.7 s
LOAD_PROCESSES = 4
CLASS_SIZES = (10, 30, 60)


def component_of(url: str, elem_id: str) -> int:
    """The id of a component in the app's config, by its elem_id ("sketch": the drawing pad)."""
    config = httpx.get(url + "config", timeout=30).json()
    return next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id)


def partial(drawing: dict, strokes: int, points: int) -> dict:
    """The drawing as it is `points` points into stroke `strokes` (0-based)."""
    done = drawing["strokes"][:strokes] + [drawing["strokes"][strokes][: max(1, points)]]
    return {**drawing, "strokes": done}


async def pupil(index: int, url: str, component: int, digits: list[data.PenDigit], start_at: float, until: float,
                out: list) -> None:
    """One pupil with the page open, drawing from `start_at` until `until`: appends (kind, value)
    records to `out`."""
    rng = random.Random(index)
    session = f"pupil-{index}-{rng.random()}"
    drawing_id = 0
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        async def read(drawing: dict) -> dict:
            body = {"data": drawing, "component_id": component, "session_hash": session, "fn_name": "read_drawing"}
            response = await client.post(SERVER_FUNCTION_ROUTE, json=body)
            response.raise_for_status()
            return response.json()

        # The page is open before the class draws: the session's first request, in which Gradio
        # makes the session's state (about 12 ms of CPU, once), comes before the timing starts.
        await read({"id": 0, "width": 400, "height": 400, "brush": 16, "strokes": []})
        await asyncio.sleep(max(0.0, start_at - time.time()) + rng.uniform(0, LOOK_S))  # pupils start at different moments
        while time.time() < until:
            digit = digits[rng.randrange(len(digits))]
            whole = drawing_of(digit)
            in_flight: asyncio.Task | None = None
            last_sent, first_id = 0.0, drawing_id
            for s, stroke in enumerate(whole["strokes"]):
                for p in range(1, len(stroke) + 1):
                    await asyncio.sleep(POINT_S)
                    now = time.perf_counter()
                    if now - last_sent >= THROTTLE_S and (in_flight is None or in_flight.done()):
                        drawing_id += 1
                        in_flight = asyncio.create_task(read({**partial(whole, s, p), "id": drawing_id, "live": True}))
                        in_flight.add_done_callback(lambda t: t.exception() and out.append(("error", repr(t.exception())[:200])))
                        last_sent = now
            pen_up = time.perf_counter()  # the pad sends the finished drawing at once, in flight or not
            drawing_id += 1
            try:
                answer = await read({**whole, "id": drawing_id, "live": False})
                out.append(("latency", (time.perf_counter() - pen_up) * 1000))
                out.append(("stale", answer.get("drawing") != drawing_id))
                out.append(("right", answer.get("number") == str(digit.label)))
            except Exception as e:  # noqa: BLE001 - every failure is counted
                out.append(("error", repr(e)[:200]))
            out.append(("readings", drawing_id - first_id))
            await asyncio.sleep(LOOK_S)


def _load_process(url: str, component: int, first: int, count: int, start_at: float, seconds: float, queue) -> None:
    digits = data.pendigits_for(data.TEST_WRITERS)
    out: list = []

    async def main() -> None:
        cpu = time.process_time()
        await asyncio.gather(*(pupil(first + k, url, component, digits, start_at, start_at + seconds, out)
                               for k in range(count)))
        out.append(("load cpu", time.process_time() - cpu))

    asyncio.run(main())
    queue.put(out)


def run_class(url: str, component: int, pupils: int, seconds: float, server_pid: int) -> dict:
    """`pupils` drawing at once for `seconds`; the measures above."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start_at = time.time() + 10  # the processes spawn, import and open their sessions before they start together
    shares = [pupils // LOAD_PROCESSES + (k < pupils % LOAD_PROCESSES) for k in range(LOAD_PROCESSES)]
    firsts = np.cumsum([0] + shares[:-1])
    processes = [context.Process(target=_load_process, args=(url, component, int(first), n, start_at, seconds, queue))
                 for first, n in zip(firsts, shares) if n]
    for process in processes:
        process.start()
    time.sleep(max(0.0, start_at - time.time()))
    cpu_before, rss_before, t0 = cpu_seconds(server_pid), rss_mb(server_pid), time.monotonic()
    records = [record for _ in processes for record in queue.get(timeout=seconds + 120)]
    elapsed = time.monotonic() - t0
    cpu = cpu_seconds(server_pid) - cpu_before
    for process in processes:
        process.join()
    latencies = np.array([v for kind, v in records if kind == "latency"]) if records else np.array([np.nan])
    readings = sum(v for kind, v in records if kind == "readings")
    errors = [v for kind, v in records if kind == "error"]
    answers = max(1, len([1 for kind, _ in records if kind == "right"]))
    return {"pupils": pupils, "seconds": elapsed, "digits": int(len(latencies)), "readings": int(readings),
            "readings_per_s": readings / elapsed,
            "p50_ms": float(np.percentile(latencies, 50)), "p95_ms": float(np.percentile(latencies, 95)),
            "p99_ms": float(np.percentile(latencies, 99)), "errors": len(errors), "first_error": errors[:1],
            "stale": int(sum(v for kind, v in records if kind == "stale")),
            "read_right": sum(v for kind, v in records if kind == "right") / answers,
            "server_cpu_ms_per_reading": cpu * 1000 / max(readings, 1),
            "rss_before_mb": rss_before, "rss_after_mb": rss_mb(server_pid),
            # The pupils run on the same 2 cores as the server: the share of them they take.
            "load_generator_cores": sum(v for kind, v in records if kind == "load cpu") / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pupils", type=int, nargs="+", default=list(CLASS_SIZES), help="class sizes to try")
    parser.add_argument("--seconds", type=float, default=30, help="how long each class draws")
    parser.add_argument("--json", type=Path, default=default_report("classroom"), help="where to write the report")
    parser.add_argument("--pid", type=int, help="draw on the app already running on --port, with this process id")
    parser.add_argument("--port", type=int, help="its port")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="digitdraw-classroom-"))
    port = args.port or free_port()
    app = None if args.pid else start_app(port, work / "app.log")
    url = f"http://127.0.0.1:{port}/"
    rows = []
    try:
        component = component_of(url, "sketch")
        for pupils in args.pupils:
            row = run_class(url, component, pupils, args.seconds, args.pid or app.pid)
            rows.append(row)
            print(f"{pupils:3d} pupils: {row['readings_per_s']:6.1f} readings/s, pen-up to answer p50 {row['p50_ms']:5.0f} "
                  f"p95 {row['p95_ms']:5.0f} p99 {row['p99_ms']:5.0f} ms, {row['errors']} errors, {row['stale']} stale, "
                  f"{row['read_right']:.0%} read right, server CPU {row['server_cpu_ms_per_reading']:.1f} ms a reading, "
                  f"pupils' own CPU {row['load_generator_cores']:.2f} cores",
                  flush=True)
    finally:
        if app is not None:
            stop(app)
    write_json(args.json, rows)


if __name__ == "__main__":
    main()
