"""Live feel: time from the mouse-up that ends a stroke to the probability bars showing the answer.

    python -m benchmarks.browser [--strokes 20] [--json artifacts/browser.json] [--profile]

Runs the real app and Debian's chromium (Playwright). Inside the page it timestamps the
pointerup, every request the page makes, and the first change of the probability bars, and splits
the time into: the sketchpad's own export (pointerup to its first request), sending the drawing
(blob and upload requests), the queue round trip (join to result, which includes the model), and
rendering the result. With --profile it also records the page's CPU profile after each mouse-up
(which slows the page, so take timings from a run without it).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections import Counter
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.common import CHROMIUM, CHROMIUM_ARGS, free_port, screen_points, start_app, stop, write_json
from training import data

HOOK = """() => {
  window.__events = [];
  const log = (kind, url, start, end) => window.__events.push({kind, url, start, end});
  const fetch0 = window.fetch;
  window.fetch = async (...args) => {
    const url = String(args[0]?.url || args[0]); const start = performance.now();
    const response = await fetch0(...args); log('fetch', url, start, performance.now()); return response;
  };
  document.addEventListener('pointerup', () => log('up', '', performance.now(), 0), true);
  new MutationObserver(() => log('bars', '', performance.now(), 0))
    .observe(document.querySelector('#probs'), {subtree: true, childList: true, characterData: true});
}"""


def phases(events: list[dict]) -> dict[str, float] | None:
    """Split one stroke's events into phases (ms); None if the bars never changed."""
    up = next(e["start"] for e in events if e["kind"] == "up")
    after = [e for e in events if e["start"] >= up]
    fetches = [e for e in after if e["kind"] == "fetch"]
    joins = [e for e in fetches if "/queue/join" in e["url"]]
    if not fetches or not joins:
        return None
    data_done = max(e["end"] for e in fetches if "/queue/data" in e["url"] or "/queue/join" in e["url"])
    bars = [e["start"] for e in after if e["kind"] == "bars" and e["start"] >= joins[-1]["start"]]
    if not bars:
        return None
    first_request = min(e["start"] for e in fetches)
    return {"total": bars[0] - up, "sketchpad export": first_request - up,
            "send drawing": joins[-1]["start"] - first_request,
            "queue + model": max(data_done, joins[-1]["end"]) - joins[-1]["start"],
            "render": bars[0] - max(data_done, joins[-1]["end"])}


def top_functions(profile: dict, into: Counter) -> None:
    """Add a Chrome CPU profile's self time (ms) per function to `into`."""
    names = {n["id"]: n["callFrame"]["functionName"] or "(anonymous)" for n in profile["nodes"]}
    for node_id, delta_us in zip(profile["samples"], profile["timeDeltas"]):
        into[names[node_id]] += delta_us / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strokes", type=int, default=20)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--profile", action="store_true",
                        help="also profile the page's CPU for 1 s after each mouse-up and print the top functions")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="digitdraw-browser-"))
    one_stroke = [d for d in data.pendigits_for(data.TEST_WRITERS) if len(d.strokes) == 1][: args.strokes]
    port = free_port()
    app = start_app(port, work / "app.log")
    results = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#sketch canvas")
            page.wait_for_timeout(1000)
            cdp = page.context.new_cdp_session(page)
            cdp.send("Profiler.enable")
            self_ms: Counter = Counter()
            for digit in one_stroke:
                page.locator("#clear").click()
                page.wait_for_timeout(1200)
                page.evaluate(HOOK)
                points = screen_points(page, digit)[0]
                page.mouse.move(*points[0])
                page.mouse.down()
                for point in points[1:]:
                    page.mouse.move(*point, steps=2)
                if args.profile:
                    cdp.send("Profiler.start")
                page.mouse.up()
                if args.profile:
                    page.wait_for_timeout(1000)
                    top_functions(cdp.send("Profiler.stop")["profile"], self_ms)
                page.wait_for_timeout(2500)
                result = phases(page.evaluate("window.__events"))
                if result:
                    results.append(result)
            browser.close()
    finally:
        stop(app)
    medians = {k: statistics.median(r[k] for r in results) for k in results[0]}
    print(f"mouse-up to new bars, median of {len(results)} strokes: {medians['total']:.0f} ms")
    for name, value in medians.items():
        if name != "total":
            print(f"  {name:18s} {value:6.0f} ms")
    if args.profile:
        print("page CPU in the 1 s after mouse-up, mean per stroke (self time):")
        for name, ms in self_ms.most_common(8):
            print(f"  {name:24s} {ms / len(one_stroke):6.0f} ms")
    write_json(args.json, {"median_ms": medians, "strokes": results})


if __name__ == "__main__":
    main()
