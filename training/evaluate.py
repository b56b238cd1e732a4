"""Measure the shipped model on MNIST and on drawings, scans and photos it never saw.

    python -m training.evaluate                  # every set and the numbers, about 16 minutes on 2 cores
    python -m training.evaluate --quick          # a fifth of each, for a fast look
    python -m training.evaluate --json artifacts/evaluate.json --markdown artifacts/model_card.md

Drawings, photos and scans are rendered from the pen strokes of pendigits writers 25-30 (never
seen in training or calibration), from USPS rows 6000+ and from the MNIST test set; see
training/synth.py. The distributions they are drawn from are pinned here, apart from
training's, and every set reports its accuracy with a 95% interval and its calibration error.
"""

from __future__ import annotations

import argparse
import io
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from digitdraw.inference import load_classifier
from digitdraw.preprocessing import NoDigitError, preprocess
from training import data, synth

# The test sets' distributions: pinned, so that a change to training's mix never changes them.
EVAL_CANVAS = synth.CanvasDistribution(sizes=(280, 800), heights=(0.25, 0.9), cut=0.1, cut_margin=0.55,
                                       max_brush=0.16, slanted=0.5, max_slant=0.35, stray=0.15)
EVAL_PHOTOS = synth.PhotoDistribution(
    inks=(("black", 0.35), ("blue", 0.3), ("pencil", 0.2), ("chalk", 0.15)),
    papers=(("plain", 0.7), ("ruled", 0.2), ("squared", 0.1)), heights=(0.3, 0.75), strokes=(0.03, 0.09),
    max_slant=0.2, cropped=0.0, margins=(0.0, 0.1), flush=0.0, sides=(400, 3000), sideways=0.2,
    qualities=(50, 92))
# Photos cropped around the digit (0-10% margins), and crops with one side flush with the digit.
EVAL_CROPS = replace(EVAL_PHOTOS, cropped=1.0, margins=(0.0, 0.1))
EVAL_EDGE = replace(EVAL_PHOTOS, cropped=1.0, margins=(0.05, 0.3), flush=1.0)
# Photos taken in dim light: paper at a third to two thirds of its usual brightness.
EVAL_DIM = replace(EVAL_PHOTOS, exposure=(0.35, 0.7))
# Photos of a page or a note lying on a darker desk, which fills the border.
EVAL_DESK = replace(EVAL_PHOTOS, on_desk=(0.45, 0.8))
PHOTO_SETS = {"photos": EVAL_PHOTOS, "crops": EVAL_CROPS, "edge": EVAL_EDGE, "dim": EVAL_DIM, "desk": EVAL_DESK}
PEN_INKS = (("black", 0.4), ("blue", 0.4), ("pencil", 0.2))  # what people write on a pad with
EVAL_SCANS = synth.ScanDistribution(margins=(0.0, 0.1), light_ink=0.0, sides=(32, 240), blur=(0.0, 0.02),
                                    qualities=(60, 95))
MARGINS = (0.0, 0.02, 0.05, 0.1)  # tight crops: margin on each side, share of the digit's long side
FORMS = ("plain", "alpha-only RGBA", "white on black")


# --------------------------------------------------------------------------- measures

@dataclass
class Results:
    """Labels, probabilities (a row of NaN where preprocessing found no digit) and group tags."""

    labels: list[int] = field(default_factory=list)
    probabilities: list[np.ndarray] = field(default_factory=list)
    groups: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, label: int, probabilities: np.ndarray, tags: tuple[str, ...] = ()) -> None:
        for tag in tags:
            self.groups[tag].append(len(self.labels))
        self.labels.append(label)
        self.probabilities.append(probabilities)

    def correct(self) -> np.ndarray:
        probs = np.array(self.probabilities)
        return np.nan_to_num(probs, nan=-1).argmax(1) == np.array(self.labels)

    def accuracy(self) -> float:
        return float(self.correct().mean())

    def summary(self) -> dict[str, float]:
        k, n = int(self.correct().sum()), len(self.labels)
        low, high = wilson_interval(k, n)
        rejected = int(np.isnan(np.array(self.probabilities)[:, 0]).sum())
        return {"n": n, "accuracy": k / n, "low": low, "high": high, "ece": expected_calibration_error(self),
                "rejected": rejected}


