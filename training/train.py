"""Train the digitdraw CNN on MNIST, real handwriting from beyond the US, and things that are not digits.

    python -m training.train --data-dir ../shared/data/mnist --epochs 20 --mnist-repeat 1.5 --out weights/digitdraw.safetensors
    python -m training.train --recalibrate weights/digitdraw.safetensors    # the calibration alone, again

Beside MNIST's 55,000 training digits, training/train_sets.py renders real handwriting (pendigits
writers, continental variants of their 1s, 4s, 6s, 7s and 9s, USPS scans, optdigits forms) and
things that are not digits (Omniglot characters, shapes, scribbles, doodles, pieces of empty
paper) as canvases, tight crops, photos and scans, through `preprocess`, exactly as the app will
see them. The model learns 11 classes: the ten digits and "not a digit". Every batch is augmented
on-tensor (affine, elastic, stroke thickness). After training, on held-out data (the last 5,000
MNIST training digits and the calibration split of every other source), a temperature and a bias
per class are fitted so that the probabilities are calibrated (the bias goes into the last layer;
every class, and every population of writers within a class, weighs the same),
and the "not a digit" probability above which an image is refused is chosen (where 0.2% of the
held-out digits are over it); the temperature and the threshold are stored in the weights' contract.

On 2 CPU cores: about 15 minutes to render (cached in cache/), then about 2 minutes an epoch.
`--dry-run` renders a few images of each kind and runs one batch an epoch.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from digitdraw.augment import augment
from digitdraw.model import CLASSES, Contract, Net, load_weights, save_weights
from digitdraw.preprocessing import PREPROCESSING_VERSION
from training import data
from training.negatives import NOT_A_DIGIT
from training.train_sets import DRY_RUN_SOURCES, render_real_set

# The share of held-out digits that may be refused as "not a digit": the threshold is set where
# 0.2% of the calibration digits are over it (the target on every test set is at most 0.5%). It
# may be under an even chance: the calibration's bias per class lowers "not a digit" for every
# image (its digits outweigh it ten to one), and a floor at 0.5 refused only 0.125% of the
# calibration digits and 89% of Omniglot's held-out characters (92% at this budget).
FALSE_REJECTION_BUDGET = 0.002

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


def fit_calibration(logits: torch.Tensor, labels: torch.Tensor,
                    populations: np.ndarray | None = None) -> tuple[float, torch.Tensor]:
    """A temperature T and a bias per class c minimising the NLL of softmax(logits / T + c):
    bias-corrected temperature scaling (Alexandari et al., 2020). Each class weighs the same, and
    within a class each population (MNIST, USPS, pendigits, ... ; None: one population) weighs the
    same, so that c corrects what the model leans to, not how many images of each class, or of each
    population, the held-out mix happens to have.

    Why a bias: trained on MNIST's US hand, the model leans to 7 for a 1 with a long flag, which
    continental writers make; on the calibration writers' digits it finds 1s under-read and 3s
    over-read. Why populations: weighed by its images, a class's bias is set by MNIST and the
    continental renders, its biggest populations, and USPS's few 7s hardly move it (see
    MODEL_CARD.md for what each weighing gains and costs)."""
    weight = calibration_weights(labels.numpy(), np.zeros(len(labels)) if populations is None else populations)
    log_t = torch.zeros(1, requires_grad=True)
    bias = torch.zeros(logits.shape[1], requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t, bias], lr=0.1, max_iter=500)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = (F.cross_entropy(logits / log_t.exp() + bias, labels, reduction="none") * weight).sum() / weight.sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp()), (bias.detach() - bias.detach().mean())


def calibration_weights(labels: np.ndarray, populations: np.ndarray) -> torch.Tensor:
    """A weight per image: every class sums to 1, split evenly between the populations it has."""
    weight = np.zeros(len(labels))
    for label in np.unique(labels):
        in_class = labels == label
        present = np.unique(populations[in_class])
        for population in present:
            cell = in_class & (populations == population)
            weight[cell] = 1 / (len(present) * cell.sum())
    return torch.from_numpy(weight).float()


def fold_bias(model: Net, temperature: float, bias: torch.Tensor) -> None:
    """Put the calibration's bias in the model's last layer: softmax((logits + T c) / T) is
    softmax(logits / T + c), so the app's softmax(logits / T) needs nothing else."""
    with torch.no_grad():
        model.classifier[-1].bias += temperature * bias.to(model.classifier[-1].bias.device)


