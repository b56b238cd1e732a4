"""What training renders: real handwriting and things that are not digits, as the app sees them.

    x, y, population = render_real_set("train", seed)   # preprocessed 28x28s, labels (10: not a digit), sources

Sources of each split ('train', 'calibration'), every one rendered as canvases, photos or scans and
passed through `preprocess`:
- pendigits writers (pen strokes): canvases, tight crops in three colour forms, photos;
- the same writers' 1, 4, 6, 7 and 9 written the continental way (training/continental.py);
- USPS scans: photos and scans, both polarities;
- optdigits forms by writers in Istanbul (32x32 bitmaps): canvases, scans, photos;
- not digits: Omniglot characters (look-alikes left out), drawn shapes and doodles, and as many
  scribbles again (training/negatives.py) on canvases and in photos, and pieces of photos of empty paper.
The evaluation's sets are apart (training/eval_sets.py): changing this mix never changes a test set.
Rendering takes about 15 minutes on 2 cores; the result is cached in cache/, keyed by a hash of
the code and the mix that render it.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

import digitdraw
from training import continental, data, negatives, synth

CACHE_DIR = Path(__file__).resolve().parent.parent / "cache"

TRAIN_CANVAS = synth.CanvasDistribution(sizes=(280, 800), heights=(0.25, 0.9), cut=0.1, cut_margin=0.55,
                                        max_brush=0.16, slanted=0.5, max_slant=0.35, stray=0.15)
# Photos: pages turned up to 10 degrees, some notebooks with a margin line.
TRAIN_PHOTOS = synth.PhotoDistribution(
    inks=(("black", 0.3), ("blue", 0.25), ("pencil", 0.3), ("chalk", 0.15)),
    papers=(("plain", 0.5), ("ruled", 0.3), ("squared", 0.2)), heights=(0.3, 0.75), strokes=(0.03, 0.09),
    max_slant=0.2, cropped=0.35, margins=(0.0, 0.15), flush=0.3, sides=(400, 1200), sideways=0.2,
    qualities=(50, 92), max_tilt=10.0, margin_line=0.15)
TRAIN_SCANS = synth.ScanDistribution(margins=(0.0, 0.15), light_ink=0.3, sides=(32, 240), blur=(0.0, 0.02),
                                     qualities=(60, 95))
TIGHT_MARGINS = (0.0, 0.15)  # a drawing cropped to its ink, as a screenshot tool would
# Drawn shapes per split: about as many as the Omniglot drawings, so that the class learns both.
SHAPE_COUNT = {"train": 3000, "calibration": 500}
# Scribbles on top (tangles, coils, hatching): a scribble is where the model slips most, read as a
# sure 8 or 4 (with 3000 shapes of 25 kinds, 120 of them were scribbles; these weights showed 12%
# of coils as a sure digit).
SCRIBBLE_COUNT = {"train": 3000, "calibration": 500}
# Pieces of photos of empty paper (most are no digit to the preprocessing; the rest are negatives).
PAPER_CROPS = {"train": 1500, "calibration": 300}
# A crop of an empty page: this share of its short side, at a random place.
PAPER_CROP_SIDE = (0.15, 0.6)
# Continental variants per pen digit of a class VARIANTS changes: two of 1s and 7s (the classes
# that fail), one of 4s, 6s and 9s.
CONTINENTAL_COPIES = {1: 2, 7: 2, 4: 1, 6: 1, 9: 1}
DRY_RUN_SOURCES = 10  # sources of each kind and split that --dry-run renders


@dataclass(frozen=True)
class Sources:
    """What one split renders from."""

    pen: list[data.PenDigit]
    usps: tuple[np.ndarray, np.ndarray]  # ink maps, labels
    optdigits: tuple[np.ndarray, np.ndarray]
    negatives: list[data.PenDigit]  # Omniglot characters, shapes and scribbles, labelled NOT_A_DIGIT


@lru_cache(maxsize=2)
def sources(split: str) -> Sources:
    """The sources of one split: 'train' or 'calibration'."""
    writers = {"train": data.TRAIN_WRITERS, "calibration": data.CALIBRATION_WRITERS}[split]
    ink, labels = data.load_usps()
    omniglot = [negatives.as_pen(c) for c in data.omniglot_for(split) if negatives.is_negative(c)]
    shapes_rng = np.random.default_rng(list(split.encode()))
    shapes = [negatives.random_shape(shapes_rng) for _ in range(SHAPE_COUNT[split])]
    shapes += [negatives.random_scribble(shapes_rng) for _ in range(SCRIBBLE_COUNT[split])]
    return Sources(data.pendigits_for(writers), (ink[data.USPS_SPLITS[split]], labels[data.USPS_SPLITS[split]]),
                   data.load_optdigits(split), omniglot + shapes)


def _paper_crop(rng: np.random.Generator) -> Image.Image:
    """A piece of a photo of an empty page: its texture, a shadow's edge, a ruled line."""
    page = Image.open(io.BytesIO(synth.render_photo(None, rng, TRAIN_PHOTOS)))
    side = int(min(page.size) * rng.uniform(*PAPER_CROP_SIDE))
    left, top = int(rng.integers(0, page.width - side + 1)), int(rng.integers(0, page.height - side + 1))
    return page.crop((left, top, left + side, top + side))


