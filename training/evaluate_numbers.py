"""Measure `read_number` on whole numbers written by writers the model never saw.

    python -m training.evaluate_numbers            # 2,160 numbers, about 6 minutes on 2 cores
    python -m training.evaluate_numbers --quick    # a fifth

Each number is 1-6 digits by one held-out writer (pendigits writers 25-30), laid out as a
person writes on a wide pad (training/synth.py: lay_out_number), with ordinary spacing, with the
digits nearly touching, or with their ink touching, then drawn on the pad's canvas or written on
paper and photographed.
Length 1 is the single-digit case, read through `read_number` as the app reads it.

Reported per set: exact match (every digit right, none missing or extra) by length, with 95%
intervals; the digit error rate (edit distance over the number's length); and segmentation
errors apart from misread digits. A segmentation error is judged by where the digits found sit:
each found digit and each true digit is placed by its centre, as a share of the number's width
(so photos, turned and scaled, compare too). A found digit over two or more true ones is a merge,
over none an extra; a true digit under two or more found ones is a split, under none and inside
no found digit a miss.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from functools import lru_cache
from typing import Any

import numpy as np

from digitdraw.errors import NoDigitError
from digitdraw.masks import bounding_box
from digitdraw.reading import read_number_steps
from training import data, synth
from training.eval_sets import EVAL_PHOTOS, PEN_INKS
from training.metrics import wilson_interval
from training.report import evaluation_parser, report_json, write_text

# Spacing between two digits' ink, as a share of a digit's height (synth.lay_out_number); under 0,
# the digits' ink touches or overlaps, as in a number written fast in a small space.
SPACINGS = {"ordinary": (0.15, 0.5), "nearly touching": (0.02, 0.08), "touching": (-0.05, 0.0)}
MEDIA = ("drawn", "photographed")
LENGTHS = range(1, 7)
PER_LENGTH = 60  # numbers of each length, spacing and medium: 2,160 in all


@lru_cache(maxsize=1)
def writers() -> dict[int, list[data.PenDigit]]:
    by_writer: dict[int, list[data.PenDigit]] = {}
    for digit in data.pendigits_for(data.TEST_WRITERS):
        by_writer.setdefault(digit.writer, []).append(digit)
    return by_writer


def make_number(job: tuple) -> tuple[Any, str, list[float]]:
    """The image of one number, its digits, and each digit's centre as a share of its width."""
    index, seed, length, spacing, medium = job
    rng = np.random.default_rng([seed, index, length, list(SPACINGS).index(spacing), MEDIA.index(medium)])
    own = writers()[sorted(writers())[index % len(writers())]]
    digits = [own[int(i)] for i in rng.choice(len(own), length, replace=False)]
    layout = synth.lay_out_number(digits, rng, SPACINGS[spacing])
    if medium == "drawn":
        image: Any = synth.render_number_canvas(layout)
    else:
        image = synth.render_number_photo(layout, rng, EVAL_PHOTOS, synth.pick(PEN_INKS, rng), "plain")
    left, right = layout.columns[0][0], layout.columns[-1][1]
    centres = [((a + b) / 2 - left) / (right - left) for a, b in layout.columns]
    return image, "".join(str(d.label) for d in digits), centres


def found_spans(masks: list[np.ndarray]) -> list[tuple[float, float]]:
    """Each found digit's columns as shares of the width of all found ink."""
    boxes = [bounding_box(mask)[1] for mask in masks]
    left, right = min(b.start for b in boxes), max(b.stop for b in boxes)
    return [((b.start - left) / (right - left), (b.stop - left) / (right - left)) for b in boxes]


