"""Figures for the README: convolution speed and page rerun time. Prints numbers; asserts nothing.

Run: .venv/bin/python scripts/benchmark.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnn_core import convolve, get_kernel  # noqa: E402


def timed(fn, repeat: int) -> list[float]:
    """Wall-clock seconds of each call after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def convolution() -> None:
    image = np.random.default_rng(0).integers(0, 256, (1200, 1700, 3), dtype=np.uint8)  # 2.04 megapixels, RGB
    kernel = get_kernel("gaussian", 7, 1.5)
    times = timed(lambda: convolve(image, kernel, stride=1, padding=3), 5)
    print(f"convolve, 1700×1200 RGB photo (2.0 MP), 7×7 kernel, padding 3: median {statistics.median(times) * 1000:.0f} ms "
          f"(min {min(times) * 1000:.0f} ms, {torch.get_num_threads()} threads)")


def page_rerun() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "en"
    at.run()
    for label in ("new settings, figures built", "settings another student already had, figures from the shared cache"):
        times = []
        for stride in range(1, 13):
            at.number_input(key="pg_stride").set_value(stride)
            start = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - start)
            assert not at.exception
        print(f"playground rerun after a stride change (AppTest, 256 px working image, {label}): "
              f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")

if __name__ == "__main__":
    convolution()
    page_rerun()
