"""Live feel: time from the mouse-up (or finger-up) that ends a stroke to the bars for it.

    python -m benchmarks.browser [--strokes 20]

Runs the real app and Debian's chromium (Playwright), in three settings: a desktop page on
localhost with the mouse; the same with 150 ms of added network latency (DevTools
Network.emulateNetworkConditions, as a share link or a faraway Space adds); and a 390x844 phone
page drawn by touch. Each stroke is a held-out writer's one-stroke digit. Inside the page it
timestamps the pointerup, the reading request's start and end (Resource Timing), and the moment
the results panel shows the answer for the drawing as it was at pointerup. It also counts the
requests and bytes each stroke sends, throttled readings while drawing included.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from benchmarks.common import default_report, write_json
from digitdraw.gradio_compat import SERVER_FUNCTION_ROUTE
from tests.harness import CHROMIUM, CHROMIUM_ARGS, draw_with_mouse, draw_with_touch, free_port, screen_points, start_app, stop
from training import data

SETTINGS = {
    "localhost": ({"viewport": {"width": 1280, "height": 900}}, 0, False),
    "150 ms latency": ({"viewport": {"width": 1280, "height": 900}}, 150, False),
    "phone, touch": ({"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True,
                      "device_scale_factor": 2}, 0, True),
}

# Timestamps of the stroke that ends next: pointerup, then the answer for the drawing sent then.
HOOK = """() => {
  window.__stroke = null;
  document.addEventListener('pointerup', () => {
    const up = performance.now();
    setTimeout(() => {  // the pad has sent the drawing by now
      const id = window.digitdraw.drawing;
      const done = () => {
        if ((window.digitdraw.shown || 0) < id) return false;
        window.__stroke = {up, shown: performance.now(), id};
        return true;
      };
      if (done()) return;
      const observer = new MutationObserver(() => done() && observer.disconnect());
      observer.observe(document.querySelector('#draw-results'), {subtree: true, childList: true, characterData: true});
    }, 0);
  }, true);
}"""

PHASES = """([stroke, route]) => {
  const readings = performance.getEntriesByType('resource')
    .filter(e => e.name.includes(route) && e.startTime >= stroke.up);
  const last = readings[readings.length - 1];
  return {total: stroke.shown - stroke.up, 'until sent': last.startTime - stroke.up,
          'request (network + server)': last.responseEnd - last.startTime, render: stroke.shown - last.responseEnd};
}"""


def measure_stroke(page: Page, strokes: list, touch: bool) -> dict[str, float]:
    posts: list[int] = []
    listener = lambda request: posts.append(len(request.post_data_buffer or b"")) if request.method == "POST" else None  # noqa: E731
    page.on("request", listener)
    page.evaluate("performance.clearResourceTimings()")
    (draw_with_touch if touch else draw_with_mouse)(page, strokes)
    page.wait_for_function("window.__stroke !== null", timeout=30_000)
    result = page.evaluate(PHASES, [page.evaluate("window.__stroke"), SERVER_FUNCTION_ROUTE])
    page.remove_listener("request", listener)
    return {**result, "requests": len(posts), "bytes sent": sum(posts)}


def run_setting(browser, url: str, name: str, digits: list[data.PenDigit]) -> list[dict[str, float]]:
    options, latency, touch = SETTINGS[name]
    page = browser.new_context(**options).new_page()
    page.goto(url)
    page.wait_for_selector("#sketch canvas")
    page.wait_for_function("window.digitdraw !== undefined")
    if latency:
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": latency,
                                                      "downloadThroughput": -1, "uploadThroughput": -1})
    results = []
    for digit in digits:
        page.keyboard.press("Escape")  # an empty pad; no request
        page.evaluate(HOOK)
        results.append(measure_stroke(page, screen_points(page, digit)[:1], touch))
    page.context.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strokes", type=int, default=20, help="strokes per setting")
    parser.add_argument("--json", type=Path, default=default_report("browser"), help="where to write the report")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="digitdraw-browser-"))
    digits = [d for d in data.pendigits_for(data.TEST_WRITERS) if len(d.strokes) == 1][: args.strokes]
    port = free_port()
    app = start_app(port, work / "app.log")
    report = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name in SETTINGS:
                strokes = run_setting(browser, f"http://127.0.0.1:{port}/", name, digits)
                report[name] = {"median": {key: statistics.median(s[key] for s in strokes) for key in strokes[0]},
                                "strokes": strokes}
            browser.close()
    finally:
        stop(app)
    for name, result in report.items():
        median = result["median"]
        print(f"{name:15s} up to bars, median of {len(result['strokes'])}: {median['total']:5.0f} ms  "
              f"(until sent {median['until sent']:.0f}, request {median['request (network + server)']:.0f}, "
              f"render {median['render']:.0f})  {median['requests']:.0f} requests and "
              f"{median['bytes sent'] / 1000:.1f} kB a stroke")
    write_json(args.json, report)


if __name__ == "__main__":
    main()
