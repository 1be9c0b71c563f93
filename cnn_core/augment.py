"""Geometric and noise changes to an image, for the robustness explorer and data augmentation."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
import torch
import torchvision.transforms.v2 as v2
import torchvision.transforms.v2.functional as TF
from torchvision import tv_tensors

from .errors import InputError

MAX_VERSIONS = 64


def perturb(
    image: np.ndarray, shift: tuple[int, int] = (0, 0), angle: float = 0.0, scale: float = 1.0,
    flip: bool = False, noise: float = 0.0, seed: int = 0,
) -> np.ndarray:
    """`image` (H×W×3 uint8) shifted (dx, dy) pixels, rotated `angle`°, scaled, mirrored, plus Gaussian noise of std `noise`."""
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


@dataclass(frozen=True)
class Augmentation:
    """The random changes of a training image; 0 (or 1 for `min_area`) switches a change off."""

    hflip: float = 0.0  # probability of a horizontal mirror
    vflip: float = 0.0  # probability of a vertical mirror
    degrees: float = 0.0  # rotation drawn from [-degrees, degrees]
    translate: float = 0.0  # shift drawn from [-translate, translate] × width (and × height)
    min_area: float = 1.0  # random crop of [min_area, 1] of the area, resized back to the full size
    brightness: float = 0.0  # factor drawn from [1 - brightness, 1 + brightness]
    contrast: float = 0.0
    saturation: float = 0.0
    hue: float = 0.0  # hue shift drawn from [-hue, hue] turns (at most 0.5)


_LIMITS: dict[str, tuple[float, float]] = {
    "hflip": (0.0, 1.0), "vflip": (0.0, 1.0), "degrees": (0.0, 180.0), "translate": (0.0, 0.5), "min_area": (0.01, 1.0),
    "brightness": (0.0, 1.0), "contrast": (0.0, 1.0), "saturation": (0.0, 1.0), "hue": (0.0, 0.5),
}


def _check(settings: Augmentation) -> None:
    for name, (low, high) in _LIMITS.items():
        value = getattr(settings, name)
        if not (isinstance(value, (int, float, np.number)) and math.isfinite(value) and low <= value <= high):
            raise InputError("aug.err_setting", name=name, value=value, low=low, high=high)


def pipeline(settings: Augmentation, size: tuple[int, int]) -> v2.Compose:
    """The torchvision v2 transforms for `settings` (crop, mirrors, rotation, shift, colour), keeping the size (height, width)."""
    _check(settings)
    steps: list[v2.Transform] = []
    if settings.min_area < 1:
        steps.append(v2.RandomResizedCrop(list(size), scale=(float(settings.min_area), 1.0), antialias=True))
    if settings.hflip > 0:
        steps.append(v2.RandomHorizontalFlip(p=float(settings.hflip)))
    if settings.vflip > 0:
        steps.append(v2.RandomVerticalFlip(p=float(settings.vflip)))
    if settings.degrees > 0:
        steps.append(v2.RandomRotation(float(settings.degrees), interpolation=v2.InterpolationMode.BILINEAR, fill=0))
    if settings.translate > 0:
        steps.append(v2.RandomAffine(degrees=0.0, translate=(float(settings.translate),) * 2, fill=0))
    jitter = {name: float(getattr(settings, name)) for name in ("brightness", "contrast", "saturation", "hue")}
    if any(jitter.values()):
        steps.append(v2.ColorJitter(**{name: value or None for name, value in jitter.items()}))
    return v2.Compose(steps or [v2.Identity()])


# torchvision's random transforms draw from torch's global generator, which every Streamlit session (thread) shares.
_rng_lock = threading.Lock()


def augment_images(image: np.ndarray, count: int, settings: Augmentation, seed: int = 0) -> np.ndarray:
    """`count` randomly augmented copies (count×H×W×3 uint8) of an H×W×3 uint8 image; the same seed gives the same copies."""
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3 or min(array.shape[:2]) < 2:
        raise InputError("err.image_shape", shape=tuple(array.shape))
    if isinstance(count, bool) or not float(count).is_integer() or not 1 <= count <= MAX_VERSIONS:
        raise InputError("aug.err_count", count=count, max=MAX_VERSIONS)
    transform = pipeline(settings, array.shape[:2])
    # In float32 in [0, 1]: the same transforms, but many times faster on the CPU than torch's uint8 kernels.
    source = tv_tensors.Image(torch.from_numpy(array.astype(np.float32) / 255).permute(2, 0, 1))
    with _rng_lock, torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        copies = torch.stack([transform(source) for _ in range(int(count))])
    out = copies.mul(255).round_().clamp_(0, 255).to(torch.uint8)
    return np.ascontiguousarray(out.permute(0, 2, 3, 1).numpy())


def agreement(original: int, predicted: np.ndarray) -> tuple[np.ndarray, float]:
    """Which predicted classes equal the original's, and the fraction that do."""
    same = np.asarray(predicted) == int(original)
    return same, float(same.mean()) if same.size else 0.0
