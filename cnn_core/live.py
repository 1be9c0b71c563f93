"""Train a small CNN live on a CIFAR-10 subset: the configuration, the data, the training loop and its progress.

`train` runs on the calling thread with one torch thread; cnn_core.runs puts it behind a bounded queue for a server.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms.v2 as v2
from torch import Tensor, nn

from .architecture import build as build_stack
from .data import CLASSES, load_cifar10
from .errors import InputError
from .evaluate import confusion_matrix

SUBSET = Path(__file__).resolve().parents[1] / "assets" / "cifar10-subset-jpeg.tar.gz"
DATA_ENV = "CNN_COURSE_LIVE_DATA"  # a full CIFAR-10 (archive, folder or torchvision root) to train on instead

LAYERS = (1, 2, 3)
WIDTHS = (4, 8, 16, 32)  # filters of the first layer; each further layer doubles them
KERNEL_SIZES = (3, 5)
ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
OPTIMIZERS = ("adam", "sgd")
BATCH_SIZES = (16, 32, 64, 128)  # the largest network at 128 images still takes well under a second a step
LEARNING_RATE_RANGE = (1e-5, 10.0)
MAX_EPOCHS = 30
MAX_SECONDS = 120.0
MAX_STEPS = 20_000
PROGRESS_SECONDS = 0.5  # on_progress at least this often (and once a second even with the slowest step)
EVAL_CHUNK = 250
AUGMENT_GROUP = 8  # v2 transforms draw one crop and flip per call: one call per 8 images gives variety at 1/8 the cost
PAD = 4
# A loss this far above guessing (ln 10 ≈ 2.3) only comes from steps that overshoot: the run has diverged
# (with ReLUs it would otherwise go on as a dead network that answers one class, rather than reach NaN).
DIVERGED_LOSS = 10 * math.log(len(CLASSES))
# The architecture explorer's stack, as the trainer takes it: at most this many layers, and no more parameters or
# multiply-adds per image than the largest preset (3 layers of 32, 64, 128 filters 5×5: ≈ 29 million multiply-adds)
# allows for, rounded up, so that a step takes what the largest preset's step takes and the run fits its budget.
MAX_STACK_LAYERS = 10
MAX_STACK_PARAMETERS = 2_000_000
MAX_STACK_MACS = 30_000_000
STACK_KINDS = ("conv", "maxpool", "fc")

Layers = tuple[tuple[str, int, int, int, int], ...]  # (kind, n or N, k, s, p); 0 where the kind has no such number

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class LiveConfig:
    """A small CNN and how to train it; the defaults are the page's default run (≈ 30 s on one core, ≈ 55 % held out)."""

    layers: int = 2  # conv → activation → 2×2 max pool blocks
    width: int = 16
    kernel_size: int = 3
    activation: str = "relu"
    optimizer: str = "adam"
    learning_rate: float = 0.002
    batch_size: int = 64
    epochs: int = 10
    time_budget: float = 60.0  # seconds; the run stops when it is spent, even before its epochs
    augment: bool = True  # random crop (4-pixel padding) and horizontal flip
    seed: int = 0
    max_steps: int = MAX_STEPS
    stack: Layers = ()  # the architecture explorer's stack (see stack_from_builder) instead of layers, width, kernel_size

    def validate(self) -> None:
        """Raise InputError (translated) for a setting outside what the page offers."""
        if self.stack and stack_from_builder(_as_specs(self.stack)) != self.stack:
            raise InputError("live.err_stack_layers", layers=len(self.stack), most=MAX_STACK_LAYERS)
        choices = {"layers": LAYERS, "width": WIDTHS, "kernel_size": KERNEL_SIZES, "activation": tuple(ACTIVATIONS),
                   "optimizer": OPTIMIZERS, "batch_size": BATCH_SIZES}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise InputError("live.err_choice", name=name, value=getattr(self, name), allowed=", ".join(map(str, allowed)))
        low, high = LEARNING_RATE_RANGE
        if not (isinstance(self.learning_rate, (int, float)) and math.isfinite(self.learning_rate)
                and low <= self.learning_rate <= high):
            raise InputError("live.err_range", name="learning_rate", value=self.learning_rate, low=low, high=high)
        for name, low, high in (("epochs", 1, MAX_EPOCHS), ("time_budget", 1, MAX_SECONDS), ("max_steps", 1, MAX_STEPS)):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and low <= value <= high):
                raise InputError("live.err_range", name=name, value=value, low=low, high=high)


