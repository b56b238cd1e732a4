"""Serving under load: the real app (`python app.py`) against the same engine behind bare FastAPI.

    python -m benchmarks.serving [--seconds 20] [--users 1 8 32] [--json artifacts/serving.json]

Each simulated user is a thread with its own client, sending rendered drawings (held-out
writers, 400x400 canvases as the sketchpad sends them) one after another for a fixed time.
Reports requests per second, latency percentiles, errors, the server's resident memory before
and after, and the server's CPU time per request. The load runs on the same machine as the
server. The Gradio clients do not download the preview image each answer links to.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import httpx
from gradio_client import handle_file

from benchmarks.common import (
    ROOT,
    cpu_seconds,
    drawing_files,
    free_port,
    local_client,
    rss_mb,
    run_users,
    start_app,
    start_server,
    stop,
    write_json,
)


def gradio_user(url: str, files: list[tuple[Path, int]]):
    def make(i: int):
        client = local_client(url, download_files=False)  # the label is the prediction

        def call(n: int) -> None:
            path, label = files[(i + n) % len(files)]
            answer = client.predict(handle_file(str(path)), api_name="/predict_sketch")
            if not answer["digits"]:
                raise RuntimeError(f"no prediction: {answer['status']}")
        return call
    return make


def bare_user(url: str, files: list[tuple[Path, int]]):
    payloads = [(p.read_bytes(), label) for p, label in files]

    def make(i: int):
        client = httpx.Client(timeout=60)

        def call(n: int) -> None:
            content, label = payloads[(i + n) % len(payloads)]
            response = client.post(url + "predict", files={"image": ("d.png", content, "image/png")})
            response.raise_for_status()
        return call
    return make


def measure(name: str, process, url: str, make_user, users: list[int], seconds: float) -> list[dict]:
    rows = []
    for n in users:
        before, cpu_before = rss_mb(process.pid), cpu_seconds(process.pid)
        result = run_users(n, seconds, make_user)
        row = {"server": name, **result.summary(), "rss_before_mb": before, "rss_after_mb": rss_mb(process.pid),
               "server_cpu_ms_per_request": (cpu_seconds(process.pid) - cpu_before) * 1000 / max(len(result.latencies_ms), 1)}
        if result.errors:
            row["first_error"] = result.errors[0]
        rows.append(row)
        print(f"{name:8s} {n:3d} users  {row['rps']:7.1f} req/s  p50 {row['p50_ms']:6.0f}  p95 {row['p95_ms']:6.0f}  "
              f"p99 {row['p99_ms']:6.0f} ms  errors {row['errors']}  RSS {before:.0f} -> {row['rss_after_mb']:.0f} MB  "
              f"server CPU {row['server_cpu_ms_per_request']:.1f} ms/request",
              flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="duration of each load level")
    parser.add_argument("--users", type=int, nargs="+", default=[1, 8, 32], help="concurrent users to try")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="digitdraw-serving-"))
    files = drawing_files(work / "drawings")
    rows = []

    port = free_port()
    app = start_app(port, work / "app.log")
    try:
        rows += measure("gradio", app, f"http://127.0.0.1:{port}/", gradio_user(f"http://127.0.0.1:{port}/", files),
                        args.users, args.seconds)
    finally:
        stop(app)
    port = free_port()
    bare = start_server([sys.executable, "-m", "benchmarks.bare_server", "--port", str(port)], port, work / "bare.log")
    try:
        rows += measure("bare", bare, f"http://127.0.0.1:{port}/", bare_user(f"http://127.0.0.1:{port}/", files),
                        args.users, args.seconds)
    finally:
        stop(bare)
    for n in args.users:
        g = next(r for r in rows if r["server"] == "gradio" and r["users"] == n)
        b = next(r for r in rows if r["server"] == "bare" and r["users"] == n)
        print(f"{n:3d} users: gradio reaches {g['rps'] / b['rps']:.0%} of the bare endpoint's throughput")
    write_json(args.json, rows)
    print(f"(logs in {work}; run from {ROOT})")


if __name__ == "__main__":
    main()
