"""Softmax, cross-entropy and its gradient against torch, hand-computed examples and the limits of the temperature."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnn_core.errors import InputError
from cnn_core.softmax import (
    MAX_CLASSES,
    cross_entropy,
    cross_entropy_gradient,
    log_softmax,
    logsumexp,
    negative_log,
    parse_logit,
    parse_logits,
    sigmoid,
    softmax,
    softmax_steps,
)

LOGITS = arrays(np.float64, st.integers(2, 12), elements=st.floats(-50, 50))
TEMPERATURES = st.floats(0.05, 20)


def torch_loss_and_gradient(z: np.ndarray, y: int, temperature: float) -> tuple[float, np.ndarray]:
    """The oracle: F.cross_entropy on z / T, differentiated by autograd with respect to z."""
    logits = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    loss = F.cross_entropy((logits / temperature)[None], torch.tensor([y]))
    loss.backward()
    return float(loss.detach()), logits.grad.numpy()


def test_hand_computed_example() -> None:
    p = softmax([2.0, 1.0, 0.1])
    np.testing.assert_allclose(p, [0.659, 0.242, 0.099], atol=5e-4)
    assert cross_entropy([2.0, 1.0, 0.1], 0) == pytest.approx(-math.log(0.6590011), abs=1e-6)
    assert cross_entropy([2.0, 1.0, 0.1], 2) == pytest.approx(2.3170, abs=1e-4)  # −ln 0.0986
    # Equal logits: every class gets 1/K and the loss is ln K, the loss of a blind guess.
    np.testing.assert_allclose(softmax(np.zeros(10)), 0.1)
    assert cross_entropy(np.zeros(10), 3) == pytest.approx(math.log(10))


@given(z=LOGITS, temperature=TEMPERATURES, data=st.data())
def test_agrees_with_torch(z: np.ndarray, temperature: float, data: st.DataObject) -> None:
    y = data.draw(st.integers(0, len(z) - 1))
    expected_p = torch.softmax(torch.tensor(z) / temperature, dim=0).numpy()
    np.testing.assert_allclose(softmax(z, temperature), expected_p, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(log_softmax(z, temperature), torch.log_softmax(torch.tensor(z) / temperature, 0).numpy(),
                               rtol=1e-9, atol=1e-9)
    loss, gradient = torch_loss_and_gradient(z, y, temperature)
    assert cross_entropy(z, y, temperature) == pytest.approx(loss, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(cross_entropy_gradient(z, y, temperature), gradient, rtol=1e-8, atol=1e-12)
    assert logsumexp(z) == pytest.approx(float(torch.logsumexp(torch.tensor(z), 0)), rel=1e-12)


def test_gradient_is_p_minus_onehot_at_temperature_one() -> None:
    z = np.array([2.0, 1.0, 0.1])
    g = cross_entropy_gradient(z, 1)
    np.testing.assert_allclose(g, softmax(z) - np.array([0, 1, 0]))
    assert g.sum() == pytest.approx(0, abs=1e-15)  # probabilities and the one-hot both sum to 1
    assert g[1] < 0 < g[0]  # descending the gradient raises the true logit and lowers the others


def test_batches_along_the_last_axis() -> None:
    z = np.random.default_rng(0).normal(size=(4, 7)) * 5
    np.testing.assert_allclose(softmax(z), torch.softmax(torch.tensor(z), dim=-1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(logsumexp(z), torch.logsumexp(torch.tensor(z), -1).numpy(), rtol=1e-12)


def test_huge_logits_do_not_overflow() -> None:
    with np.errstate(over="raise", invalid="raise"):
        p = softmax([1000.0, 1001.0])
        loss = cross_entropy([1000.0, 1001.0], 0)
    np.testing.assert_allclose(p, [1 / (1 + math.e), math.e / (1 + math.e)])  # only the difference matters
    assert loss == pytest.approx(math.log(1 + math.e))
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp([1000.0, 1001.0]) / np.exp([1000.0, 1001.0]).sum()
    assert np.isnan(naive).all()  # what the page warns about
    steps = softmax_steps([1000.0, 1001.0], 0)
    assert steps.overflow and np.isfinite(steps.probabilities).all() and steps.shifted.max() == 0
    assert steps.log_sum_exp == pytest.approx(1001 + math.log(1 + math.exp(-1)))
    # A class far below the others: p underflows to 0 but the loss stays finite (log-sum-exp).
    assert cross_entropy([0.0, 2000.0], 0) == pytest.approx(2000.0)
    assert not softmax_steps([2.0, 1.0, 0.1], 0).overflow


def test_temperature_limits() -> None:
    z = np.array([1.0, 3.0, 2.0, -1.0])
    cold = softmax(z, 1e-3)
    np.testing.assert_allclose(cold, [0, 1, 0, 0], atol=1e-12)  # T → 0: argmax as one-hot
    hot = softmax(z, 1e6)
    np.testing.assert_allclose(hot, 0.25, atol=1e-5)  # T → ∞: uniform
    entropy = [-(p * np.log(p + 1e-300)).sum() for p in (softmax(z, t) for t in (0.1, 0.5, 1, 2, 10))]
    assert np.all(np.diff(entropy) > 0)  # hotter is flatter
    np.testing.assert_allclose(softmax(np.array([5.0, 5.0, 1.0]), 1e-9), [0.5, 0.5, 0])  # a tie splits evenly
    # Tiny T with large logits: subtracting before dividing keeps every exponent finite.
    with np.errstate(over="raise", invalid="raise"):
        np.testing.assert_allclose(softmax([1e6, -1e6], 1e-300), [1, 0])
    assert cross_entropy(z, 1, 1e-3) == pytest.approx(0, abs=1e-12)
    assert cross_entropy(z, 0, 1e-3) == pytest.approx((3 - 1) / 1e-3)


@pytest.mark.parametrize("temperature", [0, -1, math.inf, math.nan, "hot"])
def test_bad_temperature_is_refused(temperature: object) -> None:
    with pytest.raises(InputError) as caught:
        softmax([1.0, 2.0], temperature)  # type: ignore[arg-type]
    assert caught.value.key == "sm.err_temperature"
    assert isinstance(caught.value, ValueError)  # older callers catch ValueError


@pytest.mark.parametrize("true_class", [-1, 3, 1.5, True])
def test_bad_true_class_is_refused(true_class: object) -> None:
    with pytest.raises(InputError) as caught:
        cross_entropy([1.0, 2.0, 3.0], true_class)  # type: ignore[arg-type]
    assert caught.value.key == "sm.err_true_class"


def test_sigmoid_against_torch_and_its_relation_to_softmax() -> None:
    x = np.linspace(-800, 800, 1601)
    with np.errstate(over="raise"):
        np.testing.assert_allclose(sigmoid(x), torch.sigmoid(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-300)
    assert float(sigmoid(0.0)) == 0.5
    z = np.array([1.5, -0.7])
    assert softmax(z)[0] == pytest.approx(float(sigmoid(z[0] - z[1])))  # two classes: softmax is a sigmoid
    assert sigmoid(np.array([2.0, 1.0, 0.1])).sum() == pytest.approx(0.8808 + 0.7311 + 0.5250, abs=1e-4)  # not 1


def test_negative_log() -> None:
    np.testing.assert_allclose(negative_log([1.0, math.exp(-2), 0.5]), [0.0, 2.0, math.log(2)])


def test_steps_are_consistent() -> None:
    s = softmax_steps([3.0, -1.0, 0.5, 2.0], 3, temperature=2.0)
    np.testing.assert_allclose(s.scaled, [1.5, -0.5, 0.25, 1.0])
    np.testing.assert_allclose(s.shifted, [0.0, -2.0, -1.25, -0.5])
    np.testing.assert_allclose(s.exps, np.exp(s.shifted))
    assert s.total == pytest.approx(s.exps.sum()) and s.probabilities.sum() == pytest.approx(1)
    assert s.loss == pytest.approx(s.log_sum_exp - s.scaled[3]) and s.loss == pytest.approx(-math.log(s.probabilities[3]))
    assert s.predicted == 0 and s.true_class == 3
    loss, gradient = torch_loss_and_gradient(s.logits, 3, 2.0)
    assert s.loss == pytest.approx(loss) and np.allclose(s.gradient, gradient)


@pytest.mark.parametrize(("cell", "value"), [
    (2, 2.0), (-0.5, -0.5), ("3", 3.0), (" -1,5 ", -1.5), ("−2.25", -2.25), ("1e3", 1000.0), (".5", 0.5), ("+4", 4.0),
    (np.float32(1.5), 1.5),
])
def test_parse_logit_accepts(cell: object, value: float) -> None:
    assert parse_logit(cell, 0) == value


@pytest.mark.parametrize(("cell", "key"), [
    (None, "sm.err_empty"), ("", "sm.err_empty"), ("  ", "sm.err_empty"), (math.nan, "sm.err_empty"),
    ("abc", "sm.err_not_number"), ("1/2", "sm.err_not_number"), ("2,5,1", "sm.err_not_number"), ("e3", "sm.err_not_number"),
    ("inf", "sm.err_not_number"), (math.inf, "sm.err_not_finite"), ("1e400", "sm.err_not_finite"),
    ("2e6", "sm.err_too_large"), (-1e7, "sm.err_too_large"),
])
def test_parse_logit_refuses(cell: object, key: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_logit(cell, 4)
    assert caught.value.key == key
    assert caught.value.params.get("row", 5) == 5  # rows are counted from 1 for the student


def test_parse_logits_counts() -> None:
    np.testing.assert_array_equal(parse_logits(["2", 1, "0,1"]), [2.0, 1.0, 0.1])
    for cells in ([], ["1"], ["1"] * (MAX_CLASSES + 1)):
        with pytest.raises(InputError) as caught:
            parse_logits(cells)
        assert caught.value.key == "sm.err_count"
    with pytest.raises(InputError) as caught:
        parse_logits(["1", "2", "dos"])
    assert caught.value.key == "sm.err_not_number" and caught.value.params["row"] == 3
