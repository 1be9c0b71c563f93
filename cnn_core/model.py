"""A small CIFAR-10 convolutional network (after airbench93 by Keller Jordan) and the app's prediction path."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.transforms.v2 import functional as TF

from .arithmetic import conv_output_size
from .data import CLASSES
from .softmax import softmax

__all__ = [
    "CLASSES",
    "MEAN",
    "STD",
    "CARD_PATH",
    "WEIGHTS_PATH",
    "TTA_VIEWS",
    "CifarNet",
    "ModelError",
    "ParameterRow",
    "conv_filters",
    "count_parameters",
    "feature_maps",
    "filter_norms",
    "layer_shapes",
    "load_model",
    "model_card",
    "multiply_adds",
    "parameter_rows",
    "predict",
    "predict_batch",
    "predict_logits",
    "predict_logits_batch",
    "preprocess",
    "to_input",
    "tta_views",
]

ASSETS_DIR = Path(__file__).resolve().parents[1] / "assets"
WEIGHTS_PATH = ASSETS_DIR / "cifar10_net.pt"
CARD_PATH = ASSETS_DIR / "cifar10_net.json"

# Per-channel mean and standard deviation of the CIFAR-10 training images (RGB, pixel values in [0, 1]).
MEAN: tuple[float, float, float] = (0.4914, 0.4822, 0.4465)
STD: tuple[float, float, float] = (0.2470, 0.2435, 0.2616)
IMAGE_SIZE = 32
WIDTHS: tuple[int, int, int] = (64, 128, 128)
WHITEN_WIDTH = 24
BATCHNORM_MOMENTUM = 0.4  # PyTorch convention; airbench's running-average decay of 0.6
BATCHNORM_EPS = 1e-12
LOGIT_SCALE = 1 / 9
PREDICT_CHUNK = 500


class ModelError(RuntimeError):
    """The shipped weights cannot be used."""


class FrozenScaleBatchNorm(nn.BatchNorm2d):
    """BatchNorm whose scale stays 1; only the shift is learned."""

    def __init__(self, num_features: int) -> None:
        super().__init__(num_features, eps=BATCHNORM_EPS, momentum=BATCHNORM_MOMENTUM)
        self.weight.requires_grad_(False)


def conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    """3×3 convolution with padding 1 and no bias (BatchNorm supplies the shift)."""
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False)


class ConvBlock(nn.Module):
    """conv → maxpool → BN → GELU → conv → BN → GELU, halving the spatial size."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels)
        self.pool = nn.MaxPool2d(2)
        self.bn1 = FrozenScaleBatchNorm(out_channels)
        self.act1 = nn.GELU()
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn2 = FrozenScaleBatchNorm(out_channels)
        self.act2 = nn.GELU()

    def forward(self, x: Tensor, record: dict[str, Tensor] | None = None, prefix: str = "") -> Tensor:
        """Apply the block; if `record` is given, store the conv and pool outputs in it."""
        x = self.conv1(x)
        if record is not None:
            record[f"{prefix}conv1"] = x
        x = self.pool(x)
        if record is not None:
            record[f"{prefix}pool"] = x
        x = self.act1(self.bn1(x))
        x = self.conv2(x)
        if record is not None:
            record[f"{prefix}conv2"] = x
        return self.act2(self.bn2(x))


