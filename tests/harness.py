"""How tests and benchmarks drive the app: the real server in a subprocess, Debian's chromium, and
held-out writers' pen strokes as the pad sends them or as a mouse or a finger draws them."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from gradio_client import Client

from digitdraw.gradio_compat import UPLOAD_ROUTE
from training import data, synth

ROOT = Path(__file__).resolve().parent.parent

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"  # Debian's; never `playwright install`
# axe-core from npm (make test installs it here): the accessibility checks run inside the page.
AXE_JS = ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(command: list[str], port: int, log_path: Path, timeout: float = 90,
                 env: dict[str, str] | None = None) -> subprocess.Popen:
    """Run `command` (a server on `port`) in a subprocess; return once it answers HTTP."""
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1", **(env or {})}
    log = open(log_path, "w")
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command} exited with {process.returncode}: {log_path.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return process
        except urllib.error.HTTPError:
            return process  # it answers, if only with 404
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{command} did not answer within {timeout:.0f} s: {log_path.read_text()[-2000:]}")


def start_app(port: int, log_path: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`python app.py` on `port`; its Learn tab reads MNIST from the shared data (DIGITDRAW_DATA)."""
    env = {"DIGITDRAW_DATA": os.environ.get("DIGITDRAW_DATA", str(data.DEFAULT_MNIST_DIR)), **(env or {})}
    return start_server([sys.executable, "app.py", "--port", str(port), *extra], port, log_path, env=env)


def local_client(url: str, **kwargs: Any) -> Client:
    """A gradio_client Client for a server on this machine.

    gradio_client opens a new httpx client for every upload and every call, and with TLS
    verification on each one loads the CA bundle: ~65 ms of CPU per prediction, ten times the
    rest of the client's work. Plain http to localhost needs no verification.
    """
    return Client(url, verbose=False, ssl_verify=False, **kwargs)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def child_pids(pid: int) -> list[int]:
    """The processes `pid` started that still run (the app's reading workers)."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return children


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _private_kb(pid: int) -> int:
    fields = dict(line.split(":") for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    return sum(int(fields[name].split()[0]) for name in ("Private_Clean", "Private_Dirty"))


def rss_mb(pid: int) -> float:
    """Resident memory of a server, in MB: its own, and what its worker processes add (their
    private pages; forked, they share the rest with it)."""
    return (_status_kb(pid, "VmRSS") + sum(_private_kb(child) for child in child_pids(pid))) / 1024


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process and its running children have used so far, in seconds."""
    def own(p: int) -> float:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own(pid) + sum(own(child) for child in child_pids(pid))


def post_oversized(port: int, path: str, size: int, chunked: bool = False, chunk: int = 1024 * 1024) -> tuple[str, int]:
    """POST a body of `size` bytes, sent a chunk at a time until the server answers: its status line
    and how many bytes of the body went before the answer. `chunked` sends no Content-Length. To the
    upload route it is a form with one file, as a browser sends it; elsewhere JSON."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    kind = "multipart/form-data; boundary=b" if path == UPLOAD_ROUTE else "application/json"
    first = (b'--b\r\nContent-Disposition: form-data; name="files"; filename="photo.png"\r\n'
             b"Content-Type: image/png\r\n\r\n" if path == UPLOAD_ROUTE else b"")
    block = b" " * chunk
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {kind}\r\n{framing}\r\n\r\n".encode())
        try:
            while sent < size and not select.select([s], [], [], 0)[0]:
                body = first + block[len(first):] if sent == 0 else block
                s.sendall(f"{chunk:x}\r\n".encode() + body + b"\r\n" if chunked else body)
                sent += chunk
        except OSError:
            pass  # the server closed the connection after answering
        line = s.recv(200).split(b"\r\n")[0].decode()
    return line, sent


def fit_strokes(digit: data.PenDigit, box: tuple[float, float, float, float],
                share: float = 0.55) -> list[list[tuple[float, float]]]:
    """The digit's pen strokes scaled to `share` of the box's short side, centred in the box (x, y, w, h)."""
    x0, y0, width, height = box
    side = share * min(width, height)
    points = np.concatenate(digit.strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    scale = side / max(float((high - low).max()), 1.0)
    middle = (low + high) / 2
    return [[(float(x0 + width / 2 + (x - middle[0]) * scale), float(y0 + height / 2 + (y - middle[1]) * scale))
             for x, y in stroke.tolist()] for stroke in digit.strokes]


def drawing_of(digit: data.PenDigit, width: int = 400, height: int = 400, brush: float = 16) -> dict:
    """The digit as the app's pad sends it: strokes in the pad's pixels."""
    strokes = fit_strokes(digit, (0, 0, width, height))
    return {"id": 1, "width": width, "height": height, "brush": brush,
            "strokes": [[[round(x, 1), round(y, 1)] for x, y in stroke] for stroke in strokes]}


def screen_points(page: Page, digit: data.PenDigit, share: float = 0.55) -> list[list[tuple[float, float]]]:
    """The digit's pen strokes mapped onto the middle of the drawing pad, in page pixels."""
    box = page.locator("#sketch canvas").bounding_box()
    return fit_strokes(digit, (box["x"], box["y"], box["width"], box["height"]), share)


REST_S = 0.12  # longer than chromium's 100 ms velocity window, so the finger lifts at rest


def accessibility_violations(page: Page, impacts: tuple[str, ...] = ("critical", "serious")) -> list[str]:
    """axe-core's violations of these impacts on the page as it is now: "rule: element" lines."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    found = page.evaluate("""(impacts) => axe.run(document, {resultTypes: ['violations']}).then((r) =>
        r.violations.filter((v) => impacts.includes(v.impact))
         .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}: ${(n.any[0] || n.all[0] || {}).message || ''}`)))""",
                          list(impacts))
    return found


def draw_with_mouse(page: Page, strokes: list[list[tuple[float, float]]]) -> None:
    for stroke in strokes:
        page.mouse.move(*stroke[0])
        page.mouse.down()
        for point in stroke[1:]:
            page.mouse.move(*point, steps=2)
        page.mouse.up()


def draw_with_touch(page: Page, strokes: list[list[tuple[float, float]]]) -> None:
    """Touch strokes through the DevTools protocol, as a finger on a phone makes them.

    The events come far faster than a finger moves, so each stroke rests REST_S before the finger
    lifts: otherwise chromium reads the lift as a flick, starts a fling, and the next tap only
    stops the fling (a tap on Clear would do nothing).
    """
    cdp = page.context.new_cdp_session(page)
    for stroke in strokes:
        x, y = stroke[0]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y, "id": 1}]})
        for x, y in stroke[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y, "id": 1}]})
        time.sleep(REST_S)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y, "id": 1}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def drawing_files(folder: Path, count: int = 20, size: int = 400) -> list[tuple[Path, int]]:
    """PNG canvases of held-out writers' digits, as API callers send drawings, with their labels."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    pen = data.pendigits_for(data.TEST_WRITERS)
    files = []
    for i in range(count):
        digit = pen[int(rng.integers(len(pen)))]
        style = synth.CanvasStyle(size, 0.6 * size, (size / 2, size / 2), 16, 0.0, False)
        path = folder / f"drawing-{i}.png"
        synth.render_canvas(digit, style).save(path)
        files.append((path, digit.label))
    return files
