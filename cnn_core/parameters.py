"""Parameter counts of a fully connected layer and of a convolutional layer: why the first does not scale to images."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .errors import InputError


@dataclass(frozen=True)
class ParameterCount:
    """The weights and biases of one layer."""

    weights: int
    biases: int

    @property
    def total(self) -> int:
        """Weights plus biases."""
        return self.weights + self.biases


@dataclass(frozen=True)
class Preset:
    """One of the lecture's worked examples: the inputs it sets, and the weight count it quotes for which layer."""

    values: dict[str, int]  # page field → value: width, height, channels, neurons, filters, kernel
    layer: str  # "fc" or "conv"
    weights: int


# The lecture: a CIFAR-10 image (32×32×3) gives each neuron 3,072 weights; a 200×200×3 image, 120,000;
# a 5×5 filter on 3 channels has 75 weights whatever the image size.
LECTURE_PRESETS: dict[str, Preset] = {
    "cifar": Preset({"width": 32, "height": 32, "channels": 3, "neurons": 1}, "fc", 3_072),
    "large": Preset({"width": 200, "height": 200, "channels": 3, "neurons": 1}, "fc", 120_000),
    "filter": Preset({"kernel": 5, "channels": 3, "filters": 1}, "conv", 75),
}
INT64_LIMIT = 2**62


def positive_int(value: object, symbol: str) -> int:
    """`value` as an int ≥ 1, else an InputError naming the lecture's `symbol` (W, H, C, N, n, k)."""
    if isinstance(value, bool):
        raise InputError("params.err_not_integer", symbol=symbol, value=value)
    if not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and np.isfinite(float(value)) and float(value).is_integer():
            value = int(value)
        else:
            raise InputError("params.err_not_integer", symbol=symbol, value=value)
    if int(value) < 1:
        raise InputError("params.err_not_positive", symbol=symbol, value=int(value))
    return int(value)


def fc_count(width: int, height: int, channels: int, neurons: int, bias: bool = True) -> ParameterCount:
    """A fully connected layer on a flattened W×H×C input: W·H·C·N weights and N biases."""
    w, h = positive_int(width, "W"), positive_int(height, "H")
    c, n = positive_int(channels, "C"), positive_int(neurons, "N")
    return ParameterCount(weights=w * h * c * n, biases=n if bias else 0)


def conv_count(kernel: int, channels: int, filters: int, bias: bool = True) -> ParameterCount:
    """n filters of k×k over C channels: k·k·C·n weights and n biases, whatever the image size."""
    k, c, n = positive_int(kernel, "k"), positive_int(channels, "C"), positive_int(filters, "n")
    return ParameterCount(weights=k * k * c * n, biases=n if bias else 0)


def fc_parameters(width: int, height: int, channels: int, neurons: int, bias: bool = True) -> int:
    """W·H·C·N (+ N with biases)."""
    return fc_count(width, height, channels, neurons, bias).total


def conv_parameters(kernel: int, channels: int, filters: int, bias: bool = True) -> int:
    """k·k·C·n (+ n with biases)."""
    return conv_count(kernel, channels, filters, bias).total


def growth(
    sides: np.ndarray, channels: int, neurons: int, kernel: int, filters: int, bias: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Parameters of the fully connected and the convolutional layer on square s×s×C images, for each side s."""
    c, n, k, f = positive_int(channels, "C"), positive_int(neurons, "N"), positive_int(kernel, "k"), positive_int(filters, "n")
    s = np.asarray(sides)
    if s.ndim != 1 or not np.issubdtype(s.dtype, np.integer) or (s < 1).any():
        raise ValueError(f"sides must be a 1-D array of positive integers, got {s!r}")
    if int(s.max(initial=1)) ** 2 * c * n >= INT64_LIMIT:  # exact counts beyond int64 would need Python ints
        raise ValueError("counts too large for int64; use fc_parameters for a single size")
    fc = s.astype(np.int64) ** 2 * (c * n) + (n if bias else 0)
    conv = np.full(s.shape, conv_parameters(k, c, f, bias), dtype=np.int64)
    return fc, conv
