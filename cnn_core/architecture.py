"""Layer by layer: output shape, parameters, multiply-adds and receptive field of a sequential CNN or a stack of layers."""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .arithmetic import conv_output_size, effective_kernel_size, pool_output_size
from .errors import InputError
from .parameters import positive_int

# Layers that leave the shape as it is (BatchNorm2d is one too, but has parameters).
SHAPE_PRESERVING: dict[type[nn.Module], str] = {
    nn.ReLU: "activation", nn.ReLU6: "activation", nn.GELU: "activation", nn.SiLU: "activation", nn.ELU: "activation",
    nn.LeakyReLU: "activation", nn.Sigmoid: "activation", nn.Tanh: "activation",
    nn.Dropout: "dropout", nn.Dropout2d: "dropout", nn.Identity: "identity", nn.LocalResponseNorm: "norm",
}
SPATIAL = ("conv", "maxpool", "avgpool", "adaptive_avgpool")
# name → the image side it was designed for (the 2012 paper says 224, but only 227 gives its 55×55 without padding)
REFERENCE_NETWORKS: dict[str, int] = {"cifar": 32, "alexnet": 224, "alexnet2012": 227}
BUILDER_KINDS = ("conv", "maxpool", "fc")


@dataclass(frozen=True)
class Layer:
    """One layer's geometry, whether read from an nn.Module or typed by a student."""

    name: str
    kind: str  # conv, maxpool, avgpool, adaptive_avgpool, flatten, linear, batchnorm, activation, dropout, norm, identity
    type_name: str  # the PyTorch class: Conv2d, MaxPool2d, Linear…
    out_channels: int = 0  # conv: number of filters n
    in_channels: int | None = None  # conv: what the module expects (None: whatever arrives)
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1
    bias: bool = True
    out_features: int = 0  # linear: number of neurons N
    in_features: int | None = None  # linear: what the module expects (None: whatever arrives)
    output_size: tuple[int | None, int | None] = (None, None)  # adaptive pooling
    affine: bool = False  # batchnorm: a learned scale and shift per channel
    implicit: bool = False  # a flatten done inside forward(), not a module
    ceil_mode: bool = False  # pooling that rounds the output size up (PyTorch's ceil_mode=True)


@dataclass(frozen=True)
class Row:
    """What one layer does to the tensor that reaches it."""

    layer: Layer
    position: int  # 1-based, in forward order
    input_shape: tuple[int, ...]  # C×H×W, or (features,)
    shape: tuple[int, ...]
    parameters: int
    multiply_adds: int
    receptive_field: tuple[int, int] | None  # input pixels one value sees per axis; None: from a fully connected layer
    # on, all of them (or, after an adaptive pooling with uneven windows, no single size)
    remainders: tuple[int, int] = (0, 0)  # (m - k + 2p) mod s per axis: what the lecture's formula floors away
    adaptive_bins: tuple[int, int] = (0, 0)  # adaptive pooling: largest window per axis (0: not adaptive)

    @property
    def floored(self) -> bool:
        """Whether s does not divide m − k + 2p on some axis, so the lecture's formula needs a floor."""
        return any(self.remainders)


@dataclass(frozen=True)
class Trace:
    """The rows a tensor goes through, up to the layer where it cannot go on (then `error` says why)."""

    input_shape: tuple[int, int, int]
    rows: tuple[Row, ...]
    error: InputError | None = None
    failed: int | None = None  # position of the layer that failed

    @property
    def parameters(self) -> int:
        """Parameters of the layers traced."""
        return sum(row.parameters for row in self.rows)

    @property
    def multiply_adds(self) -> int:
        """Multiply-adds of the layers traced, for one image."""
        return sum(row.multiply_adds for row in self.rows)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """The shape after the last traced layer."""
        return self.rows[-1].shape if self.rows else self.input_shape


def _pair(value: object) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)  # type: ignore[call-overload]