def expected_calibration_error(results: Results, bins: int = 15) -> float:
    """Mean |accuracy - confidence| over confidence bins, weighted by bin size (rejections skipped)."""
    return float(sum(abs(b["accuracy"] - b["confidence"]) * b["share"] for b in reliability(results, bins)))


def reliability(results: Results, bins: int = 15) -> list[dict[str, float]]:
    """Per confidence bin: mean confidence, accuracy and share of the answers (rejections skipped)."""
    probs = np.array(results.probabilities)
    found = ~np.isnan(probs[:, 0])
    confidence = probs[found].max(1)
    correct = results.correct()[found]
    which = np.clip(np.digitize(confidence, np.linspace(0, 1, bins + 1)) - 1, 0, bins - 1)
    return [{"confidence": float(confidence[which == b].mean()), "accuracy": float(correct[which == b].mean()),
             "share": float(np.mean(which == b))} for b in range(bins) if np.any(which == b)]


def wilson_interval(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% confidence interval of an accuracy measured as `correct` of `n` (Wilson score)."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def natural_order(tag: str) -> list:
    """Sort key that puts "brush 2-5%" before "brush 10-17%"."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", tag)]


def group_stats(results: Results, within: list[int] | None = None) -> dict[str, dict[str, float]]:
    """Accuracy, count and 95% interval of every group, counting only the images in `within`."""
    correct = results.correct()
    keep = set(range(len(results.labels)) if within is None else within)
    stats = {}
    for tag in sorted(results.groups, key=natural_order):
        index = [i for i in results.groups[tag] if i in keep]
        k = int(correct[index].sum())
        low, high = wilson_interval(k, len(index))
        stats[tag] = {"accuracy": k / max(len(index), 1), "n": len(index), "low": low, "high": high}
    return stats


def confusion_matrix(results: Results) -> np.ndarray:
    """10 x 11 counts: rows true digit, columns predicted digit, the last column 'no digit'."""
    probs = np.array(results.probabilities)
    predicted = np.where(np.isnan(probs[:, 0]), 10, np.nan_to_num(probs, nan=0).argmax(1))
    matrix = np.zeros((10, 11), int)
    np.add.at(matrix, (np.array(results.labels), predicted), 1)
    return matrix


def size_bin(value: float, edges: tuple[float, ...], unit: str = "") -> str:
    for low, high in zip(edges, edges[1:]):
        if value < high:
            return f"{low:g}-{high:g}{unit}"
    return f">={edges[-1]:g}{unit}"


def ink_off_canvas(digit: data.PenDigit, style: synth.CanvasStyle) -> float:
    """The share of the digit's ink that falls outside the canvas (0 for a digit fully inside)."""
    pad = int(style.height)
    whole = synth.CanvasStyle(style.size + 2 * pad, style.height, (style.center[0] + pad, style.center[1] + pad),
                              style.brush, style.slant, stray=False)
    ink = np.asarray(synth.render_canvas(digit, whole)) < 128
    return 1 - ink[pad: pad + style.size, pad: pad + style.size].sum() / max(ink.sum(), 1)


def cut_bin(off: float) -> str:
    if off == 0:
        return "inside the canvas"
    return "cut at an edge, " + size_bin(off * 100, (0, 5, 15, 100), "% of the ink off")


# --------------------------------------------------------------------------- the test sets

@lru_cache(maxsize=1)
def test_pen() -> list[data.PenDigit]:
    return data.pendigits_for(data.TEST_WRITERS)


@lru_cache(maxsize=1)
def test_usps() -> tuple[np.ndarray, np.ndarray]:
    ink, labels = data.load_usps()
    return ink[data.USPS_SPLITS["test"]], labels[data.USPS_SPLITS["test"]]


@lru_cache(maxsize=1)
def test_mnist() -> tuple[np.ndarray, np.ndarray]:
    return data.load_mnist("t10k")


def _form(canvas: Image.Image, form: str) -> Image.Image:
    return {"plain": canvas, "alpha-only RGBA": synth.as_alpha_ink(canvas),
            "white on black": synth.as_inverted(canvas)}[form]


def _photo_tags(jpeg: bytes) -> tuple[str, ...]:
    info = Image.open(io.BytesIO(jpeg))
    sideways = info.getexif().get(0x0112, 1) != 1
    return ("EXIF sideways" if sideways else "upright", "size " + size_bin(max(info.size), (0, 400, 1000, 2000, 3001), " px"))


def _photo_source(index: int) -> tuple[data.PenDigit | np.ndarray, int, str]:
    """Even jobs draw a held-out writer's digit, odd ones a held-out USPS scan."""
    if index % 2 == 0:
        digit = test_pen()[(index // 2) % len(test_pen())]
        return digit, digit.label, "pen strokes"
    ink, labels = test_usps()
    j = (index // 2) % len(labels)
    return ink[j], int(labels[j]), "USPS scan"


def render_job(job: tuple) -> tuple[Any, tuple[str, ...]]:
    """One test image from its job: (set, index, seed, *options) -> (image, tags).

    Runs in worker processes: everything random comes from the job's own seed.
    """
    kind, index, seed, *options = job
    rng = np.random.default_rng([seed, index])
    if kind == "drawn":
        form, = options
        digit = test_pen()[index]
        style = EVAL_CANVAS.sample(rng)
        brush = style.brush / style.height
        tags = ("canvas " + size_bin(style.size, (280, 450, 650, 801), " px"),
                "digit " + size_bin(style.height / style.size * 100, (25, 45, 70, 90), "% of canvas"),
                "brush " + size_bin(brush * 100, (0, 2, 5, 10, 17), "% of digit height"),
                cut_bin(ink_off_canvas(digit, style)), "with a stray mark" if style.stray else "no stray mark")
        return _form(synth.render_canvas(digit, style, rng), form), tags
    if kind == "tight drawing":
        margin, form = options
        digit = test_pen()[index]
        style = EVAL_CANVAS.sample(rng)
        style = synth.CanvasStyle(style.size, style.height, (style.size / 2, style.size / 2), style.brush, style.slant, False)
        return _form(synth.crop_around(synth.render_canvas(digit, style), margin), form), ()
    if kind == "scan":
        margin, light = options
        ink, _ = test_usps()
        return synth.render_scan(ink[index], rng, EVAL_SCANS, margin=margin, light_ink=light), ()
    if kind == "mnist crop":
        margin, dark = options
        image = test_mnist()[0][index]
        crop = np.asarray(synth.crop_around(Image.fromarray(255 - image), margin))
        big = Image.fromarray(crop if dark else 255 - crop)
        return big.resize((big.width * 5, big.height * 5), Image.Resampling.BILINEAR), ()
    if kind == "photo":
        dist_name, inks, paper = options
        dist = PHOTO_SETS[dist_name]
        source, _, origin = _photo_source(index)
        ink_kind = synth.pick(inks or dist.inks, rng)
        paper = paper or ("plain" if ink_kind == "chalk" else synth.pick(dist.papers, rng))
        jpeg = synth.random_photo(source, rng, dist, ink_kind=ink_kind, paper=paper)
        return jpeg, (origin, f"{ink_kind} ink", f"{paper} paper", *_photo_tags(jpeg))
    raise ValueError(f"unknown test set {kind!r}")


def label_of(job: tuple) -> int:
    kind, index = job[:2]
    if kind in ("drawn", "tight drawing"):
        return test_pen()[index].label
    if kind == "scan":
        return int(test_usps()[1][index])
    if kind == "mnist crop":
        return int(test_mnist()[1][index])
    return _photo_source(index)[1]


def run_set(jobs: list[tuple], tags: list[tuple[str, ...]] | None = None, workers: int = 2) -> Results:
    """Render, preprocess and classify every job; a NoDigitError counts as a wrong answer."""
    rendered = synth.render_and_preprocess(render_job, jobs, workers)
    found = [i for i, (x, _) in enumerate(rendered) if x is not None]
    probabilities = np.full((len(jobs), 10), np.nan)
    if found:
        probabilities[found] = load_classifier()(np.stack([rendered[i][0] for i in found]))
    results = Results()
    for i, job in enumerate(jobs):
        results.add(label_of(job), probabilities[i], rendered[i][1] + (tags[i] if tags else ()))
    return results


def photo_jobs(count: int, seed: int, dist: str = "photos", inks: tuple | None = None,
               paper: str | None = None) -> list[tuple]:
    return [("photo", i, seed, dist, inks, paper) for i in range(count)]


def evaluation_sets(quick: bool, seed: int) -> dict[str, tuple[list[tuple], list[tuple[str, ...]]]]:
    """Every set's jobs and extra tags. Quick runs a fifth of each."""
    share = 5 if quick else 1
    n_pen, n_usps, n_photos = len(test_pen()) // share, len(test_usps()[1]) // share, 1000 // share
    mnist_picks = np.random.default_rng(seed).choice(len(test_mnist()[1]), 2000 // share, replace=False)
    sets: dict[str, tuple[list[tuple], list[tuple[str, ...]]]] = {}

    def add(name: str, jobs: list[tuple], tags: list[tuple[str, ...]]) -> None:
        sets[name] = (jobs, tags)

    add("drawn digits", [("drawn", i, seed, form) for form in FORMS for i in range(n_pen)],
        [("form " + form,) for form in FORMS for _ in range(n_pen)])
    add("tight drawings", [("tight drawing", i, seed + 1, m, form) for m in MARGINS for form in FORMS for i in range(n_pen)],
        [(f"margin {m:.0%}", "form " + form) for m in MARGINS for form in FORMS for _ in range(n_pen)])
    add("scans", [("scan", i, seed + 2, m, False) for m in MARGINS for i in range(n_usps)],
        [(f"margin {m:.0%}",) for m in MARGINS for _ in range(n_usps)])
    add("scans, light ink", [("scan", i, seed + 3, None, True) for i in range(n_usps)], [()] * n_usps)
    add("MNIST crops", [("mnist crop", int(i), seed + 4, m, dark)
                        for m in MARGINS for dark in (True, False) for i in mnist_picks],
        [(f"margin {m:.0%}", "black on white" if dark else "white on black") for m in MARGINS for dark in (True, False)
         for _ in mnist_picks])
    for name, settings in (("photos", {}), ("pencil", {"inks": (("pencil", 1.0),), "paper": "plain"}),
                           ("ruled paper", {"inks": PEN_INKS, "paper": "ruled"}),
                           ("squared paper", {"inks": PEN_INKS, "paper": "squared"}),
                           ("photos cropped to the digit", {"dist": "crops", "inks": PEN_INKS}),
                           ("photos touching an edge", {"dist": "edge", "inks": PEN_INKS}),
                           ("photos in dim light", {"dist": "dim", "inks": PEN_INKS}),
                           ("photos of a page on a desk", {"dist": "desk", "inks": PEN_INKS})):
        count = n_photos if name == "photos" else n_photos // 2
        add(name, photo_jobs(count, seed + 5 + len(sets), **settings), [()] * count)
    return sets


def mnist_test() -> tuple[float, float]:
    """Accuracy on the raw MNIST test images, and on the same digits rendered large, black on white."""
    images, labels = test_mnist()
    raw = float((load_classifier()(images.astype(np.float32) / 255).argmax(1) == labels).mean())
    rng = np.random.default_rng(0)
    drawings = [preprocess(synth.mnist_as_drawing(images[i], int(rng.integers(140, 800)))) for i in range(len(images))]
    rendered = float((load_classifier()(np.stack(drawings)).argmax(1) == labels).mean())
    return raw, rendered


def rejection_rate(seed: int, count: int) -> dict[str, float]:
    """Share of digit-free images (blank canvas, empty paper photo, noise) that raise NoDigitError."""
    rng = np.random.default_rng(seed + 2)
    rates = {}
    for name, kind, photos in (("canvas", "canvas", EVAL_PHOTOS), ("paper", "paper", EVAL_PHOTOS),
                               ("noise", "noise", EVAL_PHOTOS), ("paper in dim light", "paper", EVAL_DIM),
                               ("a page on a desk", "paper", EVAL_DESK)):
        rejected = 0
        for _ in range(count):
            try:
                preprocess(synth.random_blank(rng, kind, photos))
            except NoDigitError:
                rejected += 1
        rates[name] = rejected / count
    return rates


# --------------------------------------------------------------------------- report

def describe(results: Results) -> dict[str, Any]:
    """What the report keeps of a set: summary, conditions, confusion, per-class accuracy, reliability."""
    matrix = confusion_matrix(results)
    return {**results.summary(), "conditions": group_stats(results), "confusion": matrix.tolist(),
            "per_class": [float(matrix[d, d] / max(matrix[d].sum(), 1)) for d in range(10)],
            "reliability": reliability(results)}


def drawn_conditions(results: Results) -> dict[str, dict[str, float]]:
    """Conditions of the drawn set counting each drawing once (its plain form); forms apart."""
    forms = {tag: g for tag, g in group_stats(results).items() if tag.startswith("form ")}
    conditions = {tag: g for tag, g in group_stats(results, results.groups["form plain"]).items()
                  if not tag.startswith("form ")}
    return {**conditions, **forms}


def print_set(name: str, report: dict[str, Any]) -> None:
    print(f"\n{name}: {report['accuracy']:.2%} of {report['n']} (95% interval {report['low']:.1%}-{report['high']:.1%}), "
          f"ECE {report['ece']:.2%}, {report['rejected']} found no digit")
    for tag, g in report["conditions"].items():
        print(f"  {tag:40s} {g['accuracy']:7.2%}  n={g['n']:<5d} 95% interval {g['low']:.1%}-{g['high']:.1%}")


def pct(x: float) -> str:
    return f"{x:.2%}"


def model_card(report: dict[str, Any], metadata: dict[str, str]) -> str:
    """The README's model card, as Markdown, from an evaluation report."""
    sets = report["sets"]
    lines = [
        f"Weights: `weights/digitdraw.safetensors`, trained {metadata.get('date')} with "
        f"`{metadata.get('command')}` (seed {metadata.get('seed')}), temperature {float(metadata.get('temperature', 1)):.3f}.",
        "Measured by `python -m training.evaluate` on data never used in training or calibration: pendigits",
        "writers 25-30, USPS rows 6000+ and the MNIST test set. Intervals are 95% (Wilson); ECE is the expected",
        "calibration error over 15 confidence bins; a \"no digit found\" answer counts as wrong.",
        "",
        "| test set | images | accuracy | 95% interval | ECE |",
        "| --- | --- | --- | --- | --- |",
        f"| MNIST test, raw 28x28 | 10000 | {pct(report['mnist_test'])} | | |",
        f"| MNIST test drawn large, black on white, through `preprocess` | 10000 | {pct(report['mnist_test_rendered'])} | | |",
    ]
    lines += [f"| {name} | {r['n']} | {pct(r['accuracy'])} | {r['low']:.1%}-{r['high']:.1%} | {pct(r['ece'])} |"
              for name, r in sets.items()]
    for name in sets:
        conditions = sets[name]["conditions"]
        if not conditions:
            continue
        lines += ["", f"{name[0].upper() + name[1:]} by condition:", "", "| condition | images | accuracy | 95% interval |",
                  "| --- | --- | --- | --- |"]
        lines += [f"| {tag} | {g['n']} | {pct(g['accuracy'])} | {g['low']:.1%}-{g['high']:.1%} |"
                  for tag, g in conditions.items()]
    lines += ["", "Images without a digit rejected (`NoDigitError`): "
              + ", ".join(f"{k} {pct(v)}" for k, v in report["rejection"].items()) + ".",
              "", "Per-class accuracy on drawn digits: "
              + ", ".join(f"{d}: {pct(a)}" for d, a in enumerate(sets["drawn digits"]["per_class"])) + "."]
    if "numbers" in report:
        lines += number_card(report["numbers"])
    return "\n".join(lines)


def number_card(numbers: dict[str, Any]) -> list[str]:
    """The model card's table of whole numbers (training/evaluate_numbers.py)."""
    lines = ["", "Whole numbers of 2-6 digits by the held-out writers, read by `read_number` (exact match: every",
             "digit right, none missing or extra; digit error rate: edit distance over length; segmentation errors",
             "are counted apart from misread digits; single digits are length 1):", "",
             "| numbers | count | exact match | 95% interval | by length 1 / 2 / 3 / 4 / 5 / 6 | digit error rate "
             "| merged / split / missed / extra |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in numbers.items():
        by_length = " / ".join(f"{g['exact']:.0%}" for g in r["by_length"].values())
        seg = " / ".join(str(v) for v in r["segmentation_errors"].values())
        lines.append(f"| {name} | {r['n']} | {pct(r['exact'])} | {r['low']:.1%}-{r['high']:.1%} | {by_length} "
                     f"| {pct(r['digit_error_rate'])} | {seg} |")
    return lines


def evaluation_parser(description: str) -> argparse.ArgumentParser:
    """The options every evaluation takes: --quick, --seed, --workers, --json."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a fifth of each set, for a fast look")
    parser.add_argument("--seed", type=int, default=0, help="seed for the rendered test images")
    parser.add_argument("--workers", type=int, default=2, help="processes that render and read")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    return parser


def write_text(path: Path | None, text: str) -> None:
    """Write `text` (and a newline) to `path`, making its folder; nothing when `path` is None."""
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")


def report_json(report: dict[str, Any]) -> str:
    # numpy scalars as numbers: a stray np.int64 must not lose a 25-minute report at its last step
    return json.dumps(report, indent=1, default=lambda x: x.item())


def main(argv: list[str] | None = None) -> None:
    parser = evaluation_parser(__doc__)
    parser.add_argument("--markdown", type=Path, help="also write the README's model card to this file")
    args = parser.parse_args(argv)
    classifier = load_classifier()
    print(f"weights: {classifier.metadata.get('command')} ({classifier.metadata.get('date')})")

    report: dict[str, Any] = {"sets": {}}
    report["mnist_test"], report["mnist_test_rendered"] = mnist_test()
    print(f"MNIST test, raw 28x28: {report['mnist_test']:.2%}; "
          f"drawn large, through preprocess: {report['mnist_test_rendered']:.2%}")
    for name, (jobs, tags) in evaluation_sets(args.quick, args.seed).items():
        results = run_set(jobs, tags, args.workers)
        report["sets"][name] = describe(results)
        if name == "drawn digits":  # three colour forms of one drawing are one test of it
            report["sets"][name]["conditions"] = drawn_conditions(results)
        print_set(name, report["sets"][name])
    report["rejection"] = rejection_rate(args.seed, 30 if args.quick else 100)
    print("\nImages without a digit rejected: " + ", ".join(f"{k} {v:.0%}" for k, v in report["rejection"].items()))
    from training.evaluate_numbers import evaluate_numbers, print_numbers  # it imports this module's sets

    report["numbers"] = evaluate_numbers(args.quick, args.seed, args.workers)
    print_numbers(report["numbers"])
    write_text(args.json, report_json(report))
    write_text(args.markdown, model_card(report, classifier.metadata))


if __name__ == "__main__":
    main()
