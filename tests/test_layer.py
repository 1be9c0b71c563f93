"""conv_layer against torch's conv2d and activations; explain_layer_output against conv_layer; the transposed size,
the sliding steps and equivariance against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnn_core import (
    ACTIVATIONS, InputError, conv_layer, conv_output_size, conv_transpose_output_size, convolve, explain_layer_output,
    explain_output_pixel,
)
from cnn_core.layer import equivariance, layer_counts, preset_filters, shift, sliding_steps, transpose_steps

TORCH = {None: lambda x: x, "relu": torch.relu, "gelu": F.gelu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}


def oracle(image: np.ndarray, weights: np.ndarray, bias: np.ndarray, stride: int, padding: int, dilation: int, activation) -> np.ndarray:
    x = torch.from_numpy(np.asarray(image, dtype=np.float32).reshape(image.shape[0], image.shape[1], -1)).permute(2, 0, 1)[None]
    out = F.conv2d(x, torch.from_numpy(weights.astype(np.float32)), torch.from_numpy(bias.astype(np.float32)),
                   stride=stride, padding=padding, dilation=dilation)
    return TORCH[activation](out)[0].numpy()


@settings(max_examples=150, deadline=None)
@given(
    h=st.integers(1, 12), w=st.integers(1, 12), c=st.sampled_from([1, 2, 3]), n=st.integers(1, 5), k=st.integers(1, 4),
    stride=st.integers(1, 3), padding=st.integers(0, 3), dilation=st.integers(1, 3),
    activation=st.sampled_from(ACTIVATIONS), seed=st.integers(0, 2**16),
)
def test_conv_layer_matches_torch(h, w, c, n, k, stride, padding, dilation, activation, seed) -> None:
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(h, w, c)) if c > 1 else rng.normal(size=(h, w))
    weights, bias = rng.normal(size=(n, c, k, k)), rng.normal(size=n)
    if dilation * (k - 1) + 1 > min(h, w) + 2 * padding:
        with pytest.raises(InputError):
            conv_layer(image, weights, bias, stride, padding, dilation, activation)
        return
    out = conv_layer(image, weights, bias, stride, padding, dilation, activation)
    assert out.dtype == np.float32
    assert out.shape == (n, conv_output_size(h, k, stride, padding, dilation), conv_output_size(w, k, stride, padding, dilation))
    np.testing.assert_allclose(out, oracle(image, weights, bias, stride, padding, dilation, activation), rtol=1e-4, atol=1e-4)
    f, r, col = int(rng.integers(n)), int(rng.integers(out.shape[1])), int(rng.integers(out.shape[2]))
    ex = explain_layer_output(image, weights, bias, f, r, col, stride, padding, dilation, activation)
    assert ex.value == out[f, r, col]
    assert ex.partial_sums.shape == (c,)
    np.testing.assert_allclose(ex.partial_sums.sum() + ex.bias, ex.pre_activation, rtol=1e-12)
    np.testing.assert_allclose(ex.products, ex.windows * weights[f], rtol=1e-12)


def test_lecture_volume_three_channels_one_filter_one_map() -> None:
    image = np.arange(4 * 4 * 3, dtype=np.float64).reshape(4, 4, 3)
    weights = np.ones((1, 3, 3, 3))
    out = conv_layer(image, weights, np.array([-1.0]), activation="relu")
    assert out.shape == (1, 2, 2)
    by_hand = image[0:3, 0:3, :].sum() - 1
    assert out[0, 0, 0] == by_hand
    ex = explain_layer_output(image, weights, [-1.0], 0, 0, 0)
    np.testing.assert_array_equal(ex.partial_sums, [image[0:3, 0:3, ch].sum() for ch in range(3)])
    assert ex.bias == -1 and ex.pre_activation == by_hand and ex.value == by_hand


def test_padding_marked_and_dilated_taps() -> None:
    image = np.arange(25.0).reshape(5, 5)
    ex = explain_layer_output(image, np.ones((1, 1, 3, 3)), None, 0, 0, 0, stride=1, padding=2, dilation=2)
    # taps at padded rows/cols -2, 0, 2: the first row and column of taps are padding
    np.testing.assert_array_equal(ex.is_padding[0], True)
    np.testing.assert_array_equal(ex.is_padding[:, 0], True)
    np.testing.assert_array_equal(ex.windows[0, 1:, 1:], image[np.ix_([0, 2], [0, 2])])
    assert ex.span == (5, 5)


def test_counts_match_the_lecture_and_torch() -> None:
    counts = layer_counts(3, 1, (5, 5), (28, 28))
    assert counts["per_filter"] == 75 and counts["parameters"] == 76
    conv = torch.nn.Conv2d(3, 4, 3)
    assert layer_counts(3, 4, (3, 3), (30, 30))["parameters"] == sum(p.numel() for p in conv.parameters())


def test_bad_input_gives_readable_errors() -> None:
    image = np.zeros((4, 4, 3))
    with pytest.raises(InputError, match="slice per input channel"):
        conv_layer(image, np.zeros((1, 1, 3, 3)))
    with pytest.raises(InputError, match="biases for 2 filters"):
        conv_layer(image, np.zeros((2, 3, 3, 3)), np.zeros(3))
    with pytest.raises(InputError, match="activation"):
        conv_layer(image, np.zeros((1, 3, 3, 3)), activation="softplus")
    with pytest.raises(InputError):
        conv_layer(image, np.full((1, 3, 3, 3), np.nan))
    with pytest.raises(InputError, match="larger than the padded input"):
        conv_layer(image, np.zeros((1, 3, 3, 3)), dilation=2)
    with pytest.raises(InputError, match="outside"):
        explain_layer_output(image, np.zeros((1, 3, 3, 3)), None, 0, 2, 0)
    with pytest.raises(InputError, match="filter"):
        explain_layer_output(image, np.zeros((1, 3, 3, 3)), None, 1, 0, 0)


@settings(max_examples=60, deadline=None)
@given(h=st.integers(3, 12), k=st.integers(1, 4), stride=st.integers(1, 3), padding=st.integers(0, 2), dilation=st.integers(1, 3),
       seed=st.integers(0, 2**16))
def test_convolve_and_explain_output_pixel_with_dilation(h, k, stride, padding, dilation, seed) -> None:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (h, h + 1, 3)).astype(np.uint8)
    kernel = rng.normal(size=(k, k))
    if dilation * (k - 1) + 1 > h + 2 * padding:
        with pytest.raises(InputError):
            convolve(image, kernel, stride, padding, dilation)
        return
    out = convolve(image, kernel, stride, padding, dilation)
    x = torch.from_numpy(image.transpose(2, 0, 1).astype(np.float64))[:, None]
    expected = F.conv2d(x, torch.from_numpy(kernel)[None, None], stride=stride, padding=padding, dilation=dilation)[:, 0]
    np.testing.assert_allclose(out, expected.numpy().transpose(1, 2, 0), rtol=1e-5, atol=1e-3)
    r, c = int(rng.integers(out.shape[0])), int(rng.integers(out.shape[1]))
    ex = explain_output_pixel(image, kernel, r, c, stride, padding, dilation)
    np.testing.assert_array_equal(ex.sums, out[r, c])
    cols_inside = any(0 <= ex.left + dilation * j < h + 1 for j in range(k))
    assert list(ex.input_rows) == [ex.top + dilation * i for i in range(k) if 0 <= ex.top + dilation * i < h and cols_inside]


@settings(max_examples=200, deadline=None)
@given(m=st.integers(1, 12), k=st.integers(1, 5), s=st.integers(1, 4), p=st.integers(0, 4), d=st.integers(1, 3), op=st.integers(0, 3))
def test_transpose_size_matches_torch(m: int, k: int, s: int, p: int, d: int, op: int) -> None:
    x, w = torch.zeros(1, 1, m, m), torch.zeros(1, 1, k, k)
    try:
        expected = F.conv_transpose2d(x, w, stride=s, padding=p, output_padding=op, dilation=d).shape[2]
    except RuntimeError:
        expected = None
    if expected is None or expected < 1:
        with pytest.raises(InputError):
            conv_transpose_output_size(m, k, s, p, op, d)
    else:
        assert conv_transpose_output_size(m, k, s, p, op, d) == expected
        assert torch.nn.ConvTranspose2d(1, 1, k, s, p, op, dilation=d)(x).shape[2] == expected


@pytest.mark.parametrize(("m", "k", "s", "p", "d", "op"), [(3, 3, 2, 0, 1, 0), (4, 3, 2, 1, 1, 1), (3, 2, 3, 1, 2, 2), (2, 3, 1, 0, 2, 0)])
def test_transpose_steps_accumulate_to_torch(m, k, s, p, d, op) -> None:
    rng = np.random.default_rng(m * 10 + k)
    image, kernel = rng.integers(0, 5, (m, m)).astype(float), rng.integers(-2, 3, (k, k)).astype(float)
    steps = transpose_steps(image, kernel, s, p, d, op)
    layer = torch.nn.ConvTranspose2d(1, 1, k, s, p, op, dilation=d, bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(kernel)[None, None])
        expected = layer(torch.from_numpy(image)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(steps.output, expected, atol=1e-12)
    assert len(steps.canvas) == m * m + 1 and not steps.canvas[0].any()


def test_sliding_steps_taps_give_the_values() -> None:
    rng = np.random.default_rng(3)
    image, kernel = rng.integers(0, 5, (7, 7)).astype(float), rng.integers(-1, 2, (3, 3)).astype(float)
    steps = sliding_steps(image, kernel, stride=2, padding=1, dilation=2)
    assert steps.output.shape == (conv_output_size(7, 3, 2, 1, 2),) * 2
    for (r, c), taps in zip(steps.cells, steps.taps):
        assert steps.output[r, c] == pytest.approx(float((steps.padded[taps[:, 0], taps[:, 1]] * kernel.ravel()).sum()))


def test_shift_moves_and_fills_with_zeros() -> None:
    image = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(shift(image, 1, -1), [[0, 0, 0, 0], [1, 2, 3, 0], [5, 6, 7, 0]])


@pytest.mark.parametrize("activation", [None, "relu"])
def test_stride_one_is_equivariant_on_a_real_photo(activation) -> None:
    from cnn_core import resize_to, sample_image

    image = resize_to(sample_image("cat"), 32).astype(np.float64)
    weights, bias, _ = preset_filters("edges4", 3)
    result = equivariance(image, weights, bias, 2, -3, stride=1, padding=1, activation=activation)
    assert result.exact_shift and result.compared > 1000
    assert result.max_difference <= 1e-9 * result.scale
    # Checked independently: the maps of the shifted photo, moved back, equal the photo's maps away from the borders.
    torch_maps = oracle(shift(image, 2, -3), weights, bias, 1, 1, 1, activation)
    np.testing.assert_allclose(torch_maps[:, 6:-6, 6:-6], oracle(image, weights, bias, 1, 1, 1, activation)[:, 4:-8, 9:-3],
                               rtol=1e-4, atol=1e-2)
    odd = equivariance(image, weights, bias, 1, 0, stride=2, padding=1, activation=activation)
    assert not odd.exact_shift and odd.max_difference > 0.05 * odd.scale
    even = equivariance(image, weights, bias, 2, 0, stride=2, padding=1, activation=activation)
    assert even.exact_shift and even.max_difference <= 1e-9 * even.scale


def test_presets_have_the_shapes_of_a_layer() -> None:
    for name, n in (("edge_luma", 1), ("edges4", 4), ("colour", 4), ("blur", 1)):
        for c in (1, 3):
            weights, bias, names = preset_filters(name, c)
            assert weights.shape[:2] == (n, c) and bias.shape == (n,) and len(names) == n
    weights, bias, _ = preset_filters("random", 3, filters=6, size=5)
    assert weights.shape == (6, 3, 5, 5) and np.abs(weights).max() <= 1 / np.sqrt(75)
    gray = np.add.outer(np.arange(5.0) ** 2, 3 * np.arange(6.0))
    # the same edge kernel on every channel: on a gray RGB image it gives the gray image's map
    np.testing.assert_allclose(conv_layer(np.repeat(gray[:, :, None], 3, 2), preset_filters("edge_luma", 3)[0]),
                               conv_layer(gray, preset_filters("edge_luma", 1)[0]), rtol=1e-6, atol=1e-9)


def test_network_preset_is_the_networks_first_layer() -> None:
    from cnn_core import model as m
    from cnn_core import resize_to, sample_image
    from cnn_core.layer import normalise_like_network

    try:
        m.load_model()
    except m.ModelError:
        pytest.skip("the shipped weights are not available")
    weights, bias, _ = preset_filters("network", 3)
    assert weights.shape == (24, 3, 2, 2) and bias.shape == (24,)
    image = m.preprocess(resize_to(sample_image("cat"), 64))
    maps = conv_layer(normalise_like_network(image), weights, bias)
    np.testing.assert_allclose(maps, m.feature_maps(image)["whiten"], rtol=1e-4, atol=1e-4)


def test_window_span_has_the_taps_every_d_cells() -> None:
    from cnn_core.layer import window_span

    image = np.arange(36.0).reshape(6, 6)
    values, taps, padding = window_span(image, -1, 0, (3, 3), 2)
    assert values.shape == (1, 5, 5) and taps.sum() == 9 and taps[0, 0] and not taps[1, 1]
    np.testing.assert_array_equal(padding[0], True)
    np.testing.assert_array_equal(values[0, 1:], image[0:4, 0:5])
    ex = explain_layer_output(image, np.ones((1, 1, 3, 3)), None, 0, 0, 0, padding=1, dilation=2)
    values, taps, _ = window_span(image, ex.top, ex.left, (3, 3), 2)
    np.testing.assert_array_equal(values[0][taps], ex.windows[0].ravel())
