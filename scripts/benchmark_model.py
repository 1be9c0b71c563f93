"""Print the shipped network's accuracy, size, cost and speed on this machine.

Usage: python scripts/benchmark_model.py [--data PATH] [--runs 100] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnn_core import model as m  # noqa: E402
from cnn_core.data import load_cifar10  # noqa: E402


def median_seconds(function, runs: int) -> float:
    """Median wall time of `runs` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    start = time.perf_counter()
    net = m.load_model()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; model loaded in {time.perf_counter() - start:.2f}s")
    print(f"parameters:      {m.count_parameters(net):,}")
    print(f"multiply-adds:   {m.multiply_adds(net):,} per image (plain); x6 with test-time augmentation")

    card = m.model_card()["evaluation"]
    print(f"card accuracy:   {card['test_accuracy_tta']:.4f} with TTA, {card['test_accuracy']:.4f} without")

    try:
        images, labels = load_cifar10(args.data, train=False)
    except (OSError, ValueError, RuntimeError) as error:
        print(f"test data not available ({error}); using random images for throughput")
        images, labels = torch.randint(0, 256, (10_000, 32, 32, 3), dtype=torch.uint8), None
    images_np = images.numpy()

    start = time.perf_counter()
    probabilities = m.predict_batch(images_np)
    seconds = time.perf_counter() - start
    print(f"batch throughput: {len(images_np) / seconds:,.0f} images/s with TTA ({len(images_np)} images in {seconds:.1f}s)")
    if labels is not None:
        accuracy = float((probabilities.argmax(1) == labels.numpy()).mean())
        print(f"test accuracy:   {accuracy:.4f} with TTA (predict_batch, {len(images_np)} images)")

    image = np.ascontiguousarray(images_np[0])
    large = np.random.default_rng(0).integers(0, 256, size=(480, 640, 3), dtype=np.uint8)
    for _ in range(5):  # warm-up
        m.predict(image)
        m.feature_maps(image)
    runs = args.runs
    print(f"latency, median of {runs} runs:")
    print(f"  predict (32×32):          {1e3 * median_seconds(lambda: m.predict(image), runs):7.2f} ms")
    print(f"  predict (640×480):        {1e3 * median_seconds(lambda: m.predict(large), runs):7.2f} ms")
    print(f"  feature_maps (32×32):     {1e3 * median_seconds(lambda: m.feature_maps(image), runs):7.2f} ms")
    both = median_seconds(lambda: (m.predict(image), m.feature_maps(image)), runs)
    print(f"  predict + feature_maps:   {1e3 * both:7.2f} ms")
    from cnn_core.saliency import grad_cam, occlusion

    grad_cam(image), occlusion(image)  # warm-up: captum's first call builds its hooks
    print(f"  grad_cam (block 3):       {1e3 * median_seconds(lambda: grad_cam(image, 0), runs):7.2f} ms")
    print(f"  grad_cam (block 2):       {1e3 * median_seconds(lambda: grad_cam(image, 0, layer='block2'), runs):7.2f} ms")
    for window in (4, 8, 12):
        seconds = median_seconds(lambda: occlusion(image, 0, window=window, stride=max(1, window // 2)), max(runs // 5, 3))
        print(f"  occlusion ({window:2d}×{window:<2d}, stride {max(1, window // 2)}):{1e3 * seconds:8.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