@dataclass(frozen=True)
class LiveProgress:
    """A snapshot of a run, handed to on_progress: where it is, its curves so far, its first layer and its answer."""

    step: int
    total_steps: int
    epoch: float  # epochs done, fractional
    elapsed: float  # seconds
    time_left: float  # seconds, estimated from the steps left and the time budget
    losses: tuple[float, ...]  # training loss of every step so far (step i + 1 at index i)
    evaluations: tuple[tuple[int, float], ...]  # (step, held-out accuracy)
    filters: np.ndarray  # the first conv layer's weights, C×k×k×3 float32
    probe: np.ndarray | None  # the current softmax probabilities for the probe image


@dataclass(frozen=True)
class LiveResult:
    """How a run ended: its history, the trained model and its held-out accuracy, per class and as a confusion matrix."""

    status: str  # "finished" (all epochs), "time_up", "step_limit", "stopped" (should_stop) or "diverged" (see DIVERGED_LOSS)
    progress: LiveProgress  # the last snapshot: history, filters, probe
    model: nn.Module
    accuracy: float
    per_class_accuracy: np.ndarray  # 10 fractions, CIFAR-10 order
    confusion: np.ndarray  # 10×10 counts, rows: true class, columns: predicted class
    train_accuracy: float  # on (up to 1,000 of) the training images, without augmentation: overfitting shows here
    mean: np.ndarray = field(repr=False)  # the per-channel normalisation the model expects (0–1 pixel scale)
    std: np.ndarray = field(repr=False)

    @property
    def losses(self) -> tuple[float, ...]:
        """The training loss of every step."""
        return self.progress.losses

    @property
    def evaluations(self) -> tuple[tuple[int, float], ...]:
        """(step, held-out accuracy) pairs."""
        return self.progress.evaluations

    def predict(self, images: np.ndarray) -> np.ndarray:
        """N×32×32×3 uint8 → N×10 softmax probabilities from the trained model."""
        x = _normalise(torch.tensor(np.asarray(images)), self.mean, self.std)
        with torch.no_grad():
            return torch.softmax(self.model(x), dim=1).numpy()


def _subset_split(train: bool) -> tuple[np.ndarray, np.ndarray]:
    images, labels = load_cifar10(SUBSET, train, use_cache=False)
    return images.numpy(), labels.numpy()


_load_lock = threading.Lock()


def load_subset(source: str | Path | None = None) -> Data:
    """(train images, train labels, held-out images, held-out labels): uint8 N×32×32×3 and int64, CIFAR-10 order.

    The shipped subset (5,000 + 1,000 images) unless `source` or $CNN_COURSE_LIVE_DATA names a full CIFAR-10: an
    archive folder, an extracted folder or a torchvision.datasets.CIFAR10 root (its test split is then held out).
    Decoded once per process; sessions that ask meanwhile wait for that one decoding.
    """
    # functools.cache alone let 10 students arriving together decode the archive 10 times over, on the server's one
    # interpreter lock: half the server's CPU in the load test with trainers (py-spy)
    with _load_lock:
        return _load_subset(source or os.environ.get(DATA_ENV) or None)


@cache
def _load_subset(source: str | Path | None) -> Data:
    if source is None:
        parts = (*_subset_split(True), *_subset_split(False))
    else:
        train_images, train_labels = load_cifar10(source, True)
        test_images, test_labels = load_cifar10(source, False)
        parts = (train_images.numpy(), train_labels.numpy(), test_images.numpy(), test_labels.numpy())
    for array in parts:
        array.setflags(write=False)  # shared by every run of the server
    return parts  # type: ignore[return-value]


def _as_specs(stack: Layers) -> list[dict[str, object]]:
    return [{"kind": kind, "units": units or None, "k": k or None, "s": s, "p": p} for kind, units, k, s, p in stack]


