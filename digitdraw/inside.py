"""Inside the model, for one 28x28 digit: what every convolution made of it, the pooled features,
and the logits before and after the temperature. No Gradio here.

    look = look_inside(model, temperature, digit)   # Inside: .layers, .pooled, .logits, ...
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

# Maps are tiled with a 1-pixel gap, this gray, so that each stays apart.
GAP = 0.25
# At most this many maps in a row: 8 keeps the first layers' 28x28 maps readable on a phone.
COLUMNS = 8


@dataclass
class Layer:
    name: str  # "convolution 1"
    shape: tuple[int, int, int]  # (maps, height, width)
    image: np.ndarray  # the maps tiled in a grid, float in [0, 1]
    sentence: str


@dataclass
class Inside:
    layers: list[Layer]
    pooled: Layer
    classes: tuple[str, ...]
    logits: np.ndarray  # the last layer's scores
    scaled: np.ndarray  # divided by the temperature
    probabilities: np.ndarray  # the softmax of the scaled scores


def tile(maps: np.ndarray, columns: int = COLUMNS) -> np.ndarray:
    """(N, H, W) maps, each scaled to [0, 1] on its own, tiled in a grid of `columns` with gaps."""
    n, h, w = maps.shape
    low = maps.reshape(n, -1).min(axis=1)[:, None, None]
    span = np.maximum(maps.reshape(n, -1).max(axis=1)[:, None, None] - low, 1e-6)
    scaled = (maps - low) / span
    columns = min(columns, n)
    rows = -(-n // columns)
    grid = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), GAP, np.float32)
    for i, m in enumerate(scaled):
        r, c = divmod(i, columns)
        grid[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = m
    return grid


def _recorded(model: nn.Module, digit: np.ndarray) -> tuple[list[tuple[nn.Module, torch.Tensor]], torch.Tensor]:
    """Every leaf layer's output for the digit, in the order they ran, and the logits."""
    seen: list[tuple[nn.Module, torch.Tensor]] = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append((m, o.detach()[0])))
             for m in model.modules() if not list(m.children())]
    try:
        model.eval()
        with torch.inference_mode():
            logits = model(torch.from_numpy(np.asarray(digit, np.float32))[None, None])[0]
    finally:
        for hook in hooks:
            hook.remove()
    return seen, logits


def look_inside(model: nn.Module, temperature: float, digit: np.ndarray, classes: tuple[str, ...]) -> Inside:
    """Each convolution's maps after its activation, the pooled features and the logits for `digit` (28x28)."""
    seen, logits = _recorded(model, digit)
    layers, pooled = [], None
    for i, (module, out) in enumerate(seen):
        if isinstance(module, nn.Conv2d):
            after = next((o for m, o in seen[i + 1:] if isinstance(m, nn.ReLU)), out)  # after its ReLU
            number = len(layers) + 1
            maps, h, w = after.shape
            layers.append(Layer(f"convolution {number}", (maps, h, w), tile(after.numpy()),
                                f"Convolution {number}: {maps} filters, each slid over "
                                f"{'the digit' if number == 1 else 'the maps before'}: one map of {h}x{w} each, "
                                "bright where its pattern is found."))
        elif isinstance(module, (nn.AdaptiveAvgPool2d, nn.AvgPool2d)) or (isinstance(module, nn.MaxPool2d) and i + 1 < len(seen)
                                                                          and isinstance(seen[i + 1][0], nn.Flatten)):
            maps, h, w = out.shape
            pooled = Layer("pooled features", (maps, h, w), tile(out.numpy(), columns=16),
                           f"The pooled features: each of the {maps} maps shrunk to {h}x{w}; these "
                           f"{maps * h * w:,} numbers are all the last layer sees.")
    scaled = logits / temperature
    return Inside(layers, pooled, classes, logits.numpy(), scaled.numpy(), torch.softmax(scaled, 0).numpy())
