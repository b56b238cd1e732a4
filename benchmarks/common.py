"""What the benchmarks share beyond tests/harness.py: their JSON reports and load loops.

Each benchmark writes its report to reports/NAME.json (or --json PATH): the result, with the date,
the machine and the command that measured it. `python -m benchmarks.report` turns the reports
into PERFORMANCE.md.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

REPORTS = Path(__file__).resolve().parent.parent / "reports"


def machine() -> str:
    """The CPU, cores, memory and software versions, in one line."""
    import gradio
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or platform.machine())
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GB; Python {platform.python_version()}, "
            f"torch {torch.__version__}, gradio {gradio.__version__}")


def default_report(name: str) -> Path:
    """Where a benchmark writes its report unless told otherwise: reports/NAME.json."""
    return REPORTS / f"{name}.json"


def _command() -> str:
    """The command line this process was started with, as a user would type it."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    program = ["python", "-m", spec.name] if spec else ["python", sys.argv[0]]
    return shlex.join(program + sys.argv[1:])


def write_json(path: Path | None, result: Any) -> None:
    """Write a benchmark's result to `path`, with when, where and how it was measured."""
    if path is None:
        return
    report = {"measured": datetime.date.today().isoformat(), "machine": machine(), "command": _command(),
              "result": result}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")


@dataclass
class LoadResult:
    users: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0  # the load generator's own CPU while the loops ran

    def summary(self) -> dict[str, float]:
        lat = np.array(self.latencies_ms) if self.latencies_ms else np.array([np.nan])
        return {"users": self.users, "requests": len(self.latencies_ms), "errors": len(self.errors),
                "rps": len(self.latencies_ms) / self.seconds, "p50_ms": float(np.percentile(lat, 50)),
                "p95_ms": float(np.percentile(lat, 95)), "p99_ms": float(np.percentile(lat, 99))}


def run_users(users: int, seconds: float, make_user: Callable[[int], Callable[[int], None]],
              start_at: float | None = None) -> LoadResult:
    """`users` threads, each with its own client from make_user(i), calling it in a loop for `seconds`.

    A call that raises counts as an error. Every loop is bounded by the deadline. With `start_at`
    (a time.time()), the loops start then: load processes started apart run together.
    """
    result = LoadResult(users, seconds)
    lock = threading.Lock()
    clients = [make_user(i) for i in range(users)]  # connecting is not part of the measurement
    start_line = threading.Barrier(users + 1)

    def loop(call: Callable[[int], None]) -> None:
        start_line.wait()
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            try:
                call(n)
                with lock:
                    result.latencies_ms.append((time.perf_counter() - t0) * 1000)
            except Exception as e:  # noqa: BLE001 - every failure is counted and reported
                with lock:
                    result.errors.append(repr(e)[:200])
            n += 1

    threads = [threading.Thread(target=loop, args=(c,), daemon=True) for c in clients]
    for t in threads:
        t.start()
    if start_at is not None:
        time.sleep(max(0.0, start_at - time.time()))
    start_line.wait()
    t_start, cpu_start = time.monotonic(), time.process_time()
    for t in threads:
        t.join(timeout=seconds + 120)
    result.seconds = time.monotonic() - t_start
    result.cpu_seconds = time.process_time() - cpu_start
    return result
