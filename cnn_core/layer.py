"""A convolutional layer: n filters of k×k×C, a bias each, an activation; its worked values, its equivariance, and the
window sliding step by step (also for a transposed convolution)."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .arithmetic import conv_output_size, conv_transpose_output_size, effective_kernel_size
from .errors import InputError

ACTIVATIONS: tuple[str | None, ...] = (None, "relu", "gelu", "sigmoid", "tanh")
_TORCH_ACTIVATIONS = {"relu": torch.relu, "gelu": F.gelu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}
MAX_FILTERS = 64


def _as_volume(image: np.ndarray) -> np.ndarray:
    """H×W or H×W×C numbers → C×H×W float64."""
    array = np.asarray(image)
    if array.ndim not in (2, 3) or array.size == 0 or not np.issubdtype(array.dtype, np.number):
        raise InputError("err.image_shape", shape=tuple(array.shape))
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise InputError("err.layer_input_not_finite")
    return array[None] if array.ndim == 2 else np.ascontiguousarray(array.transpose(2, 0, 1))


def _as_weights(weights: np.ndarray, channels: int) -> np.ndarray:
    w = np.asarray(weights)
    if w.ndim != 4 or w.size == 0 or not np.issubdtype(w.dtype, np.number) or w.shape[0] > MAX_FILTERS:
        raise InputError("err.layer_weights_shape", shape=tuple(w.shape), max=MAX_FILTERS)
    if w.shape[1] != channels:
        raise InputError("err.layer_channels", weight_channels=w.shape[1], channels=channels)
    w = w.astype(np.float64)
    if not np.isfinite(w).all():
        raise InputError("err.layer_weights_not_finite")
    return w


def _as_bias(bias: np.ndarray | None, filters: int) -> np.ndarray:
    if bias is None:
        return np.zeros(filters)
    b = np.asarray(bias, dtype=np.float64).reshape(-1)
    if b.shape != (filters,):
        raise InputError("err.layer_bias_shape", count=b.size, filters=filters)
    if not np.isfinite(b).all():
        raise InputError("err.layer_bias_not_finite")
    return b


def _check_activation(activation: str | None) -> str | None:
    if activation not in ACTIVATIONS:
        raise InputError("err.unknown_activation", name=activation, names=", ".join(str(a) for a in ACTIVATIONS))
    return activation


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value).is_integer():
        raise InputError("err.not_integer", name=name, value=value)
    return int(value)


def activate(values: np.ndarray | float, activation: str | None) -> np.ndarray:
    """The activation (None, "relu", "gelu" (exact, erf), "sigmoid", "tanh") applied with torch, in float64."""
    x = torch.as_tensor(np.asarray(values, dtype=np.float64))
    name = _check_activation(activation)
    return (x if name is None else _TORCH_ACTIVATIONS[name](x)).numpy()


def _layer(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, padding: int, dilation: int) -> np.ndarray:
    """n×H'×W' pre-activation values, float64, by torch's conv2d."""
    for axis in (1, 2):
        conv_output_size(x.shape[axis], w.shape[axis + 1], stride, padding, dilation)  # the student-readable errors
    out = F.conv2d(torch.from_numpy(x)[None], torch.from_numpy(w), torch.from_numpy(b),
                   stride=int(stride), padding=int(padding), dilation=int(dilation))
    return out[0].numpy()


def conv_layer(
    image: np.ndarray, weights: np.ndarray, bias: np.ndarray | None = None, stride: int = 1, padding: int = 0,
    dilation: int = 1, activation: str | None = None,
) -> np.ndarray:
    """n feature maps (n×H'×W' float32): each filter over every input channel, summed, plus its bias, then the activation."""
    x = _as_volume(image)
    w = _as_weights(weights, x.shape[0])
    b = _as_bias(bias, w.shape[0])
    pre = _layer(x, w, b, stride, padding, dilation)
    return activate(pre, activation).astype(np.float32)


