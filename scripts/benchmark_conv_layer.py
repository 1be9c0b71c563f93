"""Figures for the conv-layer page: bytes of its figures and rerun time in AppTest, for a few links. Prints numbers; asserts nothing.

Run: .venv/bin/python scripts/benchmark_conv_layer.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.runtime.pages_manager import PagesManager  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402
from streamlit.testing.v1 import app_test  # noqa: E402

LINKS = {
    "default (cat 32 px, 1 edge filter, animation 7×7 s 2 d 2)": {},
    "network preset, 64 px (24 maps)": {"cl_preset": "network", "cl_side": "64"},
    "transposed convolution": {"cl_amode": "transpose"},
    "largest animation (9×9, k 1, p 3: 225 steps)": {"cl_am": "9", "cl_ak": "1", "cl_as": "1", "cl_ap": "3", "cl_ad": "1"},
}


def main() -> None:
    torch.set_num_threads(1)
    # As a warm server runs: app.py, then the page (AppTest would otherwise start in the old pages/-folder mode).
    app_test.PagesManager = type("BenchPagesManager", (PagesManager,), {})
    PagesManager.uses_pages_directory = False
    print(f"{'link':58} {'figures':>7} {'total kB':>9} {'largest kB':>11} {'animation kB':>13} {'rerun ms (median of 5)':>23}")
    for name, query in LINKS.items():
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.query_params.update({"lang": "en", **query})
        at.run()
        at.switch_page("pages/conv_layer.py").run()
        sizes = [len(chart.proto.spec) for chart in at.get("plotly_chart")]
        times = []
        for i in range(5):
            at.number_input(key="cl_row").set_value(i % 3)
            start = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - start)
        print(f"{name:58} {len(sizes):7d} {sum(sizes) / 1e3:9.0f} {max(sizes) / 1e3:11.0f} {sizes[-1] / 1e3:13.0f} "
              f"{statistics.median(times) * 1e3:23.0f}")


if __name__ == "__main__":
    main()
