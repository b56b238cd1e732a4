"""Hostile input, sent through the real API of a running app: every case gets a clear status or a
result, never a traceback or a hang, and the server still answers a normal request afterwards.
Then 500 MB bodies to every kind of route, with a length and chunked: how soon each is refused, how
much of it was sent by then, and the server's memory before and after; then a normal drawing.

    python -m benchmarks.hostile [--port 7860 --pid PID]

Without --port it starts its own app.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from gradio_client import handle_file
from PIL import Image, ImageDraw

from benchmarks.common import default_report, write_json
from digitdraw.gradio_compat import MCP_ROUTE, SERVER_FUNCTION_ROUTE, UPLOAD_ROUTE
from tests.harness import free_port, local_client, post_oversized, rss_mb, start_app, stop

CALL_TIMEOUT_S = 60
HUGE = 500 * 1024 * 1024  # the body: far over every cap (digitdraw/limits.py)
BODY_ROUTES = (SERVER_FUNCTION_ROUTE, "/gradio_api/queue/join", UPLOAD_ROUTE, MCP_ROUTE + "/")
CLEAR_STARTS = ("Can't read that file", "No digit found", "The pad is empty", "Draw a digit",
                "Upload a photo", "It's a", "Not sure", "Reads")


def seven(size: int = 400, mode: str = "L") -> Image.Image:
    image = Image.new("L", (size, size), 255)
    ImageDraw.Draw(image).line([(size * 0.35, size * 0.25), (size * 0.65, size * 0.25), (size * 0.45, size * 0.75)],
                               fill=0, width=max(2, size // 25))
    return image if mode == "L" else image.convert(mode)


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def animated_gif() -> bytes:
    frames = [seven(), Image.new("L", (400, 400), 255), seven().rotate(90)]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)


def sixteen_bit() -> bytes:
    return encoded(Image.fromarray((np.asarray(seven(), np.uint16) * 257)), "PNG")


def palette_with_transparency() -> bytes:
    alpha = Image.eval(seven(), lambda v: 255 - v)
    rgba = Image.merge("RGBA", [Image.new("L", (400, 400), 0)] * 3 + [alpha])
    return encoded(rgba.convert("P"), "PNG", transparency=0)


def huge_photo() -> bytes:
    big = seven(600).resize((6000, 4500), Image.Resampling.NEAREST).convert("RGB")
    return encoded(big, "JPEG", quality=70)


def corrupt_exif() -> bytes:
    data = bytearray(encoded(seven().convert("RGB"), "JPEG", exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff"))
    return bytes(data)


def noise() -> bytes:
    return encoded(Image.fromarray(np.random.default_rng(0).integers(0, 256, (400, 400), dtype=np.uint8)), "PNG")


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[], bytes | dict]
    suffix: str = ".png"
    endpoint: str = "/predict_upload"
    expect: str = "message"  # "message": a clear status and no label; "result": a label; "either"


PNG = encoded(seven(), "PNG")
SEVEN = [[[140, 100], [260, 100], [180, 300]]]  # a 7 in a 400 x 400 pad


def drawing(strokes: list) -> dict:
    """A pad's value: strokes of [x, y] points in a 400 x 400 pad."""
    return {"id": 1, "width": 400, "height": 400, "brush": 16, "strokes": strokes}
