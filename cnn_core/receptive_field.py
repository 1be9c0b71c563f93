"""Receptive fields: what one neuron sees, its weights, and how the field grows through a stack of convs and pools."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from .arithmetic import _as_int, conv_output_size
from .errors import InputError

LAYER_KINDS: tuple[str, ...] = ("conv", "max", "avg")  # convolution, max pooling, average pooling


@dataclass(frozen=True)
class LocalField:
    """One neuron of a conv layer: the k×k×C values it is connected to and its weights."""

    kernel: int
    channels: int
    size: int  # side m of the m×m×C input volume
    weights: int  # k·k·C
    bias: int  # 1
    full_weights: int  # m·m·C: what a fully connected neuron would need
    positions: int  # side of the feature map at stride 1 without padding: m - k + 1

    @property
    def total(self) -> int:
        """Weights plus bias."""
        return self.weights + self.bias

    @property
    def neurons(self) -> int:
        """Neurons of one feature map (positions²), all sharing the same weights."""
        return self.positions * self.positions


def _count(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 1:
        raise InputError(key, value=value)
    return int(value)


def local_field(kernel: int, channels: int, size: int) -> LocalField:
    """The local receptive field of a k×k filter on an m×m×C volume: k·k·C weights + 1 bias."""
    k = _as_int(kernel, "kernel", 1)
    c = _count(channels, "rf.err_channels")
    m = _as_int(size, "size", 1)
    if k > m:
        raise InputError("rf.err_filter_too_large", k=k, m=m)
    return LocalField(kernel=k, channels=c, size=m, weights=k * k * c, bias=1, full_weights=m * m * c,
                      positions=conv_output_size(m, k))


@dataclass(frozen=True)
class Layer:
    """One conv or pooling layer's geometry, the same along height and width."""

    name: str
    kind: str  # one of LAYER_KINDS
    kernel: int
    stride: int = 1
    padding: int = 0


@dataclass(frozen=True)
class FieldStep:
    """Output side, receptive field, jump and start after one layer (index 0: the input itself)."""

    index: int
    layer: Layer | None  # None for the input
    size: int  # side of this layer's output
    receptive: int  # r: input pixels (per side) one neuron depends on, padding included
    jump: int  # j: input pixels between two neighbouring neurons (product of the strides so far)
    start: int  # input index of the first row/column of neuron 0's field; negative: it begins in the padding

    @property
    def center(self) -> float:
        """Input coordinate of the centre of neuron 0's field."""
        return self.start + (self.receptive - 1) / 2


