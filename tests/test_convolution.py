"""convolve against a plain numpy loop and scipy; explain_output_pixel against convolve."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.signal import correlate2d

from cnn_core import InputError, conv_output_size, convolve, explain_output_pixel, get_kernel, to_grayscale


def reference(image: np.ndarray, kernel: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """Cross-correlation by the definition: a window, a product, a sum, for every output pixel."""
    padded = np.pad(image.astype(np.float64), padding)
    kh, kw = kernel.shape
    rows = (padded.shape[0] - kh) // stride + 1
    cols = (padded.shape[1] - kw) // stride + 1
    out = np.zeros((rows, cols))
    for r in range(rows):
        for c in range(cols):
            out[r, c] = np.sum(padded[r * stride : r * stride + kh, c * stride : c * stride + kw] * kernel)
    return out


def test_lecture_style_hand_example() -> None:
    image = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    kernel = np.array([[1, 0], [0, -1]])
    np.testing.assert_array_equal(convolve(image, kernel), [[-4, -4], [-4, -4]])
    # padding 1, stride 2: windows start at padded (0,0), (0,2), (2,0), (2,2)
    np.testing.assert_array_equal(convolve(image, kernel, stride=2, padding=1), [[-1, -3], [-7, -4]])


def test_is_cross_correlation_not_flipped() -> None:
    image = np.zeros((5, 5))
    image[2, 2] = 1
    kernel = np.arange(9.0).reshape(3, 3)
    # An impulse through cross-correlation gives the kernel rotated by 180°; a true convolution gives it as is.
    np.testing.assert_array_equal(convolve(image, kernel, padding=1)[1:4, 1:4], kernel[::-1, ::-1])


@given(
    h=st.integers(1, 14), w=st.integers(1, 14), kh=st.integers(1, 5), kw=st.integers(1, 5),
    stride=st.integers(1, 4), padding=st.integers(0, 3), seed=st.integers(0, 2**16),
)
def test_matches_plain_loop(h: int, w: int, kh: int, kw: int, stride: int, padding: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (h, w)).astype(np.uint8)
    kernel = rng.normal(size=(kh, kw))
    if kh > h + 2 * padding or kw > w + 2 * padding:
        with pytest.raises(InputError):
            convolve(image, kernel, stride, padding)
        return
    out = convolve(image, kernel, stride, padding)
    assert out.dtype == np.float32
    assert out.shape == (conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding))
    np.testing.assert_allclose(out, reference(image, kernel, stride, padding), rtol=1e-5, atol=1e-3)


def test_matches_scipy_on_a_photo(photo: np.ndarray) -> None:
    gray = to_grayscale(photo)
    for name in ("sobel_x", "gaussian", "emboss"):
        kernel = get_kernel(name)
        np.testing.assert_allclose(convolve(gray, kernel), correlate2d(gray, kernel, mode="valid"), rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(convolve(gray, kernel, padding=1), correlate2d(gray, kernel, mode="same"), rtol=1e-5, atol=1e-3)


def test_each_channel_separately(photo: np.ndarray) -> None:
    kernel = get_kernel("gaussian", 5, 1.5)
    out = convolve(photo, kernel, stride=2, padding=2)
    assert out.shape == (24, 32, 3)
    for c in range(3):
        np.testing.assert_allclose(out[:, :, c], reference(photo[:, :, c], kernel, 2, 2), rtol=1e-5, atol=1e-3)


def test_grayscale_is_luma(photo: np.ndarray) -> None:
    from PIL import Image

    pil = np.asarray(Image.fromarray(photo).convert("L"), dtype=np.float32)
    assert np.abs(to_grayscale(photo) - pil).max() <= 1.0  # Pillow rounds to integers


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 1), (3, 2), (1, 3), (4, 0)])
def test_explanation_equals_convolve_exactly(photo: np.ndarray, stride: int, padding: int) -> None:
    kernel = get_kernel("gaussian", 5, 1.3) - 0.01 * np.arange(25).reshape(5, 5)  # weights of every sign
    out = convolve(photo, kernel, stride, padding)
    rng = np.random.default_rng(stride * 10 + padding)
    pixels = [(0, 0), (out.shape[0] - 1, out.shape[1] - 1)] + [tuple(rng.integers(0, out.shape[:2])) for _ in range(40)]
    for row, col in pixels:
        ex = explain_output_pixel(photo, kernel, row, col, stride, padding)
        np.testing.assert_array_equal(ex.sums, out[row, col])  # exact, every channel
        np.testing.assert_array_equal(ex.products, ex.window * kernel[:, :, None])


def test_explanation_marks_padding_zeros() -> None:
    image = np.arange(1, 17, dtype=np.uint8).reshape(4, 4)
    kernel = np.ones((3, 3))
    ex = explain_output_pixel(image, kernel, 0, 0, stride=1, padding=1)
    assert (ex.top, ex.left) == (-1, -1)
    np.testing.assert_array_equal(ex.is_padding, [[True, True, True], [True, False, False], [True, False, False]])
    np.testing.assert_array_equal(ex.window[:, :, 0], [[0, 0, 0], [0, 1, 2], [0, 5, 6]])
    assert list(ex.input_rows) == [0, 1] and list(ex.input_cols) == [0, 1]
    assert float(ex.sums[0]) == 14 == convolve(image, kernel, padding=1)[0, 0]


def test_explanation_outside_the_map_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        explain_output_pixel(np.zeros((5, 5)), np.ones((3, 3)), 3, 0)
    assert caught.value.key == "err.pixel_outside"


@pytest.mark.parametrize("image", [np.zeros((0, 3)), np.zeros((2, 2, 2, 2)), np.array([["a"]])])
def test_bad_images_are_refused(image: np.ndarray) -> None:
    with pytest.raises(InputError):
        convolve(image, np.ones((1, 1)))
