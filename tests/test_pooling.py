"""Max and average pooling against PyTorch, a plain loop and the classic hand-worked example."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from cnn_core.errors import InputError
from cnn_core.pooling import (
    explain_pool_output,
    matching_conv_parameters,
    pool2d,
    pool_output_shape,
    pool_parameters,
    pooled_volume,
)

EXAMPLE = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])


def loop_pool(x: np.ndarray, k: int, s: int, mode: str) -> np.ndarray:
    rows, cols = (x.shape[0] - k) // s + 1, (x.shape[1] - k) // s + 1
    out = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            window = x[i * s : i * s + k, j * s : j * s + k]
            out[i, j] = window.max() if mode == "max" else window.mean()
    return out


def test_hand_worked_example() -> None:
    assert pool2d(EXAMPLE, 2, 2, "max").values.tolist() == [[6, 8], [3, 4]]
    assert pool2d(EXAMPLE, 2, 2, "avg").values.tolist() == [[3.25, 5.25], [2, 2]]
    assert pool2d(EXAMPLE, 2, 2, "max").winners.tolist() == [[[1, 1], [1, 3]], [[2, 0], [3, 3]]]
    assert pool2d(EXAMPLE, 2, 2, "avg").winners is None
    assert pool2d(EXAMPLE, 2).values.tolist() == [[6, 8], [3, 4]]  # stride defaults to the window


volumes = st.tuples(st.integers(1, 3), st.integers(1, 12), st.integers(1, 12), st.integers(1, 5), st.integers(1, 5),
                    st.integers(0, 2**31 - 1), st.booleans())


@given(volumes)
def test_max_pool_equals_torch_values_and_indices(case: tuple) -> None:
    c, h, w, k, s, seed, ties = case
    if k > min(h, w):
        with pytest.raises(InputError):
            pool2d(np.zeros((c, h, w)), k, s)
        return
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, (c, h, w)).astype(np.float64) if ties else rng.normal(size=(c, h, w))
    pooled = pool2d(x, k, s, "max")
    values, indices = F.max_pool2d(torch.from_numpy(x)[None], k, s, return_indices=True)
    np.testing.assert_array_equal(pooled.values, values[0].numpy())
    # PyTorch gives a flat index row·W + col into each channel; with ties both pick the first in reading order.
    np.testing.assert_array_equal(pooled.winners[..., 0] * w + pooled.winners[..., 1], indices[0].numpy())
    np.testing.assert_array_equal(pooled.values, np.stack([loop_pool(x[i], k, s, "max") for i in range(c)]))


@given(volumes)
def test_average_pool_equals_torch_and_loop(case: tuple) -> None:
    c, h, w, k, s, seed, _ = case
    if k > min(h, w):
        return
    x = np.random.default_rng(seed).uniform(-100, 255, (c, h, w))
    pooled = pool2d(x, k, s, "avg")
    np.testing.assert_allclose(pooled.values, F.avg_pool2d(torch.from_numpy(x)[None], k, s)[0].numpy(), rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(pooled.values, np.stack([loop_pool(x[i], k, s, "avg") for i in range(c)]), rtol=1e-12, atol=1e-10)


def test_two_dimensional_input_keeps_two_dimensions() -> None:
    x = np.arange(35, dtype=np.uint8).reshape(5, 7)
    pooled = pool2d(x, 3, 2)
    assert pooled.values.shape == (2, 3) and pooled.winners.shape == (2, 3, 2)
    assert pooled.values.tolist() == [[16, 18, 20], [30, 32, 34]]


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_explanation_agrees_with_the_pooled_map(mode: str) -> None:
    x = np.random.default_rng(3).normal(size=(4, 11, 9))
    pooled = pool2d(x, 3, 2, mode)
    for channel, row, col in [(0, 0, 0), (2, 4, 3), (3, 2, 1)]:
        ex = explain_pool_output(x, row, col, 3, 2, mode, channel)
        assert ex.value == pooled.values[channel, row, col]
        assert (ex.top, ex.left) == (row * 2, col * 2) and ex.values.shape == (3, 3) and ex.count == 9
        np.testing.assert_array_equal(ex.values, x[channel, row * 2 : row * 2 + 3, col * 2 : col * 2 + 3])
        assert ex.total == pytest.approx(x[channel, row * 2 : row * 2 + 3, col * 2 : col * 2 + 3].sum())
        if mode == "max":
            assert ex.winner == tuple(pooled.winners[channel, row, col])
            assert x[channel][ex.winner] == ex.value
            r, c = ex.winner_in_window
            assert ex.values[r, c] == ex.value
        else:
            assert ex.winner is None and ex.value == pytest.approx(ex.total / 9)


def test_lecture_volume_and_torch_shapes() -> None:
    assert pooled_volume(32, 32, 12, 2, 2) == (16, 16, 12)  # the lecture's 32×32×12 → 16×16×12
    for h, w, c, k, s in [(32, 32, 12, 2, 2), (31, 31, 64, 2, 2), (15, 9, 3, 3, 1), (7, 7, 128, 3, 3), (64, 48, 1, 4, 3)]:
        out = torch.nn.MaxPool2d(k, s)(torch.zeros(1, c, h, w)).shape
        assert pooled_volume(h, w, c, k, s) == (out[2], out[3], out[1])
        assert pool_output_shape(h, w, k, s) == tuple(out[2:])


@pytest.mark.parametrize(("k", "c"), [(2, 12), (3, 1), (5, 64)])
def test_pooling_has_no_parameters_unlike_a_convolution(k: int, c: int) -> None:
    for layer in (torch.nn.MaxPool2d(k), torch.nn.AvgPool2d(k)):
        assert pool_parameters(k, c) == sum(p.numel() for p in layer.parameters()) == 0
    assert matching_conv_parameters(k, c) == sum(p.numel() for p in torch.nn.Conv2d(c, c, k).parameters())


@pytest.mark.parametrize(("call", "key"), [
    (lambda: pool2d(np.zeros((3, 3)), 4), "pool.err_window_too_large"),
    (lambda: pool2d(np.zeros((2, 8, 8)), 2, 2, "median"), "pool.err_mode"),
    (lambda: pool2d(np.zeros((2, 2, 8, 8)), 2), "pool.err_shape"),
    (lambda: pool2d(np.array([[1.0, np.nan], [0.0, 1.0]]), 2), "pool.err_not_finite"),
    (lambda: pool2d(np.zeros((0, 4)), 2), "pool.err_shape"),
    (lambda: pool2d(np.zeros((4, 4)), 0), "err.kernel_too_small"),
    (lambda: pool2d(np.zeros((4, 4)), 2, 0), "err.stride_too_small"),
    (lambda: pool2d(np.zeros((4, 4)), 2.5), "err.not_integer"),
    (lambda: explain_pool_output(np.zeros((8, 8)), 4, 0, 2, 2), "pool.err_outside"),
    (lambda: explain_pool_output(np.zeros((2, 8, 8)), 0, 0, 2, 2, "max", 2), "pool.err_channel"),
    (lambda: pooled_volume(8, 8, 0, 2), "pool.err_channels"),
])
def test_bad_input_is_a_readable_error(call, key: str) -> None:
    with pytest.raises(InputError) as caught:
        call()
    assert caught.value.key == key
    assert caught.value.message("es") != caught.value.message("en")
