"""Readers for the data sets digitdraw trains and evaluates on: MNIST (IDX), pendigits, USPS,
optdigits (forms by writers in Istanbul) and Omniglot (characters that are not digits).

Everything here returns plain numpy arrays; no torch, no torchvision.
"""

from __future__ import annotations

import gzip
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from digitdraw import mnist

# The shared data sets live beside the project checkout (../shared/data); a user's machine
# downloads MNIST into the same layout.
DEFAULT_DATA_ROOT = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
DEFAULT_MNIST_DIR = DEFAULT_DATA_ROOT / "mnist"
PENDIGITS_FILE = DEFAULT_DATA_ROOT / "pendigits" / "pendigits-orig.tra"
USPS_FILE = DEFAULT_DATA_ROOT / "usps" / "zip.train.gz"
OPTDIGITS_FILES = {"train": DEFAULT_DATA_ROOT / "optdigits" / "optdigits-orig.tra.gz",
                   "test": DEFAULT_DATA_ROOT / "optdigits" / "optdigits-orig.cv.gz"}
OMNIGLOT_STROKES = tuple(DEFAULT_DATA_ROOT / "omniglot" / f"strokes_background_small{k}.zip" for k in (1, 2))


def load_mnist(split: str, data_dir: str | Path = DEFAULT_MNIST_DIR) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) int64 for split 'train' or 't10k', read (and
    downloaded there if missing, md5-checked) as the app reads them (digitdraw.mnist)."""
    return mnist.load(split, Path(data_dir))


@dataclass(frozen=True)
class PenDigit:
    """One digit written on a tablet: strokes of (x, y) points in screen orientation (y down)."""

    label: int
    writer: int
    strokes: tuple[np.ndarray, ...]


def load_pendigits(path: str | Path = PENDIGITS_FILE) -> list[PenDigit]:
    """Parse the UNIPEN-like pendigits file into PenDigit records (y flipped to point down)."""
    digits: list[PenDigit] = []
    label = writer = None
    strokes: list[np.ndarray] = []
    points: list[tuple[int, int]] | None = None

    def finish() -> None:
        if label is not None and strokes:
            digits.append(PenDigit(label, writer, tuple(strokes)))

    for line in Path(path).read_text().splitlines():
        if line.startswith(".SEGMENT"):
            finish()
            label, writer, strokes = None, None, []
        elif line.startswith(".COMMENT"):
            _, label_text, writer_text, *_ = line.split()
            label, writer = int(label_text), int(writer_text)
        elif line.startswith(".PEN_DOWN"):
            points = []
        elif line.startswith(".PEN_UP"):
            if points:
                xy = np.array(points, dtype=np.float32)
                xy[:, 1] = 500 - xy[:, 1]
                strokes.append(xy)
            points = None
        elif points is not None and line.strip():
            x, y = line.split()
            points.append((int(x), int(y)))
    finish()
    return digits


def load_usps(path: str | Path = USPS_FILE) -> tuple[np.ndarray, np.ndarray]:
    """USPS scans as (N, 16, 16) float32 ink maps in [0, 1] (1 = ink) and (N,) int64 labels."""
    table = np.loadtxt(gzip.open(path), dtype=np.float32)
    labels = table[:, 0].astype(np.int64)
    ink = (table[:, 1:].reshape(-1, 16, 16) + 1) / 2
    return ink, labels


# Pendigits writers are split so that what we report is measured on people the model never saw.
TRAIN_WRITERS = tuple(range(1, 21))
CALIBRATION_WRITERS = tuple(range(21, 25))
TEST_WRITERS = tuple(range(25, 31))
# USPS rows: training, calibration, and the rest for evaluation.
USPS_SPLITS = {"train": slice(0, 5000), "calibration": slice(5000, 6000), "test": slice(6000, None)}


def pendigits_for(writers: tuple[int, ...], path: str | Path = PENDIGITS_FILE) -> list[PenDigit]:
    return [d for d in load_pendigits(path) if d.writer in writers]


# optdigits: the .tra file trains (its last tenth calibrates), the .cv file measures. Both come
# from the same 30 writers and carry no writer ids, so this split is not by writer: the optdigits
# row of the model card is writer-dependent (see MODEL_CARD.md). The header is 21 lines; then each
# digit is 32 lines of 32 '0'/'1' and a line with its label.
OPTDIGITS_HEADER = 21
OPTDIGITS_SIDE = 32
OPTDIGITS_CALIBRATION_SHARE = 0.1


@lru_cache(maxsize=2)
def _optdigits_file(name: str) -> tuple[np.ndarray, np.ndarray]:
    lines = gzip.open(OPTDIGITS_FILES[name], "rt").read().splitlines()[OPTDIGITS_HEADER:]
    block = OPTDIGITS_SIDE + 1
    count = len(lines) // block
    bitmaps = np.array([[[c == "1" for c in row] for row in lines[i * block: i * block + OPTDIGITS_SIDE]]
                        for i in range(count)], np.float32)
    labels = np.array([int(lines[i * block + OPTDIGITS_SIDE]) for i in range(count)], np.int64)
    return bitmaps, labels


def load_optdigits(split: str) -> tuple[np.ndarray, np.ndarray]:
    """optdigits' 32x32 bitmaps as float ink maps (1 = ink) and their labels, for split 'train',
    'calibration' (the last tenth of the .tra file) or 'test' (the .cv file)."""
    if split == "test":
        return _optdigits_file("test")
    bitmaps, labels = _optdigits_file("train")
    cut = int(len(labels) * (1 - OPTDIGITS_CALIBRATION_SHARE))
    part = slice(0, cut) if split == "train" else slice(cut, None)
    return bitmaps[part], labels[part]


@dataclass(frozen=True)
class Character:
    """One Omniglot drawing: a character of an alphabet, by one of its 20 drawers, as pen strokes
    in screen orientation (y down)."""

    alphabet: str
    character: int  # 1-based, as in the folder names ("character12")
    drawer: int  # 1-20, the file name's suffix
    strokes: tuple[np.ndarray, ...]


# Omniglot's drawers: 1-14 train, 15-16 calibrate, 17-20 only ever measure.
OMNIGLOT_SPLITS = {"train": range(1, 15), "calibration": range(15, 17), "test": range(17, 21)}


def _omniglot_strokes(text: str) -> tuple[np.ndarray, ...]:
    """A drawing file: strokes between START and BREAK lines, one 'x,y,t' point a line, y up."""
    strokes, points = [], []
    for line in text.splitlines():
        if line in ("START", "BREAK"):
            if len(points):
                strokes.append(np.array(points, np.float32) * (1, -1))
            points = []
        elif line.strip():
            x, y, _ = line.split(",")
            points.append((float(x), float(y)))
    if points:
        strokes.append(np.array(points, np.float32) * (1, -1))
    return tuple(strokes)


@lru_cache(maxsize=1)
def load_omniglot() -> tuple[Character, ...]:
    """Every Omniglot drawing of the two small background sets, once (they share Latin and Greek)."""
    found: dict[tuple[str, int, int], Character] = {}
    for path in OMNIGLOT_STROKES:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                parts = name.split("/")
                if not name.endswith(".txt") or parts[0].startswith("__MACOSX") or len(parts) != 4:
                    continue
                alphabet, character, drawer = parts[1], int(parts[2].removeprefix("character")), int(parts[3][-6:-4])
                if (alphabet, character, drawer) not in found:
                    strokes = _omniglot_strokes(archive.read(name).decode())
                    if strokes:
                        found[alphabet, character, drawer] = Character(alphabet, character, drawer, strokes)
    return tuple(found[key] for key in sorted(found))


def omniglot_for(split: str) -> list[Character]:
    return [c for c in load_omniglot() if c.drawer in OMNIGLOT_SPLITS[split]]