class CifarNet(nn.Module):
    """Whitening conv, three conv blocks, global max pool and a linear classifier: 10 logits per image."""

    def __init__(self, widths: tuple[int, int, int] = WIDTHS, num_classes: int = len(CLASSES)) -> None:
        super().__init__()
        self.whiten = nn.Conv2d(3, WHITEN_WIDTH, kernel_size=2, padding=0, bias=True)
        self.whiten.weight.requires_grad_(False)  # fixed by init_whitening from data statistics
        self.whiten_act = nn.GELU()
        self.block1 = ConvBlock(WHITEN_WIDTH, widths[0])
        self.block2 = ConvBlock(widths[0], widths[1])
        self.block3 = ConvBlock(widths[1], widths[2])
        self.pool = nn.MaxPool2d(3)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(widths[2], num_classes, bias=False)
        self.logit_scale = LOGIT_SCALE
        self._init_weights()

    def _init_weights(self) -> None:
        """Identity-initialise every 3×3 conv on its first in-channels, so each starts close to a residual."""
        nn.init.zeros_(self.whiten.bias)
        for module in self.modules():
            if isinstance(module, nn.Conv2d) and module is not self.whiten:
                weight = module.weight.data
                nn.init.dirac_(weight[: weight.size(1)])

    @torch.no_grad()
    def init_whitening(self, images: Tensor, eps: float = 5e-4) -> None:
        """Set the whitening filters to ± the eigenvectors of the 2×2 patch covariance of normalised `images`."""
        c, (h, w) = images.size(1), self.whiten.kernel_size
        patches = images.float().unfold(2, h, 1).unfold(3, w, 1)  # N, C, H', W', h, w
        patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(-1, c * h * w).double()
        covariance = patches.T @ patches / len(patches)
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
        filters = (eigenvectors.T / torch.sqrt(eigenvalues + eps)[:, None]).flip(0)  # largest variance first
        filters = filters.reshape(c * h * w, c, h, w).to(self.whiten.weight)
        self.whiten.weight.copy_(torch.cat((filters, -filters)))

    def _forward(self, x: Tensor, record: dict[str, Tensor] | None) -> Tensor:
        """Forward pass that optionally records conv and pool outputs in layer order."""
        x = self.whiten(x)
        if record is not None:
            record["whiten"] = x
        x = self.whiten_act(x)
        x = self.block1(x, record, "block1.")
        x = self.block2(x, record, "block2.")
        x = self.block3(x, record, "block3.")
        x = self.pool(x)
        if record is not None:
            record["pool"] = x
        return self.fc(self.flatten(x)) * self.logit_scale

    def forward(self, x: Tensor) -> Tensor:
        """Logits for a batch of normalised images (N×3×32×32)."""
        return self._forward(x, None)

    def features(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """Logits and the output of every conv and pool layer, from one forward pass."""
        record: dict[str, Tensor] = {}
        return self._forward(x, record), record


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (frozen ones included unless `trainable_only`)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Output length of a conv or pool along one axis: the lecture's formula with its floor."""
    return conv_output_size(size, kernel, stride, padding)


def layer_shapes(model: CifarNet, size: int = IMAGE_SIZE) -> list[tuple[str, tuple[int, ...], int]]:
    """(name, output shape C×H×W or features, multiply-adds) of each conv, pool and linear layer, by arithmetic."""
    channels, height, width = 3, size, size
    rows: list[tuple[str, tuple[int, ...], int]] = []
    for name, module in model.named_modules():  # registration order is forward order
        if isinstance(module, nn.Conv2d):
            (kh, kw), (sh, sw), (ph, pw) = module.kernel_size, module.stride, module.padding
            height, width = _out_size(height, kh, sh, ph), _out_size(width, kw, sw, pw)
            macs = height * width * module.out_channels * (module.in_channels // module.groups) * kh * kw
            channels = module.out_channels
            rows.append((name, (channels, height, width), macs))
        elif isinstance(module, nn.MaxPool2d):
            kernel, stride, padding = (int(v) for v in (module.kernel_size, module.stride, module.padding))  # type: ignore[call-overload]
            height, width = _out_size(height, kernel, stride, padding), _out_size(width, kernel, stride, padding)
            rows.append((name, (channels, height, width), 0))
        elif isinstance(module, nn.Linear):
            rows.append((name, (module.out_features,), module.in_features * module.out_features))
    return rows


def multiply_adds(model: CifarNet) -> int:
    """Multiply-adds of the convolutions and the linear layer for one 32×32 image."""
    return sum(macs for _, _, macs in layer_shapes(model))


def to_input(images: np.ndarray | Tensor, device: torch.device | str = "cpu") -> Tensor:
    """N×32×32×3 uint8 images as the network's normalised float input (N×3×32×32, channels_last)."""
    batch = torch.as_tensor(images).to(device)
    mean = torch.tensor(MEAN, device=batch.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=batch.device).view(1, 3, 1, 1)
    x = batch.permute(0, 3, 1, 2).float().div_(255)
    return ((x - mean) / std).contiguous(memory_format=torch.channels_last)


def _check_images(images: np.ndarray) -> np.ndarray:
    """Validate an N×32×32×3 uint8 batch."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 3):
        raise ValueError(f"expected N×{IMAGE_SIZE}×{IMAGE_SIZE}×3 uint8 images, got {images.shape} {images.dtype}")
    return np.ascontiguousarray(images)  # torch cannot wrap negative strides, e.g. images[:, :, ::-1]


def preprocess(image: np.ndarray) -> np.ndarray:
    """Any H×W×3 uint8 image → 32×32×3 uint8: centre crop to a square, then antialiased resize."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 uint8 image, got {image.shape} {image.dtype}")
    height, width = image.shape[:2]
    if (height, width) == (IMAGE_SIZE, IMAGE_SIZE):
        return image
    side = min(height, width)
    tensor = torch.from_numpy(np.array(image)).permute(2, 0, 1)  # a copy: shared sample images are read-only
    tensor = TF.center_crop(tensor, [side, side])
    tensor = TF.resize(tensor, [IMAGE_SIZE, IMAGE_SIZE], antialias=True)
    return np.ascontiguousarray(tensor.permute(1, 2, 0).numpy())


def _tta_logits(model: CifarNet, x: Tensor) -> Tensor:
    """Logits averaged over the image and its mirror, then over ±1-pixel diagonal shifts (airbench TTA level 2)."""

    def mirrored(inputs: Tensor) -> Tensor:
        return 0.5 * (model(inputs) + model(inputs.flip(-1)))

    padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
    shifted = 0.5 * (mirrored(padded[:, :, :-2, :-2]) + mirrored(padded[:, :, 2:, 2:]))
    return 0.5 * (mirrored(x) + shifted)


# The six views _tta_logits averages, with their weights: (name, weight, vertical and horizontal shift, mirrored).
# A shift of +1 moves the picture 1 pixel down or right, the uncovered edge filled by reflection.
TTA_VIEWS: tuple[tuple[str, float, int, bool], ...] = (
    ("original", 1 / 4, 0, False),
    ("mirror", 1 / 4, 0, True),
    ("down_right", 1 / 8, 1, False),
    ("down_right_mirror", 1 / 8, 1, True),
    ("up_left", 1 / 8, -1, False),
    ("up_left_mirror", 1 / 8, -1, True),
)


def tta_views(x: Tensor) -> list[tuple[str, float, Tensor]]:
    """The six inputs of TTA_VIEWS for a normalised batch, each with its weight, built as _tta_logits builds them."""
    padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
    shifted = {0: x, 1: padded[:, :, :-2, :-2], -1: padded[:, :, 2:, 2:]}
    return [(name, weight, shifted[shift].flip(-1) if mirror else shifted[shift]) for name, weight, shift, mirror in TTA_VIEWS]


def predict_logits_batch(images: np.ndarray, model: CifarNet | None = None) -> np.ndarray:
    """N×32×32×3 uint8 images → N×10 logits, averaged over the test-time augmentations."""
    images = _check_images(images)
    net = load_model() if model is None else model
    device = next(net.parameters()).device
    out = np.empty((len(images), len(CLASSES)), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(images), PREDICT_CHUNK):
            x = to_input(images[start : start + PREDICT_CHUNK], device)
            out[start : start + len(x)] = _tta_logits(net, x).float().cpu().numpy()
    return out


def predict_batch(images: np.ndarray, model: CifarNet | None = None) -> np.ndarray:
    """N×32×32×3 uint8 images → N×10 class probabilities (softmax of the TTA-averaged logits)."""
    return softmax(predict_logits_batch(images, model))


def predict_logits(image: np.ndarray) -> dict[str, float]:
    """Any H×W×3 uint8 image → {class: logit}."""
    return dict(zip(CLASSES, predict_logits_batch(preprocess(image)[None])[0].tolist()))


def predict(image: np.ndarray) -> dict[str, float]:
    """Any H×W×3 uint8 image → {class: probability}, summing to 1."""
    return dict(zip(CLASSES, predict_batch(preprocess(image)[None])[0].tolist()))


def feature_maps(image: np.ndarray) -> dict[str, np.ndarray]:
    """Output (C×H×W float32) of every conv and pool layer for one image, in layer order, without TTA."""
    net = load_model()
    x = to_input(preprocess(image)[None])
    with torch.inference_mode():
        _, record = net.features(x)
    return {name: value[0].float().cpu().numpy().copy() for name, value in record.items()}


@dataclass(frozen=True)
class ParameterRow:
    """One layer's parameters: weights (with the factors that multiply to them), biases or shifts, and what is frozen."""

    name: str
    kind: str  # "conv", "batchnorm" or "linear"
    factors: tuple[int, ...]  # conv: k, k, C_in, n; linear: inputs, outputs; batchnorm: channels
    weights: int  # conv and linear weights; batchnorm scales
    biases: int  # conv and linear biases; batchnorm shifts
    frozen: int  # parameters not trained by gradient descent

    @property
    def total(self) -> int:
        """weights + biases."""
        return self.weights + self.biases


def parameter_rows(model: CifarNet | None = None) -> list[ParameterRow]:
    """Every layer that has parameters, in forward order, split into weights and biases, with what training freezes.

    Frozen means frozen by the architecture (whitening filters, batch-norm scales), so an untrained CifarNet is the
    default: the shipped network switches every gradient off for inference."""
    return list(_architecture_rows()) if model is None else _rows(model)


@functools.cache
def _architecture_rows() -> tuple[ParameterRow, ...]:
    # Building and initialising a CifarNet took 9 % of a class's server time when every network page made one.
    return tuple(_rows(CifarNet()))


def _rows(model: CifarNet) -> list[ParameterRow]:
    rows = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            kind, factors = "conv", (kh, kw, module.in_channels // module.groups, module.out_channels)
        elif isinstance(module, nn.BatchNorm2d):
            kind, factors = "batchnorm", (module.num_features,)
        elif isinstance(module, nn.Linear):
            kind, factors = "linear", (module.in_features, module.out_features)
        else:
            continue
        weight, bias = module.weight, module.bias
        frozen = sum(p.numel() for p in (weight, bias) if p is not None and not p.requires_grad)
        rows.append(ParameterRow(name, kind, factors, weight.numel(), 0 if bias is None else bias.numel(), frozen))
    return rows


def conv_filters(model: CifarNet, name: str) -> np.ndarray:
    """The learned filters of conv layer `name` as n × C_in × k × k float32."""
    module = model.get_submodule(name)
    if not isinstance(module, nn.Conv2d):
        raise ValueError(f"{name} is not a convolution")
    return module.weight.detach().float().cpu().numpy().copy()


def filter_norms(filters: np.ndarray) -> np.ndarray:
    """n × C_in: the Euclidean norm of each filter's k×k slice on each input channel (how much it uses that channel)."""
    return torch.linalg.vector_norm(torch.as_tensor(filters, dtype=torch.float64), dim=(-2, -1)).numpy()


def model_card() -> dict[str, Any]:
    """The parsed model card (assets/cifar10_net.json)."""
    try:
        return json.loads(CARD_PATH.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"the model card {CARD_PATH} is missing; train the network with python -m cnn_core.train") from None
    except (OSError, json.JSONDecodeError) as error:
        raise ModelError(f"the model card {CARD_PATH} cannot be read: {error}") from error


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


_load_lock = threading.Lock()


def load_model() -> CifarNet:
    """The shipped network in eval mode, loaded once per process after checking its SHA-256 against the card."""
    with _load_lock:  # Streamlit sessions run in threads; load and verify only once
        return _load_verified(WEIGHTS_PATH, CARD_PATH)


@functools.lru_cache(maxsize=4)
def _load_verified(weights_path: Path, card_path: Path) -> CifarNet:
    """Load `weights_path` if its hash matches `card_path`; cached per path pair."""
    try:
        data = weights_path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"the weights file {weights_path} is missing; train the network with python -m cnn_core.train") from None
    try:
        expected = json.loads(card_path.read_text(encoding="utf-8"))["sha256"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise ModelError(f"the model card {card_path} is missing or has no sha256: {error}") from error
    if hashlib.sha256(data).hexdigest() != expected:
        raise ModelError(f"{weights_path}: the weights file does not match the model card; refusing to load it")
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)  # hash checked bytes, no reread
        net = CifarNet()
        net.load_state_dict(state)
    except Exception as error:  # noqa: BLE001 - any failure here means unusable weights
        raise ModelError(f"{weights_path}: the weights cannot be loaded: {error}") from error
    net.eval().requires_grad_(False)
    return net.to(memory_format=torch.channels_last)