def module_layers(model: nn.Module) -> list[Layer]:
    """The leaf modules of a sequential-style network, in registration order, as Layer geometry."""
    layers = []
    for name, module in model.named_modules():
        if next(module.children(), None) is not None:
            continue  # a container: its leaves follow
        name = name or type(module).__name__
        kind_name = type(module).__name__
        if isinstance(module, nn.Conv2d):
            if isinstance(module.padding, str):
                raise ValueError(f"{name}: padding={module.padding!r} is not supported; give numbers")
            layers.append(Layer(
                name, "conv", kind_name, out_channels=module.out_channels, in_channels=module.in_channels,
                kernel=_pair(module.kernel_size), stride=_pair(module.stride), padding=_pair(module.padding),
                dilation=_pair(module.dilation), groups=module.groups, bias=module.bias is not None,
            ))
        elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            is_max = isinstance(module, nn.MaxPool2d)
            layers.append(Layer(
                name, "maxpool" if is_max else "avgpool", kind_name, kernel=_pair(module.kernel_size),
                stride=_pair(module.stride), padding=_pair(module.padding),
                dilation=_pair(module.dilation) if is_max else (1, 1), ceil_mode=bool(module.ceil_mode),
            ))
        elif isinstance(module, nn.AdaptiveAvgPool2d):
            size = module.output_size
            pair = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
            layers.append(Layer(name, "adaptive_avgpool", kind_name, output_size=pair))  # type: ignore[arg-type]
        elif isinstance(module, nn.Flatten):
            if (module.start_dim, module.end_dim) != (1, -1):
                raise ValueError(f"{name}: only Flatten(start_dim=1, end_dim=-1) is supported")
            layers.append(Layer(name, "flatten", kind_name))
        elif isinstance(module, nn.Linear):
            layers.append(Layer(name, "linear", kind_name, out_features=module.out_features, in_features=module.in_features,
                                bias=module.bias is not None))
        elif isinstance(module, nn.BatchNorm2d):
            layers.append(Layer(name, "batchnorm", kind_name, in_channels=module.num_features, affine=module.affine))
        elif type(module) in SHAPE_PRESERVING:
            layers.append(Layer(name, SHAPE_PRESERVING[type(module)], kind_name))
        else:
            raise ValueError(f"{name}: {kind_name} is not supported")
    return layers


