"""Backpropagation through one sigmoid neuron by the chain rule, checked against torch.autograd."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .errors import InputError
from .softmax import sigmoid


def _finite(name: str, value: float) -> float:
    """`value` as a float, refused unless it is a finite number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError("bp.err_not_number", name=name, value=value) from None
    if not math.isfinite(number):
        raise InputError("bp.err_not_number", name=name, value=value)
    return number


@dataclass(frozen=True)
class ChainRule:
    """The forward pass z = w·a_prev + b, a = σ(z), L = (a − y)², and every factor of its backward pass."""

    w: float
    b: float
    a_prev: float  # a^(l−1), the previous layer's activation
    y: float  # the target
    z: float
    a: float
    loss: float
    dL_da: float  # 2(a − y)
    da_dz: float  # σ'(z) = σ(z)(1 − σ(z))
    dz_dw: float  # a^(l−1)
    dz_db: float  # 1
    dL_dz: float  # dL/da · da/dz
    dL_dw: float  # dL/da · da/dz · dz/dw
    dL_db: float  # dL/da · da/dz · dz/db


def neuron_loss(w: float, b: float, a_prev: float, y: float) -> float:
    """L = (σ(w·a_prev + b) − y)²."""
    return float((sigmoid(w * a_prev + b) - y) ** 2)


def chain_rule(w: float, b: float, a_prev: float, y: float) -> ChainRule:
    """The neuron's forward pass and the three factors of the lecture, multiplied into dL/dw and dL/db."""
    w, b, a_prev, y = (_finite(name, value) for name, value in (("w", w), ("b", b), ("a⁽ˡ⁻¹⁾", a_prev), ("y", y)))
    z = w * a_prev + b
    a = float(sigmoid(z))
    dL_da = 2.0 * (a - y)
    da_dz = a * (1.0 - a)
    dL_dz = dL_da * da_dz
    return ChainRule(
        w=w, b=b, a_prev=a_prev, y=y, z=z, a=a, loss=(a - y) ** 2, dL_da=dL_da, da_dz=da_dz, dz_dw=a_prev, dz_db=1.0,
        dL_dz=dL_dz, dL_dw=dL_dz * a_prev, dL_db=dL_dz * 1.0,
    )


def autograd_gradients(w: float, b: float, a_prev: float, y: float) -> tuple[float, float]:
    """(dL/dw, dL/db) of the same neuron, computed by torch.autograd in float64."""
    w, b, a_prev, y = (_finite(name, value) for name, value in (("w", w), ("b", b), ("a⁽ˡ⁻¹⁾", a_prev), ("y", y)))
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    loss = (torch.sigmoid(wt * a_prev + bt) - y) ** 2
    dw, db = torch.autograd.grad(loss, (wt, bt))
    return float(dw), float(db)


@dataclass(frozen=True)
class GradientStep:
    """One step w ← w − η·dL/dw, b ← b − η·dL/db, and the loss before and after it."""

    learning_rate: float
    w_before: float
    b_before: float
    dL_dw: float
    dL_db: float
    w_after: float
    b_after: float
    loss_before: float
    loss_after: float


def gradient_step(w: float, b: float, a_prev: float, y: float, learning_rate: float) -> GradientStep:
    """One step of gradient descent on w and b with learning rate η > 0."""
    eta = _finite("η", learning_rate)
    if eta <= 0:
        raise InputError("bp.err_learning_rate", value=learning_rate)
    before = chain_rule(w, b, a_prev, y)
    w_after = before.w - eta * before.dL_dw
    b_after = before.b - eta * before.dL_db
    return GradientStep(
        learning_rate=eta, w_before=before.w, b_before=before.b, dL_dw=before.dL_dw, dL_db=before.dL_db,
        w_after=w_after, b_after=b_after, loss_before=before.loss,
        loss_after=neuron_loss(w_after, b_after, before.a_prev, before.y),
    )


def loss_curve(w_values: np.ndarray, b: float, a_prev: float, y: float) -> np.ndarray:
    """L(w) = (σ(w·a_prev + b) − y)² for every w in `w_values`, b, a_prev and y fixed."""
    return (sigmoid(np.asarray(w_values, dtype=np.float64) * a_prev + b) - y) ** 2


def tangent_line(w_values: np.ndarray, w: float, b: float, a_prev: float, y: float) -> np.ndarray:
    """L(w₀) + dL/dw(w₀)·(w − w₀): the straight line that touches the loss curve at w₀ with slope dL/dw."""
    at = chain_rule(w, b, a_prev, y)
    return at.loss + at.dL_dw * (np.asarray(w_values, dtype=np.float64) - at.w)
