"""Engine latency: preprocess + model on one CPU thread, and where the time goes.

    python benchmarks/engine.py [--runs 200] [--json artifacts/engine.json]

Inputs are what the engine receives in the app: a canvas composite (decoded PIL image), a photo
upload (a 4000x3000 JPEG file, decoded by the engine), or a 28x28 MNIST array. Stage times are measured separately on the same inputs; 'total' is one call of
`preprocess` plus the model, timed on its own.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import write_json  # noqa: E402
from digitdraw import data, synth  # noqa: E402
from digitdraw import preprocessing as pp  # noqa: E402
from digitdraw.inference import load_classifier  # noqa: E402


def make_inputs(kind: str, runs: int, rng: np.random.Generator) -> list:
    pen = data.pendigits_for(data.TEST_WRITERS)
    digit = lambda: pen[int(rng.integers(len(pen)))]  # noqa: E731
    if kind == "28x28 MNIST":
        images, _ = data.load_mnist("t10k")
        return [images[i] for i in rng.integers(0, len(images), runs)]
    if kind.endswith("canvas"):
        size = int(kind.split("x")[0])
        return [synth.render_canvas(digit(), synth.CanvasStyle(size, 0.6 * size, (size / 2, size / 2), max(4, size // 30), 0, False))
                for _ in range(runs)]
    photos = [synth.random_photo(digit(), rng, output_side=4000) for _ in range(min(runs, 10))]
    return [photos[i % len(photos)] for i in range(runs)]  # JPEG bytes, as an upload arrives


def time_stages(image) -> dict[str, float]:
    """Milliseconds per stage for one image, following `preprocess` step by step."""
    times, t = {}, time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        times[name] = (now - t) * 1000
        t = now

    loaded = pp.load_image(image)
    lap("decode + EXIF")
    gray = pp.to_grayscale(loaded)
    lap("shrink + gray")
    ink = pp.extract_ink(gray)
    lap("background + ink")
    digit = pp.select_digit(ink)
    lap("select digit")
    x = pp.center_by_mass(pp.fit_in_box(pp.normalize_strokes(pp.crop_digit(ink, digit))))
    lap("crop, fit, center")
    load_classifier()(x[None])
    lap("model")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="images per input kind")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    classifier = load_classifier()
    rng = np.random.default_rng(0)
    results = {}
    for kind in ("28x28 MNIST", "280x280 canvas", "800x800 canvas", "4000x3000 photo"):
        runs = args.runs if "photo" not in kind else max(20, args.runs // 4)
        totals, stages = [], []
        for image in make_inputs(kind, runs, rng):
            start = time.perf_counter()
            classifier(pp.preprocess(image)[None])
            totals.append((time.perf_counter() - start) * 1000)
            stages.append(time_stages(image))
        stage_medians = {name: float(np.median([s.get(name, 0.0) for s in stages])) for name in stages[0]}
        results[kind] = {"median_ms": float(np.median(totals)), "p95_ms": float(np.percentile(totals, 95)),
                         "runs": runs, "stages_median_ms": stage_medians}
    print(f"Engine latency, one CPU thread ({torch.get_num_threads()}), torch {torch.__version__}")
    print(f"{'input':18s} {'median':>8s} {'p95':>8s}   where the time goes (median ms)")
    for kind, r in results.items():
        where = ", ".join(f"{k} {v:.2f}" for k, v in r["stages_median_ms"].items())
        print(f"{kind:18s} {r['median_ms']:7.2f}ms {r['p95_ms']:7.2f}ms   {where}")
    write_json(args.json, results)


if __name__ == "__main__":
    main()
