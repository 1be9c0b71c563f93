"""Evaluate the shipped network on the CIFAR-10 test set through the app's own prediction path.

Usage: python -m cnn_core.evaluate --data PATH
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from .data import CLASSES, load_cifar10


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int = len(CLASSES)) -> np.ndarray:
    """num_classes×num_classes counts; rows are the true class, columns the predicted one."""
    return np.bincount(labels * num_classes + predictions, minlength=num_classes**2).reshape(num_classes, num_classes)


def evaluate_predictions(probabilities: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Accuracy, per-class accuracy and confusion matrix of N×10 probabilities against N labels."""
    matrix = confusion_matrix(np.asarray(labels, dtype=np.int64), probabilities.argmax(axis=1))
    per_class = matrix.diagonal() / np.maximum(matrix.sum(axis=1), 1)
    return {
        "accuracy": float(matrix.trace() / max(matrix.sum(), 1)),
        "per_class_accuracy": {name: round(float(acc), 4) for name, acc in zip(CLASSES, per_class)},
        "confusion_matrix": matrix.tolist(),
    }


def format_report(report: dict[str, Any]) -> str:
    """A plain-text table of the evaluation."""
    width = max(len(name) for name in CLASSES)
    lines = [f"accuracy: {report['accuracy']:.4f}", "", "per-class accuracy:"]
    lines += [f"  {name:<{width}}  {acc:.4f}" for name, acc in report["per_class_accuracy"].items()]
    lines += ["", "confusion matrix (rows: true class, columns: predicted class):"]
    lines.append(" " * (width + 2) + "".join(f"{name[:5]:>6}" for name in CLASSES))
    lines += [f"  {name:<{width}}" + "".join(f"{n:6d}" for n in row) for name, row in zip(CLASSES, report["confusion_matrix"])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m cnn_core.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="JPEG archive, folder of them, image folder, or torchvision root")
    parser.add_argument("--cache-dir", type=Path, default=None, help="where decoded images are cached")
    args = parser.parse_args(argv)

    from .model import load_model, predict_batch  # after argument parsing, so --help stays fast

    images, labels = load_cifar10(args.data, train=False, cache_dir=args.cache_dir)
    load_model()
    started = time.perf_counter()
    probabilities = predict_batch(images.numpy())
    seconds = time.perf_counter() - started
    print(f"{len(images)} test images, with test-time augmentation, in {seconds:.1f}s")
    print(format_report(evaluate_predictions(probabilities, labels.numpy())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
