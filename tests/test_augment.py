"""Image augmentation: flips, shifts, rotations, crops and colour against numpy/scipy, the seed, and the agreement count."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from cnn_core import InputError, sample_image
from cnn_core.augment import Augmentation, agreement, augment_images, perturb, pipeline
from cnn_core.model import WEIGHTS_PATH


@pytest.fixture
def picture() -> np.ndarray:
    """A 33 × 45 colour picture with edges in both directions and no symmetry."""
    y, x = np.mgrid[0:33, 0:45]
    image = np.stack([x * 5, y * 7, ((x // 6 + y // 4) % 2) * 200 + 30], axis=2)
    image[5:12, 8:30] = (250, 20, 90)
    return image.astype(np.uint8)


def test_no_change_is_the_identity(picture: np.ndarray) -> None:
    out = augment_images(picture, 3, Augmentation(), seed=1)
    assert out.shape == (3, *picture.shape) and out.dtype == np.uint8
    assert all(np.array_equal(version, picture) for version in out)


def test_certain_flips_are_numpy_flips(picture: np.ndarray) -> None:
    assert all(np.array_equal(v, picture[:, ::-1]) for v in augment_images(picture, 2, Augmentation(hflip=1.0)))
    assert all(np.array_equal(v, picture[::-1]) for v in augment_images(picture, 2, Augmentation(vflip=1.0)))


def test_flip_with_probability_half_mirrors_about_half(picture: np.ndarray) -> None:
    out = augment_images(picture, 64, Augmentation(hflip=0.5), seed=3)
    mirrored = [np.array_equal(v, picture[:, ::-1]) for v in out]
    unchanged = [np.array_equal(v, picture) for v in out]
    assert all(m or u for m, u in zip(mirrored, unchanged))
    assert 16 <= sum(mirrored) <= 48


def test_same_seed_same_versions_other_seed_others(picture: np.ndarray) -> None:
    settings = Augmentation(hflip=0.5, degrees=20, translate=0.1, min_area=0.6, brightness=0.3, contrast=0.3, saturation=0.3,
                            hue=0.05)
    first = augment_images(picture, 6, settings, seed=7)
    assert np.array_equal(first, augment_images(picture, 6, settings, seed=7))
    assert not np.array_equal(first, augment_images(picture, 6, settings, seed=8))
    assert len({v.tobytes() for v in first}) == 6  # each version draws its own values
    assert np.array_equal(first[:3], augment_images(picture, 3, settings, seed=7))  # more versions keep the first ones


def shifted(image: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """`image` moved dx pixels right and dy down, the uncovered part black."""
    out = np.zeros_like(image)
    h, w = image.shape[:2]
    source = image[max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)]
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = source
    return out


def test_translation_is_a_whole_pixel_shift_within_the_range(picture: np.ndarray) -> None:
    limit = 0.2
    out = augment_images(picture, 8, Augmentation(translate=limit), seed=2)
    h, w = picture.shape[:2]
    found = []
    for version in out:
        matches = [(dx, dy) for dx in range(-w // 2, w // 2) for dy in range(-h // 2, h // 2)
                   if np.array_equal(version, shifted(picture, dx, dy))]
        assert matches, "not a pure shift"
        dx, dy = matches[0]
        assert abs(dx) <= math.ceil(limit * w) and abs(dy) <= math.ceil(limit * h)
        found.append((dx, dy))
    assert len(set(found)) > 1


def test_rotation_is_a_scipy_rotation_by_an_angle_in_the_range() -> None:
    image = np.asarray(sample_image("shapes"))[::4, ::4]  # 64 × 64
    limit = 30
    angles = []
    for version in augment_images(image, 4, Augmentation(degrees=limit), seed=5):
        errors = {}
        for angle in np.arange(-limit, limit + 0.01, 0.5):
            expected = ndimage.rotate(image.astype(np.float64), angle, axes=(1, 0), reshape=False, order=1, cval=0.0)
            inner = (slice(12, 52), slice(12, 52))  # away from the corners, where the fill and the edge rules differ
            errors[angle] = np.abs(version[inner].astype(np.float64) - expected[inner]).mean()
        best = min(errors, key=errors.get)
        assert errors[best] < 3.0, (best, errors[best])
        angles.append(best)
    assert len(set(angles)) == 4 and max(map(abs, angles)) > 3  # each version turned by its own, visible angle


def test_brightness_multiplies_every_value_by_one_factor(picture: np.ndarray) -> None:
    for version in augment_images(picture, 4, Augmentation(brightness=0.4), seed=4):
        values, original = version.astype(np.float64), picture.astype(np.float64)
        usable = (values < 255) & (original > 20)
        factor = values[usable].sum() / original[usable].sum()
        assert 0.6 - 0.01 <= factor <= 1.4 + 0.01
        assert np.abs(np.clip(original * factor, 0, 255) - values).max() <= 1.5


def test_random_crop_zooms_in_and_keeps_the_size() -> None:
    ramp = np.repeat(np.repeat(np.linspace(0, 255, 64)[None, :, None], 48, axis=0), 3, axis=2).astype(np.uint8)
    out = augment_images(ramp, 6, Augmentation(min_area=0.3), seed=0)
    assert out.shape == (6, 48, 64, 3)
    for version in out:
        row = version[24, :, 0].astype(int)
        assert (np.diff(row) >= -1).all()  # still a left-to-right ramp: a crop neither mirrors nor turns
        assert row[-1] - row[0] <= 256 and row[0] >= 0


def test_pipeline_lists_the_torchvision_transforms() -> None:
    text = repr(pipeline(Augmentation(hflip=0.5, degrees=10, translate=0.1, min_area=0.5, hue=0.1), (32, 32)))
    for name in ("RandomResizedCrop", "RandomHorizontalFlip", "RandomRotation", "RandomAffine", "ColorJitter"):
        assert name in text
    assert "RandomVerticalFlip" not in text
    assert "Identity" in repr(pipeline(Augmentation(), (32, 32)))


@pytest.mark.parametrize("settings", [Augmentation(degrees=-5), Augmentation(hue=0.7), Augmentation(min_area=0.0),
                                      Augmentation(brightness=math.nan), Augmentation(hflip=2)])
def test_bad_settings_are_refused(settings: Augmentation, picture: np.ndarray) -> None:
    with pytest.raises(InputError) as caught:
        augment_images(picture, 2, settings)
    assert caught.value.key == "aug.err_setting"


@pytest.mark.parametrize("count", [0, 65, 2.5])
def test_bad_count(count: float, picture: np.ndarray) -> None:
    with pytest.raises(InputError) as caught:
        augment_images(picture, count, Augmentation())
    assert caught.value.key == "aug.err_count"


def test_bad_image() -> None:
    with pytest.raises(InputError) as caught:
        augment_images(np.zeros((10, 10), np.uint8), 2, Augmentation())
    assert caught.value.key == "err.image_shape"


def test_agreement_by_hand() -> None:
    same, fraction = agreement(3, np.array([3, 1, 3, 3]))
    assert same.tolist() == [True, False, True, True] and fraction == 0.75
    assert agreement(0, np.array([], dtype=int))[1] == 0.0


def test_perturb_is_kept(picture: np.ndarray) -> None:
    assert np.array_equal(perturb(picture, flip=True), picture[:, ::-1])
    assert np.array_equal(perturb(picture), picture)


@pytest.mark.skipif(not WEIGHTS_PATH.exists(), reason="the trained CIFAR-10 weights are not there yet")
def test_identity_versions_get_the_original_prediction() -> None:
    from cnn_core.model import predict, predict_batch, preprocess

    cat = np.asarray(sample_image("cat"))
    versions = augment_images(cat, 3, Augmentation(), seed=0)
    probabilities = predict_batch(np.stack([preprocess(cat), *(preprocess(v) for v in versions)]))
    assert np.allclose(probabilities[0], list(predict(cat).values()), atol=1e-6)
    same, fraction = agreement(int(probabilities[0].argmax()), probabilities[1:].argmax(axis=1))
    assert fraction == 1.0 and same.all()
