"""Train the digitdraw CNN on MNIST plus real handwriting rendered as drawings and photos.

    python -m training.train --data-dir ../shared/data/mnist --epochs 20 --mnist-repeat 1.5 --out weights/digitdraw.safetensors

The real handwriting (tablet pen strokes of 20 writers, USPS scans) is rendered as canvases,
tightly cropped drawings in three colour forms, phone photos (plain, ruled and squared paper,
pencil, some cropped to the digit or touching an edge) and scans in both polarities, and passed
through `preprocess`, exactly as the app will see it: about 30,000 images beside MNIST's 55,000.
Every batch is augmented on-tensor (affine, elastic, stroke thickness). After training, a
temperature is fitted on held-out data (the last 5,000 MNIST training digits, 4 other writers,
other USPS scans) so that the probabilities are calibrated; it is stored with the weights.

On 2 CPU cores: about 8 minutes to render (cached in cache/, keyed by a hash of the code and
the mix that render it), then about 100 s an epoch.
`--dry-run` renders a few images of each kind and runs one batch an epoch.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import hashlib
import inspect
import shlex
import sys
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import digitdraw
from digitdraw.model import Contract, Net, save_weights
from digitdraw.preprocessing import PREPROCESSING_VERSION
from training import data, synth
from training.augment import augment

CACHE_DIR = Path(__file__).resolve().parent.parent / "cache"

# What training renders; evaluation pins its own (training/evaluate.py).
TRAIN_CANVAS = synth.CanvasDistribution(sizes=(280, 800), heights=(0.25, 0.9), cut=0.1, cut_margin=0.55,
                                        max_brush=0.16, slanted=0.5, max_slant=0.35, stray=0.15)
TRAIN_PHOTOS = synth.PhotoDistribution(
    inks=(("black", 0.3), ("blue", 0.25), ("pencil", 0.3), ("chalk", 0.15)),
    papers=(("plain", 0.5), ("ruled", 0.3), ("squared", 0.2)), heights=(0.3, 0.75), strokes=(0.03, 0.09),
    max_slant=0.2, cropped=0.35, margins=(0.0, 0.15), flush=0.3, sides=(400, 1200), sideways=0.2,
    qualities=(50, 92))
TRAIN_SCANS = synth.ScanDistribution(margins=(0.0, 0.15), light_ink=0.3, sides=(32, 240), blur=(0.0, 0.02),
                                     qualities=(60, 95))
TIGHT_MARGINS = (0.0, 0.15)  # a drawing cropped to its ink, as a screenshot tool would
DRY_RUN_SOURCES = 10  # pen digits and USPS scans of each split that --dry-run renders


# --------------------------------------------------------------------------- real-handwriting sets

@lru_cache(maxsize=2)
def sources(split: str) -> tuple[list[data.PenDigit], np.ndarray, np.ndarray]:
    """Pen digits and USPS scans (ink maps, labels) of one split: 'train' or 'calibration'."""
    writers = {"train": data.TRAIN_WRITERS, "calibration": data.CALIBRATION_WRITERS}[split]
    ink, labels = data.load_usps()
    return data.pendigits_for(writers), ink[data.USPS_SPLITS[split]], labels[data.USPS_SPLITS[split]]


def render_job(job: tuple[str, str, int, int, int]) -> tuple[Image.Image | bytes, tuple[str, ...]]:
    """One training image from (split, kind, index, copy, seed); runs in worker processes."""
    split, kind, index, copy, seed = job
    rng = np.random.default_rng([seed, index, KINDS.index(kind), copy])
    pen, usps_ink, _ = sources(split)
    if kind == "canvas":
        return synth.render_canvas(pen[index], TRAIN_CANVAS.sample(rng), rng), ()
    if kind == "tight drawing":
        canvas = synth.tight_drawing(pen[index], TRAIN_CANVAS.sample(rng), rng.uniform(*TIGHT_MARGINS))
        return synth.in_form(canvas, synth.FORMS[int(rng.integers(len(synth.FORMS)))]), ()
    if kind == "pen photo":
        return synth.random_photo(pen[index], rng, TRAIN_PHOTOS), ()
    if kind == "usps photo":
        return synth.random_photo(usps_ink[index], rng, TRAIN_PHOTOS), ()
    return synth.render_scan(usps_ink[index], rng, TRAIN_SCANS), ()


KINDS = ("canvas", "tight drawing", "pen photo", "usps photo", "scan")


def real_jobs(split: str, seed: int, limit: int | None = None) -> tuple[list[tuple], list[int]]:
    """Per pen digit: canvases (2 for training, 1 for calibration), a tight crop and a photo; per
    USPS scan: a photo and a scan. `limit` keeps the first few of each source (--dry-run)."""
    pen, _, usps_labels = sources(split)
    canvases = 2 if split == "train" else 1
    jobs, labels = [], []
    for i, digit in enumerate(pen[:limit]):
        for copy in range(canvases):
            jobs.append((split, "canvas", i, copy, seed))
        jobs += [(split, "tight drawing", i, 0, seed), (split, "pen photo", i, 0, seed)]
        labels += [digit.label] * (canvases + 2)
    for i, label in enumerate(usps_labels[:limit]):
        jobs += [(split, "usps photo", i, 0, seed), (split, "scan", i, 0, seed)]
        labels += [int(label)] * 2
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
    """A hash of everything that decides the rendered sets: the data readers, the renderer, the
    preprocessing with every module it runs, and the mix."""
    code = [path.read_text() for path in preprocessing_sources()] + [inspect.getsource(m) for m in (data, synth)]
    code += [inspect.getsource(function) for function in (render_job, real_jobs)]
    mix = repr((TRAIN_CANVAS, TRAIN_PHOTOS, TRAIN_SCANS, TIGHT_MARGINS, synth.FORMS))
    return hashlib.sha256("".join(code + [mix]).encode()).hexdigest()[:12]


def render_real_set(split: str, seed: int, limit: int | None = None, workers: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The split's real handwriting rendered as drawings, crops, photos and scans, preprocessed."""
    cache = CACHE_DIR / f"real-{split}-seed{seed}-{render_fingerprint()}.npz"
    if limit is None and cache.exists():
        stored = np.load(cache)
        return stored["x"], stored["y"]
    jobs, labels = real_jobs(split, seed, limit)
    rendered = synth.render_and_preprocess(render_job, jobs, workers)
    keep = [i for i, (x, _) in enumerate(rendered) if x is not None]
    x = np.stack([rendered[i][0] for i in keep]).astype(np.float32)
    y = np.array([labels[i] for i in keep], np.int64)
    if limit is None:
        CACHE_DIR.mkdir(exist_ok=True)
        np.savez_compressed(cache, x=x, y=y)
    return x, y


