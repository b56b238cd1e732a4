"""The evaluation's test sets: images rendered from writers, scans and MNIST digits never used
in training or calibration, from distributions pinned here, apart from training's.

    sets = evaluation_sets(quick, seed)          # name -> (jobs, extra tags)
    results = run_set(jobs, tags)                # render, preprocess, classify: metrics.Results

Drawings, photos and scans are rendered from the pen strokes of pendigits writers 25-30 (also
written the continental way, training/continental.py), from USPS rows 6000+, from optdigits' .cv
file and from the MNIST test set (training/synth.py); things that are not digits from Omniglot's
drawers 17-20 and from shapes drawn with the evaluation's own seeds (training/negatives.py). A job
holds its own seed, so every image is the same on every run and in any worker.
"""

from __future__ import annotations

import io
from dataclasses import replace
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image

from digitdraw.answers import is_unsure
from digitdraw.cuts import DIGIT_COUNT, digit_probabilities
from digitdraw.errors import NoDigitError
from digitdraw.inference import load_classifier
from digitdraw.preprocessing import preprocess
from digitdraw.reading import retraced
from training import continental, data, negatives, synth
from training.metrics import Results, group_stats, read_as

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
# Notebook pages photographed at an angle: the page (its ruled lines and the writing) turned up
# to 10 degrees; and notebooks with a vertical margin line.
EVAL_TILTED = replace(EVAL_PHOTOS, max_tilt=10.0)
EVAL_MARGIN = replace(EVAL_PHOTOS, margin_line=1.0)
PHOTO_SETS = {"photos": EVAL_PHOTOS, "crops": EVAL_CROPS, "edge": EVAL_EDGE, "dim": EVAL_DIM, "desk": EVAL_DESK,
              "tilted": EVAL_TILTED, "margin": EVAL_MARGIN}
PEN_INKS = (("black", 0.4), ("blue", 0.4), ("pencil", 0.2))  # what people write on a pad with
EVAL_SCANS = synth.ScanDistribution(margins=(0.0, 0.1), light_ink=0.0, sides=(32, 240), blur=(0.0, 0.02),
                                    qualities=(60, 95))
NON_DIGIT_KINDS = ("omniglot", "shape", "scribble")
# The non-digit set that the "a scribble is never shown as a sure digit" is measured on.
SCRIBBLES = "scribbles: tangles, coils, hatching"
# A drawing whose pen path goes over itself is shown unsure whatever the model reads in it
# (reading.retraced): drawn things are tagged with it, and none of them counts as a sure digit.
PEN_OVER_ITSELF = "pen over itself"
MARGINS = (0.0, 0.02, 0.05, 0.1)  # tight crops: margin on each side, share of the digit's long side


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
def held_out_pen() -> list[data.PenDigit]:
    """Pen digits of the writers never used in training or calibration."""
    return data.pendigits_for(data.TEST_WRITERS)


@lru_cache(maxsize=1)
def held_out_usps() -> tuple[np.ndarray, np.ndarray]:
    """USPS scans never used in training or calibration: ink maps and labels."""
    ink, labels = data.load_usps()
    return ink[data.USPS_SPLITS["test"]], labels[data.USPS_SPLITS["test"]]


@lru_cache(maxsize=1)
def held_out_optdigits() -> tuple[np.ndarray, np.ndarray]:
    """optdigits' .cv file: 32x32 bitmaps and labels (the training writers' other digits)."""
    return data.load_optdigits("test")


@lru_cache(maxsize=1)
def held_out_negatives() -> list[data.PenDigit]:
    """Omniglot characters by the drawers never used in training or calibration (look-alikes left out)."""
    return [negatives.as_pen(c) for c in data.omniglot_for("test") if negatives.is_negative(c)]


