"""Measure the shipped model on MNIST and on drawings and photos by held-out writers.

    python -m training.evaluate                 # full report (a few minutes on 2 cores)
    python -m training.evaluate --quick --json report.json

Drawn digits and photos are rendered from the pen strokes of pendigits writers 25-30 (never seen
in training or calibration) and from USPS scans held out of training; see training/synth.py. The
distributions they are drawn from are pinned here, apart from training's.
"""

from __future__ import annotations

import argparse
import io
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
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
    inks=(("black", 0.35), ("blue", 0.3), ("pencil", 0.2), ("chalk", 0.15)), heights=(0.3, 0.75),
    strokes=(0.03, 0.09), max_slant=0.2, ruled=0.3, sides=(400, 3000), sideways=0.2, qualities=(50, 92))


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


def classify_images(images: list[Any], labels: list[int], tags: list[tuple[str, ...]]) -> Results:
    """Preprocess and classify each image; a NoDigitError counts as a wrong answer."""
    classifier = load_classifier()
    results = Results()
    for image, label, tag in zip(images, labels, tags):
        try:
            probabilities = classifier(preprocess(image)[None])[0]
        except NoDigitError:
            probabilities = np.full(10, np.nan)
        results.add(label, probabilities, tag)
    return results


def expected_calibration_error(results: Results, bins: int = 15) -> float:
    """Mean |accuracy - confidence| over confidence bins, weighted by bin size (rejections skipped)."""
    probs = np.array(results.probabilities)
    found = ~np.isnan(probs[:, 0])
    confidence = probs[found].max(1)
    correct = results.correct()[found]
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges) - 1, 0, bins - 1)
    gaps = [abs(correct[which == b].mean() - confidence[which == b].mean()) * np.mean(which == b)
            for b in range(bins) if np.any(which == b)]
    return float(np.sum(gaps))


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


# --------------------------------------------------------------------------- the evaluation sets

def mnist_test(limit: int | None) -> tuple[float, float]:
    """Accuracy on the raw MNIST test images, and on the same digits rendered large, black on white."""
    images, labels = data.load_mnist("t10k")
    probabilities = load_classifier()(images.astype(np.float32) / 255)
    raw = float((probabilities.argmax(1) == labels).mean())
    n = limit or len(images)
    rng = np.random.default_rng(0)
    drawings = [synth.mnist_as_drawing(images[i], int(rng.integers(140, 800))) for i in range(n)]
    rendered = classify_images(drawings, labels[:n].tolist(), [()] * n)
    return raw, rendered.accuracy()


def size_bin(value: float, edges: tuple[float, ...], unit: str = "") -> str:
    for low, high in zip(edges, edges[1:]):
        if value < high:
            return f"{low:g}-{high:g}{unit}"
    return f">={edges[-1]:g}{unit}"


def drawn_digits(seed: int, limit: int | None) -> Results:
    """Each held-out writer's digit on a random canvas, as plain, alpha-only and inverted images."""
    digits = data.pendigits_for(data.TEST_WRITERS)[:limit]
    rng = np.random.default_rng(seed)
    images, labels, tags = [], [], []
    for digit in digits:
        style = EVAL_CANVAS.sample(rng)
        canvas = synth.render_canvas(digit, style, rng)
        brush = style.brush / style.height
        geometry = (
            "canvas " + size_bin(style.size, (280, 450, 650, 801), " px"),
            "digit " + size_bin(style.height / style.size * 100, (25, 45, 70, 90), "% of canvas"),
            "brush " + size_bin(brush * 100, (0, 2, 5, 10, 17), "% of digit height"),
            cut_bin(ink_off_canvas(digit, style)),
            "with a stray mark" if style.stray else "no stray mark",
        )
        for form, image in (("plain", canvas), ("alpha-only RGBA", synth.as_alpha_ink(canvas)),
                            ("white on black", synth.as_inverted(canvas))):
            images.append(image)
            labels.append(digit.label)
            tags.append(("form " + form,) + geometry)
    return classify_images(images, labels, tags)


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


def photos(seed: int, count: int) -> Results:
    """Photo-like JPEGs: half pen-stroke digits of held-out writers, half held-out USPS scans."""
    rng = np.random.default_rng(seed + 1)
    pen = data.pendigits_for(data.TEST_WRITERS)
    usps_ink, usps_labels = data.load_usps()
    usps_ink, usps_labels = usps_ink[data.USPS_SPLITS["test"]], usps_labels[data.USPS_SPLITS["test"]]
    images, labels, tags = [], [], []
    for i in range(count):
        if i % 2 == 0:
            digit = pen[int(rng.integers(len(pen)))]
            source, label, kind = digit, digit.label, "pen strokes"
        else:
            j = int(rng.integers(len(usps_ink)))
            source, label, kind = usps_ink[j], int(usps_labels[j]), "USPS scan"
        jpeg = synth.random_photo(source, rng, EVAL_PHOTOS)
        info = Image.open(io.BytesIO(jpeg))
        sideways = info.getexif().get(0x0112, 1) != 1
        images.append(jpeg)
        labels.append(label)
        tags.append((kind, "EXIF sideways" if sideways else "upright", "size " + size_bin(max(info.size), (400, 1000, 2000, 3001), " px")))
    return classify_images(images, labels, tags)


def rejection_rate(seed: int, count: int) -> dict[str, float]:
    """Share of digit-free images (blank canvas, empty paper photo, noise) that raise NoDigitError."""
    rng = np.random.default_rng(seed + 2)
    rates = {}
    for kind in ("canvas", "paper", "noise"):
        rejected = 0
        for _ in range(count):
            try:
                preprocess(synth.random_blank(rng, kind, EVAL_PHOTOS))
            except NoDigitError:
                rejected += 1
        rates[kind] = rejected / count
    return rates


