"""Max and average pooling of one image or feature-map volume, and the worked computation of one output value."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .arithmetic import _as_int, conv_output_size
from .errors import InputError

POOL_MODES: tuple[str, ...] = ("max", "avg")


@dataclass(frozen=True)
class Pooled:
    """The pooled values and, for max pooling, where each winner sits in the input."""

    values: np.ndarray  # (C ×) H' × W' float64
    winners: np.ndarray | None  # (C ×) H' × W' × 2 int64: input (row, col) of each window's maximum; None for average


@dataclass(frozen=True)
class PoolWindow:
    """How one pooled value is obtained: its window, and the winner or the average."""

    row: int
    col: int
    channel: int
    mode: str
    top: int  # input row of the window's first row
    left: int  # input column of the window's first column
    values: np.ndarray  # k × k input values of the window
    value: float  # the pooled value, equal to pool2d(...).values at (channel,) row, col
    winner: tuple[int, int] | None  # input (row, col) of the maximum; None for average
    total: float  # sum of the window (the numerator of the average)

    @property
    def count(self) -> int:
        """Number of values in the window (the denominator of the average)."""
        return int(self.values.size)

    @property
    def winner_in_window(self) -> tuple[int, int] | None:
        """The maximum's (row, col) inside the window, 0-based."""
        return None if self.winner is None else (self.winner[0] - self.top, self.winner[1] - self.left)


def _as_volume(x: np.ndarray) -> np.ndarray:
    array = np.asarray(x)
    if array.ndim not in (2, 3) or array.size == 0 or not np.issubdtype(array.dtype, np.number):
        raise InputError("pool.err_shape", shape=tuple(array.shape))
    if not np.isfinite(array).all():
        raise InputError("pool.err_not_finite")
    return array.astype(np.float64)[None] if array.ndim == 2 else array.astype(np.float64)


def _channels(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 1:
        raise InputError("pool.err_channels", value=value)
    return int(value)


def _check_mode(mode: str) -> str:
    if mode not in POOL_MODES:
        raise InputError("pool.err_mode", mode=mode, modes=", ".join(POOL_MODES))
    return mode


def pool_output_shape(height: int, width: int, window: int, stride: int | None = None) -> tuple[int, int]:
    """(rows, cols) after pooling with a window×window window and no padding: floor((m - k)/s) + 1 per dimension."""
    k = _as_int(window, "kernel", 1)
    s = k if stride is None else _as_int(stride, "stride", 1)
    rows, cols = _as_int(height, "size", 1), _as_int(width, "size", 1)
    if k > min(rows, cols):
        raise InputError("pool.err_window_too_large", k=k, rows=rows, cols=cols)
    return conv_output_size(rows, k, s), conv_output_size(cols, k, s)


def pool2d(x: np.ndarray, window: int, stride: int | None = None, mode: str = "max") -> Pooled:
    """Max or average pooling of an H×W or C×H×W array per channel (stride defaults to the window, no padding)."""
    volume = _as_volume(x)
    _check_mode(mode)
    k = _as_int(window, "kernel", 1)
    s = k if stride is None else _as_int(stride, "stride", 1)
    rows, cols = pool_output_shape(volume.shape[1], volume.shape[2], k, s)
    windows = sliding_window_view(volume, (k, k), axis=(1, 2))[:, : (rows - 1) * s + 1 : s, : (cols - 1) * s + 1 : s]
    flat = windows.reshape(*windows.shape[:3], k * k)  # C × H' × W' × k²
    winners = None
    if mode == "max":
        best = flat.argmax(axis=-1)  # the first maximum in reading order, as PyTorch picks it
        values = np.take_along_axis(flat, best[..., None], axis=-1)[..., 0]
        within_row, within_col = np.divmod(best, k)
        winners = np.stack([np.arange(rows)[:, None] * s + within_row, np.arange(cols)[None, :] * s + within_col], axis=-1)
        winners = winners.astype(np.int64)
    else:
        values = flat.mean(axis=-1)
    if np.asarray(x).ndim == 2:
        return Pooled(values=values[0], winners=None if winners is None else winners[0])
    return Pooled(values=values, winners=winners)


def explain_pool_output(
    x: np.ndarray, row: int, col: int, window: int, stride: int | None = None, mode: str = "max", channel: int = 0
) -> PoolWindow:
    """The window of output value (row, col) of one channel, and its maximum or its average."""
    volume = _as_volume(x)
    _check_mode(mode)
    k = _as_int(window, "kernel", 1)
    s = k if stride is None else _as_int(stride, "stride", 1)
    rows, cols = pool_output_shape(volume.shape[1], volume.shape[2], k, s)
    channels = volume.shape[0]
    if not 0 <= int(channel) < channels:
        raise InputError("pool.err_channel", channel=channel, channels=channels)
    if not (0 <= int(row) < rows and 0 <= int(col) < cols):
        raise InputError("pool.err_outside", row=row, col=col, rows=rows, cols=cols)
    top, left = int(row) * s, int(col) * s
    values = volume[int(channel), top : top + k, left : left + k].copy()
    total = float(values.sum())
    if mode == "max":
        r, c = np.unravel_index(int(values.argmax()), values.shape)
        return PoolWindow(int(row), int(col), int(channel), mode, top, left, values, float(values[r, c]),
                          (top + int(r), left + int(c)), total)
    return PoolWindow(int(row), int(col), int(channel), mode, top, left, values, float(values.mean()), None, total)


def pooled_volume(height: int, width: int, channels: int, window: int, stride: int | None = None) -> tuple[int, int, int]:
    """The H'×W'×C volume that pooling makes of an H×W×C one: width and height shrink, the channels stay."""
    rows, cols = pool_output_shape(height, width, window, stride)
    return rows, cols, _channels(channels)


def pool_parameters(window: int, channels: int) -> int:
    """Learnable parameters of a pooling layer: none, whatever its window and channels (it only takes a max or a mean)."""
    _as_int(window, "kernel", 1)
    _channels(channels)
    return 0


def matching_conv_parameters(window: int, channels: int) -> int:
    """Weights and biases of a convolution with the same window, C channels in and C out: C·(k·k·C + 1)."""
    k = _as_int(window, "kernel", 1)
    c = _channels(channels)
    return c * (k * k * c + 1)
