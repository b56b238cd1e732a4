"""Train a CNN in the app, the way a model comes to be: the Learn tab's engine (no Gradio here).

    run = Training(TrainingOptions(epochs=1), images, labels)   # MNIST's training images
    for update in run.steps():                                  # progress every UPDATE_EVERY steps
        ...
    run.model, run.history                                      # the trained model, its curve

Two architectures: the small CNN of the app this project grew from (two 3x3 convolutions with
max-pooling, a dense layer, softmax) and digitdraw's own (model.Net). Training is capped at
MAX_EPOCHS and MAX_SECONDS, stops cleanly when asked, and runs one at a time per process (the
event's queue). The trained model lives in memory, for its session only (SessionModels).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .augment import augment
from .model import Net

MAX_EPOCHS = 3
# A training's wall-clock cap: 3 minutes, so that a class can take turns.
MAX_SECONDS = 180
# A curve point (loss and accuracy over the last steps) every 25 steps of 128 images: several a
# second on a CPU, never more than a few seconds apart.
UPDATE_EVERY = 25
BATCH_SIZE = 128
LEARNING_RATE = 1e-3
MNIST_TRAIN_IMAGES = 60_000
# Trained models kept, one per session, the least recently used dropped first, for an hour at most.
MAX_SESSIONS = 20
SESSION_SECONDS = 3600
ARCHITECTURES = {
    "small": "the original app's small CNN (2 conv layers, max-pooling, dense, softmax)",
    "digitdraw": "digitdraw's own CNN (5 conv layers with batch norm)",
}


class SmallCNN(nn.Module):
    """The original app's CNN: conv 3x3 (32) and max-pool, conv 3x3 (64) and max-pool, dense 128, 10 classes
    (225,034 params). Takes (N, 1, 28, 28) in [0, 1] and returns (N, 10) logits."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),   # 28 -> 26 -> 13
                                      nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2))  # 13 -> 11 -> 5
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def new_model(architecture: str) -> nn.Module:
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture is one of {', '.join(ARCHITECTURES)}, not {architecture!r}")
    return SmallCNN() if architecture == "small" else Net()


@dataclass(frozen=True)
class TrainingOptions:
    epochs: int = 1
    architecture: str = "small"
    augmentation: bool = False
    images: int = MNIST_TRAIN_IMAGES  # how many of MNIST's training images to learn from
    seed: int = 0

    def checked(self) -> TrainingOptions:
        """The options, or ValueError for any out of range."""
        if not 1 <= self.epochs <= MAX_EPOCHS:
            raise ValueError(f"epochs is 1 to {MAX_EPOCHS}, not {self.epochs}")
        if not 100 <= self.images <= MNIST_TRAIN_IMAGES:
            raise ValueError(f"images is 100 to {MNIST_TRAIN_IMAGES:,}, not {self.images}")
        new_model(self.architecture)
        return self


@dataclass
class Update:
    """Where a training is: after `step` steps, the loss and accuracy of the last steps."""

    step: int
    epoch: float  # epochs done, fractional
    loss: float
    accuracy: float
    seconds: float
    done: bool = False
    why: str = ""  # why it ended: "done", "stopped", "the time cap"


@dataclass
class Training:
    """One training: its options, its data, its model, and a flag that stops it cleanly."""

    options: TrainingOptions
    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) int
    stop: threading.Event = field(default_factory=threading.Event)
    history: list[Update] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.options.checked()
        torch.manual_seed(self.options.seed)
        self.model = new_model(self.options.architecture)

    def steps(self, max_seconds: float = MAX_SECONDS, device: str = "cpu") -> Iterator[Update]:
        """Train, yielding an Update every UPDATE_EVERY steps and a last one when it ends."""
        options, model = self.options, self.model.to(device)
        generator = torch.Generator().manual_seed(options.seed)
        pick = torch.randperm(len(self.labels), generator=generator)[: options.images]
        x = torch.from_numpy(self.images[pick.numpy()]).float().div_(255).unsqueeze(1)
        y = torch.from_numpy(np.asarray(self.labels)[pick.numpy()]).long()
        optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
        start, step, losses, right, seen = time.monotonic(), 0, 0.0, 0, 0
        steps_per_epoch = -(-len(y) // BATCH_SIZE)
        why = "done"
        model.train()
        for epoch in range(options.epochs):
            order = torch.randperm(len(y), generator=generator)
            for begin in range(0, len(y), BATCH_SIZE):
                if self.stop.is_set() or time.monotonic() - start > max_seconds:
                    why = "stopped" if self.stop.is_set() else "the time cap"
                    break
                index = order[begin: begin + BATCH_SIZE]
                batch = x[index].to(device)
                if options.augmentation:
                    batch = augment(batch, generator if device == "cpu" else None)
                logits = model(batch)
                loss = F.cross_entropy(logits, y[index].to(device))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                step += 1
                losses += loss.item() * len(index)
                right += int((logits.argmax(1).cpu() == y[index]).sum())
                seen += len(index)
                if step % UPDATE_EVERY == 0:
                    yield self._record(step, step / steps_per_epoch, losses / seen, right / seen, start)
                    losses, right, seen = 0.0, 0, 0
            else:
                continue
            break
        model.eval()
        last = self._record(step, step / steps_per_epoch, losses / max(seen, 1), right / max(seen, 1), start)
        last.done, last.why = True, why
        yield last

    def _record(self, step: int, epoch: float, loss: float, accuracy: float, start: float) -> Update:
        update = Update(step, round(epoch, 3), round(loss, 4), round(accuracy, 4), round(time.monotonic() - start, 1))
        self.history.append(update)
        return update


def probabilities(model: nn.Module, digits: np.ndarray, batch: int = 1000) -> np.ndarray:
    """(N, 10) softmax probabilities of the digits (N, 28, 28) in [0, 1]: a digitdraw Net's "not a
    digit" class, never trained here, is left out."""
    model.eval()
    with torch.inference_mode():
        logits = torch.cat([model(torch.from_numpy(np.asarray(digits[i: i + batch], np.float32)).unsqueeze(1))
                            for i in range(0, len(digits), batch)])
    return torch.softmax(logits[:, :10], dim=1).numpy()


def accuracy(model: nn.Module, digits: np.ndarray, labels: np.ndarray) -> float:
    return float((probabilities(model, digits).argmax(1) == np.asarray(labels)).mean())


@dataclass
class Trained:
    """A session's trained model and what it measured."""

    model: nn.Module
    options: TrainingOptions
    mnist_test_accuracy: float
    drawings_accuracy: float
    seconds: float
    kept: float = field(default_factory=time.monotonic)


class SessionModels:
    """Each session's trained model, in memory only: nothing is written anywhere."""

    def __init__(self) -> None:
        self._models: OrderedDict[str, Trained] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, session: str, trained: Trained) -> None:
        with self._lock:
            self._models.pop(session, None)
            self._models[session] = trained
            while len(self._models) > MAX_SESSIONS:
                self._models.popitem(last=False)

    def get(self, session: str | None) -> Trained | None:
        with self._lock:
            trained = self._models.get(session or "")
            if trained is None or time.monotonic() - trained.kept > SESSION_SECONDS:
                self._models.pop(session or "", None)
                return None
            self._models.move_to_end(session)
            return trained