@lru_cache(maxsize=1)
def mnist_test_set() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 MNIST test digits and their labels."""
    return data.load_mnist("t10k")


def _photo_tags(jpeg: bytes) -> tuple[str, ...]:
    info = Image.open(io.BytesIO(jpeg))
    sideways = info.getexif().get(0x0112, 1) != 1
    return ("EXIF sideways" if sideways else "upright", "size " + size_bin(max(info.size), (0, 400, 1000, 2000, 3001), " px"))


def _photo_source(index: int) -> tuple[data.PenDigit | np.ndarray, int, str]:
    """Even jobs draw a held-out writer's digit, odd ones a held-out USPS scan."""
    if index % 2 == 0:
        digit = held_out_pen()[(index // 2) % len(held_out_pen())]
        return digit, digit.label, "pen strokes"
    ink, labels = held_out_usps()
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
        digit = held_out_pen()[index]
        style = EVAL_CANVAS.sample(rng)
        brush = style.brush / style.height
        tags = ("canvas " + size_bin(style.size, (280, 450, 650, 801), " px"),
                "digit " + size_bin(style.height / style.size * 100, (25, 45, 70, 90), "% of canvas"),
                "brush " + size_bin(brush * 100, (0, 2, 5, 10, 17), "% of digit height"),
                cut_bin(ink_off_canvas(digit, style)), "with a stray mark" if style.stray else "no stray mark")
        return synth.in_form(synth.render_canvas(digit, style, rng), form), tags
    if kind == "tight drawing":
        margin, form = options
        return synth.in_form(synth.tight_drawing(held_out_pen()[index], EVAL_CANVAS.sample(rng), margin), form), ()
    if kind == "scan":
        margin, light = options
        ink, _ = held_out_usps()
        return synth.render_scan(ink[index], rng, EVAL_SCANS, margin=margin, light_ink=light), ()
    if kind == "mnist crop":
        margin, dark = options
        image = mnist_test_set()[0][index]
        crop = np.asarray(synth.crop_around(Image.fromarray(255 - image), margin))
        big = Image.fromarray(crop if dark else 255 - crop)
        return big.resize((big.width * 5, big.height * 5), Image.Resampling.BILINEAR), ()
    if kind == "mnist drawing":
        return synth.mnist_as_drawing(mnist_test_set()[0][index], int(rng.integers(140, 800))), ()
    if kind in ("optdigits", "continental") + NON_DIGIT_KINDS:
        medium, = options
        if kind == "optdigits":
            source = held_out_optdigits()[0][index]
        elif kind == "continental":
            source = continental.continental(held_out_pen()[index], rng)
        elif kind == "omniglot":
            source = held_out_negatives()[index]
        else:
            source = negatives.random_shape(rng) if kind == "shape" else negatives.random_scribble(rng)
        image, pen_tags = _in_medium(source, medium, rng)
        return image, (medium, *pen_tags)
    if kind == "photo":
        dist_name, inks, paper = options
        dist = PHOTO_SETS[dist_name]
        source, _, origin = _photo_source(index)
        ink_kind = synth.pick(inks or dist.inks, rng)
        paper = paper or ("plain" if ink_kind == "chalk" else synth.pick(dist.papers, rng))
        jpeg = synth.random_photo(source, rng, dist, ink_kind=ink_kind, paper=paper)
        return jpeg, (origin, f"{ink_kind} ink", f"{paper} paper", *_photo_tags(jpeg))
    raise ValueError(f"unknown test set {kind!r}")


def _in_medium(source: data.PenDigit | np.ndarray, medium: str,
               rng: np.random.Generator) -> tuple[Any, tuple[str, ...]]:
    """Pen strokes or a bitmap drawn on a canvas, scanned (bitmaps) or photographed; tagged
    PEN_OVER_ITSELF when drawn so (the pad sends its strokes, and the app checks them)."""
    if medium == "drawn":
        style = EVAL_CANVAS.sample(rng)
        if isinstance(source, data.PenDigit):
            strokes = synth.place_strokes(source, style.height, style.center, style.slant)
            over_itself = retraced(strokes, np.ones((style.size, style.size), bool))
            return synth.render_canvas(source, style, rng), (PEN_OVER_ITSELF,) if over_itself else ()
        return synth.bitmap_canvas(source, style), ()
    if medium == "scanned":
        return synth.render_scan(source, rng, EVAL_SCANS, margin=rng.uniform(0.05, 0.1)), ()
    return synth.random_photo(source, rng, EVAL_PHOTOS, ink_kind=synth.pick(PEN_INKS, rng), paper="plain"), ()


def label_of(job: tuple) -> int:
    kind, index = job[:2]
    if kind in ("drawn", "tight drawing", "continental"):
        return held_out_pen()[index].label
    if kind == "scan":
        return int(held_out_usps()[1][index])
    if kind in ("mnist crop", "mnist drawing"):
        return int(mnist_test_set()[1][index])
    if kind == "optdigits":
        return int(held_out_optdigits()[1][index])
    if kind in NON_DIGIT_KINDS:
        return negatives.NOT_A_DIGIT
    return _photo_source(index)[1]


def classify(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ten digits' probabilities of each 28x28 (NaN rows where the model refuses it), whether
    it refused it as not a digit, and whether the app would show it as a sure digit."""
    classifier = load_classifier()
    rows = classifier(digits)
    refused = rows[:, DIGIT_COUNT] > classifier.not_a_digit_above
    probabilities = np.stack([digit_probabilities(row) for row in rows])
    sure = np.array([not is_unsure(p, row[DIGIT_COUNT]) for p, row in zip(probabilities, rows)]) & ~refused
    probabilities[refused] = np.nan
    return probabilities, refused, sure


def run_set(jobs: list[tuple], tags: list[tuple[str, ...]] | None = None, workers: int = 2) -> Results:
    """Render, preprocess and classify every job; no digit found, or one refused, counts as wrong."""
    rendered = synth.render_and_preprocess(render_job, jobs, workers)
    found = [i for i, (x, _) in enumerate(rendered) if x is not None]
    probabilities = np.full((len(jobs), 10), np.nan)
    refused, sure = np.zeros(len(jobs), bool), np.zeros(len(jobs), bool)
    if found:
        probabilities[found], refused[found], sure[found] = classify(np.stack([rendered[i][0] for i in found]))
    results = Results()
    for i, job in enumerate(jobs):
        job_tags = rendered[i][1] + (tags[i] if tags else ())
        results.add(label_of(job), probabilities[i], job_tags, bool(refused[i]),
                    bool(sure[i]) and PEN_OVER_ITSELF not in job_tags, rendered[i][0])
    return results


def photo_jobs(count: int, seed: int, dist: str = "photos", inks: tuple | None = None,
               paper: str | None = None) -> list[tuple]:
    return [("photo", i, seed, dist, inks, paper) for i in range(count)]


def evaluation_sets(quick: bool, seed: int) -> dict[str, tuple[list[tuple], list[tuple[str, ...]]]]:
    """Every set's jobs and extra tags. Quick runs a fifth of each."""
    share = 5 if quick else 1
    n_pen, n_usps, n_photos = len(held_out_pen()) // share, len(held_out_usps()[1]) // share, 1000 // share
    mnist_picks = np.random.default_rng(seed).choice(len(mnist_test_set()[1]), 2000 // share, replace=False)
    sets: dict[str, tuple[list[tuple], list[tuple[str, ...]]]] = {}

    def add(name: str, jobs: list[tuple], tags: list[tuple[str, ...]]) -> None:
        sets[name] = (jobs, tags)

    add("drawn digits", [("drawn", i, seed, form) for form in synth.FORMS for i in range(n_pen)],
        [("form " + form,) for form in synth.FORMS for _ in range(n_pen)])
    forms = synth.FORMS
    add("tight drawings", [("tight drawing", i, seed + 1, m, form) for m in MARGINS for form in forms for i in range(n_pen)],
        [(f"margin {m:.0%}", "form " + form) for m in MARGINS for form in forms for _ in range(n_pen)])
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
                           ("photos of a page on a desk", {"dist": "desk", "inks": PEN_INKS}),
                           ("ruled pages turned up to 10 degrees", {"dist": "tilted", "inks": PEN_INKS, "paper": "ruled"}),
                           ("notebooks with a margin line", {"dist": "margin", "inks": PEN_INKS, "paper": "ruled"})):
        count = n_photos if name == "photos" else n_photos // 2
        add(name, photo_jobs(count, seed + 5 + len(sets), **settings), [()] * count)
    return sets


def population_sets(quick: bool, seed: int) -> dict[str, tuple[list[tuple], list[tuple[str, ...]]]]:
    """Each writer population's digits, in the media they come in: the model card's fairness table."""
    share = 5 if quick else 1
    n_pen, n_opt, n_mnist = len(held_out_pen()) // share, len(held_out_optdigits()[1]) // share, 10000 // share
    n_usps = len(held_out_usps()[1]) // share
    sets = {
        "MNIST test (US), drawn large": [("mnist drawing", i, seed + 20) for i in range(n_mnist)],
        "USPS (US), scanned": [("scan", i, seed + 21, None, False) for i in range(n_usps)],
        "pendigits writers 25-30 (Istanbul), drawn": [("drawn", i, seed + 22, "plain") for i in range(n_pen)],
        "optdigits (Istanbul), drawn, scanned, photographed":
            [("optdigits", i, seed + 23, medium) for medium in ("drawn", "scanned", "photographed") for i in range(n_opt)],
        "continental forms by writers 25-30, drawn and photographed":
            [("continental", i, seed + 24, medium) for medium in ("drawn", "photographed") for i in range(n_pen)],
    }
    return {name: (jobs, [()] * len(jobs)) for name, jobs in sets.items()}


def non_digit_sets(quick: bool, seed: int) -> dict[str, tuple[list[tuple], list[tuple[str, ...]]]]:
    """Things that are not digits, drawn on the pad and photographed: rejected or not."""
    share = 5 if quick else 1
    n_omniglot, n_shapes = len(held_out_negatives()) // share, 1000 // share
    counts = {"Omniglot characters, drawers 17-20": ("omniglot", n_omniglot, seed + 30),
              "shapes, scribbles and doodles": ("shape", n_shapes, seed + 31),
              SCRIBBLES: ("scribble", n_shapes, seed + 32)}
    sets = {name: [(kind, i, set_seed, medium) for medium in ("drawn", "photographed") for i in range(n)]
            for name, (kind, n, set_seed) in counts.items()}
    return {name: (jobs, [()] * len(jobs)) for name, jobs in sets.items()}


def mnist_accuracy() -> float:
    """Accuracy on the raw MNIST test images, as the network gets them (a refusal counts as wrong)."""
    images, labels = mnist_test_set()
    probabilities, _, _ = classify(images.astype(np.float32) / 255)
    return float((read_as(probabilities) == labels).mean())


def rejection_rate(seed: int, count: int) -> dict[str, float]:
    """Share of images with nothing on them (blank canvas, empty paper photo, noise) that get no
    digit: the preprocessing finds none (NoDigitError), or the model refuses what it found."""
    rng = np.random.default_rng(seed + 2)
    rates = {}
    for name, kind, photos in (("canvas", "canvas", EVAL_PHOTOS), ("paper", "paper", EVAL_PHOTOS),
                               ("noise", "noise", EVAL_PHOTOS), ("paper in dim light", "paper", EVAL_DIM),
                               ("a page on a desk", "paper", EVAL_DESK)):
        found = []
        for _ in range(count):
            try:
                found.append(preprocess(synth.random_blank(rng, kind, photos)))
            except NoDigitError:
                pass
        refused = int(classify(np.stack(found))[1].sum()) if found else 0
        rates[name] = (count - len(found) + refused) / count
    return rates


def drawn_conditions(results: Results) -> dict[str, dict[str, float]]:
    """Conditions of the drawn set counting each drawing once (its plain form); forms apart."""
    forms = {tag: g for tag, g in group_stats(results).items() if tag.startswith("form ")}
    conditions = {tag: g for tag, g in group_stats(results, results.groups["form plain"]).items()
                  if not tag.startswith("form ")}
    return {**conditions, **forms}
