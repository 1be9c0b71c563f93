"""Shared paths and fixtures."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def encode(pixels: np.ndarray, fmt: str = "PNG", **options) -> bytes:
    """An image file's bytes, made with Pillow."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.fixture
def photo() -> np.ndarray:
    """A deterministic 48 × 64 RGB test image with edges and gradients."""
    y, x = np.mgrid[0:48, 0:64]
    img = np.stack([x * 4, y * 5, ((x // 8 + y // 8) % 2) * 255], axis=2)
    return img.astype(np.uint8)
