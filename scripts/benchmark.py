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


def like_a_server() -> None:
    """Make AppTest run scripts as a warm server does: app.py then the page, each compiled once.

    AppTest resets the pages-folder flag before every run (each run would be a server's first) and compiles every
    script anew with a fresh ScriptCache; a server keeps one ScriptCache for its life (tests/conftest.py does the first).
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    app_test.PagesManager = type("AppTestPagesManager", (PagesManager,), {})
    PagesManager.uses_pages_directory = False
    shared = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared


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

BARE_APP = """import streamlit as st
st.title("bare")
st.number_input("stride", 1, 64, 1, key="stride")
st.write(st.session_state.stride)
"""


def _rerun_times(at, key: str, values) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds (this process, every thread: AppTest runs the script in its own thread) of each rerun."""
    wall, cpu = [], []
    for value in values:
        at.number_input(key=key).set_value(value)
        start, start_cpu = time.perf_counter(), time.process_time()
        at.run()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        assert not at.exception
    return wall, cpu


def rerun_ratio(rounds: int = 3) -> None:
    """A playground rerun beside a bare Streamlit rerun (one widget, two elements), alternated rerun by rerun in one process.

    AppTest runs the script in this process, so the ratio compares the app's own work with Streamlit's fixed cost
    per run; machines differ by 2× or more, the ratio much less (issue 11's target: at most 8).
    """
    from streamlit.testing.v1 import AppTest

    like_a_server()  # called alone, it would compile every script on every run (10–12× instead)
    bare = AppTest.from_string(BARE_APP, default_timeout=60)
    bare.run()
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params["lang"] = "en"
    app.run()
    times = {"bare": ([], []), "app": ([], [])}
    # One rerun of each in turn: this machine's speed drifts within seconds, and both must see the same drift. The
    # first round builds the app's figures for each stride (as a class's first student does); later rounds share them.
    for _ in range(rounds):
        for stride in range(1, 13):
            for name, at, key in (("bare", bare, "stride"), ("app", app, "pg_stride")):
                wall, cpu = _rerun_times(at, key, [stride])
                times[name][0].extend(wall)
                times[name][1].extend(cpu)
    for i, clock in enumerate(("wall-clock", "CPU")):
        b, a = statistics.median(times["bare"][i]), statistics.median(times["app"][i])
        print(f"{clock}: bare Streamlit rerun (AppTest) median {b * 1000:.1f} ms; playground rerun after a stride change "
              f"median {a * 1000:.1f} ms; ratio {a / b:.1f}×")


if __name__ == "__main__":
    like_a_server()
    convolution()
    page_rerun()
    rerun_ratio()
