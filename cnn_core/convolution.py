"""The convolution of an image with one kernel, and the worked computation of one output value."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .arithmetic import conv_output_size
from .errors import InputError
from .kernels import validate_kernel


def _as_image(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim not in (2, 3) or array.size == 0 or not np.issubdtype(array.dtype, np.number):
        raise InputError("err.image_shape", shape=tuple(array.shape))
    return array if array.ndim == 3 else array[:, :, None]


def output_shape(image_shape: tuple[int, ...], kernel_shape: tuple[int, int], stride: int = 1, padding: int = 0) -> tuple[int, int]:
    """The (rows, cols) of the feature map, one formula per dimension."""
    return (
        conv_output_size(image_shape[0], kernel_shape[0], stride, padding),
        conv_output_size(image_shape[1], kernel_shape[1], stride, padding),
    )


def convolve(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Cross-correlation (no kernel flip, as deep-learning frameworks do) with zero padding, per channel."""
    pixels = _as_image(image)
    weights = validate_kernel(kernel)
    rows, cols = output_shape(pixels.shape, weights.shape, stride, padding)
    # One pass per kernel tap over the whole image, in float64: faster on the CPU than conv2d's float64 path, and
    # the float32 result equals the sum explain_output_pixel shows a student.
    x = F.pad(torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1), dtype=np.float64)), (int(padding),) * 4)
    s = int(stride)
    out = torch.zeros((pixels.shape[2], rows, cols), dtype=torch.float64)
    for (i, j), weight in np.ndenumerate(weights):
        if weight != 0:
            out.add_(x[:, i : i + s * (rows - 1) + 1 : s, j : j + s * (cols - 1) + 1 : s], alpha=float(weight))
    result = out.numpy().transpose(1, 2, 0).astype(np.float32)
    return result[:, :, 0] if np.asarray(image).ndim == 2 else result


@dataclass(frozen=True)
class PixelExplanation:
    """How one output value is computed: window, products and their sum."""

    row: int
    col: int
    top: int  # input row of the window's first row; negative where it starts in the padding
    left: int
    window: np.ndarray  # kh × kw × C input values, zeros where the window lies in the padding
    is_padding: np.ndarray  # kh × kw, True where the value is a padding zero
    kernel: np.ndarray  # kh × kw
    products: np.ndarray  # kh × kw × C, window * kernel
    sums: np.ndarray  # C values, float32, equal to convolve(...)[row, col]

    @property
    def input_rows(self) -> range:
        """The input rows (not padding) the window covers."""
        return range(max(self.top, 0), max(self.top, 0) + int((~self.is_padding).any(axis=1).sum()))

    @property
    def input_cols(self) -> range:
        """The input columns (not padding) the window covers."""
        return range(max(self.left, 0), max(self.left, 0) + int((~self.is_padding).any(axis=0).sum()))


def explain_output_pixel(
    image: np.ndarray, kernel: np.ndarray, row: int, col: int, stride: int = 1, padding: int = 0
) -> PixelExplanation:
    """The receptive field of output pixel (row, col), the element-wise products and their sum."""
    pixels = _as_image(image)
    weights = validate_kernel(kernel)
    rows, cols = output_shape(pixels.shape, weights.shape, stride, padding)
    if not (0 <= int(row) < rows and 0 <= int(col) < cols):
        raise InputError("err.pixel_outside", row=row, col=col, rows=rows, cols=cols)
    kh, kw = weights.shape
    top, left = int(row) * int(stride) - int(padding), int(col) * int(stride) - int(padding)
    r = np.arange(top, top + kh)
    c = np.arange(left, left + kw)
    inside_r = (r >= 0) & (r < pixels.shape[0])
    inside_c = (c >= 0) & (c < pixels.shape[1])
    is_padding = ~(inside_r[:, None] & inside_c[None, :])
    window = np.zeros((kh, kw, pixels.shape[2]), dtype=np.float64)
    window[np.ix_(inside_r, inside_c)] = pixels[np.ix_(r[inside_r], c[inside_c])]
    products = window * weights[:, :, None]
    sums = products.sum(axis=(0, 1)).astype(np.float32)
    return PixelExplanation(
        row=int(row), col=int(col), top=top, left=left, window=window, is_padding=is_padding,
        kernel=weights, products=products, sums=sums,
    )
