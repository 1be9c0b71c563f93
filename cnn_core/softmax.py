"""Softmax and cross-entropy, the last step of a classifier."""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """exp(z_i / T) / Σ_j exp(z_j / T) along the last axis, computed without overflow."""
    if not temperature > 0:
        raise ValueError("the temperature must be positive")
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)  # same result, no overflow of exp
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
