"""The shipped network's training, read back from its model card: per-epoch history, learning rates, smoothed targets."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .model import CifarNet
from .train import Recipe, lr_factor, make_optimizer

__all__ = ["History", "card_recipe", "history", "largest_drop", "learning_rates", "smoothed_target", "smoothing_loss_floor"]


@dataclasses.dataclass(frozen=True)
class History:
    """One value per epoch, as the training run logged them."""

    epoch: np.ndarray  # 1, 2, …
    loss: np.ndarray  # mean label-smoothed cross-entropy over the epoch's training batches
    train_accuracy: np.ndarray  # on the augmented training batches, while the weights were still changing
    test_accuracy: np.ndarray  # on the 10,000 test images at the end of the epoch, one view (no test-time views)


def card_recipe(card: dict[str, Any]) -> Recipe:
    """The Recipe a model card was trained with (fields the card lacks take the current defaults)."""
    known = {field.name for field in dataclasses.fields(Recipe)}
    return Recipe(**{k: v for k, v in card["training"]["recipe"].items() if k in known})


def history(card: dict[str, Any]) -> History:
    """The per-epoch history of a model card as arrays; ValueError if it is missing or not finite."""
    rows = card.get("training", {}).get("history") or []
    try:
        columns = {key: np.array([float(row[key]) for row in rows]) for key in ("epoch", "loss", "train_accuracy", "test_accuracy")}
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"the model card's training history is incomplete: {error}") from error
    if not rows or not all(np.isfinite(v).all() for v in columns.values()):
        raise ValueError("the model card has no usable training history")
    return History(columns["epoch"].astype(int), columns["loss"], columns["train_accuracy"], columns["test_accuracy"])


def largest_drop(values: np.ndarray) -> tuple[int, int]:
    """(i, j), i ≤ j, where values[i] − values[j] is largest with i before j: a curve's worst fall; (0, 0) if it never falls."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("no values")
    running = np.maximum.accumulate(values)
    dip = int(np.argmax(running - values))
    return int(np.argmax(values[: dip + 1])), dip


def learning_rates(recipe: Recipe, train_images: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(epochs completed after the step, lr of the filters, lr of the batch-norm shifts) at every step, as SGD used them."""
    groups = make_optimizer(CifarNet(), recipe).param_groups  # the optimizer cnn_core.train builds
    bias_lr, filter_lr = (group["lr"] for group in groups)
    steps_per_epoch = train_images // recipe.batch_size
    total = steps_per_epoch * recipe.epochs
    factors = np.array([lr_factor(step, total, recipe) for step in range(total)])  # LambdaLR's factor before each step
    return np.arange(1, total + 1) / steps_per_epoch, filter_lr * factors, bias_lr * factors


def smoothed_target(true_class: int, classes: int, smoothing: float) -> np.ndarray:
    """The target label smoothing trains towards: 1 − ε + ε/K on the true class, ε/K on every other."""
    if not (0 <= smoothing <= 1 and classes >= 2 and 0 <= true_class < classes):
        raise ValueError(f"need 0 ≤ ε ≤ 1, K ≥ 2 and a class in 0…K−1, got ε={smoothing}, K={classes}, y={true_class}")
    target = np.full(classes, smoothing / classes)
    target[true_class] += 1 - smoothing
    return target


def smoothing_loss_floor(classes: int, smoothing: float) -> float:
    """The lowest label-smoothed cross-entropy any prediction can reach: the entropy of the smoothed target."""
    q = smoothed_target(0, classes, smoothing)
    return float(-sum(p * math.log(p) for p in q if p > 0))
