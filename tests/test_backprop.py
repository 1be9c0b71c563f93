"""The chain rule through one sigmoid neuron against torch.autograd, a hand-computed example and a descent step."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from cnn_core.backprop import autograd_gradients, chain_rule, gradient_step, loss_curve, neuron_loss, tangent_line
from cnn_core.errors import InputError

VALUE = st.floats(-6, 6)
TARGET = st.floats(0, 1)


def torch_oracle(w: float, b: float, a_prev: float, y: float) -> tuple[float, float, float, float, float]:
    """Loss, dL/dw, dL/db, dL/da and dL/dz by autograd, written here independently of cnn_core."""
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    z = wt * a_prev + bt
    z.retain_grad()
    a = torch.sigmoid(z)
    a.retain_grad()
    loss = torch.nn.functional.mse_loss(a, torch.tensor(y, dtype=torch.float64), reduction="sum")
    loss.backward()
    return float(loss.detach()), float(wt.grad), float(bt.grad), float(a.grad), float(z.grad)


@given(w=VALUE, b=VALUE, a_prev=VALUE, y=TARGET)
def test_chain_rule_agrees_with_autograd(w: float, b: float, a_prev: float, y: float) -> None:
    c = chain_rule(w, b, a_prev, y)
    loss, dw, db, da, dz = torch_oracle(w, b, a_prev, y)
    assert c.loss == pytest.approx(loss, rel=1e-12, abs=1e-300)
    assert c.dL_da == pytest.approx(da, rel=1e-12, abs=1e-300)
    assert c.dL_dz == pytest.approx(dz, rel=1e-9, abs=1e-300)
    assert c.dL_dw == pytest.approx(dw, rel=1e-9, abs=1e-300)
    assert c.dL_db == pytest.approx(db, rel=1e-9, abs=1e-300)
    assert c.dL_dw == c.dL_da * c.da_dz * c.dz_dw  # the product of the lecture's three factors
    assert autograd_gradients(w, b, a_prev, y) == pytest.approx((dw, db), rel=1e-12, abs=1e-300)


def test_hand_computed_example() -> None:
    # w = 0.5, b = 0, a_prev = 2: z = 1, a = σ(1) = 0.731059, y = 1.
    c = chain_rule(0.5, 0.0, 2.0, 1.0)
    assert c.z == 1.0
    assert c.a == pytest.approx(0.7310586, abs=1e-7)
    assert c.loss == pytest.approx(0.0723295, abs=1e-7)  # (0.731059 − 1)²
    assert c.dL_da == pytest.approx(-0.5378828, abs=1e-7)  # 2(a − y)
    assert c.da_dz == pytest.approx(0.1966119, abs=1e-7)  # σ(1)(1 − σ(1))
    assert c.dz_dw == 2.0 and c.dz_db == 1.0
    assert c.dL_dw == pytest.approx(-0.2115084, abs=1e-7)
    assert c.dL_db == pytest.approx(-0.1057542, abs=1e-7)


def test_derivative_matches_a_finite_difference() -> None:
    w, b, a_prev, y, h = 0.8, -0.3, 1.7, 0.2, 1e-6
    c = chain_rule(w, b, a_prev, y)
    assert c.dL_dw == pytest.approx((neuron_loss(w + h, b, a_prev, y) - neuron_loss(w - h, b, a_prev, y)) / (2 * h), rel=1e-6)
    assert c.dL_db == pytest.approx((neuron_loss(w, b + h, a_prev, y) - neuron_loss(w, b - h, a_prev, y)) / (2 * h), rel=1e-6)


def test_one_step_by_hand() -> None:
    s = gradient_step(0.5, 0.0, 2.0, 1.0, learning_rate=1.0)
    assert s.w_after == pytest.approx(0.5 + 0.2115084, abs=1e-7)
    assert s.b_after == pytest.approx(0.0 + 0.1057542, abs=1e-7)
    assert s.loss_before == pytest.approx(0.0723295, abs=1e-7)
    assert s.loss_after == pytest.approx((1 / (1 + math.exp(-(s.w_after * 2 + s.b_after))) - 1) ** 2)
    assert s.loss_after < s.loss_before


@given(w=VALUE, b=VALUE, a_prev=VALUE, y=TARGET)
def test_a_small_step_decreases_the_loss(w: float, b: float, a_prev: float, y: float) -> None:
    c = chain_rule(w, b, a_prev, y)
    squared_gradient = c.dL_dw**2 + c.dL_db**2
    if squared_gradient < 1e-10:
        return  # a flat point (minimum or saturated sigmoid): no step can measurably help
    s = gradient_step(w, b, a_prev, y, learning_rate=1e-3)
    assert s.loss_after < s.loss_before
    # First-order Taylor: the decrease is about η‖∇L‖².
    assert s.loss_before - s.loss_after == pytest.approx(1e-3 * squared_gradient, rel=0.05)


def test_a_huge_learning_rate_can_overshoot() -> None:
    s = gradient_step(0.0, 0.0, 1.0, 1.0, learning_rate=1.0)
    assert s.loss_after < s.loss_before
    big = gradient_step(0.0, 0.0, 3.0, 0.6, learning_rate=100.0)  # jumps from a = 0.5 past 0.6 to a ≈ 1
    assert big.loss_after > big.loss_before


def test_repeated_steps_converge_towards_the_target() -> None:
    w, b = -1.0, 0.5
    losses = []
    for _ in range(300):
        s = gradient_step(w, b, 1.5, 0.9, learning_rate=2.0)
        w, b = s.w_after, s.b_after
        losses.append(s.loss_after)
    assert losses[-1] < 1e-4 and all(np.diff(losses) <= 1e-15)


def test_saturated_sigmoid_has_a_vanishing_gradient() -> None:
    c = chain_rule(10.0, 0.0, 3.0, 0.0)  # z = 30: σ ≈ 1, far from the target 0
    assert c.loss == pytest.approx(1.0) and c.da_dz < 1e-12 and abs(c.dL_dw) < 1e-11


def test_curve_and_tangent() -> None:
    ws = np.linspace(-3, 3, 61)
    curve = loss_curve(ws, 0.2, 1.3, 0.7)
    np.testing.assert_allclose(curve, [neuron_loss(w, 0.2, 1.3, 0.7) for w in ws], rtol=1e-12)
    tangent = tangent_line(ws, 0.6, 0.2, 1.3, 0.7)
    i = int(np.argmin(np.abs(ws - 0.6)))
    assert tangent[i] == pytest.approx(curve[i])  # touches at w₀ = 0.6
    assert (tangent[1:] - tangent[:-1]) / 0.1 == pytest.approx(np.full(60, chain_rule(0.6, 0.2, 1.3, 0.7).dL_dw))


@pytest.mark.parametrize("args", [(math.nan, 0, 1, 1), (0, math.inf, 1, 1), (0, 0, "x", 1), (0, 0, 1, None)])
def test_non_numbers_are_refused(args: tuple) -> None:
    with pytest.raises(InputError) as caught:
        chain_rule(*args)
    assert caught.value.key == "bp.err_not_number"


@pytest.mark.parametrize("eta", [0.0, -0.1, math.nan])
def test_learning_rate_must_be_positive(eta: float) -> None:
    with pytest.raises(InputError) as caught:
        gradient_step(0.5, 0.0, 2.0, 1.0, eta)
    assert caught.value.key in {"bp.err_learning_rate", "bp.err_not_number"}
