"""Serving under load: the real app (`python app.py`) against the same engine behind bare FastAPI.

    python -m benchmarks.serving [--seconds 20] [--users 1 8 32]
    python -m benchmarks.serving --replicas 2 [--seconds 20]     # also: replicas behind nginx

Each simulated user is a thread with its own client, sending rendered drawings (held-out
writers, 400x400 canvases as the sketchpad sends them) one after another for a fixed time.
Reports requests per second, latency percentiles, errors, the server's resident memory before
and after, and the server's CPU time per request. The load runs on the same machine as the
server. The Gradio clients do not download the preview image each answer links to.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
from gradio_client import handle_file

from benchmarks.common import LoadResult, default_report, run_users, write_json
from tests.harness import ROOT, cpu_seconds, drawing_files, free_port, local_client, rss_mb, start_app, start_server, stop


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


# ---------------------------------------------------------------- replicas behind nginx (--replicas)
# nginx's ip_hash keys on a client's /24, so the users are split over LOAD_PROCESSES processes,
# each binding every connection to its own address 127.0.K.1: a school's pupils come from many
# addresses, and one address would put all of them on one replica.
LOAD_PROCESSES = 8
NGINX = "/usr/sbin/nginx"
START_DELAY_S = 20  # load processes spawn and connect before their loops start together


def _load_process(kind: str, url: str, files: list, users: int, seconds: float, source: str, start_at: float,
                  out) -> None:
    import httpx

    for transport in (httpx.HTTPTransport, httpx.AsyncHTTPTransport):  # every connection from `source`
        def bound(self, *args, _init=transport.__init__, **kwargs):
            kwargs.setdefault("local_address", source)
            _init(self, *args, **kwargs)
        transport.__init__ = bound
    make_user = gradio_user(url, files) if kind == "gradio" else bare_user(url, files)
    result = run_users(users, seconds, make_user, start_at=start_at)
    out.put((result.latencies_ms, result.errors, result.seconds, result.cpu_seconds))


def spread_load(kind: str, url: str, files: list, users: int, seconds: float) -> dict:
    """`users` users in LOAD_PROCESSES processes with addresses of their own; the load's CPU share too."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    start_at = time.time() + START_DELAY_S
    per = [users // LOAD_PROCESSES + (k < users % LOAD_PROCESSES) for k in range(LOAD_PROCESSES)]
    processes = [context.Process(target=_load_process, args=(kind, url, files, n, seconds, f"127.0.{k + 1}.1",
                                                             start_at, out)) for k, n in enumerate(per) if n]
    for p in processes:
        p.start()
    parts = [out.get(timeout=START_DELAY_S + seconds + 180) for _ in processes]
    for p in processes:
        p.join()
    result = LoadResult(users, max(part[2] for part in parts))
    for latencies, errors, _, _ in parts:
        result.latencies_ms += latencies
        result.errors += errors
    load_cpu = sum(part[3] for part in parts)  # while the loops ran: start-up and connecting left out
    return {**result.summary(), "load_cpu_share": load_cpu / (2 * result.seconds),
            "first_error": result.errors[0] if result.errors else None}


def nginx_config(template: str, ports: list[int], listen: int, folder: Path) -> Path:
    """deploy/nginx.conf with these replicas and port, wrapped to run unprivileged in `folder`."""
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in ports)
    site = re.sub(r"(upstream digitdraw \{\n    ip_hash;\n)(    server [^\n]+\n)+", lambda m: m.group(1) + servers, template)
    site = re.sub(r"listen \d+;", f"listen 127.0.0.1:{listen};", site)
    (folder / "site.conf").write_text(site)
    main = folder / "nginx.conf"
    main.write_text(f"pid {folder}/nginx.pid; error_log {folder}/error.log; worker_processes 1; events {{}}\n"
                    f"http {{ log_format sticky '$remote_addr $upstream_addr';\n"
                    f"access_log {folder}/access.log sticky; client_body_temp_path {folder}; proxy_temp_path {folder};\n"
                    f"include {folder}/site.conf; }}\n")
    return main


def sticky_report(access_log: Path) -> dict:
    """Per client address, the replicas its requests reached: sticky when each reached one."""
    reached = defaultdict(set)
    for line in access_log.read_text().splitlines():
        client, upstream = line.split(" ", 1)
        reached[client].add(upstream)
    per_replica = defaultdict(int)
    for upstreams in reached.values():
        for upstream in upstreams:
            per_replica[upstream] += 1
    return {"clients": len(reached), "sticky": all(len(u) == 1 for u in reached.values()),
            "clients_per_replica": dict(per_replica)}


def replicas(count: int, users: int, seconds: float, files: list, work: Path) -> list[dict]:
    """One replica direct, `count` replicas behind nginx, and bare FastAPI, under the same load."""
    rows = []
    ports = [free_port() for _ in range(count)]
    apps = [start_app(port, work / f"replica-{i}.log") for i, port in enumerate(ports)]
    try:
        row = {"setup": "1 replica, direct", **spread_load("gradio", f"http://127.0.0.1:{ports[0]}/", files, users, seconds)}
        rows.append(row)
        listen = free_port()
        config = nginx_config((ROOT / "deploy" / "nginx.conf").read_text(), ports, listen, work)
        nginx = subprocess.Popen([NGINX, "-c", str(config), "-p", str(work), "-g", "daemon off;"])
        try:
            time.sleep(1)
            row = {"setup": f"{count} replicas behind nginx (ip_hash)",
                   **spread_load("gradio", f"http://127.0.0.1:{listen}/", files, users, seconds),
                   **sticky_report(work / "access.log")}
            rows.append(row)
        finally:
            nginx.terminate()
            nginx.wait(timeout=20)
    finally:
        for app in apps:
            stop(app)
    port = free_port()
    bare = start_server([sys.executable, "-m", "benchmarks.bare_server", "--port", str(port)], port, work / "bare.log")
    try:
        load = spread_load("bare", f"http://127.0.0.1:{port}/", files, users, seconds)
        rows.append({"setup": "bare FastAPI, 1 process", **load})
    finally:
        stop(bare)
    for r in rows:
        extra = f"  sticky {r['sticky']}, clients per replica {r['clients_per_replica']}" if "sticky" in r else ""
        print(f"{r['setup']:36s} {r['rps']:7.1f} req/s  p95 {r['p95_ms']:6.0f} ms  errors {r['errors']}  "
              f"load generator {r['load_cpu_share']:.0%} of the 2 cores{extra}", flush=True)
    print(f"{count} replicas reach {rows[1]['rps'] / rows[0]['rps']:.2f}x the throughput of one")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="duration of each load level")
    parser.add_argument("--users", type=int, nargs="+", default=[1, 8, 32], help="concurrent users to try")
    parser.add_argument("--json", type=Path, help="where to write the report (reports/serving.json, or replicas.json)")
    parser.add_argument("--replicas", type=int, default=0,
                        help="instead: N replicas behind nginx against one, with the largest --users")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="digitdraw-serving-"))
    files = drawing_files(work / "drawings")
    if args.replicas:
        write_json(args.json or default_report("replicas"), replicas(args.replicas, max(args.users), args.seconds, files, work))
        return
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
    write_json(args.json or default_report("serving"), rows)
    print(f"(logs in {work}; run from {ROOT})")


if __name__ == "__main__":
    main()
