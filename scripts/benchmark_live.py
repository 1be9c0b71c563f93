"""Time and held-out accuracy of the live-training page's default run (cnn_core.live.LiveConfig()) on one core.

Usage: python scripts/benchmark_live.py [--runs 1] [--data PATH]   (default data: the shipped subset in assets/)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from cnn_core.live import LiveConfig, load_subset, train  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--data", default=None)
    args = parser.parse_args(argv)
    data = load_subset(args.data)
    config = LiveConfig()
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, 1 thread; {len(data[0])} training and {len(data[2])} "
          f"held-out images; load average {os.getloadavg()[0]:.2f}")
    print(config)
    worst = 0.0
    for seed in range(args.runs):
        reports: list[float] = []
        began = time.monotonic()
        result = train(LiveConfig(seed=seed), data, on_progress=lambda p: reports.append(time.monotonic()))
        seconds = time.monotonic() - began
        gaps = max((b - a for a, b in zip(reports, reports[1:])), default=0.0)
        worst = max(worst, seconds)
        print(f"seed {seed}: {result.status}, {len(result.losses)} steps, {seconds:.1f} s, held-out accuracy "
              f"{result.accuracy:.2%} (training images {result.train_accuracy:.2%}), final loss {result.losses[-1]:.3f}, "
              f"{len(reports)} progress calls, longest gap {gaps:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
