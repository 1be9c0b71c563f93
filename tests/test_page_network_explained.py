"""The network page's saliency maps and explanations, and the page on how the network learned, in AppTest."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnn_core import model as m
from cnn_core import sample_image
from cnn_core.model import preprocess
from cnn_core.saliency import grad_cam, occlusion
from tests.conftest import open_app

NETWORK, TRAINING = "pages/predictions.py", "pages/network_training.py"


def charts(at: AppTest) -> dict[str, dict]:
    """Every Plotly figure on the page by its title."""
    found = {}
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        title = spec["layout"].get("title", {})
        found[title.get("text", "") if isinstance(title, dict) else title] = spec
    return found


def array(values: list | dict) -> np.ndarray:
    """A figure's data array, whether Plotly sent it as a list or as a typed array."""
    if isinstance(values, dict):  # {"dtype": "f4", "bdata": base64, "shape": "32, 32"}
        flat = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
        return flat.reshape(tuple(int(v) for v in values["shape"].split(","))) if "shape" in values else flat
    return np.array(values, dtype=np.float64)


def heat(spec: dict) -> np.ndarray:
    """The z of a figure's heatmap trace."""
    return array(next(trace for trace in spec["data"] if trace["type"] == "heatmap")["z"])


def texts(at: AppTest) -> str:
    """The page's text, with Spanish's non-breaking space before % written as a plain one."""
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "info") for e in at.get(kind)).replace("\u00a0", " ")


@pytest.mark.parametrize(("lang", "cat", "truck"), [("es", "gato", "camión"), ("en", "cat", "truck")])
def test_maps_for_the_predicted_and_a_chosen_class(lang: str, cat: str, truck: str) -> None:
    at = open_app(NETWORK, lang)
    seen = preprocess(sample_image("cat"))
    shown = charts(at)
    np.testing.assert_allclose(heat(shown[f"Grad-CAM: {cat}"]), grad_cam(seen, "cat"), atol=1e-6)
    occlusion_title = next(title for title in shown if title.endswith(f": {cat}") and not title.startswith("Grad"))
    np.testing.assert_allclose(heat(shown[occlusion_title]), occlusion(seen, "cat"), atol=1e-6)
    at.selectbox(key="pr_cam_class").set_value("truck").run()
    at.radio(key="pr_cam_block").set_value(2).run()
    at.radio(key="pr_window").set_value(4).run()
    assert not at.exception
    shown = charts(at)
    np.testing.assert_allclose(heat(shown[f"Grad-CAM: {truck}"]), grad_cam(seen, "truck", layer="block2"), atol=1e-6)
    assert at.query_params["pr_cam_class"] == "truck" and at.query_params["pr_window"] == "4"
    assert "4×4" in texts(at)


def test_a_shared_link_opens_the_chosen_explanation() -> None:
    at = open_app(NETWORK, "en", pr_cam_class="dog", pr_cam_block="3", pr_window="12")
    assert at.selectbox(key="pr_cam_class").value == "dog" and at.radio(key="pr_window").value == 12
    assert "Grad-CAM: dog" in charts(at)
    bad = open_app(NETWORK, "en", pr_cam_class="unicorn", pr_window="7")
    assert bad.selectbox(key="pr_cam_class").value == "top" and not bad.exception


@pytest.mark.parametrize("lang", ["es", "en"])
def test_explanations_and_numbers_on_the_network_page(lang: str) -> None:
    at = open_app(NETWORK, lang)
    text = texts(at)
    shown_weights = re.findall(r"(?:peso|weight) (\d+[.,]\d\s?%)", text)
    quarter, eighth = ("25,0 %", "12,5 %") if lang == "es" else ("25.0%", "12.5%")
    assert shown_weights == [quarter] * 2 + [eighth] * 4  # six views, with the weights the model averages them by
    assert ("13.824" in text and "13.888" in text) if lang == "es" else ("13,824" in text and "13,888" in text)
    assert ("90,09 %" if lang == "es" else "90.09%") in text and ("88,86 %" if lang == "es" else "88.86%") in text
    assert ("82 %" if lang == "es" else "82%") in text  # label smoothing 0.2: the target of the right class
    table = at.dataframe[1].value
    assert sum(int(str(v).replace(".", "").replace(",", "")) for v in table.iloc[:, 3]) == 569_656
    at.selectbox(key="pr_layer").set_value("block2.pool").run()
    assert "block2.pool" in at.info[-1].value and not at.exception


def test_no_evidence_is_said_not_drawn_blank(monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(NETWORK, "en")
    at.selectbox(key="pr_cam_class").set_value("truck").run()  # the cat photo: nothing in it speaks for truck
    assert any("No part of the image" in e.value for e in at.info)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_training_page(lang: str) -> None:
    at = open_app(TRAINING, lang)
    assert not at.error
    card = m.model_card()
    shown = charts(at)
    assert len(shown) == 5  # loss, accuracy, learning rate, filter norms, one filter's slices
    loss = next(spec for spec in shown.values() if spec["layout"].get("shapes"))  # the one with the floor line
    np.testing.assert_allclose(array(loss["data"][0]["y"]), [row["loss"] for row in card["training"]["history"]])
    assert loss["layout"]["shapes"][0]["y0"] == pytest.approx(0.86689, abs=1e-5)  # entropy of (0.82, 0.02 × 9)
    accuracy = next(spec for spec in shown.values() if len(spec["data"]) == 2)
    np.testing.assert_allclose(array(accuracy["data"][1]["y"]), [row["test_accuracy"] for row in card["training"]["history"]])
    text = texts(at)
    if lang == "es":
        assert "0,8669" in text and "88,86 %" in text and "90,09 %" in text and "1.056" in text and "62,7 %" in text
    else:
        assert "0.8669" in text and "88.86%" in text and "90.09%" in text and "1,056" in text and "62.7%" in text
    at.selectbox(key="nt_layer").set_value("block3.conv2").run()
    at.number_input(key="nt_filter").set_value(127).run()
    assert not at.exception
    norms = next(spec for title, spec in charts(at).items() if title.startswith("block3.conv2: 128"))
    np.testing.assert_allclose(heat(norms), m.filter_norms(m.conv_filters(m.load_model(), "block3.conv2")), rtol=1e-6)
    at.selectbox(key="nt_layer").set_value("block1.conv1").run()  # 64 filters: the chosen 127 comes back inside
    assert at.number_input(key="nt_filter").value == 63 and not at.exception
    state = at.session_state.to_dict()
    plain = (str, int, float, bool, set)
    # widget values only (and ui.bounded_number's accepted values, one dict of numbers)
    assert all(isinstance(v, plain) or isinstance(v, dict) and all(isinstance(x, plain) for x in v.values()) for v in state.values()), state


def test_training_page_without_a_history(monkeypatch: pytest.MonkeyPatch) -> None:
    card = m.model_card()
    card["training"]["history"][3]["loss"] = None
    monkeypatch.setattr(m, "model_card", lambda: card)
    at = open_app(TRAINING, "en")
    assert at.error and "training history" in at.error[0].value and not at.exception
