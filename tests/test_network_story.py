"""What the network page says about the shipped network: the six test-time views, the parameters layer by layer, the
learned filters, the learning-rate schedule and label smoothing, each against an independent computation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from cnn_core import model as m
from cnn_core.recipe import card_recipe, history, largest_drop, learning_rates, smoothed_target, smoothing_loss_floor
from cnn_core.softmax import softmax
from cnn_core.train import make_optimizer, lr_factor


@pytest.fixture(scope="module")
def net() -> m.CifarNet:
    return m.load_model()


def test_the_six_views_and_weights_are_what_prediction_averages(net: m.CifarNet) -> None:
    images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    x = m.to_input(images)
    views = m.tta_views(x)
    assert len(views) == 6 and sum(weight for _, weight, _ in views) == 1
    with torch.inference_mode():
        weighted = sum(weight * net(view) for _, weight, view in views)
        np.testing.assert_allclose(weighted.numpy(), m._tta_logits(net, x).numpy(), atol=1e-5)
    named = {name: view for name, _, view in views}
    torch.testing.assert_close(named["mirror"], x.flip(-1))
    torch.testing.assert_close(named["down_right"][..., 1:, 1:], x[..., :-1, :-1])  # the picture moved 1 px down, right
    torch.testing.assert_close(named["up_left"][..., :-1, :-1], x[..., 1:, 1:])
    torch.testing.assert_close(named["up_left_mirror"], named["up_left"].flip(-1))


def test_predict_batch_is_the_softmax_of_the_averaged_logits() -> None:
    images = np.random.default_rng(1).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    logits = m.predict_logits_batch(images)
    probabilities = m.predict_batch(images)
    np.testing.assert_array_equal(probabilities, softmax(logits))
    np.testing.assert_allclose(probabilities, torch.softmax(torch.from_numpy(logits).double(), 1).numpy(), rtol=1e-12)


def test_parameter_rows_split_every_parameter(net: m.CifarNet) -> None:
    rows = m.parameter_rows()
    assert [(r.name, r.total) for r in rows] == [(r.name, r.total) for r in m.parameter_rows(net)]
    assert sum(row.total for row in rows) == m.count_parameters(net) == 569_656
    assert sum(row.frozen for row in rows) == m.count_parameters(net) - m.count_parameters(m.CifarNet(), trainable_only=True)
    modules = dict(net.named_modules())
    for row in rows:
        assert row.total == sum(p.numel() for p in modules[row.name].parameters(recurse=False))
        if row.kind == "conv" and row.name != "whiten":
            k, _, c_in, n = row.factors
            assert row.biases == 0 and row.weights == k * k * c_in * n  # k·k·C·n, without the + n
        if row.kind == "batchnorm":
            assert row.weights == row.biases == row.factors[0] and row.frozen == row.factors[0]  # scale frozen at 1
    whiten = rows[0]
    assert (whiten.name, whiten.factors, whiten.biases, whiten.frozen) == ("whiten", (2, 2, 3, 24), 24, 288)


def test_filter_norms_against_a_plain_loop(net: m.CifarNet) -> None:
    filters = m.conv_filters(net, "block2.conv1")
    assert filters.shape == (128, 64, 3, 3)
    norms = m.filter_norms(filters)
    for f, c in ((0, 0), (5, 17), (127, 63)):
        assert norms[f, c] == pytest.approx(sum(float(v) ** 2 for v in filters[f, c].ravel()) ** 0.5, rel=1e-9)
    with pytest.raises(ValueError):
        m.conv_filters(net, "block2.bn1")


def test_learning_rates_are_the_schedule_training_used() -> None:
    card = m.model_card()
    recipe = card_recipe(card)
    epochs, filter_lr, bias_lr = learning_rates(recipe, card["data"]["train_images"])
    assert len(epochs) == card["training"]["steps"] == 1056 and epochs[-1] == recipe.epochs and epochs[47] == 1
    # Replay the real scheduler on the optimizer cnn_core.train builds, step by step.
    optimizer = make_optimizer(m.CifarNet(), recipe)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, 1056, recipe))
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stepping the scheduler without optimizer.step()
        for _ in range(1056):
            seen.append([group["lr"] for group in optimizer.param_groups])
            scheduler.step()
    seen = np.array(seen)
    np.testing.assert_allclose(filter_lr, seen[:, 1], rtol=1e-12)
    np.testing.assert_allclose(bias_lr, seen[:, 0], rtol=1e-12)
    peak = 11.5 / (1024 * (1 + 1 / (1 - 0.85)))  # the decoupled 11.5 per 1024 images, Nesterov momentum divided out
    assert filter_lr.max() == pytest.approx(peak) and filter_lr[0] == pytest.approx(0.2 * peak)
    assert int(np.argmax(filter_lr)) == int(0.23 * 1056) and bias_lr.max() == pytest.approx(64 * peak)


def test_history_from_the_card() -> None:
    card = m.model_card()
    h = history(card)
    assert list(h.epoch) == list(range(1, 23))
    assert h.test_accuracy[-1] == card["evaluation"]["test_accuracy"]  # the last epoch's one-view test accuracy
    assert h.loss[0] > h.loss[-1]
    with pytest.raises(ValueError):
        history({"training": {"history": [{"epoch": 1, "loss": float("nan"), "train_accuracy": 0.1, "test_accuracy": 0.1}]}})
    with pytest.raises(ValueError):
        history({"training": {}})


def test_label_smoothing_target_and_loss_floor() -> None:
    target = smoothed_target(3, 10, 0.2)
    assert target[3] == pytest.approx(0.82) and target.sum() == pytest.approx(1)
    floor = smoothing_loss_floor(10, 0.2)
    # torch's label-smoothed cross-entropy at its best prediction (p = q) is the floor, and any other prediction is worse.
    loss = nn.CrossEntropyLoss(label_smoothing=0.2)
    best = torch.log(torch.from_numpy(target))[None]
    assert loss(best, torch.tensor([3])).item() == pytest.approx(floor, rel=1e-9)
    assert floor == pytest.approx(0.8669, abs=1e-4)
    confident = torch.tensor([[0.0] * 3 + [20.0] + [0.0] * 6], dtype=torch.float64)
    assert loss(confident, torch.tensor([3])).item() > floor
    with pytest.raises(ValueError):
        smoothed_target(10, 10, 0.2)


def test_largest_drop_against_every_pair() -> None:
    rng = np.random.default_rng(2)
    for values in [rng.random(n) for n in (1, 2, 5, 22)] + [np.arange(6.0), np.array([0.59, 0.71, 0.75, 0.70, 0.63, 0.8])]:
        i, j = largest_drop(values)
        pairs = [(a, b) for a in range(len(values)) for b in range(a, len(values))]
        assert i <= j and values[i] - values[j] == pytest.approx(max(values[a] - values[b] for a, b in pairs))
    assert largest_drop(np.array([0.59, 0.71, 0.75, 0.70, 0.63, 0.8])) == (2, 4)
    assert largest_drop(np.arange(4.0)) == (0, 0)
