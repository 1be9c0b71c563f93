"""Noise added to an image, its removal with a Gaussian (or median) filter, and the PSNR that measures the result."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .arithmetic import same_padding
from .convolution import convolve
from .errors import InputError
from .kernels import get_kernel

NOISES: tuple[str, ...] = ("gaussian", "salt_pepper")
MAX_GAUSSIAN_STD = 255.0


def _as_image(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or array.size == 0:
        raise InputError("err.image_shape", shape=tuple(array.shape))
    return array


def add_gaussian_noise(image: np.ndarray, std: float, seed: int = 0) -> np.ndarray:
    """`image` (uint8) plus independent normal noise of standard deviation `std` (0–255 units), rounded and clipped to 0–255."""
    pixels = _as_image(image)
    if not (isinstance(std, (int, float, np.number)) and math.isfinite(std) and 0 <= std <= MAX_GAUSSIAN_STD):
        raise InputError("nz.err_std", value=std, max=MAX_GAUSSIAN_STD)
    noise = np.random.default_rng(int(seed)).normal(0.0, float(std), pixels.shape)
    return np.clip(np.rint(pixels + noise), 0, 255).astype(np.uint8)


def add_salt_pepper(image: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """`image` (uint8) with round(fraction · H · W) random pixels set to black or white (all channels), half each on average."""
    pixels = _as_image(image)
    if not (isinstance(fraction, (int, float, np.number)) and math.isfinite(fraction) and 0 <= fraction <= 1):
        raise InputError("nz.err_fraction", value=fraction)
    rng = np.random.default_rng(int(seed))
    height, width = pixels.shape[:2]
    chosen = rng.permutation(height * width)[: int(round(fraction * height * width))]
    values = np.where(rng.random(len(chosen)) < 0.5, 0, 255).astype(np.uint8)
    out = pixels.copy()
    flat = out.reshape(height * width, -1)
    flat[chosen] = values[:, None]
    return out


def add_noise(image: np.ndarray, kind: str, amount: float, seed: int = 0) -> np.ndarray:
    """Gaussian noise of std `amount` (0–255) or salt-and-pepper noise on a fraction `amount` of the pixels."""
    if kind == "gaussian":
        return add_gaussian_noise(image, amount, seed)
    if kind == "salt_pepper":
        return add_salt_pepper(image, amount, seed)
    raise InputError("nz.err_kind", kind=kind, kinds=", ".join(NOISES))


def mse(reference: np.ndarray, image: np.ndarray) -> float:
    """Mean of the squared differences of two images of the same shape (0–255 units)."""
    a, b = np.asarray(reference, dtype=np.float64), np.asarray(image, dtype=np.float64)
    if a.shape != b.shape or a.size == 0:
        raise InputError("nz.err_shapes", first=tuple(a.shape), second=tuple(b.shape))
    return float(np.mean((a - b) ** 2))


def psnr(reference: np.ndarray, image: np.ndarray) -> float:
    """Peak signal-to-noise ratio 10·log10(255² / MSE) in dB; infinite for identical images."""
    error = mse(reference, image)
    return math.inf if error == 0 else 10 * math.log10(255.0**2 / error)


def gaussian_smooth(image: np.ndarray, size: int, sigma: float) -> np.ndarray:
    """Each channel convolved with the size×size Gaussian kernel, edges repeated (size − 1)/2 times to keep the size, as uint8."""
    pixels = _as_image(image)
    kernel = get_kernel("gaussian", size, sigma)
    # Repeated edges, the median filter's border rule: zero padding would darken a border band and bias the comparison.
    half = same_padding(kernel.shape[0])
    smoothed = convolve(np.pad(pixels, ((half, half), (half, half)) + ((0, 0),) * (pixels.ndim - 2), mode="edge"), kernel)
    return np.clip(np.rint(smoothed), 0, 255).astype(np.uint8)


def median_filter(image: np.ndarray, size: int = 3) -> np.ndarray:
    """Each value replaced by the median of its size×size neighbourhood in its channel (edges repeated), same size."""
    pixels = _as_image(image)
    if isinstance(size, bool) or not float(size).is_integer() or not 1 <= size <= 15 or size % 2 == 0:
        raise InputError("nz.err_median_size", size=size)
    size, half = int(size), int(size) // 2
    planes = pixels if pixels.ndim == 3 else pixels[:, :, None]
    x = torch.from_numpy(np.ascontiguousarray(planes.transpose(2, 0, 1))).float()[:, None]  # C × 1 × H × W
    x = F.pad(x, (half,) * 4, mode="replicate")
    windows = x.unfold(2, size, 1).unfold(3, size, 1)  # C × 1 × H × W × size × size
    median = windows.reshape(*windows.shape[:4], -1).median(dim=-1).values[:, 0]
    out = median.to(torch.uint8).numpy().transpose(1, 2, 0)
    return np.ascontiguousarray(out if pixels.ndim == 3 else out[:, :, 0])


def psnr_after_smoothing(reference: np.ndarray, noisy: np.ndarray, sizes: list[int], sigmas: list[float]) -> np.ndarray:
    """PSNR (dB) of `noisy` smoothed with each Gaussian: rows are `sizes`, columns are `sigmas`."""
    return np.array([[psnr(reference, gaussian_smooth(noisy, size, sigma)) for sigma in sigmas] for size in sizes])
