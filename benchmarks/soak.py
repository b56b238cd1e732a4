"""Soak: 32 concurrent users for 5 minutes against the real app. Zero failed requests, resident
memory flat after warm-up, and Gradio's upload folder bounded (the app deletes old files).

    python -m benchmarks.soak [--seconds 300] [--users 32]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import default_report, run_users, write_json
from benchmarks.serving import gradio_user
from tests.harness import drawing_files, free_port, rss_mb, start_app, stop


def folder_mb(path: Path) -> float:
    """Size of the files under `path`; files that Gradio moves or deletes meanwhile count as gone."""
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                pass
    return total / 1e6


def soak(seconds: float, users: int, work: Path) -> dict:
    """Run the load; sample the server's RSS and upload folder every second."""
    temp_dir = work / "gradio-tmp"
    files = drawing_files(work / "drawings", count=200)
    port = free_port()
    app = start_app(port, work / "app.log", env={"GRADIO_TEMP_DIR": str(temp_dir)})
    samples: list[tuple[float, float, float]] = []
    done = threading.Event()

    def sample() -> None:
        t0 = time.monotonic()
        while not done.is_set():
            samples.append((time.monotonic() - t0, rss_mb(app.pid), folder_mb(temp_dir)))
            done.wait(1.0)

    sampler = threading.Thread(target=sample, daemon=True)
    try:
        sampler.start()
        result = run_users(users, seconds, gradio_user(f"http://127.0.0.1:{port}/", files))
    finally:
        done.set()
        sampler.join()
        stop(app)
    warm_up = min(30.0, seconds / 4)
    after = [s for s in samples if s[0] >= warm_up] or samples[-1:]
    return {**result.summary(), "seconds": seconds,
            "rss_after_warmup_mb": after[0][1], "rss_end_mb": samples[-1][1],
            "rss_growth_mb": max(s[1] for s in after) - after[0][1],
            "upload_dir_max_mb": max(s[2] for s in samples), "upload_dir_end_mb": samples[-1][2],
            "first_errors": result.errors[:3]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--json", type=Path, default=default_report("soak"), help="where to write the report")
    args = parser.parse_args()
    r = soak(args.seconds, args.users, Path(tempfile.mkdtemp(prefix="digitdraw-soak-")))
    print(f"soak: {args.users} users for {args.seconds:.0f} s: {r['requests']} requests, {r['errors']} failed, "
          f"{r['rps']:.1f} req/s, p95 {r['p95_ms']:.0f} ms; RSS {r['rss_after_warmup_mb']:.0f} MB after warm-up, "
          f"growth {r['rss_growth_mb']:.1f} MB; upload folder max {r['upload_dir_max_mb']:.1f} MB, "
          f"end {r['upload_dir_end_mb']:.1f} MB")
    write_json(args.json, r)


if __name__ == "__main__":
    main()