def render_job(job: tuple[str, str, int, int, int]) -> tuple[Any, tuple[str, ...]]:
    """One training image from (split, kind, index, copy, seed); runs in worker processes."""
    split, kind, index, copy, seed = job
    rng = np.random.default_rng([seed, index, KINDS.index(kind), copy])
    found = sources(split)
    if kind == "canvas":
        return synth.render_canvas(found.pen[index], TRAIN_CANVAS.sample(rng), rng), ()
    if kind == "tight drawing":
        canvas = synth.tight_drawing(found.pen[index], TRAIN_CANVAS.sample(rng), rng.uniform(*TIGHT_MARGINS))
        return synth.in_form(canvas, synth.FORMS[int(rng.integers(len(synth.FORMS)))]), ()
    if kind == "pen photo":
        return synth.random_photo(found.pen[index], rng, TRAIN_PHOTOS), ()
    if kind == "usps photo":
        return synth.random_photo(found.usps[0][index], rng, TRAIN_PHOTOS), ()
    if kind == "scan":
        return synth.render_scan(found.usps[0][index], rng, TRAIN_SCANS), ()
    if kind == "optdigits canvas":
        return synth.bitmap_canvas(found.optdigits[0][index], TRAIN_CANVAS.sample(rng)), ()
    if kind == "optdigits scan":
        return synth.render_scan(found.optdigits[0][index], rng, TRAIN_SCANS), ()
    if kind == "optdigits photo":
        return synth.random_photo(found.optdigits[0][index], rng, TRAIN_PHOTOS), ()
    if kind == "continental canvas":
        return synth.render_canvas(continental.continental(found.pen[index], rng), TRAIN_CANVAS.sample(rng), rng), ()
    if kind == "continental photo":
        return synth.random_photo(continental.continental(found.pen[index], rng), rng, TRAIN_PHOTOS), ()
    if kind == "negative canvas":
        return synth.render_canvas(found.negatives[index], TRAIN_CANVAS.sample(rng), rng), ()
    if kind == "negative photo":
        return synth.random_photo(found.negatives[index], rng, TRAIN_PHOTOS), ()
    if kind == "paper crop":
        return _paper_crop(rng), ()
    raise ValueError(f"unknown kind {kind!r}")