# --------------------------------------------------------------------------- training

def epoch_order(n: int, n_mnist: int, mnist_repeat: float, generator: torch.Generator) -> torch.Tensor:
    """Every image once, shuffled, plus a random (mnist_repeat - 1) share of the MNIST ones again.

    MNIST comes first in the training set. Showing some of it twice keeps its weight in the mix
    as the real handwriting grows (a third of the images cost 0.1 points of MNIST accuracy).
    """
    extra = torch.randperm(n_mnist, generator=generator)[: int((mnist_repeat - 1) * n_mnist)]
    order = torch.cat([torch.arange(n), extra])
    return order[torch.randperm(len(order), generator=generator)]


def train(model: Net, x: torch.Tensor, y: torch.Tensor, order: torch.Tensor, optimizer: torch.optim.Optimizer,
          scheduler: torch.optim.lr_scheduler.LRScheduler, generator: torch.Generator, batch_size: int = 256,
          device: str = "cpu", dry_run: bool = False) -> tuple[float, float]:
    """One epoch over `order`'s images in augmented batches (only the first with `dry_run`);
    returns the mean loss and accuracy."""
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for start in range(0, len(order), batch_size):
        index = order[start: start + batch_size]
        batch = augment(x[index].to(device), generator_for(device, generator))
        batch = batch.contiguous(memory_format=torch.channels_last)
        target = y[index].to(device)
        optimizer.zero_grad()
        logits = model(batch)
        loss = F.cross_entropy(logits, target)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total_loss += loss.item() * len(index)
        correct += (logits.argmax(1) == target).sum().item()
        seen += len(index)
        if dry_run:
            break
    return total_loss / seen, correct / seen


def generator_for(device: str, cpu_generator: torch.Generator) -> torch.Generator:
    if device == "cpu":
        return cpu_generator
    gen = torch.Generator(device=device)
    gen.manual_seed(int(torch.randint(0, 2**31, (1,), generator=cpu_generator)))
    return gen