def segmentation_errors(spans: list[tuple[float, float]], centres: list[float], width_share: float) -> Counter:
    """Merges, splits, misses and extras, from found digits' spans and true digits' centres.

    `width_share` is a true digit's half width, as a share of the number's width: a found digit
    whose centre is within it of a true centre lies under that digit.
    """
    errors: Counter = Counter()
    under = [[j for j, c in enumerate(centres) if a <= c <= b] for a, b in spans]
    for covered in under:
        errors["merged"] += len(covered) >= 2
        errors["extra"] += not covered
    found_centres = [(a + b) / 2 for a, b in spans]
    for j, c in enumerate(centres):
        over = sum(bool(abs(f - c) <= width_share) for f in found_centres)  # ints: the report is JSON
        errors["split"] += over >= 2
        errors["missed"] += over == 0 and not any(j in covered for covered in under)
    return errors


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def read_job(job: tuple) -> dict[str, Any]:
    image, truth, centres = make_number(job)
    try:
        reading = read_number_steps(image)
        read, spans = reading.number, found_spans([d.mask for d in reading.digits])
    except NoDigitError:
        read, spans = "", []
    half_width = 0.5 / len(truth)
    return {"length": job[2], "spacing": job[3], "medium": job[4], "truth": truth, "read": read,
            "errors": dict(segmentation_errors(spans, centres, half_width))}


def jobs(quick: bool, seed: int) -> list[tuple]:
    count = PER_LENGTH // 5 if quick else PER_LENGTH
    return [(i, seed, length, spacing, medium) for medium in MEDIA for spacing in SPACINGS
            for length in LENGTHS for i in range(count)]


def summarize(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Exact match overall (numbers of 2 digits or more) and by length, digit error rate, segmentation errors."""
    def exact(subset: list[dict[str, Any]]) -> dict[str, float]:
        right = sum(c["read"] == c["truth"] for c in subset)
        low, high = wilson_interval(right, len(subset))
        return {"n": len(subset), "exact": right / max(len(subset), 1), "low": low, "high": high}

    numbers = [c for c in cases if c["length"] >= 2]
    errors: Counter = Counter()
    for c in numbers:
        errors.update(c["errors"])
    digits = sum(len(c["truth"]) for c in numbers)
    return {**exact(numbers),
            "by_length": {str(n): exact([c for c in cases if c["length"] == n]) for n in LENGTHS},
            "digit_error_rate": sum(edit_distance(c["truth"], c["read"]) for c in numbers) / max(digits, 1),
            "segmentation_errors": {k: errors[k] for k in ("merged", "split", "missed", "extra")},
            "digits": digits}


def evaluate_numbers(quick: bool = False, seed: int = 0, workers: int = 2) -> dict[str, dict[str, Any]]:
    """Every set ("drawn, ordinary", ...) summarized; see the module's docstring."""
    # Spawned, not forked: a fork of a process that has run torch can hang in its thread pool.
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        cases = pool.map(read_job, jobs(quick, seed), chunksize=8)
    return {f"{medium}, {spacing}": summarize([c for c in cases if c["medium"] == medium and c["spacing"] == spacing])
            for medium in MEDIA for spacing in SPACINGS}


def print_numbers(report: dict[str, dict[str, Any]]) -> None:
    for name, r in report.items():
        seg = ", ".join(f"{k} {v}" for k, v in r["segmentation_errors"].items())
        print(f"\nnumbers {name}: exact {r['exact']:.1%} of {r['n']} (95% interval {r['low']:.1%}-{r['high']:.1%}), "
              f"digit error rate {r['digit_error_rate']:.2%} of {r['digits']} digits; segmentation: {seg}")
        print("  by length: " + ", ".join(f"{n}: {g['exact']:.1%} ({g['low']:.0%}-{g['high']:.0%})"
                                         for n, g in r["by_length"].items()))


def main(argv: list[str] | None = None) -> None:
    parser = evaluation_parser(__doc__)
    parser.set_defaults(json=None)  # reports/evaluate.json holds every set; this writes only when asked
    args = parser.parse_args(argv)
    report = evaluate_numbers(args.quick, args.seed, args.workers)
    print_numbers(report)
    write_text(args.json, report_json(report))


if __name__ == "__main__":
    main()
