"""Batch augmentation on tensors: affine, elastic and stroke-thickness jitter (no torchvision)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_affine(n: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """(n, 2, 3) affine matrices: rotation +-12 deg, scale 0.85-1.1, shear +-0.25, shift +-1.5 px."""
    def uniform(low: float, high: float) -> torch.Tensor:
        return torch.empty(n, device=device).uniform_(low, high, generator=generator)

    angle = uniform(-12, 12) * math.pi / 180
    scale_x, scale_y = uniform(0.85, 1.1), uniform(0.85, 1.1)
    shear = uniform(-0.25, 0.25)
    shift_x, shift_y = uniform(-0.11, 0.11), uniform(-0.11, 0.11)  # 1.5 px of 28 in [-1, 1] units
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([
        torch.stack([cos / scale_x, (-sin + shear * cos) / scale_x, shift_x], dim=1),
        torch.stack([sin / scale_y, (cos + shear * sin) / scale_y, shift_y], dim=1),
    ], dim=1)
    return theta


def elastic_offsets(n: int, size: int, strength: float, generator: torch.Generator,
                    device: torch.device) -> torch.Tensor:
    """(n, size, size, 2) smooth random displacements, about `strength` px at most."""
    coarse = torch.empty(n, 2, 4, 4, device=device).uniform_(-1, 1, generator=generator)
    smooth = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=True)
    return smooth.permute(0, 2, 3, 1) * (2 * strength / size)


def change_thickness(x: torch.Tensor, amount: torch.Tensor) -> torch.Tensor:
    """Blend towards a dilated (amount > 0) or eroded (amount < 0) copy, per sample."""
    thick = F.max_pool2d(x, 3, stride=1, padding=1)
    thin = -F.max_pool2d(-x, 2, stride=1, padding=0)
    thin = F.pad(thin, (0, 1, 0, 1))
    a = amount.view(-1, 1, 1, 1)
    return torch.where(a >= 0, x + a * (thick - x), x + (-a) * (thin - x))


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random affine + elastic warp + stroke thickness for a batch (N, 1, 28, 28) in [0, 1]."""
    n, _, h, w = x.shape
    device = x.device
    grid = F.affine_grid(random_affine(n, generator, device), list(x.shape), align_corners=False)
    grid = grid + elastic_offsets(n, h, 1.5, generator, device)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    amount = torch.empty(n, device=device).uniform_(-0.8, 1.0, generator=generator)
    keep = torch.rand(n, device=device, generator=generator) < 0.6
    amount = torch.where(keep, torch.zeros_like(amount), amount)
    return change_thickness(x, amount).clamp_(0, 1)