def rejection_threshold(not_a_digit: np.ndarray, labels: np.ndarray) -> float:
    """The "not a digit" probability over which an image is refused: see FALSE_REJECTION_BUDGET."""
    digits = not_a_digit[labels != NOT_A_DIGIT]
    return float(np.quantile(digits, 1 - FALSE_REJECTION_BUDGET))


def calibrate(model: Net, x_cal: torch.Tensor, y_cal: torch.Tensor, populations: np.ndarray,
              device: str) -> tuple[float, float]:
    """Fit the temperature and the classes' bias on held-out data, fold the bias into the model,
    and choose the "not a digit" threshold on the calibrated probabilities: (temperature, threshold)."""
    temperature, bias = fit_calibration(logits_of(model, x_cal, device), y_cal, populations)
    fold_bias(model, temperature, bias)
    print("bias per class", " ".join(f"{c}:{b:+.2f}" for c, b in zip(CLASSES, bias.tolist())))
    not_a_digit = torch.softmax(logits_of(model, x_cal, device) / temperature, dim=1)[:, NOT_A_DIGIT].numpy()
    return temperature, rejection_threshold(not_a_digit, y_cal.numpy())


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
    parser.add_argument("--recalibrate", metavar="WEIGHTS",
                        help="train nothing: refit these weights' temperature, bias and threshold on their calibration split")
    parser.add_argument("--out", default="weights/digitdraw.safetensors", help="where to save the weights")
    args = parser.parse_args(argv)
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    command = "python -m training.train " + shlex.join(sys.argv[1:] if argv is None else argv)
    trained = load_weights(args.recalibrate) if args.recalibrate else None
    if trained:  # the calibration split its training held out
        args.seed = trained[1].seed
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
    calib_x, calib_y, calib_populations = [mnist[split:]], [labels[split:]], [np.full(len(mnist) - split, "MNIST")]
    if not args.no_real:
        t0 = time.time()
        for name, xs, ys, populations in (("train", x_parts, y_parts, []),
                                          ("calibration", calib_x, calib_y, calib_populations))[1 if trained else 0:]:
            real_x, real_y, real_populations = render_real_set(name, args.seed, DRY_RUN_SOURCES if args.dry_run else None)
            xs.append(real_x)
            ys.append(real_y)
            populations.append(real_populations)
        print(f"rendered real handwriting and non-digits in {time.time() - t0:.0f}s: "
              f"{sum(map(len, x_parts)) - split} training, {sum(map(len, calib_x)) - len(mnist) + split} calibration images")
    x, y = as_tensor(np.concatenate(x_parts)), torch.from_numpy(np.concatenate(y_parts))
    x_cal, y_cal = as_tensor(np.concatenate(calib_x)), torch.from_numpy(np.concatenate(calib_y))
    populations_cal = np.concatenate(calib_populations)
    x_test, y_test = as_tensor(test_images.astype(np.float32) / 255), torch.from_numpy(test_labels)

    if trained:  # refit its calibration and save it, this command appended to its own (once: a refit reaches the same fit)
        model, contract = trained
        history = contract.command if contract.command.endswith(command) else f"{contract.command} && {command}"
        calibrate_and_save(model.to(args.device), dataclasses.replace(
            contract, preprocessing_version=PREPROCESSING_VERSION, command=history),
            x_cal, y_cal, populations_cal, x_test, y_test, args)
        return
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

    calibrate_and_save(model, Contract(
        preprocessing_version=PREPROCESSING_VERSION, temperature=1.0, command=command, seed=args.seed,
        date=datetime.date.today().isoformat(), train_writers=data.TRAIN_WRITERS),
        x_cal, y_cal, populations_cal, x_test, y_test, args)


def calibrate_and_save(model: Net, contract: Contract, x_cal: torch.Tensor, y_cal: torch.Tensor,
                       populations_cal: np.ndarray, x_test: torch.Tensor, y_test: torch.Tensor,
                       args: argparse.Namespace) -> None:
    """Calibrate the model, measure it as saved on MNIST's test set, and save it with `contract`,
    its calibration and accuracy filled in."""
    temperature, threshold = calibrate(model, x_cal, y_cal, populations_cal, args.device)
    test_accuracy = (logits_of(model, x_test, args.device).argmax(1) == y_test).float().mean().item()
    print(f"temperature {temperature:.3f}  not a digit over {threshold:.3f}  MNIST test accuracy {test_accuracy:.4f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_weights(model.cpu().eval(), args.out, dataclasses.replace(
        contract, temperature=round(temperature, 4), not_a_digit_above=round(threshold, 4),
        mnist_test_accuracy=round(test_accuracy, 4)))
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
