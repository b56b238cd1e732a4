"""Readers for the data sets digitdraw trains and evaluates on: MNIST (IDX), pendigits, USPS.

Everything here returns plain numpy arrays; no torch, no torchvision.
"""

from __future__ import annotations

import gzip
import hashlib
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The shared data sets live beside the project checkout (../shared/data); a user's machine
# downloads MNIST into the same layout.
DEFAULT_DATA_ROOT = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
DEFAULT_MNIST_DIR = DEFAULT_DATA_ROOT / "mnist"
PENDIGITS_FILE = DEFAULT_DATA_ROOT / "pendigits" / "pendigits-orig.tra"
USPS_FILE = DEFAULT_DATA_ROOT / "usps" / "zip.train.gz"

MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

# IDX type codes (the third header byte) and the numpy dtypes they stand for.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DataUnavailableError(RuntimeError):
    """A data set is missing and could not be downloaded."""


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped) into a numpy array of its declared shape."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file")
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    ndim = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    offset = 4 + 4 * ndim
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - offset != expected:
        raise ValueError(f"{path}: header says {expected} data bytes, file has {len(raw) - offset}")
    return np.frombuffer(raw, dtype, offset=offset).reshape(shape).astype(dtype.newbyteorder("="))


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def ensure_mnist(data_dir: str | Path = DEFAULT_MNIST_DIR) -> Path:
    """Make sure the four MNIST files are in data_dir, downloading and md5-checking missing ones."""
    data_dir = Path(data_dir)
    for name, md5 in MNIST_MD5.items():
        target = data_dir / name
        if target.exists():
            continue
        data_dir.mkdir(parents=True, exist_ok=True)
        errors = []
        for mirror in MNIST_MIRRORS:
            try:
                tmp = target.with_suffix(".part")
                urllib.request.urlretrieve(mirror + name, tmp)
            except OSError as e:
                errors.append(f"{mirror}: {e}")
                continue
            if _md5(tmp) != md5:
                tmp.unlink()
                errors.append(f"{mirror}: md5 mismatch")
                continue
            tmp.rename(target)
            break
        else:
            raise DataUnavailableError(
                f"MNIST file {name} is not in {data_dir} and could not be downloaded "
                f"({'; '.join(errors)}). Copy the four MNIST .gz files there, or pass "
                "--data-dir pointing at a folder that has them."
            )
    return data_dir


def load_mnist(split: str, data_dir: str | Path = DEFAULT_MNIST_DIR) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) int64 for split 'train' or 't10k'."""
    data_dir = ensure_mnist(data_dir)
    images = read_idx(data_dir / f"{split}-images-idx3-ubyte.gz")
    labels = read_idx(data_dir / f"{split}-labels-idx1-ubyte.gz").astype(np.int64)
    return images, labels


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