# Every kind of image, and the population of writers (or of non-digits) it comes from: the
# calibration weighs each population of a class the same (training/train.py).
POPULATION_OF = {"canvas": "pendigits", "tight drawing": "pendigits", "pen photo": "pendigits",
                 "usps photo": "USPS", "scan": "USPS", "optdigits canvas": "optdigits", "optdigits scan": "optdigits",
                 "optdigits photo": "optdigits", "continental canvas": "continental", "continental photo": "continental",
                 "negative canvas": "not a digit", "negative photo": "not a digit", "paper crop": "not a digit"}
KINDS = tuple(POPULATION_OF)


def real_jobs(split: str, seed: int, limit: int | None = None) -> tuple[list[tuple], list[int]]:
    """Every image the split renders, and its label. `limit` keeps the first few of each source (--dry-run)."""
    found = sources(split)
    jobs, labels = [], []

    def add(kind: str, index: int, label: int, copies: int = 1) -> None:
        jobs.extend((split, kind, index, copy, seed) for copy in range(copies))
        labels.extend([int(label)] * copies)

    for i, digit in enumerate(found.pen[:limit]):
        add("canvas", i, digit.label, 2 if split == "train" else 1)
        add("tight drawing", i, digit.label)
        add("pen photo", i, digit.label)
        for kind in ("continental canvas", "continental photo"):
            add(kind, i, digit.label, CONTINENTAL_COPIES.get(digit.label, 0))
    for i, label in enumerate(found.usps[1][:limit]):
        add("usps photo", i, label)
        add("scan", i, label)
    for i, label in enumerate(found.optdigits[1][:limit]):
        for kind in ("optdigits canvas", "optdigits scan", "optdigits photo"):
            add(kind, i, label)
    for i, _ in enumerate(found.negatives[:limit]):
        add("negative canvas", i, negatives.NOT_A_DIGIT)
        add("negative photo", i, negatives.NOT_A_DIGIT)
    for i in range(PAPER_CROPS[split] if limit is None else limit):
        add("paper crop", i, negatives.NOT_A_DIGIT)
    return jobs, labels


def preprocessing_sources() -> list[Path]:
    """digitdraw/preprocessing.py and every digitdraw module it imports, directly or not."""
    package = Path(digitdraw.__file__).parent
    found, todo = set(), [package / "preprocessing.py"]
    while todo:
        path = todo.pop()
        if path in found:
            continue
        found.add(path)
        tree = ast.parse(path.read_text())
        todo += [package / f"{node.module}.py" for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module]
    return sorted(found)


def render_fingerprint() -> str:
    """A hash of everything that decides the rendered sets: the data readers, the renderers, the
    preprocessing with every module it runs, and this module (the mix)."""
    code = [path.read_text() for path in preprocessing_sources()]
    code += [inspect.getsource(module) for module in (data, synth, continental, negatives)]
    code.append(Path(__file__).read_text())
    return hashlib.sha256("".join(code).encode()).hexdigest()[:12]


def render_real_set(split: str, seed: int, limit: int | None = None,
                    workers: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The split's sources rendered, preprocessed: (N, 28, 28) float32, (N,) labels and (N,) the
    population each comes from (POPULATION_OF). Images in which the preprocessing finds nothing (a
    page with nothing on it) are left out."""
    cache = CACHE_DIR / f"real-{split}-seed{seed}-{render_fingerprint()}.npz"
    if limit is None and cache.exists():
        stored = np.load(cache)
        return stored["x"], stored["y"], stored["population"]
    jobs, labels = real_jobs(split, seed, limit)
    rendered = synth.render_and_preprocess(render_job, jobs, workers)
    keep = [i for i, (x, _) in enumerate(rendered) if x is not None]
    x = np.stack([rendered[i][0] for i in keep]).astype(np.float32)
    y = np.array([labels[i] for i in keep], np.int64)
    population = np.array([POPULATION_OF[jobs[i][1]] for i in keep])
    if limit is None:
        CACHE_DIR.mkdir(exist_ok=True)
        np.savez_compressed(cache, x=x, y=y, population=population)
    return x, y, population