def validate_layer(layer: Layer, position: int) -> Layer:
    """The layer with whole numbers, or an InputError naming its position (1-based) in the stack."""
    if layer.kind not in LAYER_KINDS:
        raise InputError("rf.err_kind", layer=position, kind=layer.kind)
    k = _as_int(layer.kernel, "kernel", 1)
    s = _as_int(layer.stride, "stride", 1)
    p = _as_int(layer.padding, "padding", 0)
    if layer.kind != "conv" and p > k // 2:  # PyTorch's rule for pools: padding at most half the window
        raise InputError("rf.err_pool_padding", layer=position, p=p, k=k, half=k // 2)
    return Layer(name=str(layer.name), kind=layer.kind, kernel=k, stride=s, padding=p)


def receptive_fields(layers: list[Layer], input_size: int) -> list[FieldStep]:
    """r_out = r_in + (k-1)·j_in, j_out = j_in·s, start_out = start_in - p·j_in, layer after layer."""
    m = _as_int(input_size, "size", 1)
    steps = [FieldStep(index=0, layer=None, size=m, receptive=1, jump=1, start=0)]
    for position, raw in enumerate(layers, start=1):
        layer = validate_layer(raw, position)
        prev = steps[-1]
        k, s, p = layer.kernel, layer.stride, layer.padding
        if k > prev.size + 2 * p:
            raise InputError("rf.err_no_output", layer=position, name=layer.name, k=k, m=prev.size, p=p,
                             padded=prev.size + 2 * p)
        steps.append(FieldStep(
            index=position, layer=layer, size=conv_output_size(prev.size, k, s, p),
            receptive=prev.receptive + (k - 1) * prev.jump, jump=prev.jump * s, start=prev.start - p * prev.jump,
        ))
    return steps


@dataclass(frozen=True)
class InputRegion:
    """The input pixels one neuron depends on: the formula's window and the exact set, clipped to the image."""

    index: int  # layer index in the steps (0: the input)
    row: int
    col: int
    receptive: int  # r of the layer
    top: int  # first input row of the formula's window (negative: in the padding)
    left: int
    rows: tuple[int, int] | None  # first and last input row the neuron really depends on; None if none
    cols: tuple[int, int] | None
    row_mask: np.ndarray  # bool, one per input row: does the neuron depend on it?
    col_mask: np.ndarray
    padding_rows: int  # rows of the formula's window that fall outside the image
    padding_cols: int

    @property
    def pixels(self) -> int:
        """Number of input pixels the neuron depends on (per channel)."""
        return int(self.row_mask.sum()) * int(self.col_mask.sum())

    @property
    def mask(self) -> np.ndarray:
        """Input size × input size bool map of the pixels the neuron depends on."""
        return self.row_mask[:, None] & self.col_mask[None, :]

    @property
    def has_gaps(self) -> bool:
        """Whether some rows or columns between the first and last are skipped (a stride larger than its window)."""
        return any(
            span is not None and int(m.sum()) != span[1] - span[0] + 1
            for span, m in ((self.rows, self.row_mask), (self.cols, self.col_mask))
        )

    @property
    def matches_formula(self) -> bool:
        """Whether the exact set is the formula's window clipped to the image."""
        n = self.row_mask.size
        box_rows = np.zeros(n, bool)
        box_rows[max(self.top, 0) : max(self.top + self.receptive, 0)] = True
        box_cols = np.zeros(n, bool)
        box_cols[max(self.left, 0) : max(self.left + self.receptive, 0)] = True
        return bool((box_rows == self.row_mask).all() and (box_cols == self.col_mask).all())


def _depends_on(steps: list[FieldStep], index: int, position: int) -> np.ndarray:
    """Input indices (bool mask) that output `position` of layer `index` reaches, padding dropped at every layer."""
    current = np.array([position], dtype=np.int64)
    for step in reversed(steps[1 : index + 1]):
        layer = step.layer
        assert layer is not None
        before = steps[step.index - 1].size
        taps = (current[:, None] * layer.stride - layer.padding + np.arange(layer.kernel)[None, :]).ravel()
        current = np.unique(taps[(taps >= 0) & (taps < before)])
    mask = np.zeros(steps[0].size, dtype=bool)
    mask[current] = True
    return mask


def _overlap(first: int, length: int, size: int) -> int:
    """How many of the indices first … first+length-1 lie inside 0 … size-1."""
    return max(min(first + length, size) - max(first, 0), 0)


def _span(mask: np.ndarray) -> tuple[int, int] | None:
    where = np.flatnonzero(mask)
    return (int(where[0]), int(where[-1])) if where.size else None


def input_region(steps: list[FieldStep], index: int, row: int, col: int) -> InputRegion:
    """The input region of neuron (row, col) of layer `index` (0: the input), from `receptive_fields(...)`."""
    if not 0 <= int(index) < len(steps):
        raise InputError("rf.err_layer", index=index, count=len(steps) - 1)
    step = steps[int(index)]
    if not (0 <= int(row) < step.size and 0 <= int(col) < step.size):
        raise InputError("rf.err_outside", row=row, col=col, size=step.size)
    row, col, n, r = int(row), int(col), steps[0].size, step.receptive
    top, left = step.start + row * step.jump, step.start + col * step.jump
    row_mask, col_mask = _depends_on(steps, int(index), row), _depends_on(steps, int(index), col)
    return InputRegion(
        index=int(index), row=row, col=col, receptive=r, top=top, left=left,
        rows=_span(row_mask), cols=_span(col_mask), row_mask=row_mask, col_mask=col_mask,
        padding_rows=r - _overlap(top, r, n), padding_cols=r - _overlap(left, r, n),
    )


def _square(value: int | tuple[int, ...], what: str, name: str) -> int:
    values = value if isinstance(value, tuple) else (value,)
    if len(set(values)) != 1:
        raise ValueError(f"{name}: the {what} differs between height and width ({value}); only square layers are supported")
    return int(values[0])


def layers_of(model: nn.Module) -> list[Layer]:
    """The conv and pooling layers of a model in registration order (the forward order of the app's CifarNet)."""
    layers = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            if _square(module.dilation, "dilation", name) != 1:
                raise ValueError(f"{name}: dilated convolutions are not supported")
            kind = "conv"
        elif isinstance(module, nn.MaxPool2d):
            if _square(module.dilation, "dilation", name) != 1 or module.ceil_mode:
                raise ValueError(f"{name}: dilated or ceil-mode pooling is not supported")
            kind = "max"
        elif isinstance(module, nn.AvgPool2d):
            if module.ceil_mode:
                raise ValueError(f"{name}: ceil-mode pooling is not supported")
            kind = "avg"
        else:
            continue
        layers.append(Layer(
            name=name, kind=kind, kernel=_square(module.kernel_size, "kernel size", name),
            stride=_square(module.stride, "stride", name), padding=_square(module.padding, "padding", name),
        ))
    return layers


def cifar_layers() -> list[Layer]:
    """The geometry of the app's CIFAR-10 network, read from a fresh CifarNet (no trained weights needed)."""
    from .model import CifarNet  # late import: the model module is large and most callers do not need it

    return layers_of(CifarNet())
