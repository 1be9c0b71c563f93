"""Noise, PSNR, Gaussian smoothing and the median filter, against hand computations, numpy and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from cnn_core import InputError, convolve, get_kernel, resize_to, sample_image
from cnn_core.noise import (
    add_gaussian_noise, add_noise, add_salt_pepper, gaussian_smooth, median_filter, mse, psnr, psnr_after_smoothing,
)


def skimage_psnr(reference: np.ndarray, image: np.ndarray, data_range: float = 255.0) -> float:
    """skimage.metrics.peak_signal_noise_ratio's formula, written out independently."""
    err = np.mean((reference.astype(np.float64) - image.astype(np.float64)) ** 2)
    return 10 * np.log10((data_range**2) / err)


def smooth_image(size: int = 256) -> np.ndarray:
    """A smooth colour image: gentle gradients and long waves, nothing sharper than a few tens of pixels."""
    y, x = np.mgrid[0:size, 0:size] / size
    r = 128 + 60 * np.sin(2 * np.pi * x) * np.cos(np.pi * y)
    g = 70 + 120 * x * y
    b = 128 + 50 * np.cos(3 * np.pi * (x + y) / 2)
    return np.clip(np.rint(np.stack([r, g, b], axis=2)), 0, 255).astype(np.uint8)


def test_psnr_by_hand() -> None:
    reference = np.zeros((2, 2), dtype=np.uint8)
    image = np.array([[10, 0], [0, 0]], dtype=np.uint8)  # MSE = 100 / 4 = 25
    assert mse(reference, image) == 25.0
    assert psnr(reference, image) == pytest.approx(10 * math.log10(65025 / 25))  # 34.151 dB
    assert psnr(reference, image) == pytest.approx(34.1514, abs=1e-4)


def test_psnr_of_identical_images_is_infinite() -> None:
    image = sample_image("shapes")
    assert psnr(image, image.copy()) == math.inf


def test_psnr_matches_the_skimage_formula() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)
    assert psnr(a, b) == pytest.approx(skimage_psnr(a, b), rel=1e-12)
    assert psnr(a, b) == pytest.approx(psnr(b, a))  # symmetric


def test_psnr_needs_the_same_shape() -> None:
    with pytest.raises(InputError) as caught:
        psnr(np.zeros((4, 4), np.uint8), np.zeros((4, 5), np.uint8))
    assert caught.value.key == "nz.err_shapes"


def test_gaussian_noise_statistics() -> None:
    image = np.full((400, 400, 3), 128, dtype=np.uint8)  # mid-grey: clipping at 0 and 255 is negligible for σ = 25
    noisy = add_gaussian_noise(image, 25, seed=1)
    difference = noisy.astype(np.float64) - image
    assert abs(difference.mean()) < 0.1  # standard error 25 / sqrt(480 000) ≈ 0.036
    assert difference.std() == pytest.approx(25, rel=0.01)
    assert noisy.dtype == np.uint8 and noisy.shape == image.shape


def test_gaussian_noise_is_reproducible_and_zero_is_nothing() -> None:
    image = sample_image("shapes")
    assert np.array_equal(add_gaussian_noise(image, 20, seed=5), add_gaussian_noise(image, 20, seed=5))
    assert not np.array_equal(add_gaussian_noise(image, 20, seed=5), add_gaussian_noise(image, 20, seed=6))
    assert np.array_equal(add_gaussian_noise(image, 0, seed=5), image)


def test_gaussian_noise_is_clipped_to_the_pixel_range() -> None:
    black = np.zeros((100, 100), dtype=np.uint8)
    noisy = add_gaussian_noise(black, 50, seed=0)
    assert noisy.min() == 0 and (noisy == 0).mean() == pytest.approx(0.5, abs=0.03)  # the negative half is clipped


def test_salt_and_pepper_fraction() -> None:
    image = np.full((200, 300, 3), 128, dtype=np.uint8)
    noisy = add_salt_pepper(image, 0.1, seed=2)
    changed = (noisy != 128).any(axis=2)
    assert changed.sum() == round(0.1 * 200 * 300)  # exactly the fraction of pixels
    values = noisy[changed]
    assert set(np.unique(values)) <= {0, 255}
    assert (values[:, 0] == values[:, 1]).all() and (values[:, 1] == values[:, 2]).all()  # a whole pixel turns black or white
    assert (values[:, 0] == 255).mean() == pytest.approx(0.5, abs=0.03)
    assert np.array_equal(noisy[~changed], image[~changed])


