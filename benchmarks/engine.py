"""Engine latency: preprocess + model on one CPU thread, and where the time goes.

    python -m benchmarks.engine [--runs 200]

Inputs are what the engine receives in the app: a drawing (decoded PIL image), a photo upload (a
4000x3000 JPEG file, decoded by the engine), or a 28x28 MNIST array. Each run is one call of
`preprocessing.trace` (the steps `preprocess` runs, timed as it runs them) plus the model; the
total is their sum. Expect about 4 ms for an 800x800 canvas and 16 ms for a 4000x3000 JPEG.
Then `read_number` on numbers of 2-6 drawn digits (about 11 ms), and the saliency maps of one
digit (about 5 ms).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.common import default_report, write_json
from digitdraw import preprocessing
from digitdraw.inference import Classifier, load_classifier
from digitdraw.reading import read_number_steps
from training import data, synth
from training.eval_sets import EVAL_PHOTOS

KINDS = ("28x28 MNIST", "280x280 canvas", "800x800 canvas", "4000x3000 photo")


def make_inputs(kind: str, runs: int, rng: np.random.Generator) -> list:
    pen = data.pendigits_for(data.TEST_WRITERS)
    digit = lambda: pen[int(rng.integers(len(pen)))]  # noqa: E731
    if kind == "28x28 MNIST":
        images, _ = data.load_mnist("t10k")
        return [images[i] for i in rng.integers(0, len(images), runs)]
    if kind.endswith("canvas"):
        size = int(kind.split("x")[0])
        style = synth.CanvasStyle(size, 0.6 * size, (size / 2, size / 2), max(4, size // 30), 0, False)
        return [synth.render_canvas(digit(), style) for _ in range(runs)]
    photos = [synth.random_photo(digit(), rng, EVAL_PHOTOS, output_side=4000) for _ in range(min(runs, 10))]
    return [photos[i % len(photos)] for i in range(runs)]  # JPEG bytes, as an upload arrives


def time_one(image, classifier: Classifier) -> dict[str, float]:
    """Milliseconds per step for one image: each step of `trace`, then the model."""
    times, last = {}, time.perf_counter()

    def lap(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        times[name] = (now - last) * 1000
        last = now

    result = preprocessing.trace(image, on_step=lap).result
    classifier(result[None])
    lap("model")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="images per input kind")
    parser.add_argument("--json", type=Path, default=default_report("engine"), help="where to write the report")
    args = parser.parse_args()
    torch.set_num_threads(1)
    classifier = load_classifier()
    rng = np.random.default_rng(0)
    results = {}
    for kind in KINDS:
        runs = args.runs if "photo" not in kind else max(20, args.runs // 4)
        inputs = make_inputs(kind, runs, rng)
        time_one(inputs[0], classifier)  # warm-up
        steps = [time_one(image, classifier) for image in inputs]
        totals = [sum(s.values()) for s in steps]
        results[kind] = {"median_ms": float(np.median(totals)), "p95_ms": float(np.percentile(totals, 95)),
                         "runs": runs, "steps_median_ms": {name: float(np.median([s[name] for s in steps]))
                                                           for name in steps[0]}}
    print(f"Engine latency, one CPU thread, torch {torch.__version__}")
    print(f"{'input':18s} {'median':>8s} {'p95':>8s}   where the time goes (median ms)")
    for kind, r in results.items():
        where = ", ".join(f"{k} {v:.2f}" for k, v in r["steps_median_ms"].items())
        print(f"{kind:18s} {r['median_ms']:7.2f}ms {r['p95_ms']:7.2f}ms   {where}")
    results["read_number, 800x300 canvas"] = time_numbers(classifier, args.runs, rng)
    r = results["read_number, 800x300 canvas"]
    print(f"{'read_number 800x300':18s} {r['median_ms']:7.2f}ms {r['p95_ms']:7.2f}ms   numbers of 2-6 digits, read whole")
    results["saliency, one digit"] = time_saliency(classifier, args.runs, rng)
    r = results["saliency, one digit"]
    print(f"{'saliency, 1 digit':18s} {r['median_ms']:7.2f}ms {r['p95_ms']:7.2f}ms   both maps, only while its panel is open")
    write_json(args.json, results)


def time_saliency(classifier: Classifier, runs: int, rng: np.random.Generator) -> dict[str, float]:
    """`Classifier.attributions`, both maps (the top class, and it against the runner-up), one digit."""
    digits = np.stack([preprocessing.preprocess(image) for image in make_inputs("280x280 canvas", runs, rng)])
    order = np.argsort(classifier(digits), axis=1)[:, ::-1]
    classifier.attributions(digits[:1], order[:1, 0], order[:1, 1])  # warm-up
    times = []
    for i in range(runs):
        start = time.perf_counter()
        classifier.attributions(digits[i:i + 1], order[i:i + 1, 0], order[i:i + 1, 1])
        times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95)), "runs": runs}


def time_numbers(classifier: Classifier, runs: int, rng: np.random.Generator) -> dict[str, float]:
    """`read_number_steps` (segment, cut, recipe per digit, one model batch) on drawn numbers."""
    pen = data.pendigits_for(data.TEST_WRITERS)
    images = []
    for _ in range(runs):
        digits = [pen[int(i)] for i in rng.integers(0, len(pen), int(rng.integers(2, 7)))]
        layout = synth.lay_out_number(digits, rng, (0.15, 0.5), page_height=300)
        number = synth.render_number_canvas(layout)
        number.thumbnail((800, 300))  # six digits may be wider than 800 px: shrink, keep the shape
        page = Image.new("L", (800, 300), 255)
        page.paste(number, ((800 - number.width) // 2, (300 - number.height) // 2))
        images.append(page)
    read_number_steps(images[0], classifier)  # warm-up
    times = []
    for image in images:
        start = time.perf_counter()
        read_number_steps(image, classifier)
        times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95)), "runs": runs}


if __name__ == "__main__":
    main()