CASES = [
    Case("zero bytes", lambda: b""),
    Case("truncated PNG", lambda: PNG[: len(PNG) // 2]),
    Case("truncated JPEG", lambda: encoded(seven().convert("RGB"), "JPEG")[:600], ".jpg"),
    Case("text renamed .png", lambda: b"just some text, not an image\n" * 20),
    Case("PDF renamed .png", lambda: b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\ntrailer <<>>\n%%EOF\n"),
    Case("random bytes", lambda: np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes()),
    Case("SVG", lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><path d="M1 1L9 9"/></svg>', ".svg"),
    Case("decompression bomb", lambda: encoded(Image.new("1", (20000, 20000), 1), "PNG")),
    Case("1x1 image", lambda: encoded(Image.new("L", (1, 1), 0), "PNG")),
    Case("1x10000 image", lambda: encoded(Image.new("L", (1, 10000), 255), "PNG")),
    Case("10000x1 image with ink", lambda: encoded(Image.new("L", (10000, 1), 0), "PNG"), expect="either"),
    Case("all black", lambda: encoded(Image.new("L", (400, 400), 0), "PNG")),
    Case("all white", lambda: encoded(Image.new("L", (400, 400), 255), "PNG")),
    Case("pure noise", noise),
    Case("transparent 1x1", lambda: encoded(Image.new("RGBA", (1, 1), (0, 0, 0, 0)), "PNG")),
    Case("16-bit PNG digit", sixteen_bit, expect="result"),
    Case("CMYK JPEG digit", lambda: encoded(seven(mode="CMYK"), "JPEG"), ".jpg", expect="result"),
    Case("palette PNG with transparency", palette_with_transparency, expect="result"),
    Case("grey + alpha PNG digit", lambda: encoded(seven(mode="LA"), "PNG"), expect="result"),
    Case("animated GIF", animated_gif, ".gif", expect="result"),
    Case("BMP digit", lambda: encoded(seven(mode="RGB"), "BMP"), ".bmp", expect="result"),
    Case("TIFF digit", lambda: encoded(seven(), "TIFF"), ".tiff", expect="result"),
    Case("WebP digit", lambda: encoded(seven(mode="RGB"), "WEBP"), ".webp", expect="result"),
    Case("JPEG with corrupt EXIF", corrupt_exif, ".jpg", expect="result"),
    Case("huge valid photo (27 MP)", huge_photo, ".jpg", expect="result"),
    Case("empty drawing", lambda: drawing([]), endpoint="/predict_sketch"),
    Case("drawing without strokes", lambda: {"width": 400, "height": 400, "brush": 16}, endpoint="/predict_sketch"),
    Case("drawing with extra keys", lambda: {**drawing(SEVEN), "note": "x", "extra": [1]}, endpoint="/predict_sketch",
         expect="result"),
    Case("drawing with text for points", lambda: drawing([[["a", "b"], ["c", "d"]]]), endpoint="/predict_sketch"),
    Case("drawing 100,000 px wide", lambda: {**drawing(SEVEN), "width": 100_000}, endpoint="/predict_sketch"),
    Case("drawing of 30,000 points", lambda: drawing([[[200, 200]] * 30_000]), endpoint="/predict_sketch"),
    Case("drawing with a brush wider than the pad", lambda: {**drawing(SEVEN), "brush": 1e9}, endpoint="/predict_sketch"),
    Case("a single dot", lambda: drawing([[[200, 200]]]), endpoint="/predict_sketch"),
    Case("a server path instead of an upload", lambda: {"path": "/etc/passwd"}, endpoint="/predict_sketch"),
    Case("image file to the drawing endpoint", lambda: PNG, endpoint="/predict_sketch", expect="result"),
    Case("RGBA ink only in alpha to the drawing endpoint", palette_with_transparency, endpoint="/predict_sketch",
         expect="result"),
]


def payload(case: Case, folder: Path):
    """Write the case's file, if it is one, and return the argument for its endpoint."""
    value = case.make()
    if isinstance(value, dict):
        return value
    path = folder / f"{case.name.replace(' ', '_').replace('/', '_')}{case.suffix}"
    path.write_bytes(value)
    return handle_file(str(path))


def check(case: Case, answer: dict) -> str | None:
    """None if the answer is what a user should see for this case, else what is wrong."""
    status = answer.get("status")
    if not isinstance(status, str) or not status.startswith(CLEAR_STARTS) or "Traceback" in status:
        return f"unclear status {status!r}"
    if case.expect == "result" and not answer.get("digits"):
        return f"expected a prediction, got {status!r}"
    if case.expect == "message" and answer.get("digits"):
        return f"expected a message, got a prediction ({answer.get('number')}, {status!r})"
    return None


def run_suite(url: str, folder: Path) -> list[tuple[str, str | None, str]]:
    """(case name, problem or None, status) for every case, then a final normal request."""
    client = local_client(url)
    results = []
    for case in CASES:
        try:
            answer = client.submit(payload(case, folder), api_name=case.endpoint).result(timeout=CALL_TIMEOUT_S)
            results.append((case.name, check(case, answer), answer.get("status")))
        except Exception as e:  # noqa: BLE001 - a failed call is the finding
            results.append((case.name, f"call failed: {e!r}"[:300], ""))
    path = folder / "normal.png"
    path.write_bytes(PNG)
    answer = client.predict(handle_file(str(path)), api_name="/predict_upload")
    ok = answer.get("number") == "7"
    results.append(("normal request afterwards", None if ok else f"got {answer!r}", answer.get("status")))
    return results


def huge_bodies(url: str, port: int, pid: int) -> list[dict]:
    """A 500 MB body to each route, with a length and chunked; then a drawing of a 7, read."""
    rows = []
    for path in BODY_ROUTES:
        for chunked in (False, True):
            before = rss_mb(pid)
            start = time.perf_counter()
            line, sent = post_oversized(port, path, HUGE, chunked)
            seconds = time.perf_counter() - start
            time.sleep(0.5)  # let the server free what it read
            after = rss_mb(pid)
            ok = " 413 " in line and seconds < 1 and after - before < 20
            rows.append({"route": path, "chunked": chunked, "status": line, "seconds": seconds, "sent_mb": sent / 2**20,
                         "rss_before_mb": before, "rss_after_mb": after, "problem": None if ok else "not refused in time"})
    answer = local_client(url).predict(drawing(SEVEN), api_name="/predict_sketch")
    rows.append({"route": "a drawing afterwards", "status": answer.get("status"),
                 "problem": None if answer.get("number") == "7" else f"got {answer!r}"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, help="the port of a running app on this machine; by default one is started")
    parser.add_argument("--pid", type=int, help="that app's process id (its memory is measured)")
    parser.add_argument("--json", type=Path, default=default_report("hostile"), help="where to write the report")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="digitdraw-hostile-"))
    port, app = args.port, None
    if port is None:
        port = free_port()
        app = start_app(port, folder / "app.log")
    url = f"http://127.0.0.1:{port}/"
    try:
        results = run_suite(url, folder)
        bodies = huge_bodies(url, port, args.pid or app.pid)
    finally:
        if app is not None:
            stop(app)
    for name, problem, status in results:
        print(f"{'FAIL' if problem else 'ok  '} {name:36s} {problem or status}")
    for row in bodies:
        how = f"{row['seconds'] * 1000:.0f} ms, {row['sent_mb']:.0f} MB sent, memory {row['rss_before_mb']:.0f} -> " \
              f"{row['rss_after_mb']:.0f} MB" if "seconds" in row else row["status"]
        print(f"{'FAIL' if row['problem'] else 'ok  '} 500 MB to {row['route']}{' chunked' * row.get('chunked', False)}: {how}")
    failed = sum(1 for _, problem, _ in results if problem) + sum(1 for row in bodies if row["problem"])
    print(f"{len(results) + len(bodies) - failed} passed, {failed} failed")
    write_json(args.json, {"inputs": [{"case": name, "problem": problem, "status": status} for name, problem, status in results],
                           "bodies": bodies})
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