def stack_from_builder(specs: Sequence[Mapping[str, object]], channels: int = 3, height: int = 32,
                       width: int = 32) -> Layers:
    """The architecture explorer's rows (kind, units, k, s, p, as its builder takes them) as a LiveConfig.stack.

    InputError (translated) says why a stack cannot be trained here: an input other than 32×32×3, a row the builder
    itself refuses, no convolution, a last fully connected layer without one neuron per class, too many layers, too
    many parameters or multiply-adds. Without fully connected rows the trainer adds the classifier (linear, 10 outputs).
    """
    if (channels, height, width) != (3, 32, 32):
        raise InputError("live.err_stack_input", c=channels, h=height, w=width)
    if len(specs) > MAX_STACK_LAYERS:
        raise InputError("live.err_stack_layers", layers=len(specs), most=MAX_STACK_LAYERS)
    trace = build_stack(specs, channels, height, width)
    if trace.error is not None:
        raise trace.error
    kinds = [str(spec.get("kind")) for spec in specs]
    if "conv" not in kinds:
        raise InputError("live.err_stack_no_conv")
    if "fc" in kinds and trace.output_shape != (len(CLASSES),):
        raise InputError("live.err_stack_classes", n=trace.output_shape[0], classes=len(CLASSES))
    parameters, macs = trace.parameters, trace.multiply_adds
    if "fc" not in kinds:  # the classifier the trainer adds
        features = math.prod(trace.output_shape)
        parameters, macs = parameters + features * len(CLASSES) + len(CLASSES), macs + features * len(CLASSES)
    if parameters > MAX_STACK_PARAMETERS:
        raise InputError("live.err_stack_parameters", parameters=parameters, most=MAX_STACK_PARAMETERS)
    if macs > MAX_STACK_MACS:
        raise InputError("live.err_stack_macs", macs=macs, most=MAX_STACK_MACS)
    layers = []
    for row in (row for row in trace.rows if row.layer.kind in ("conv", "maxpool", "linear")):
        layer = row.layer
        if layer.kind == "linear":
            layers.append(("fc", layer.out_features, 0, 0, 0))
        else:
            layers.append((layer.kind, layer.out_channels, layer.kernel[0], layer.stride[0], layer.padding[0]))
    return tuple(layers)


def _stack_model(config: LiveConfig) -> nn.Sequential:
    """The explorer's stack: every convolution and every fully connected layer but the last followed by the activation."""
    modules: list[nn.Module] = []
    channels, size = 3, 32
    fcs = [i for i, layer in enumerate(config.stack) if layer[0] == "fc"]
    features = None
    for i, (kind, units, k, s, p) in enumerate(config.stack):
        if kind == "conv":
            modules += [nn.Conv2d(channels, units, k, stride=s, padding=p), ACTIVATIONS[config.activation]()]
            channels, size = units, (size + 2 * p - k) // s + 1
        elif kind == "maxpool":
            modules.append(nn.MaxPool2d(k, stride=s, padding=p))
            size = (size + 2 * p - k) // s + 1
        else:
            if features is None:
                modules.append(nn.Flatten())
                features = channels * size * size
            modules.append(nn.Linear(features, units))
            features = units
            if i != fcs[-1]:
                modules.append(ACTIVATIONS[config.activation]())
    if features is None:
        modules += [nn.Flatten(), nn.Linear(channels * size * size, len(CLASSES))]
    return nn.Sequential(*modules)


def first_conv(model: nn.Module) -> nn.Conv2d:
    """The model's first convolution: the filters the page draws."""
    return next(module for module in model.modules() if isinstance(module, nn.Conv2d))