@dataclass(frozen=True)
class LayerExplanation:
    """How one value of one feature map is computed: per channel window ⊙ slice, partial sums, + bias, activation."""

    filter: int
    row: int
    col: int
    top: int  # input row of the first tap; negative where the window starts in the padding
    left: int
    dilation: int
    windows: np.ndarray  # C×kh×kw input values under the taps, zeros in the padding
    is_padding: np.ndarray  # kh×kw, True where a tap lies in the padding
    kernel: np.ndarray  # C×kh×kw, the filter's slices
    products: np.ndarray  # C×kh×kw
    partial_sums: np.ndarray  # C values, one per input channel
    bias: float
    pre_activation: float  # sum of the partial sums + bias
    activation: str | None
    value: float  # activation(pre_activation), equal to conv_layer(...)[filter, row, col]

    @property
    def span(self) -> tuple[int, int]:
        """The rows and columns the dilated window covers, d(k-1)+1 each."""
        return tuple(effective_kernel_size(k, self.dilation) for k in self.kernel.shape[1:])


def explain_layer_output(
    image: np.ndarray, weights: np.ndarray, bias: np.ndarray | None, filter: int, row: int, col: int, stride: int = 1,
    padding: int = 0, dilation: int = 1, activation: str | None = None,
) -> LayerExplanation:
    """Every number behind conv_layer(...)[filter, row, col]."""
    x = _as_volume(image)
    w = _as_weights(weights, x.shape[0])
    b = _as_bias(bias, w.shape[0])
    _check_activation(activation)
    kh, kw = w.shape[2:]
    rows = conv_output_size(x.shape[1], kh, stride, padding, dilation)
    cols = conv_output_size(x.shape[2], kw, stride, padding, dilation)
    f, r, c, s, p, d = (_int(v, n) for v, n in ((filter, "filter"), (row, "row"), (col, "col"), (stride, "stride"),
                                                (padding, "padding"), (dilation, "dilation")))
    if not 0 <= f < w.shape[0]:
        raise InputError("err.filter_outside", filter=f, filters=w.shape[0])
    if not (0 <= r < rows and 0 <= c < cols):
        raise InputError("err.pixel_outside", row=r, col=c, rows=rows, cols=cols)
    top, left = r * s - p, c * s - p
    tr, tc = top + d * np.arange(kh), left + d * np.arange(kw)
    inside_r, inside_c = (tr >= 0) & (tr < x.shape[1]), (tc >= 0) & (tc < x.shape[2])
    windows = np.zeros((x.shape[0], kh, kw))
    windows[:, inside_r[:, None] & inside_c[None, :]] = x[:, tr[inside_r]][:, :, tc[inside_c]].reshape(x.shape[0], -1)
    products = windows * w[f]
    partial = products.sum(axis=(1, 2))
    pre = float(partial.sum() + b[f])
    return LayerExplanation(
        filter=f, row=r, col=c, top=top, left=left, dilation=d, windows=windows,
        is_padding=~(inside_r[:, None] & inside_c[None, :]), kernel=w[f], products=products, partial_sums=partial,
        bias=float(b[f]), pre_activation=pre, activation=activation,
        value=float(np.float32(activate(pre, activation))),
    )


