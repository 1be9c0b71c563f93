"""Geometric and noise changes to an image, for the robustness explorer and data augmentation."""

from __future__ import annotations

import numpy as np
import torch
import torchvision.transforms.v2.functional as TF


def perturb(
    image: np.ndarray, shift: tuple[int, int] = (0, 0), angle: float = 0.0, scale: float = 1.0,
    flip: bool = False, noise: float = 0.0, seed: int = 0,
) -> np.ndarray:
    """`image` (H×W×3 uint8) shifted by (dx, dy) pixels, rotated by `angle` degrees, scaled, mirrored, with Gaussian noise of std `noise` (0-255 units)."""
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)
    if flip:
        x = TF.horizontal_flip(x)
    if shift != (0, 0) or angle or scale != 1.0:
        x = TF.affine(x, angle=float(angle), translate=[int(shift[0]), int(shift[1])], scale=float(scale), shear=[0.0, 0.0],
                      interpolation=TF.InterpolationMode.BILINEAR, fill=0)
    out = x.permute(1, 2, 0).numpy().astype(np.float32)
    if noise > 0:
        out += np.random.default_rng(seed).normal(0.0, noise, out.shape).astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