def build_model(config: LiveConfig) -> nn.Sequential:
    """conv(k, same padding) → activation → max pool 2, `layers` times (width, 2×width, 4×width filters), then linear;
    or, with config.stack, the architecture explorer's stack."""
    if config.stack:
        return _stack_model(config)
    blocks: list[nn.Module] = []
    channels, size = 3, 32
    for i in range(config.layers):
        out = config.width * 2**i
        blocks += [nn.Conv2d(channels, out, config.kernel_size, padding=config.kernel_size // 2),
                   ACTIVATIONS[config.activation](), nn.MaxPool2d(2)]
        channels, size = out, size // 2
    return nn.Sequential(*blocks, nn.Flatten(), nn.Linear(channels * size * size, len(CLASSES)))


def _normalise(images: Tensor, mean: np.ndarray, std: np.ndarray) -> Tensor:
    """N×32×32×3 uint8 → N×3×32×32 float, each channel standardised."""
    x = images.permute(0, 3, 1, 2).float().div_(255)
    return (x - torch.from_numpy(mean).view(1, 3, 1, 1)) / torch.from_numpy(std).view(1, 3, 1, 1)


def _check_data(data: Data) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    train_x, train_y, test_x, test_y = (torch.tensor(np.asarray(part)) for part in data)  # a copy: shared data is read-only
    for images, labels in ((train_x, train_y), (test_x, test_y)):
        if images.dtype != torch.uint8 or images.ndim != 4 or tuple(images.shape[1:]) != (32, 32, 3):
            raise ValueError(f"expected N×32×32×3 uint8 images, got {tuple(images.shape)} {images.dtype}")
        if labels.shape != (len(images),) or len(images) == 0:
            raise ValueError("every image needs one label, and there must be images")
    return train_x, train_y.long(), test_x, test_y.long()


_seed_lock = threading.Lock()  # torch's default generator is shared by every thread


def _augment(x: Tensor, transform: v2.Transform) -> Tensor:
    return torch.cat([transform(group) for group in x.split(AUGMENT_GROUP)])


def _accuracy(model: nn.Module, x: Tensor, y: Tensor, tick: Callable[[], None]) -> tuple[float, np.ndarray]:
    """Held-out accuracy and every prediction, in chunks so that progress keeps flowing."""
    predictions = []
    with torch.no_grad():
        for start in range(0, len(x), EVAL_CHUNK):
            predictions.append(model(x[start : start + EVAL_CHUNK]).argmax(dim=1))
            tick()
    predicted = torch.cat(predictions)
    return float((predicted == y).float().mean()), predicted.numpy()


def train(
    config: LiveConfig,
    data: Data,
    on_progress: Callable[[LiveProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    probe: np.ndarray | None = None,
) -> LiveResult:
    """Train `config` on `data` (see load_subset); `on_progress` gets a LiveProgress at least every second,
    `should_stop` is polled before every step, `probe` (32×32×3 uint8) is classified in every snapshot.

    A loss that becomes NaN, infinite or over DIVERGED_LOSS ends the run with status "diverged"; nothing is raised for it.
    """
    config.validate()
    torch.set_num_threads(1)  # one core a run: the server runs as many runs as it has cores
    train_x, train_y, test_x, test_y = _check_data(data)
    mean = (train_x.float().mean(dim=(0, 1, 2)) / 255).numpy()
    std = (train_x.float().std(dim=(0, 1, 2)) / 255).clamp(min=1e-3).numpy()
    train_x, test_x = _normalise(train_x, mean, std), _normalise(test_x, mean, std)
    probe_x = None if probe is None else _normalise(torch.tensor(np.asarray(probe))[None], mean, std)
    with _seed_lock:
        torch.manual_seed(config.seed)
        model = build_model(config)
    if config.optimizer == "adam":
        optimizer: torch.optim.Optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=config.learning_rate, momentum=0.9)
    transform = v2.Compose([v2.RandomCrop(32, padding=PAD), v2.RandomHorizontalFlip()])
    order = torch.Generator().manual_seed(config.seed)
    steps_per_epoch = max(len(train_x) // config.batch_size, 1)
    total = min(config.epochs * steps_per_epoch, config.max_steps)
    eval_every = max(steps_per_epoch // 2, 1)
    first = first_conv(model)
    losses: list[float] = []
    evaluations: list[tuple[int, float]] = []
    start = time.monotonic()
    last_report = -math.inf

    def snapshot() -> LiveProgress:
        elapsed = time.monotonic() - start
        step = len(losses)
        by_steps = (total - step) * elapsed / step if step else config.time_budget
        probabilities = None
        if probe_x is not None:
            with torch.no_grad():
                probabilities = torch.softmax(model(probe_x), dim=1)[0].numpy()
        filters = first.weight.detach().permute(0, 2, 3, 1).numpy().copy()
        return LiveProgress(step, total, step / steps_per_epoch, elapsed, max(min(by_steps, config.time_budget - elapsed), 0.0),
                            tuple(losses), tuple(evaluations), filters, probabilities)

    def tick(force: bool = False) -> None:
        nonlocal last_report
        now = time.monotonic()
        if on_progress is not None and (force or now - last_report >= PROGRESS_SECONDS):
            last_report = now
            on_progress(snapshot())

    status = "finished" if total == config.epochs * steps_per_epoch else "step_limit"
    tick(force=True)
    permutation = torch.randperm(len(train_x), generator=order)
    for step in range(total):
        if should_stop is not None and should_stop():
            status = "stopped"
            break
        if time.monotonic() - start >= config.time_budget:
            status = "time_up"
            break
        within = step % steps_per_epoch
        if within == 0 and step:
            permutation = torch.randperm(len(train_x), generator=order)
        batch = permutation[within * config.batch_size : (within + 1) * config.batch_size]
        x = train_x[batch]
        if config.augment:
            x = _augment(x, transform)
        model.train()
        loss = F.cross_entropy(model(x), train_y[batch])
        value = loss.detach().item()
        losses.append(value)
        if not math.isfinite(value) or value > DIVERGED_LOSS:
            status = "diverged"
            break
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if (step + 1) % eval_every == 0 or step + 1 == total:
            model.eval()
            evaluations.append((step + 1, _accuracy(model, test_x, test_y, tick)[0]))
        tick()
    model.eval()
    accuracy, predicted = _accuracy(model, test_x, test_y, tick)
    if status != "diverged" and (not evaluations or evaluations[-1][0] != len(losses)):
        evaluations.append((len(losses), accuracy))
    every = max(len(train_x) // 1000, 1)  # an even sample: the data may be sorted by class
    train_accuracy = _accuracy(model, train_x[::every][:1000], train_y[::every][:1000], tick)[0]
    matrix = confusion_matrix(test_y.numpy(), predicted)
    per_class = matrix.diagonal() / np.maximum(matrix.sum(axis=1), 1)
    last = snapshot()
    if on_progress is not None:
        on_progress(last)
    return LiveResult(status, last, model, accuracy, per_class, matrix, train_accuracy, mean, std)


def binned(values: tuple[float, ...] | list[float], points: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """A long per-step curve as at most `points` (step, mean of its bin) pairs; steps count from 1."""
    y = np.asarray(values, dtype=np.float64)
    if len(y) <= points:
        return np.arange(1, len(y) + 1, dtype=np.float64), y
    edges = np.linspace(0, len(y), points + 1).astype(int)
    sums = np.add.reduceat(y, edges[:-1])
    counts = np.diff(edges)
    return (edges[:-1] + edges[1:] + 1) / 2, sums / counts


def filter_image(filters: np.ndarray, scale: int = 8, gap: int = 1) -> np.ndarray:
    """First-layer filters (C×k×k×3) as one RGB uint8 mosaic, each filter scaled alone (grey = 0), `scale` px a weight."""
    count, k = filters.shape[0], filters.shape[1]
    per_row = int(math.ceil(math.sqrt(count)))
    rows = int(math.ceil(count / per_row))
    limits = np.abs(filters).reshape(count, -1).max(axis=1).reshape(count, 1, 1, 1)
    tiles = 0.5 + 0.5 * np.divide(filters, limits, out=np.zeros_like(filters), where=limits > 0)
    tiles = np.nan_to_num(tiles, nan=0.5)
    cell = k * scale + gap
    mosaic = np.full((rows * cell - gap, per_row * cell - gap, 3), 255, dtype=np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, per_row)
        big = np.repeat(np.repeat(np.clip(tile, 0, 1), scale, axis=0), scale, axis=1)
        mosaic[r * cell : r * cell + k * scale, c * cell : c * cell + k * scale] = np.rint(big * 255).astype(np.uint8)
    return mosaic
