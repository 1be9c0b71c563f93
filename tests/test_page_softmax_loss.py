"""The softmax page in AppTest: the classic example, the true class, temperature, bad logits and the network's logits."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest

from cnn_core.i18n import catalogue
from tests.conftest import open_app

PAGE = "pages/softmax_loss.py"


def open_page(lang: str = "en") -> AppTest:
    return open_app(PAGE, lang)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def edit(at: AppTest, key: str, edited: dict | None = None, added: list | None = None, deleted: list | None = None) -> AppTest:
    at.session_state[key] = {"edited_rows": edited or {}, "added_rows": added or [], "deleted_rows": deleted or []}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize(("lang", "cat"), [("es", "gato"), ("en", "cat")])
def test_classic_example_in_both_languages(lang: str, cat: str) -> None:
    at = open_page(lang)
    assert at.title[0].value == catalogue(lang)["sm.title"]
    shown = metrics(at)
    expected_loss = float(F.cross_entropy(torch.tensor([[2.0, 1.0, 0.1]]), torch.tensor([0])))
    assert shown[catalogue(lang)["sm.loss_metric"].format(name=cat)] == {"en": "0.4170", "es": "0,4170"}[lang]
    assert round(expected_loss, 4) == 0.4170
    assert shown[catalogue(lang)["sm.p_true"].format(name=cat)] == {"en": "65.90%", "es": "65,90\u00a0%"}[lang]
    assert shown[catalogue(lang)["sm.predicted"]] == cat
    point = {"en": ".", "es": "{,}"}[lang]  # a decimal comma in LaTeX is {,}
    assert any(f"0{point}659" in x.value and f"0{point}417" in x.value for x in at.get("latex"))
    assert not at.error and at.success
    headers = [h.value for h in at.header]
    assert catalogue(lang)["sm.why_header"] in headers and catalogue(lang)["sm.loss_header"] in headers


def test_true_class_changes_the_loss() -> None:
    at = open_page()
    at.selectbox(key="sm_true_example").set_value(2).run()
    loss = float(F.cross_entropy(torch.tensor([[2.0, 1.0, 0.1]]), torch.tensor([2])))
    assert metrics(at)["Loss for “bird”"] == f"{loss:.4f}" == "2.3170"
    assert at.warning and "“bird”" in at.warning[0].value
    z = torch.tensor([2.0, 1.0, 0.1], requires_grad=True)
    F.cross_entropy(z[None], torch.tensor([2])).backward()
    gradient_text = next(m.value for m in at.markdown if "raises" in m.value)
    assert f"it is {float(z.grad[2]):.4f} (negative)".replace("-", "\u2212") in gradient_text


@pytest.mark.parametrize(("edits", "fragment"), [
    ({"edited": {1: {"logit": "abc"}}}, "Row 2 holds “abc”"),
    ({"edited": {0: {"logit": ""}}}, "Row 1 has no logit"),
    ({"added": [{}]}, "Row 4 has no logit"),
    ({"edited": {2: {"logit": "1e999"}}}, "row 3 is not a finite number"),
    ({"deleted": [0, 1]}, "the table has 1"),
])
def test_bad_logits_get_a_clear_message(edits: dict, fragment: str) -> None:
    at = edit(open_page(), "sm_editor_example_en", **edits)
    assert at.error and fragment in at.error[0].value
    assert not at.metric
    assert "4 · Why softmax for several classes?" in [h.value for h in at.header]  # the rest of the page still explains


def test_decimal_comma_and_a_new_class() -> None:
    at = edit(open_page("es"), "sm_editor_example_es", added=[{"name": "rana", "logit": "0,5"}])
    assert not at.error
    assert at.selectbox(key="sm_true_example").options == ["gato", "perro", "pájaro", "rana"]
    loss = float(F.cross_entropy(torch.tensor([[2.0, 1.0, 0.1, 0.5]]), torch.tensor([0])))
    assert metrics(at)["Pérdida para «gato»"] == f"{loss:.4f}".replace(".", ",")
    assert metrics(at)["Pérdida de una respuesta al azar (ln 4)"] == f"{math.log(4):.4f}".replace(".", ",")


def test_huge_logits_are_computed_safely() -> None:
    at = open_page()
    at.selectbox(key="sm_preset").set_value("huge").run()
    assert not at.exception and not at.error
    assert any("e^1001" in w.value for w in at.warning)
    assert metrics(at)["Loss for “cat”"] == f"{math.log(1 + math.e):.4f}"  # only the difference 1001 − 1000 matters
    assert metrics(at)["Probability of “cat”"] == f"{1 / (1 + math.e):.2%}"


def test_temperature_limits() -> None:
    at = open_page()
    at.selectbox(key="sm_preset").set_value("cifar").run()
    assert at.selectbox(key="sm_true_cifar").value == 3  # this preset's own true class: cat
    at.select_slider(key="sm_temperature").set_value(0.05).run()
    assert metrics(at)["Probability of “cat”"] == "100.00%" and at.info  # T → 0: argmax
    at.select_slider(key="sm_temperature").set_value(50.0).run()
    p = torch.softmax(torch.tensor([0.8, -1.2, 1.1, 3.2, 0.4, 2.5, 0.1, -0.3, -1.5, -0.9]) / 50, 0)
    assert metrics(at)["Probability of “cat”"] == f"{float(p[3]):.2%}"
    assert abs(float(p[3]) - 0.1) < 0.01  # T → ∞: close to uniform
    assert any("1/K = 10.0%" in i.value for i in at.info)


def test_underflowing_probability_keeps_an_exact_loss() -> None:
    at = edit(open_page(), "sm_editor_example_en", edited={0: {"logit": "-800"}, 1: {"logit": "0"}})
    expected = float(F.cross_entropy(torch.tensor([[-800.0, 0.0, 0.1]], dtype=torch.float64), torch.tensor([0])))
    assert metrics(at)["Loss for “cat”"] == f"{expected:.4f}" == "800.7444"  # 800 + ln(1 + e^0.1)
    assert any("rounds to 0" in i.value for i in at.info)


def test_without_the_network_the_own_logits_keep_working(tmp_path, monkeypatch) -> None:
    from cnn_core import model as m
    from ui import common

    monkeypatch.setattr(m, "WEIGHTS_PATH", tmp_path / "missing.pt")
    common._network.clear()
    try:
        at = open_page()
        at.toggle(key="sm_network").set_value(True).run()
        assert not at.exception
        assert at.error and "not available" in at.error[0].value
        assert any("type your own logits" in i.value for i in at.info)
        assert metrics(at)["Loss for “cat”"] == "0.4170"
    finally:
        common._network.clear()


def test_the_networks_own_logits() -> None:
    from cnn_core import sample_image
    from cnn_core.model import CLASSES, predict_logits

    at = open_page()
    at.toggle(key="sm_network").set_value(True).run()
    at.selectbox(key="sm_sample").set_value("cat").run()
    assert not at.exception and not at.error
    logits = torch.tensor([predict_logits(sample_image("cat"))[c] for c in CLASSES], dtype=torch.float64)
    top = int(logits.argmax())
    assert at.selectbox(key="sm_true_network").value == top  # starts at the network's answer
    expected = float(F.cross_entropy(logits[None], torch.tensor([top])))
    assert metrics(at)[f"Loss for “{CLASSES[top]}”"] == f"{expected:.4f}"
    at.selectbox(key="sm_true_network").set_value(CLASSES.index("truck")).run()
    expected = float(F.cross_entropy(logits[None], torch.tensor([CLASSES.index("truck")])))
    assert metrics(at)["Loss for “truck”"] == f"{expected:.4f}"
    assert np.isfinite(expected)
