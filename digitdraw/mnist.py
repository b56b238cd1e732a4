"""MNIST at run time, for the Learn tab, as real software gets it: the four files are read from the
folder in $DIGITDRAW_DATA when it is set; otherwise they are downloaded once into a cache folder
($XDG_CACHE_HOME/digitdraw/mnist, or ~/.cache/digitdraw/mnist) from MNIST's usual mirrors, the
next mirror tried when one fails, and each file checked against its md5 sum.

    where = ensure(progress)             # raises MnistUnavailable, saying how to provide the files
    images, labels = load("t10k")        # (10000, 28, 28) uint8, (10000,) int64

Training passes its own folder (`--data-dir`): `load("train", folder)` fills that folder the same way.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

# The four files and their md5 sums, as the usual mirrors serve them (the same bytes since 1998).
FILES = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
# A mirror that has not answered in 20 s is left for the next.
TIMEOUT_S = 20
CHUNK = 256 * 1024
# IDX type codes (the third header byte) and the numpy dtypes they stand for.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

Progress = Callable[[str, int, int], None]  # (file name, bytes so far, bytes in all or 0)


class MnistUnavailable(RuntimeError):
    """MNIST's files are neither where they were asked for nor downloadable."""


def folder() -> Path:
    """Where the files are read from: $DIGITDRAW_DATA, else the cache folder."""
    if os.environ.get("DIGITDRAW_DATA"):
        return Path(os.environ["DIGITDRAW_DATA"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "digitdraw" / "mnist"


def md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url: str, target: Path, progress: Progress) -> None:
    part = target.with_name(target.name + ".part")
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, open(part, "wb") as out:
        total, done = int(response.headers.get("Content-Length") or 0), 0
        while block := response.read(CHUNK):
            out.write(block)
            done += len(block)
            progress(target.name, done, total)
    part.replace(target)


def ensure(progress: Progress | None = None, mirrors: tuple[str, ...] = MIRRORS, where: Path | None = None) -> Path:
    """The folder with the four files, downloading the missing ones (see the module's docstring);
    `where` is a folder to fill instead of $DIGITDRAW_DATA's or the cache."""
    report = progress or (lambda name, done, total: None)
    if where is None and os.environ.get("DIGITDRAW_DATA"):
        where = folder()
        missing = [name for name in FILES if not (where / name).exists()]
        if missing:
            raise MnistUnavailable(f"MNIST's files are not all in {where} ($DIGITDRAW_DATA): {', '.join(missing)} "
                                   "missing. Put the four .gz files there, or unset DIGITDRAW_DATA to download them.")
        return where
    where = where or folder()
    where.mkdir(parents=True, exist_ok=True)
    for name, expected in FILES.items():
        target = where / name
        if target.exists() and md5(target) == expected:
            continue
        errors = []
        for mirror in mirrors:
            try:
                _download(mirror + name, target, report)
            except (urllib.error.URLError, OSError, ValueError) as e:
                errors.append(f"{mirror}: {getattr(e, 'reason', e)}")
                continue
            if md5(target) == expected:
                break
            target.unlink()
            errors.append(f"{mirror}: the file's md5 sum is not MNIST's")
        else:
            raise MnistUnavailable(
                f"MNIST could not be fetched ({'; '.join(errors)}). Offline, download the four files "
                f"({', '.join(FILES)}) elsewhere and put them in {where}, or in a folder named by DIGITDRAW_DATA.")
    return where


def read_idx(path: str | Path) -> np.ndarray:
    """An IDX file (optionally gzipped) as a numpy array of its declared shape."""
    path = Path(path)
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file")
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    ndim = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    offset = 4 + 4 * ndim
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - offset != expected:
        raise ValueError(f"{path}: header says {expected} data bytes, file has {len(raw) - offset}")
    return np.frombuffer(raw, dtype, offset=offset).reshape(shape).astype(dtype.newbyteorder("="))


@lru_cache(maxsize=2)
def load(split: str, where: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) int64 of split 'train' or 't10k' (ensure() first
    to show a download's progress)."""
    where = ensure(where=where)
    return read_idx(where / f"{split}-images-idx3-ubyte.gz"), read_idx(where / f"{split}-labels-idx1-ubyte.gz").astype(np.int64)