# --------------------------------------------------------------------------- report

def print_groups(title: str, stats: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    for tag, g in stats.items():
        print(f"  {tag:40s} {g['accuracy']:7.2%}  n={g['n']:<5d} 95% interval {g['low']:.1%}-{g['high']:.1%}")


def print_confusion(matrix: np.ndarray) -> None:
    print("  confusion (rows: true digit, columns: predicted, last: no digit found)")
    print("       " + "".join(f"{c:>6}" for c in list(range(10)) + ["none"]))
    for digit, row in enumerate(matrix):
        print(f"  {digit:>4} " + "".join(f"{v:6d}" for v in row) + f"   acc {row[digit] / max(row.sum(), 1):.2%}")


def model_card(report: dict[str, Any], metadata: dict[str, str]) -> str:
    """The README's model card, as Markdown, from an evaluation report."""
    def pct(x: float) -> str:
        return f"{x:.2%}"

    drawn, photo = report["drawn_groups"], report["photo_groups"]
    lines = [
        f"Weights: `weights/digitdraw.safetensors`, trained {metadata.get('date')} with "
        f"`{metadata.get('command')}` (seed {metadata.get('seed')}), temperature {float(metadata.get('temperature', 1)):.3f}.",
        "Measured by `python -m training.evaluate` on data never used in training or calibration.",
        "",
        "| test set | accuracy | calibration error (ECE) |",
        "| --- | --- | --- |",
        f"| MNIST test, raw 28x28 (10,000) | {pct(report['mnist_test'])} | |",
        f"| MNIST test rendered large, black on white, through `preprocess` | {pct(report['mnist_test_rendered'])} | |",
        f"| drawn digits, held-out writers 25-30, 3 colour forms ({report['drawn_n']}) | {pct(report['drawn'])} | {pct(report['drawn_ece'])} |",
        f"| photo-like digits, held-out writers and USPS scans ({report['photos_n']}) | {pct(report['photos'])} | {pct(report['photos_ece'])} |",
        "",
        "Drawn digits by condition, each drawing counted once (a colour form's row counts that form's",
        "images). The interval is the 95% confidence interval (Wilson) for that many drawings.",
        "",
        "| condition | drawings | accuracy | 95% interval |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {tag} | {g['n']} | {pct(g['accuracy'])} | {g['low']:.1%}-{g['high']:.1%} |" for tag, g in drawn.items()]
    lines += ["", "Photo-like digits by condition: "
              + ", ".join(f"{tag} {pct(g['accuracy'])} (n={g['n']})" for tag, g in photo.items()) + ".",
              "", "Images without a digit rejected (`NoDigitError`): "
              + ", ".join(f"{k} {pct(v)}" for k, v in report["rejection"].items()) + ".",
              "", "Per-class accuracy on drawn digits: "
              + ", ".join(f"{d}: {pct(a)}" for d, a in enumerate(report["drawn_per_class"])) + "."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small samples, for a fast look")
    parser.add_argument("--seed", type=int, default=0, help="seed for the rendered test images")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--markdown", type=Path, help="also write the README's model card to this file")
    args = parser.parse_args(argv)
    quick = args.quick
    classifier = load_classifier()
    print(f"weights: {classifier.metadata.get('command')} ({classifier.metadata.get('date')})")

    report: dict[str, Any] = {}
    raw, rendered = mnist_test(1000 if quick else 10000)
    report["mnist_test"] = raw
    report["mnist_test_rendered"] = rendered
    print(f"MNIST test, raw 28x28: {raw:.2%}; rendered large black on white, through preprocess: {rendered:.2%}")

    drawn = drawn_digits(args.seed, 300 if quick else None)
    report["drawn"] = drawn.accuracy()
    report["drawn_n"] = len(drawn.labels)
    # The three colour forms of a drawing are one test of the drawing: count conditions once.
    forms = {tag: g for tag, g in group_stats(drawn).items() if tag.startswith("form ")}
    conditions = {tag: g for tag, g in group_stats(drawn, drawn.groups["form plain"]).items()
                  if not tag.startswith("form ")}
    report["drawn_groups"] = {**conditions, **forms}
    print(f"\nDrawn digits, held-out writers: {report['drawn']:.2%} of {report['drawn_n']}")
    print_groups("by condition (each drawing once) and by colour form", report["drawn_groups"])
    matrix = confusion_matrix(drawn)
    print_confusion(matrix)
    report["drawn_ece"] = expected_calibration_error(drawn)
    report["drawn_per_class"] = [float(matrix[d, d] / max(matrix[d].sum(), 1)) for d in range(10)]
    print(f"  expected calibration error: {report['drawn_ece']:.2%}")

    photo = photos(args.seed, 200 if quick else 1000)
    report["photos"] = photo.accuracy()
    report["photos_n"] = len(photo.labels)
    report["photo_groups"] = group_stats(photo)
    print(f"\nPhoto-like digits: {report['photos']:.2%} of {report['photos_n']}")
    print_groups("by condition", report["photo_groups"])
    print_confusion(confusion_matrix(photo))
    report["photos_ece"] = expected_calibration_error(photo)
    print(f"  expected calibration error: {report['photos_ece']:.2%}")

    report["rejection"] = rejection_rate(args.seed, 30 if quick else 100)
    print("\nImages without a digit rejected: " + ", ".join(f"{k} {v:.0%}" for k, v in report["rejection"].items()))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    if args.markdown:
        args.markdown.write_text(model_card(report, classifier.metadata) + "\n")


if __name__ == "__main__":
    main()
