"""Grad-CAM against autograd on the same layer, occlusion against a plain loop on a model that looks at one region."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnn_core import sample_image
from cnn_core.model import CLASSES, load_model, predict, preprocess, to_input
from cnn_core.saliency import grad_cam, occlusion


def autograd_grad_cam(image: np.ndarray, target: int, layer: str) -> np.ndarray:
    """Grad-CAM written out: channel weights = mean gradient of the class logit, ReLU of the weighted sum, bilinear."""
    net = copy.deepcopy(load_model())
    kept = {}
    handle = net.get_submodule(layer).register_forward_hook(lambda module, inputs, output: kept.setdefault("a", output))
    x = to_input(preprocess(image)[None]).requires_grad_(True)
    activation = None
    try:
        logits = net(x)
        activation = kept["a"]
        (gradient,) = torch.autograd.grad(logits[0, target], activation)
    finally:
        handle.remove()
    weights, activation = gradient[0].double().mean(dim=(1, 2)), activation.detach()
    cam = torch.relu((weights[:, None, None] * activation[0].double()).sum(0))
    cam = F.interpolate(cam[None, None], size=(32, 32), mode="bilinear", align_corners=False)[0, 0]
    return (cam / cam.max() if cam.max() > 0 else cam).numpy()


@pytest.mark.parametrize("layer", ["block3", "block2"])
def test_grad_cam_equals_autograd_on_the_same_layer(layer: str) -> None:
    cat = sample_image("cat")
    probabilities = predict(cat)
    first, second = sorted(range(len(CLASSES)), key=lambda c: -probabilities[CLASSES[c]])[:2]
    for target in (first, second, CLASSES.index("truck")):
        expected = autograd_grad_cam(cat, target, layer)
        got = grad_cam(cat, target, layer=layer)
        assert got.shape == (32, 32) and got.dtype == np.float32
        np.testing.assert_allclose(got, expected, atol=1e-5)
        assert got.min() >= 0 and got.max() in (0.0, pytest.approx(1.0))
    assert grad_cam(cat, first, layer=layer).max() == pytest.approx(1.0)  # the predicted class has evidence somewhere


def test_grad_cam_default_target_is_the_predicted_class_and_names_work(photo: np.ndarray) -> None:
    probabilities = predict(photo)  # any size: preprocessed as predict does
    predicted = max(probabilities, key=probabilities.get)
    default = grad_cam(photo)
    np.testing.assert_array_equal(default, grad_cam(photo, predicted))
    np.testing.assert_array_equal(default, grad_cam(photo, CLASSES.index(predicted)))


def test_bad_targets_and_settings_are_refused() -> None:
    cat = sample_image("cat")
    for bad in ("unicorn", 10, -1):
        with pytest.raises(ValueError):
            grad_cam(cat, bad)
    with pytest.raises(ValueError):
        grad_cam(cat, layer="fc")
    for window, stride in ((0, 1), (33, 1), (8, 9), (8, 0)):
        with pytest.raises(ValueError):
            occlusion(cat, window=window, stride=stride)


REGION = (slice(8, 16), slice(20, 28))  # rows, columns the synthetic model looks at


class LooksAtOneRegion(nn.Module):
    """Class 0's logit is the mean of the region's normalised pixels; every other logit is 0."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(len(x), len(CLASSES), dtype=x.dtype)
        logits[:, 0] = x[:, :, REGION[0], REGION[1]].mean(dim=(1, 2, 3))
        return logits


def looped_occlusion(image: np.ndarray, model: nn.Module, target: int, window: int, stride: int) -> np.ndarray:
    """Occlusion by hand: cover each square with 0 (the mean colour), the drop in probability, averaged per pixel.
    Squares start every `stride` pixels until one reaches the border; the last may stick out and is cut."""
    x = to_input(image[None])
    with torch.no_grad():
        base = torch.softmax(model(x), 1)[0, target].item()
        total, count = np.zeros((32, 32)), np.zeros((32, 32))
        starts = range(0, 32 - window + stride, stride) if window < 32 else [0]
        for top in starts:
            for left in starts:
                covered = x.clone()
                covered[:, :, top : top + window, left : left + window] = 0
                total[top : top + window, left : left + window] += base - torch.softmax(model(covered), 1)[0, target].item()
                count[top : top + window, left : left + window] += 1
    drop = np.where(count > 0, total / np.maximum(count, 1), 0).clip(min=0)
    return drop / drop.max()


@pytest.mark.parametrize("window, stride", [(8, 4), (4, 4), (6, 4)])
def test_occlusion_finds_the_region_the_model_depends_on(window: int, stride: int) -> None:
    image = np.full((32, 32, 3), 40, dtype=np.uint8)
    image[REGION[0], REGION[1]] = 250  # bright where the model looks: covering it lowers class 0
    model = LooksAtOneRegion()
    got = occlusion(image, 0, window=window, stride=stride, model=model)
    np.testing.assert_allclose(got, looped_occlusion(image, model, 0, window, stride), atol=1e-5)
    rows, cols = np.nonzero(got)
    # Only squares that overlap the region change the answer, so nothing further than one window from it lights up.
    assert rows.min() > REGION[0].start - window and rows.max() < REGION[0].stop + window - 1
    assert cols.min() > REGION[1].start - window and cols.max() < REGION[1].stop + window - 1
    peak = np.unravel_index(np.argmax(got), got.shape)
    assert REGION[0].start <= peak[0] < REGION[0].stop and REGION[1].start <= peak[1] < REGION[1].stop
    assert got[0, 0] == 0 and got[-1, -1] == 0


def test_occlusion_of_the_shipped_network(photo: np.ndarray) -> None:
    cat = sample_image("cat")
    shown = occlusion(cat, "cat")
    assert shown.shape == (32, 32) and 0 <= shown.min() and shown.max() == pytest.approx(1.0)
    np.testing.assert_array_equal(occlusion(cat), shown)  # the network says cat
    assert occlusion(photo, 3).shape == (32, 32)
