"""The chain-rule page in AppTest: the factors on the student's numbers, autograd beside them, descent steps, bad input."""

from __future__ import annotations

import pytest
import torch
from streamlit.testing.v1 import AppTest

from cnn_core.i18n import catalogue, parse_number
from tests.conftest import open_app

PAGE = "pages/backprop.py"


def open_page(lang: str = "en") -> AppTest:
    return open_app(PAGE, lang)


def oracle(w: float, b: float, a_prev: float, y: float) -> tuple[float, float, float]:
    """Loss, dL/dw and dL/db by torch.autograd, independently of cnn_core."""
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    loss = (torch.sigmoid(wt * a_prev + bt) - y) ** 2
    loss.backward()
    return float(loss.detach()), float(wt.grad), float(bt.grad)


def latex(at: AppTest) -> str:
    return "\n".join(x.value for x in at.get("latex"))


def value(at: AppTest, key: str) -> float:
    return at.number_input(key=key).value


@pytest.mark.parametrize("lang", ["es", "en"])
def test_factors_on_the_default_numbers(lang: str) -> None:
    at = open_page(lang)
    assert at.title[0].value == catalogue(lang)["bp.title"]
    text = latex(at)
    loss, dw, db = oracle(0.5, 0.0, 2.0, 0.0)
    # z = 0.5·2 + 0 = 1, a = σ(1) = 0.7311, dL/da = 2·0.7311 = 1.462, σ'(1) = 0.1966, dz/dw = 2.
    point = {"en": ".", "es": "{,}"}[lang]  # LaTeX writes a decimal comma as {,}
    for piece in ("= 1", "= 0.7311", "= 1.462", "= 0.1966", "a^{(l-1)} = 2", f"= {dw:.4g}", f"= {db:.4g}", f"= {loss:.4g}"):
        piece = piece.replace(".", point)
        assert piece in text, piece
    table = at.dataframe[0].value.map(lambda cell: parse_number(cell, lang) if cell[0].isdigit() or cell[0] == "\u2212" else cell)
    assert table.iloc[0, 2] == pytest.approx(dw, rel=1e-9) and table.iloc[1, 2] == pytest.approx(db, rel=1e-9)
    assert table.iloc[0, 1] == pytest.approx(dw, rel=1e-9) and (table.iloc[:, 3] < 1e-12).all()
    assert at.success and not at.error
    assert {m.label for m in at.metric} == {catalogue(lang)["bp.loss_now"], catalogue(lang)["bp.loss_after"]}


def test_steps_of_gradient_descent_and_reset() -> None:
    at = open_page()
    w, b = 0.5, 0.0
    losses = [oracle(w, b, 2.0, 0.0)[0]]
    for _ in range(3):
        _, dw, db = oracle(w, b, 2.0, 0.0)
        w, b = w - 1.0 * dw, b - 1.0 * db
        losses.append(oracle(w, b, 2.0, 0.0)[0])
        at.button(key="bp_step").click().run()
        assert not at.exception
        assert value(at, "bp_w") == pytest.approx(w, rel=1e-12) and value(at, "bp_b") == pytest.approx(b, rel=1e-12)
    assert losses == sorted(losses, reverse=True)  # each step lowered the loss
    assert at.metric[0].value == f"{losses[-1]:.6g}"
    assert any(m.value == f"After 3 steps the loss went from {losses[0]:.6g} to {losses[-1]:.6g}." for m in at.markdown)
    at.button(key="bp_reset").click().run()
    assert (value(at, "bp_w"), value(at, "bp_b")) == (0.5, 0.0)
    assert not any("After" in m.value for m in at.markdown)


def test_changing_an_input_starts_a_new_descent() -> None:
    at = open_page()
    at.button(key="bp_step").click().run()
    at.button(key="bp_step").click().run()
    at.number_input(key="bp_y").set_value(1.0).run()
    assert not any("After" in m.value for m in at.markdown)  # the old losses belong to another problem
    at.button(key="bp_step").click().run()
    assert not any("After 3" in m.value for m in at.markdown)


def test_zero_learning_rate_is_explained_and_the_button_disabled() -> None:
    at = open_page("es")
    at.number_input(key="bp_eta").set_value(0.0).run()
    assert not at.exception
    assert at.error and "η = 0" in at.error[0].value and "tasa de aprendizaje" in at.error[0].value
    assert at.button(key="bp_step").disabled
    assert at.success  # the chain rule and autograd still show


def test_too_large_a_learning_rate_overshoots() -> None:
    at = open_page()
    at.number_input(key="bp_w").set_value(0.0).run()
    at.number_input(key="bp_a_prev").set_value(3.0).run()
    at.number_input(key="bp_y").set_value(0.6).run()
    at.number_input(key="bp_eta").set_value(100.0).run()
    assert at.warning and "too large" in at.warning[0].value


def test_saturated_sigmoid_and_zero_input_are_pointed_out() -> None:
    at = open_page()
    at.number_input(key="bp_w").set_value(20.0).run()
    assert any("saturated" in w.value for w in at.warning)
    at.number_input(key="bp_a_prev").set_value(0.0).run()
    assert any("only the bias can learn" in i.value for i in at.info)
    assert "\\frac{\\partial L}{\\partial w} = 1 \\cdot 0.25 \\cdot 0 = 0" in latex(at)


def test_a_step_past_the_limit_stops_at_the_edge() -> None:
    at = open_page()
    for key, number in (("bp_w", 49.9), ("bp_b", -0.5), ("bp_a_prev", 0.01), ("bp_y", 1.0), ("bp_eta", 100.0)):
        at.number_input(key=key).set_value(number).run()
    at.button(key="bp_step").click().run()
    assert not at.exception
    assert value(at, "bp_w") == 50.0
    assert any("±50" in w.value for w in at.warning)