@torch.no_grad()
def logits_of(model: Net, x: torch.Tensor, device: str, batch_size: int = 1000) -> torch.Tensor:
    """Logits for all of x (N, 1, 28, 28), in eval mode."""
    model.eval()
    return torch.cat([model(x[i: i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)])


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The temperature T minimising the NLL of softmax(logits / T) (Guo et al., 2017)."""
    log_t = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp())


def as_tensor(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images, np.float32)).unsqueeze(1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(data.DEFAULT_MNIST_DIR),
                        help="folder with the four MNIST .gz files (downloaded there if missing)")
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training set")
    parser.add_argument("--batch-size", type=int, default=256, help="images per training step")
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (one-cycle schedule)")
    parser.add_argument("--mnist-repeat", type=float, default=1.5,
                        help="how often each epoch shows MNIST on average (1.5: half of it twice)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for everything")
    parser.add_argument("--device", default="auto", help="'auto' (CUDA if present), 'cpu' or 'cuda'")
    parser.add_argument("--no-real", action="store_true", help="train on MNIST only")
    parser.add_argument("--dry-run", action="store_true",
                        help="a few images of each kind and one batch per epoch, to check the code runs (CI does)")
    parser.add_argument("--out", default="weights/digitdraw.safetensors", help="where to save the weights")
    args = parser.parse_args(argv)
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    command = "python -m training.train " + shlex.join(sys.argv[1:] if argv is None else argv)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)

    images, labels = data.load_mnist("train", args.data_dir)
    test_images, test_labels = data.load_mnist("t10k", args.data_dir)
    if args.dry_run:
        images, labels, test_images, test_labels = images[::50], labels[::50], test_images[:500], test_labels[:500]
    mnist = images.astype(np.float32) / 255
    split = len(mnist) * 11 // 12  # the last 5,000 of MNIST's 60,000 calibrate the temperature
    x_parts, y_parts = [mnist[:split]], [labels[:split]]
    calib_x, calib_y = [mnist[split:]], [labels[split:]]
    if not args.no_real:
        t0 = time.time()
        for name, xs, ys in (("train", x_parts, y_parts), ("calibration", calib_x, calib_y)):
            real_x, real_y = render_real_set(name, args.seed, DRY_RUN_SOURCES if args.dry_run else None)
            xs.append(real_x)
            ys.append(real_y)
        print(f"rendered real handwriting in {time.time() - t0:.0f}s: "
              f"{sum(map(len, x_parts)) - split} training, {sum(map(len, calib_x)) - len(mnist) + split} calibration images")
    x, y = as_tensor(np.concatenate(x_parts)), torch.from_numpy(np.concatenate(y_parts))
    x_cal, y_cal = as_tensor(np.concatenate(calib_x)), torch.from_numpy(np.concatenate(calib_y))
    x_test, y_test = as_tensor(test_images.astype(np.float32) / 255), torch.from_numpy(test_labels)

    model = Net().to(args.device).to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=5e-4)
    epoch_size = len(x) + int((args.mnist_repeat - 1) * split)
    steps = args.epochs * (1 if args.dry_run else -(-epoch_size // args.batch_size))
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=steps)
    for epoch in range(1, args.epochs + 1):
        t0 = time.time()
        order = epoch_order(len(x), split, args.mnist_repeat, generator)
        loss, accuracy = train(model, x, y, order, optimizer, scheduler, generator, args.batch_size, args.device,
                               args.dry_run)
        cal_accuracy = (logits_of(model, x_cal, args.device).argmax(1) == y_cal).float().mean().item()
        print(f"epoch {epoch:2d}  loss {loss:.4f}  train acc {accuracy:.4f}  "
              f"held-out acc {cal_accuracy:.4f}  {time.time() - t0:.0f}s", flush=True)

    temperature = fit_temperature(logits_of(model, x_cal, args.device), y_cal)
    test_accuracy = (logits_of(model, x_test, args.device).argmax(1) == y_test).float().mean().item()
    print(f"temperature {temperature:.3f}  MNIST test accuracy {test_accuracy:.4f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_weights(model.cpu().eval(), args.out, Contract(
        preprocessing_version=PREPROCESSING_VERSION, temperature=round(temperature, 4), command=command,
        seed=args.seed, date=datetime.date.today().isoformat(), mnist_test_accuracy=round(test_accuracy, 4),
        train_writers=data.TRAIN_WRITERS))
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
