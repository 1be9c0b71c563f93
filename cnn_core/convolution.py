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


def output_shape(
    image_shape: tuple[int, ...], kernel_shape: tuple[int, int], stride: int = 1, padding: int = 0, dilation: int = 1
) -> tuple[int, int]:
    """The (rows, cols) of the feature map, one formula per dimension."""
    return (
        conv_output_size(image_shape[0], kernel_shape[0], stride, padding, dilation),
        conv_output_size(image_shape[1], kernel_shape[1], stride, padding, dilation),
    )


def convolve(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0, dilation: int = 1) -> np.ndarray:
    """Cross-correlation (no kernel flip, as deep-learning frameworks do) with zero padding, per channel."""
    pixels = _as_image(image)
    weights = validate_kernel(kernel)
    rows, cols = output_shape(pixels.shape, weights.shape, stride, padding, dilation)
    # One pass per kernel tap over the whole image, in float64: faster on the CPU than conv2d's float64 path, and
    # the float32 result equals the sum explain_output_pixel shows a student.
    x = F.pad(torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1), dtype=np.float64)), (int(padding),) * 4)
    s, d = int(stride), int(dilation)
    out = torch.zeros((pixels.shape[2], rows, cols), dtype=torch.float64)
    for (i, j), weight in np.ndenumerate(weights):
        if weight != 0:
            r0, c0 = i * d, j * d
            out.add_(x[:, r0 : r0 + s * (rows - 1) + 1 : s, c0 : c0 + s * (cols - 1) + 1 : s], alpha=float(weight))
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
    dilation: int = 1  # the window's taps are `dilation` input cells apart

    @property
    def input_rows(self) -> range:
        """The input rows (not padding) the window's taps fall on."""
        return _taps_inside(self.top, (~self.is_padding).any(axis=1), self.dilation)

    @property
    def input_cols(self) -> range:
        """The input columns (not padding) the window's taps fall on."""
        return _taps_inside(self.left, (~self.is_padding).any(axis=0), self.dilation)


def _taps_inside(start: int, inside: np.ndarray, dilation: int) -> range:
    taps = np.flatnonzero(inside)
    if taps.size == 0:
        return range(0)
    return range(start + int(taps[0]) * dilation, start + int(taps[-1]) * dilation + 1, dilation)


def explain_output_pixel(
    image: np.ndarray, kernel: np.ndarray, row: int, col: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> PixelExplanation:
    """The receptive field of output pixel (row, col), the element-wise products and their sum."""
    pixels = _as_image(image)
    weights = validate_kernel(kernel)
    rows, cols = output_shape(pixels.shape, weights.shape, stride, padding, dilation)
    if not (0 <= int(row) < rows and 0 <= int(col) < cols):
        raise InputError("err.pixel_outside", row=row, col=col, rows=rows, cols=cols)
    kh, kw = weights.shape
    top, left = int(row) * int(stride) - int(padding), int(col) * int(stride) - int(padding)
    d = int(dilation)
    r = top + d * np.arange(kh)
    c = left + d * np.arange(kw)
    inside_r = (r >= 0) & (r < pixels.shape[0])
    inside_c = (c >= 0) & (c < pixels.shape[1])
    is_padding = ~(inside_r[:, None] & inside_c[None, :])
    window = np.zeros((kh, kw, pixels.shape[2]), dtype=np.float64)
    window[np.ix_(inside_r, inside_c)] = pixels[np.ix_(r[inside_r], c[inside_c])]
    products = window * weights[:, :, None]
    sums = products.sum(axis=(0, 1)).astype(np.float32)
    return PixelExplanation(
        row=int(row), col=int(col), top=top, left=left, window=window, is_padding=is_padding,
        kernel=weights, products=products, sums=sums, dilation=d,
    )