def _adaptive_bins(size: int, out: int) -> int:
    """The widest window adaptive pooling uses to squeeze `size` into `out`: from ⌊i·m/o⌋ to ⌈(i+1)·m/o⌉."""
    return max(-(-(i + 1) * size // out) - (i * size // out) for i in range(out))


def _with_flatten(layers: Sequence[Layer]) -> list[Layer]:
    """`layers` with a flatten step where a linear layer follows a volume with no Flatten module in between."""
    # torchvision's AlexNet calls torch.flatten inside forward(), right after its last pooling: put it there too.
    out: list[Layer] = []
    volume_end: int | None = 0  # index in `out` just after the last layer that needs or makes a volume (the input is one)
    for layer in layers:
        if layer.kind in (*SPATIAL, "batchnorm"):
            volume_end = len(out) + 1
        elif layer.kind == "flatten":
            volume_end = None
        elif layer.kind == "linear" and volume_end is not None:
            out.insert(volume_end, Layer("(torch.flatten)", "flatten", "forward()", implicit=True))
            volume_end = None
        out.append(layer)
    return out


class _Stop(Exception):
    def __init__(self, error: InputError) -> None:
        self.error = error


def _spatial(layer: Layer, position: int, shape: tuple[int, ...]) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(output H, W), remainders per axis and effective kernel per axis of a conv or pool; _Stop where it cannot run."""
    if len(shape) != 3:
        raise _Stop(InputError("arch.err_needs_volume", position=position, layer=layer.name, features=shape[0]))
    out, rest, spans = [], [], []
    for axis, m, k, s, p, d in zip("HW", shape[1:], layer.kernel, layer.stride, layer.padding, layer.dilation):
        span = effective_kernel_size(k, d)
        try:
            out.append(pool_output_size(m, k, s, p, d, ceil_mode=True) if layer.ceil_mode else conv_output_size(m, k, s, p, d))
        except InputError as error:
            if error.key != "err.kernel_too_large":
                raise
            numerator = m - span + 2 * p
            raise _Stop(InputError(
                "arch.err_does_not_fit", position=position, layer=layer.name, axis=axis, m=m, k=span, p=p, s=s,
                padded=m + 2 * p, numerator=numerator, value=round(numerator / s + 1, 3),
            )) from None
        rest.append((m - span + 2 * p) % s)
        spans.append(span)
    return (out[0], out[1]), (rest[0], rest[1]), (spans[0], spans[1])


def trace(layers: Sequence[Layer], channels: int, height: int, width: int) -> Trace:
    """Push a C×H×W input through `layers` by arithmetic, stopping with a student-readable error where it cannot go on."""
    start = (positive_int(channels, "C"), positive_int(height, "H"), positive_int(width, "W"))
    shape: tuple[int, ...] = start
    rf: list[int] | None = [1, 1]  # receptive field per axis, in input pixels
    jump: list[int] | None = [1, 1]  # input pixels between neighbouring values of the current layer (None: uneven)
    rows: list[Row] = []
    position = 0
    try:
        for layer in _with_flatten(layers):
            position += 1
            before = shape
            parameters = macs = 0
            remainders = bins = (0, 0)
            if layer.kind == "conv":
                channels_in = shape[0] if len(shape) == 3 else None
                if channels_in is not None and layer.in_channels is not None and layer.in_channels != channels_in:
                    raise _Stop(InputError("arch.err_channels", position=position, layer=layer.name,
                                           expected=layer.in_channels, got=channels_in))
                (h, w), remainders, spans = _spatial(layer, position, shape)
                per_filter = (shape[0] // layer.groups) * layer.kernel[0] * layer.kernel[1]
                parameters = per_filter * layer.out_channels + (layer.out_channels if layer.bias else 0)
                macs = h * w * layer.out_channels * per_filter
                shape = (layer.out_channels, h, w)
            elif layer.kind in ("maxpool", "avgpool"):
                (h, w), remainders, spans = _spatial(layer, position, shape)
                shape = (shape[0], h, w)
            elif layer.kind == "adaptive_avgpool":
                if len(shape) != 3:
                    raise _Stop(InputError("arch.err_needs_volume", position=position, layer=layer.name, features=shape[0]))
                h, w = (m if o is None else o for m, o in zip(shape[1:], layer.output_size))
                bins = (_adaptive_bins(shape[1], h), _adaptive_bins(shape[2], w))
                even = all(m % o == 0 for m, o in zip(shape[1:], (h, w)))
                spans = bins
                shape = (shape[0], h, w)
            elif layer.kind == "flatten":
                shape = (math.prod(shape),)
            elif layer.kind == "linear":
                if layer.in_features is not None and layer.in_features != shape[0]:
                    raise _Stop(InputError("arch.err_linear_mismatch", position=position, layer=layer.name,
                                           expected=layer.in_features, got=shape[0], shape="×".join(map(str, before))))
                parameters = shape[0] * layer.out_features + (layer.out_features if layer.bias else 0)
                macs = shape[0] * layer.out_features
                shape = (layer.out_features,)
            elif layer.kind == "batchnorm":
                if len(shape) != 3 or (layer.in_channels is not None and layer.in_channels != shape[0]):
                    raise _Stop(InputError("arch.err_channels", position=position, layer=layer.name,
                                           expected=layer.in_channels, got=shape[0]))
                parameters = 2 * shape[0] if layer.affine else 0
            # Receptive field: each step of a window of span k on a grid `jump` apart adds (k − 1)·jump pixels.
            if layer.kind in SPATIAL:
                if rf is not None and jump is not None:
                    rf = [r + (k - 1) * j for r, k, j in zip(rf, spans, jump)]
                    if layer.kind == "adaptive_avgpool":
                        jump = [j * (m // o) for j, m, o in zip(jump, before[1:], shape[1:])] if even else None
                    else:
                        jump = [j * s for j, s in zip(jump, layer.stride)]
                else:
                    rf = None
            elif layer.kind == "linear":
                rf = jump = None
            rows.append(Row(layer, position, before, shape, parameters, macs, None if rf is None else (rf[0], rf[1]),
                            remainders, bins))
    except _Stop as stop:
        return Trace(start, tuple(rows), stop.error, position)
    return Trace(start, tuple(rows))


def model_trace(model: nn.Module, channels: int = 3, height: int = 32, width: int = 32) -> Trace:
    """The layer table of a sequential-style nn.Module on a C×H×W input."""
    return trace(module_layers(model), channels, height, width)


def reference_network(name: str) -> nn.Module:
    """The app's CIFAR-10 network or torchvision's AlexNet, untrained, on the meta device (geometry only, no memory)."""
    with torch.device("meta"):
        if name == "cifar":
            from .model import CifarNet

            return CifarNet()
        if name == "alexnet":
            from torchvision.models import alexnet

            return alexnet(weights=None)
        if name == "alexnet2012":
            return alexnet_2012()
    raise ValueError(f"unknown network {name!r}; use one of {tuple(REFERENCE_NETWORKS)}")


def alexnet_2012() -> nn.Module:
    """AlexNet as the 2012 paper describes it: 96/256/384/384/256 filters, local response normalisation, and conv2, conv4
    and conv5 split over the two GPUs (groups=2: each half of the filters sees half of the channels)."""
    lrn = dict(size=5, alpha=1e-4, beta=0.75, k=2.0)
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(3, 96, 11, stride=4)), ("relu1", nn.ReLU()), ("norm1", nn.LocalResponseNorm(**lrn)),
        ("pool1", nn.MaxPool2d(3, 2)),
        ("conv2", nn.Conv2d(96, 256, 5, padding=2, groups=2)), ("relu2", nn.ReLU()), ("norm2", nn.LocalResponseNorm(**lrn)),
        ("pool2", nn.MaxPool2d(3, 2)),
        ("conv3", nn.Conv2d(256, 384, 3, padding=1)), ("relu3", nn.ReLU()),
        ("conv4", nn.Conv2d(384, 384, 3, padding=1, groups=2)), ("relu4", nn.ReLU()),
        ("conv5", nn.Conv2d(384, 256, 3, padding=1, groups=2)), ("relu5", nn.ReLU()), ("pool5", nn.MaxPool2d(3, 2)),
        ("flatten", nn.Flatten()), ("drop6", nn.Dropout()), ("fc6", nn.Linear(256 * 6 * 6, 4096)), ("relu6", nn.ReLU()),
        ("drop7", nn.Dropout()), ("fc7", nn.Linear(4096, 4096)), ("relu7", nn.ReLU()), ("fc8", nn.Linear(4096, 1000)),
    ]))


def _cell(value: object, row: int, column: str, minimum: int, default: int | None = None) -> int:
    """A whole number ≥ `minimum` from a table cell; an empty cell gives `default`, or an error if there is none."""
    empty = value is None or value == "" or (isinstance(value, float) and math.isnan(value))
    if empty:
        if default is None:
            raise InputError("arch.err_cell_empty", row=row, column=column)
        return default
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value).is_integer():
        raise InputError("arch.err_cell_integer", row=row, column=column, value=value)
    if int(value) < minimum:
        raise InputError("arch.err_cell_small", row=row, column=column, value=int(value), minimum=minimum)
    return int(value)


def builder_layer(spec: Mapping[str, object], row: int, counts: dict[str, int]) -> Layer:
    """One row of the student's table (kind, units n/N, k, s, p) as a Layer; `counts` numbers the names."""
    kind = spec.get("kind")
    if kind not in BUILDER_KINDS:
        raise InputError("arch.err_kind", row=row)
    counts[str(kind)] = counts.get(str(kind), 0) + 1
    name = f"{'pool' if kind == 'maxpool' else kind}{counts[str(kind)]}"
    if kind == "fc":
        return Layer(name, "linear", "Linear", out_features=_cell(spec.get("units"), row, "n / N", 1))
    k = _cell(spec.get("k"), row, "k", 1)
    if kind == "conv":
        return Layer(name, "conv", "Conv2d", out_channels=_cell(spec.get("units"), row, "n / N", 1), kernel=(k, k),
                     stride=(_cell(spec.get("s"), row, "s", 1, 1),) * 2, padding=(_cell(spec.get("p"), row, "p", 0, 0),) * 2)
    s, p = _cell(spec.get("s"), row, "s", 1, k), _cell(spec.get("p"), row, "p", 0, 0)
    if 2 * p > k:  # PyTorch's rule: more padding than half the window would give windows of padding only
        raise InputError("arch.err_pool_padding", row=row, p=p, k=k, half=k // 2)
    return Layer(name, "maxpool", "MaxPool2d", kernel=(k, k), stride=(s, s), padding=(p, p))


def build(specs: Sequence[Mapping[str, object]], channels: int, height: int, width: int) -> Trace:
    """The student's stack of layers on a C×H×W input: the table up to the first row that is wrong or cannot run."""
    layers: list[Layer] = []
    counts: dict[str, int] = {}
    typo: InputError | None = None
    for row, spec in enumerate(specs, start=1):
        try:
            layers.append(builder_layer(spec, row, counts))
        except InputError as error:
            typo = error
            break
    result = trace(layers, channels, height, width)
    if result.error is not None or typo is None:
        return result
    return Trace(result.input_shape, result.rows, typo, len(result.rows) + 1)