@pytest.mark.parametrize(("amount", "key"), [(-1, "nz.err_std"), (math.nan, "nz.err_std"), (300, "nz.err_std")])
def test_bad_gaussian_std(amount: float, key: str) -> None:
    with pytest.raises(InputError) as caught:
        add_noise(sample_image("shapes"), "gaussian", amount)
    assert caught.value.key == key


def test_bad_fraction_and_kind() -> None:
    with pytest.raises(InputError) as caught:
        add_noise(sample_image("shapes"), "salt_pepper", 1.5)
    assert caught.value.key == "nz.err_fraction"
    with pytest.raises(InputError) as caught:
        add_noise(sample_image("shapes"), "speckle", 0.1)
    assert caught.value.key == "nz.err_kind"


def test_gaussian_smooth_is_the_library_convolution_per_channel_with_repeated_edges() -> None:
    image = sample_image("shapes")[::4, ::4]
    out = gaussian_smooth(image, 5, 1.5)
    kernel = get_kernel("gaussian", 5, 1.5)
    assert out.shape == image.shape and out.dtype == np.uint8
    # scipy's correlate with repeated edges ('nearest', the median filter's rule) on each channel, independently computed
    for c in range(3):
        expected = ndimage.correlate(image[:, :, c].astype(np.float64), kernel, mode="nearest")
        assert np.array_equal(out[:, :, c], np.clip(np.rint(expected), 0, 255).astype(np.uint8))
    padded = np.pad(image, ((2, 2), (2, 2), (0, 0)), mode="edge")
    assert np.array_equal(out, np.clip(np.rint(convolve(padded, kernel)), 0, 255).astype(np.uint8))


def test_gaussian_and_median_share_the_border_rule() -> None:
    # A uniform image stays uniform under both filters up to the border: no darkened band biases the PSNR comparison.
    flat = np.full((20, 24, 3), 200, dtype=np.uint8)
    assert np.array_equal(gaussian_smooth(flat, 9, 3.0), flat) and np.array_equal(median_filter(flat, 3), flat)
    # On a noisy image both treat the border like the interior: the error in the outer band is no larger than inside
    clean = smooth_image(128)
    noisy = add_gaussian_noise(clean, 25, seed=0)
    for out in (gaussian_smooth(noisy, 7, 1.5), median_filter(noisy, 3)):
        error = (out.astype(np.float64) - clean) ** 2
        border = np.concatenate([error[:3].ravel(), error[-3:].ravel(), error[:, :3].ravel(), error[:, -3:].ravel()])
        assert border.mean() < 2 * error[3:-3, 3:-3].mean()


def test_lecture_claim_gaussian_filter_raises_psnr_on_a_smooth_image() -> None:
    clean = smooth_image()
    noisy = add_gaussian_noise(clean, 25, seed=0)
    before = psnr(clean, noisy)
    after = psnr(clean, gaussian_smooth(noisy, 5, 1.0))
    assert before == pytest.approx(20.2, abs=0.3)  # 10·log10(255² / 25²) = 20.17 dB
    assert after > before + 5


def test_too_much_smoothing_lowers_psnr_again() -> None:
    clean = resize_to(sample_image("coffee"), 256)  # the page's working image
    noisy = add_gaussian_noise(clean, 25, seed=0)
    curve = psnr_after_smoothing(clean, noisy, [9], [0.2, 1.0, 4.0])[0]
    assert curve[0] == pytest.approx(psnr(clean, noisy), abs=0.05)  # σ = 0.2 is almost the identity
    assert curve[1] > curve[0] and curve[1] > curve[2]  # the trade-off: a middle σ is best


def test_median_filter_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (23, 31, 3), dtype=np.uint8)
    for size in (3, 5):
        expected = ndimage.median_filter(image, size=(size, size, 1), mode="nearest")
        assert np.array_equal(median_filter(image, size), expected)
    gray = image[:, :, 0]
    assert np.array_equal(median_filter(gray, 3), ndimage.median_filter(gray, size=3, mode="nearest"))


def test_median_beats_gaussian_on_salt_and_pepper() -> None:
    clean = smooth_image(128)
    noisy = add_salt_pepper(clean, 0.05, seed=1)
    assert psnr(clean, median_filter(noisy, 3)) > psnr(clean, gaussian_smooth(noisy, 3, 1.0)) + 5


def test_bad_median_size() -> None:
    with pytest.raises(InputError) as caught:
        median_filter(sample_image("shapes"), 4)
    assert caught.value.key == "nz.err_median_size"