def window_span(
    image: np.ndarray, top: int, left: int, kernel_shape: tuple[int, int], dilation: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every cell a dilated window spans (C×span×span, zeros in the padding), which of them are taps, which are padding."""
    x = _as_volume(image)
    sh, sw = (effective_kernel_size(int(k), int(dilation)) for k in kernel_shape)
    rows, cols = top + np.arange(sh), left + np.arange(sw)
    inside = ((rows >= 0) & (rows < x.shape[1]))[:, None] & ((cols >= 0) & (cols < x.shape[2]))[None, :]
    values = np.zeros((x.shape[0], sh, sw))
    values[:, inside] = x[:, rows.clip(0, x.shape[1] - 1)][:, :, cols.clip(0, x.shape[2] - 1)][:, inside]
    taps = np.zeros((sh, sw), dtype=bool)
    taps[:: int(dilation), :: int(dilation)] = True
    return values, taps, ~inside


def layer_counts(channels: int, filters: int, kernel: tuple[int, int], output: tuple[int, int]) -> dict[str, int]:
    """Weights k·k·C per filter, parameters k·k·C·n + n, output values n·H'·W' and multiply-adds n·H'·W'·k·k·C."""
    per_filter = int(kernel[0] * kernel[1] * channels)
    values = int(filters * output[0] * output[1])
    return {"per_filter": per_filter, "weights": per_filter * filters, "parameters": per_filter * filters + filters,
            "values": values, "multiply_adds": values * per_filter}


def shift(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The image moved dy rows down and dx columns right; the cells it uncovers are 0."""
    array = np.asarray(image)
    out = np.zeros_like(array)
    h, w = array.shape[:2]
    if abs(dy) < h and abs(dx) < w:
        out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = array[max(-dy, 0) : h - max(dy, 0),
                                                                             max(-dx, 0) : w - max(dx, 0)]
    return out


@dataclass(frozen=True)
class Equivariance:
    """A layer's maps for an image and for the image shifted by (dy, dx), compared where no border interferes."""

    original: np.ndarray  # n×H'×W'
    shifted: np.ndarray  # n×H'×W', the maps of the shifted image
    difference: np.ndarray  # n×H'×W', shifted − original moved by (dy, dx)/s; NaN near the borders
    map_shift: tuple[int, int]  # how far the original map is moved before comparing: (dy, dx) / s, rounded down
    exact_shift: bool  # whether s divides both dy and dx
    max_difference: float  # largest |difference| away from the borders
    scale: float  # largest |original| value, to read max_difference against
    compared: int  # how many values were compared
    pooled_change: float  # relative change ‖P(shifted) − P(original)‖ / ‖P(original)‖ after 2×2 max pooling, no moving back
    unpooled_change: float  # the same without pooling


def equivariance(
    image: np.ndarray, weights: np.ndarray, bias: np.ndarray | None, dy: int, dx: int, stride: int = 1, padding: int = 0,
    dilation: int = 1, activation: str | None = None,
) -> Equivariance:
    """What shifting the input by (dy, dx) does to the layer's maps: at stride 1 they shift by the same amount."""
    x = _as_volume(image)
    w = _as_weights(weights, x.shape[0])
    b = _as_bias(bias, w.shape[0])
    dy, dx, s, p, d = _int(dy, "dy"), _int(dx, "dx"), _int(stride, "stride"), _int(padding, "padding"), _int(dilation, "dilation")
    moved = shift(x.transpose(1, 2, 0), dy, dx).transpose(2, 0, 1)
    before = activate(_layer(x, w, b, s, p, d), activation)
    after = activate(_layer(np.ascontiguousarray(moved), w, b, s, p, d), activation)
    my, mx = dy // s, dx // s
    expected = shift(before.transpose(1, 2, 0), my, mx).transpose(2, 0, 1)
    # Compare only where the window, in the shifted image, lies wholly on real (shifted) pixels: no padding, no fill.
    valid = []
    for axis, (delta, k) in enumerate(((dy, w.shape[2]), (dx, w.shape[3]))):
        n_out, size = before.shape[axis + 1], x.shape[axis + 1]
        start = np.arange(n_out) * s - p
        lo, hi = max(delta, 0), size + min(delta, 0)
        ok = (start >= lo) & (start + effective_kernel_size(k, d) - 1 < hi)
        src = np.arange(n_out) - (delta // s)
        valid.append(ok & (src >= 0) & (src < n_out))
    mask = valid[0][:, None] & valid[1][None, :]
    difference = np.where(mask[None], after - expected, np.nan)
    compared = int(mask.sum()) * w.shape[0]
    pool = lambda maps: F.max_pool2d(torch.from_numpy(maps)[None], 2)[0].numpy() if min(maps.shape[1:]) >= 2 else maps
    change = lambda a, b_: float(np.linalg.norm(a - b_) / (np.linalg.norm(b_) or 1.0))
    return Equivariance(
        original=before.astype(np.float32), shifted=after.astype(np.float32), difference=difference.astype(np.float32),
        map_shift=(my, mx), exact_shift=dy % s == 0 and dx % s == 0,
        max_difference=float(np.nanmax(np.abs(difference))) if compared else float("nan"),
        scale=float(np.abs(before).max()), compared=compared,
        pooled_change=change(pool(after), pool(before)), unpooled_change=change(after, before),
    )


@dataclass(frozen=True)
class SlidingSteps:
    """A convolution on a small grid, one output value at a time, in reading order."""

    padded: np.ndarray  # (m + 2p) × (m + 2p) input with its zero padding
    padding: int
    kernel: np.ndarray
    output: np.ndarray  # H'×W'
    taps: np.ndarray  # steps × k_h·k_w × 2: padded (row, col) of every tap of each step's window
    cells: np.ndarray  # steps × 2: the output (row, col) each step computes


def sliding_steps(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0, dilation: int = 1) -> SlidingSteps:
    """The window of every output value of a single-channel convolution, and the values (= torch's conv2d)."""
    x = _as_volume(image)[:1]
    k = np.asarray(kernel, dtype=np.float64)
    s, p, d = _int(stride, "stride"), _int(padding, "padding"), _int(dilation, "dilation")
    output = _layer(x, k[None, None], np.zeros(1), s, p, d)[0]
    rows, cols = output.shape
    out_r, out_c = np.divmod(np.arange(rows * cols), cols)
    kr, kc = np.divmod(np.arange(k.size), k.shape[1])
    taps = np.stack([out_r[:, None] * s + kr[None] * d, out_c[:, None] * s + kc[None] * d], axis=-1)
    return SlidingSteps(padded=np.pad(x[0], p), padding=p, kernel=k, output=output, taps=taps,
                        cells=np.stack([out_r, out_c], axis=-1))


@dataclass(frozen=True)
class TransposeSteps:
    """A transposed convolution on a small grid, one input value at a time: each scatters value × kernel."""

    image: np.ndarray  # m×m input
    kernel: np.ndarray
    canvas: np.ndarray  # steps+1 × full × full: the sums after each step, before cropping the padding
    taps: np.ndarray  # steps × k·k × 2: canvas (row, col) each step adds to
    crop: tuple[int, int]  # the output is canvas[crop[0] : crop[0] + size, ...] (extended with zeros by output_padding)
    output: np.ndarray  # the result of the steps
    torch_output: np.ndarray  # torch.nn.functional.conv_transpose2d on the same numbers, shown beside it


def transpose_steps(
    image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0, dilation: int = 1, output_padding: int = 0
) -> TransposeSteps:
    """Every input value's contribution to a single-channel transposed convolution, accumulated in order."""
    x = _as_volume(image)[0]
    k = np.asarray(kernel, dtype=np.float64)
    s, p, d, op = (_int(v, n) for v, n in ((stride, "stride"), (padding, "padding"), (dilation, "dilation"),
                                           (output_padding, "output_padding")))
    size = conv_transpose_output_size(x.shape[0], k.shape[0], s, p, op, d), conv_transpose_output_size(x.shape[1], k.shape[1], s, p, op, d)
    full = [(x.shape[i] - 1) * s + effective_kernel_size(k.shape[i], d) for i in (0, 1)]
    canvas = np.zeros((x.size + 1, max(full[0], p + size[0]), max(full[1], p + size[1])))
    kr, kc = np.divmod(np.arange(k.size), k.shape[1])
    taps = []
    for step, (i, j) in enumerate(np.ndindex(*x.shape)):
        rr, cc = i * s + kr * d, j * s + kc * d
        canvas[step + 1] = canvas[step]
        np.add.at(canvas[step + 1], (rr, cc), x[i, j] * k.ravel())
        taps.append(np.stack([rr, cc], axis=-1))
    output = canvas[-1][p : p + size[0], p : p + size[1]]
    reference = F.conv_transpose2d(torch.from_numpy(x)[None, None], torch.from_numpy(k)[None, None], stride=s, padding=p,
                                   output_padding=op, dilation=d)[0, 0].numpy()
    return TransposeSteps(image=x, kernel=k, canvas=canvas, taps=np.array(taps), crop=(p, p), output=output,
                          torch_output=reference)


FILTER_PRESETS: tuple[str, ...] = ("edge_luma", "edges4", "colour", "blur", "random", "network")
_COLOUR = {  # 1×1 colour detectors: weights for R, G, B
    "red_minus_green": (1.0, -1.0, 0.0), "blue_minus_yellow": (-0.5, -0.5, 1.0), "luminance": (0.299, 0.587, 0.114),
    "redness": (1.0, -0.5, -0.5),
}


def _per_channel(kernels: list[np.ndarray], channels: int) -> np.ndarray:
    """The same 2-D kernel on every channel, divided by C so that a gray image's map keeps the gray scale's size."""
    return np.stack([np.repeat(k[None] / channels, channels, axis=0) for k in kernels])


def network_first_layer() -> tuple[np.ndarray, np.ndarray]:
    """The shipped CIFAR-10 network's 24 whitening filters (24×3×2×2) and their biases, as the network stores them."""
    from .model import load_model

    net = load_model()
    return net.whiten.weight.detach().double().numpy().copy(), net.whiten.bias.detach().double().numpy().copy()


def normalise_like_network(image: np.ndarray) -> np.ndarray:
    """H×W×3 uint8 pixels → (x/255 − mean)/std per channel, the input the network's first layer sees."""
    from .model import MEAN, STD

    return (np.asarray(image, dtype=np.float64) / 255 - np.array(MEAN)) / np.array(STD)


def preset_filters(name: str, channels: int, filters: int = 4, size: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """A bank of filters (n×C×k×k), its biases and each filter's name: edge, colour, blur, random or the network's.

    A colour preset's weights are per RGB channel; on a one-channel input each filter becomes the sum of its slices."""
    from .kernels import get_kernel

    if channels not in (1, 3):
        raise InputError("err.layer_channels_1_or_3", channels=channels)
    if name == "edge_luma":
        return _per_channel([get_kernel("sobel_x")], channels), np.zeros(1), ("sobel_x",)
    if name == "edges4":
        names = ("sobel_x", "sobel_y", "laplacian", "outline")
        return _per_channel([get_kernel(n) for n in names], channels), np.zeros(4), names
    if name == "blur":
        return _per_channel([get_kernel("box_blur", 3)], channels), np.zeros(1), ("box_blur",)
    if name == "colour":
        rgb = np.array(list(_COLOUR.values()))[:, :, None, None]
        weights = rgb if channels == 3 else rgb.sum(axis=1, keepdims=True)
        return weights, np.zeros(len(_COLOUR)), tuple(_COLOUR)
    if name == "random":
        n, k = _int(filters, "filters"), _int(size, "kernel")
        if not 1 <= n <= MAX_FILTERS or not 1 <= k <= 15:
            raise InputError("err.layer_weights_shape", shape=(n, channels, k, k), max=MAX_FILTERS)
        generator = torch.Generator().manual_seed(int(seed))
        conv = torch.nn.Conv2d(channels, n, k)  # PyTorch's own initialisation, what a layer holds before training
        with torch.no_grad():
            bound = 1 / np.sqrt(channels * k * k)
            conv.weight.uniform_(-bound, bound, generator=generator)
            conv.bias.uniform_(-bound, bound, generator=generator)
        return conv.weight.detach().double().numpy(), conv.bias.detach().double().numpy(), tuple(f"random_{i}" for i in range(n))
    if name == "network":
        weights, bias = network_first_layer()
        if channels == 1:
            weights = weights.sum(axis=1, keepdims=True)
        return weights, bias, tuple(f"whiten_{i}" for i in range(len(bias)))
    raise InputError("err.unknown_preset", name=name, names=", ".join(FILTER_PRESETS))
