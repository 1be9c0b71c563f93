"""Softmax and cross-entropy, the last step of a classifier, and the sigmoid it replaces."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import InputError

MIN_CLASSES = 2
MAX_CLASSES = 30
MAX_LOGIT = 1e6  # far beyond any real network's logits; keeps z / T finite for every temperature the page offers
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)(e[+-]?\d+)?$", re.IGNORECASE)


def _check_temperature(temperature: float) -> float:
    """The temperature as a float, refused unless it is a positive finite number."""
    try:
        value = float(temperature)
    except (TypeError, ValueError):
        raise InputError("sm.err_temperature", temperature=temperature) from None
    if not (math.isfinite(value) and value > 0):
        raise InputError("sm.err_temperature", temperature=temperature)
    return value


def _shifted(logits: np.ndarray, temperature: float) -> np.ndarray:
    """(z − max z) / T: the exponent of every term, at most 0, so exp never overflows."""
    z = np.asarray(logits, dtype=np.float64)
    # Subtract before dividing: the difference of finite logits stays finite even for a tiny T.
    return (z - z.max(axis=-1, keepdims=True)) / _check_temperature(temperature)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """exp(z_i / T) / Σ_j exp(z_j / T) along the last axis, computed without overflow."""
    e = np.exp(_shifted(logits, temperature))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """log of softmax(z / T) along the last axis, by log-sum-exp (finite even where the probability underflows)."""
    shifted = _shifted(logits, temperature)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def logsumexp(values: np.ndarray) -> np.ndarray:
    """log Σ_j exp(v_j) along the last axis, as max + log Σ exp(v_j − max)."""
    v = np.asarray(values, dtype=np.float64)
    top = v.max(axis=-1)
    return top + np.log(np.exp(v - top[..., None]).sum(axis=-1))


def _check_class(logits: np.ndarray, true_class: int) -> tuple[np.ndarray, int]:
    """1-D float logits and the true class as a valid index into them."""
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 1 or z.size < 1:
        raise ValueError(f"expected a 1-D array of logits, got shape {z.shape}")
    if isinstance(true_class, bool) or not float(true_class).is_integer() or not 0 <= int(true_class) < z.size:
        raise InputError("sm.err_true_class", index=true_class, count=z.size)
    return z, int(true_class)


def cross_entropy(logits: np.ndarray, true_class: int, temperature: float = 1.0) -> float:
    """−log p_true, the loss of one example, computed as log Σ_j exp(z_j / T) − z_true / T."""
    z, y = _check_class(logits, true_class)
    return float(-log_softmax(z, temperature)[y])


def cross_entropy_gradient(logits: np.ndarray, true_class: int, temperature: float = 1.0) -> np.ndarray:
    """∂L/∂z_i = (p_i − onehot_i) / T: the gradient of the cross-entropy with respect to each logit."""
    z, y = _check_class(logits, true_class)
    gradient = softmax(z, temperature)
    gradient[y] -= 1.0
    return gradient / _check_temperature(temperature)


def smoothed_targets(count: int, true_class: int, smoothing: float) -> np.ndarray:
    """Label smoothing's target q: (1 − ε)·one-hot + ε/K, instead of the one-hot vector itself."""
    if not (isinstance(smoothing, (int, float)) and 0 <= smoothing <= 1):
        raise ValueError(f"label smoothing must be in [0, 1], got {smoothing!r}")
    q = np.full(count, smoothing / count)
    q[true_class] += 1.0 - smoothing
    return q


def smoothed_cross_entropy(logits: np.ndarray, true_class: int, smoothing: float, temperature: float = 1.0) -> float:
    """−Σ q_i log p_i with label smoothing's targets q (PyTorch's CrossEntropyLoss(label_smoothing=ε))."""
    z, y = _check_class(logits, true_class)
    return float(-(smoothed_targets(z.size, y, smoothing) * log_softmax(z, temperature)).sum())


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    """1 / (1 + e^{−x}) elementwise, without overflow for large |x|."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))  # ≤ 1, never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def negative_log(p: np.ndarray | float) -> np.ndarray:
    """−log p elementwise: the loss as a function of the probability given to the true class."""
    return -np.log(np.asarray(p, dtype=np.float64))


@dataclass(frozen=True)
class SoftmaxSteps:
    """Every intermediate number of softmax and cross-entropy for one vector of logits."""

    logits: np.ndarray  # z
    temperature: float  # T
    scaled: np.ndarray  # z / T
    shifted: np.ndarray  # z / T − max_j z_j / T, all ≤ 0
    exps: np.ndarray  # exp(shifted), all in (0, 1]
    total: float  # Σ exps
    probabilities: np.ndarray  # exps / total
    log_sum_exp: float  # log Σ exp(z_j / T)
    true_class: int
    loss: float  # −log p_true
    gradient: np.ndarray  # ∂L/∂z
    predicted: int  # argmax p
    overflow: bool  # whether exp(z / T) computed naively would overflow float64


def softmax_steps(logits: np.ndarray, true_class: int, temperature: float = 1.0) -> SoftmaxSteps:
    """Softmax, the loss and its gradient, with the shifted exponentials that make them safe to compute."""
    z, y = _check_class(logits, true_class)
    temperature = _check_temperature(temperature)
    scaled = z / temperature
    shifted = _shifted(z, temperature)
    exps = np.exp(shifted)
    total = float(exps.sum())
    probabilities = exps / total
    with np.errstate(over="ignore"):
        overflow = bool(np.isinf(np.exp(scaled)).any())
    return SoftmaxSteps(
        logits=z, temperature=temperature, scaled=scaled, shifted=shifted, exps=exps, total=total,
        probabilities=probabilities, log_sum_exp=float(logsumexp(scaled)),
        true_class=y, loss=cross_entropy(z, y, temperature), gradient=cross_entropy_gradient(z, y, temperature),
        predicted=int(np.argmax(probabilities)), overflow=overflow,
    )


def parse_logit(cell: object, row: int) -> float:
    """One logit typed by a student (number or text such as '2', '-0,5', '1e3'); `row` counts from 0."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)) or (isinstance(cell, str) and not cell.strip()):
        raise InputError("sm.err_empty", row=row + 1)
    if isinstance(cell, (int, float, np.integer, np.floating)) and not isinstance(cell, bool):
        value = float(cell)
    else:
        text = str(cell).strip().replace("−", "-").replace(" ", "")
        if not _NUMBER.match(text):
            raise InputError("sm.err_not_number", row=row + 1, text=str(cell).strip()[:20])
        value = float(text.replace(",", "."))
    if not math.isfinite(value):
        raise InputError("sm.err_not_finite", row=row + 1)
    if abs(value) > MAX_LOGIT:
        raise InputError("sm.err_too_large", row=row + 1, limit=MAX_LOGIT)
    return value


def parse_logits(cells: Sequence[object]) -> np.ndarray:
    """A student's list of logits as float64, from 2 to 30 of them, the first bad one named."""
    cells = list(cells)
    if not MIN_CLASSES <= len(cells) <= MAX_CLASSES:
        raise InputError("sm.err_count", count=len(cells), minimum=MIN_CLASSES, maximum=MAX_CLASSES)
    return np.array([parse_logit(cell, row) for row, cell in enumerate(cells)], dtype=np.float64)
