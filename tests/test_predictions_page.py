"""The CIFAR-10 page in AppTest: predictions, layers, robustness sliders, uploads, and a refused weights file."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnn_core import model as m
from cnn_core.model import CLASSES, predict
from tests.conftest import encode, open_app

PAGE = "pages/predictions.py"


def open_page(lang: str = "en") -> AppTest:
    return open_app(PAGE, lang)


def shown_prediction(at: AppTest) -> str:
    return at.metric[0].value


@pytest.mark.parametrize("lang", ["es", "en"])
def test_page_predicts_the_sample_cat(lang: str) -> None:
    at = open_page(lang)
    expected = "gato" if lang == "es" else "cat"
    probabilities = predict(__import__("cnn_core").sample_image("cat"))
    assert max(probabilities, key=probabilities.get) == "cat"  # the network's own answer, checked independently
    assert shown_prediction(at) == expected
    assert not at.error


def test_shape_table_agrees_with_tensors() -> None:
    at = open_page()
    table = at.dataframe[0].value
    assert len(table) >= 8 and set(table["✓"]) == {"✓"}
    assert list(table.columns).index("✓") == 1  # beside the layer's name: on a phone's screen without scrolling the table


def test_layer_and_channel_controls() -> None:
    at = open_page()
    for layer in ("whiten", "block2.pool", "pool"):
        at.selectbox(key="pr_layer").set_value(layer).run()
        assert not at.exception
    at.selectbox(key="pr_layer").set_value("block1.conv1").run()
    at.number_input(key="pr_channel").set_value(63).run()
    assert not at.exception


def test_robustness_sliders_change_the_input() -> None:
    at = open_page()
    before = at.get("plotly_chart")[0].proto.spec
    at.slider(key="pr_dx").set_value(12).run()
    at.slider(key="pr_angle").set_value(90).run()
    at.slider(key="pr_noise").set_value(60).run()
    at.toggle(key="pr_flip").set_value(True).run()
    assert not at.exception
    assert at.get("plotly_chart")[0].proto.spec != before  # the probabilities moved


def test_upload_and_bad_upload() -> None:
    at = open_page()
    at.radio(key="pr_source").set_value("upload").run()
    photo = np.zeros((90, 120, 3), dtype=np.uint8)
    photo[:, :, 2] = 200
    at.file_uploader(key="pr_upload").set_value(("sky.png", encode(photo), "image/png")).run()
    assert not at.exception and not at.error and at.metric[0].value in CLASSES
    at.file_uploader(key="pr_upload").set_value(("bad.jpg", b"\xff\xd8\xff garbage", "image/jpeg")).run()
    assert not at.exception and at.error


def test_tampered_weights_are_refused_and_other_pages_work(tmp_path, monkeypatch) -> None:
    bad = tmp_path / "cifar10_net.pt"
    bad.write_bytes(m.WEIGHTS_PATH.read_bytes()[:-10] + b"0123456789")
    card = tmp_path / "cifar10_net.json"
    card.write_text(m.CARD_PATH.read_text())
    monkeypatch.setattr(m, "WEIGHTS_PATH", bad)
    monkeypatch.setattr(m, "CARD_PATH", card)
    from ui import common

    common._network.clear()
    try:
        at = open_page()
        assert at.error and "does not match the model card" in at.error[0].value
        at.switch_page("pages/playground.py").run()
        assert not at.exception and at.title[0].value == "Convolution playground"
    finally:
        common._network.clear()
    assert json.loads(card.read_text())["sha256"] == m.model_card()["sha256"]
