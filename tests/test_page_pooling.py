"""The pooling page in AppTest: both languages, max and average, the inspector, feature maps and bad input."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest

from cnn_core import model as m
from cnn_core import resize_to, sample_image, to_grayscale
from cnn_core.i18n import catalogue
from tests.conftest import open_app

PAGE = "pages/pooling.py"


@pytest.fixture
def network(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A CifarNet with random weights and a matching model card: pooling its maps needs no trained network."""
    torch.manual_seed(0)
    net = m.CifarNet()
    with torch.no_grad():
        for conv in (mod for mod in net.modules() if isinstance(mod, torch.nn.Conv2d)):
            conv.weight.normal_(0, 0.3)
    weights = tmp_path / "net.pt"
    torch.save(net.state_dict(), weights)
    card = tmp_path / "net.json"
    card.write_text(json.dumps({"sha256": m.sha256_of(weights)}))
    monkeypatch.setattr(m, "WEIGHTS_PATH", weights)
    monkeypatch.setattr(m, "CARD_PATH", card)
    from ui import common

    common._network.clear()
    yield
    common._network.clear()


def open_page(lang: str = "en") -> AppTest:
    return open_app(PAGE, lang)


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "error", "warning", "success", "info") for e in getattr(at, kind)]
    return "\n".join(parts)


def cat_input(side: int = 64) -> np.ndarray:
    return to_grayscale(resize_to(sample_image("cat"), side))


@pytest.mark.parametrize("lang", ["es", "en"])
def test_page_runs_in_both_languages(lang: str) -> None:
    at = open_page(lang)
    assert at.title[0].value == catalogue(lang)["pool.title"]
    assert not at.error
    shown = texts(at)
    assert "32×32×12" in shown and "**16×16×12**" in shown  # the lecture's example
    assert ("**0 weights**" if lang == "en" else "**0 pesos**") in shown


@pytest.mark.parametrize(("mode", "k", "s"), [("max", 2, 2), ("avg", 3, 1), ("max", 3, 2)])
def test_shown_numbers_match_torch(mode: str, k: int, s: int) -> None:
    at = open_page()
    at.radio(key="pool_mode").set_value(mode)
    at.number_input(key="pool_window").set_value(k)
    at.number_input(key="pool_stride").set_value(s).run()
    assert not at.exception and not at.error
    x = torch.from_numpy(cat_input().astype(np.float64))[None, None]
    out = (F.max_pool2d(x, k, s) if mode == "max" else F.avg_pool2d(x, k, s))[0, 0].numpy()
    row, col = at.number_input(key="pool_row").value, at.number_input(key="pool_col").value
    assert (row, col) == (10, 16)  # the middle of the first (2×2, stride 2) map, kept while it fits
    shown = texts(at)
    assert f"holds {out[row, col]:.6g} at ({row}, {col}) :material/check_circle:" in shown
    h, w = x.shape[2:]
    assert f"{h}×{w}×1 with k = {k}, s = {s} → **{out.shape[0]}×{out.shape[1]}×1**" in shown
    if mode == "max":
        _, index = F.max_pool2d(x, k, s, return_indices=True)
        wr, wc = divmod(int(index[0, 0, row, col]), w)
        assert f"found at input row {wr}, column {wc}" in shown
    if s < k:
        assert "overlap" in shown


def test_choosing_another_output_value() -> None:
    at = open_page()
    at.number_input(key="pool_row").set_value(3)
    at.number_input(key="pool_col").set_value(7).run()
    x = torch.from_numpy(cat_input().astype(np.float64))[None, None]
    value = F.max_pool2d(x, 2, 2)[0, 0, 3, 7].item()
    assert f"holds {value:.6g} at (3, 7) :material/check_circle:" in texts(at)
    assert "input rows 6–7 and columns 14–15" in texts(at)


def test_floor_and_uncovered_rows_are_explained() -> None:
    at = open_page()  # the cat at 64 px is 43×64: (43 - 2)/2 is not whole
    at.number_input(key="pool_window").set_value(2)
    at.number_input(key="pool_stride").set_value(2).run()
    assert any("omits the floor" in w.value for w in at.warning)
    assert "Input rows no window covers (1): 42." in texts(at)


def test_window_too_large_is_an_error_not_a_traceback() -> None:
    at = open_page("es")
    at.select_slider(key="pool_side").set_value(16)
    at.number_input(key="pool_window").set_value(14).run()
    assert not at.exception
    assert at.error and "no cabe" in at.error[0].value
    assert at.get("plotly_chart")  # the input is still shown
    at.number_input(key="pool_window").set_value(2).run()  # and the page recovers
    assert not at.exception and not at.error


def test_inspected_value_stays_inside_a_smaller_map() -> None:
    at = open_page()
    at.number_input(key="pool_stride").set_value(1).run()
    at.number_input(key="pool_row").set_value(41).run()
    at.number_input(key="pool_stride").set_value(8).run()
    assert not at.exception and at.number_input(key="pool_row").value == 5  # (43 - 2) // 8 + 1 = 6 rows


def test_all_winners_toggle() -> None:
    at = open_page()
    at.toggle(key="pool_all_winners").set_value(True).run()
    assert not at.exception
    spec = at.get("plotly_chart")[0].proto.spec
    assert len(re.findall(r'"type":\s*"scatter"', spec)) >= 2


def test_network_missing_falls_back_to_the_image(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(m, "WEIGHTS_PATH", tmp_path / "missing.pt")
    from ui import common

    common._network.clear()
    try:
        at = open_page()
        at.radio(key="pool_input").set_value("fmap").run()
        assert not at.exception
        assert at.error and "missing" in at.error[0].value
        assert "Meanwhile the page pools the image itself." in texts(at)
        assert ":material/check_circle:" in texts(at)  # the image is still pooled and explained
    finally:
        common._network.clear()


def test_feature_map_reproduces_the_networks_own_pooling(network: None) -> None:
    at = open_page()
    at.radio(key="pool_input").set_value("fmap").run()
    assert not at.exception and not at.error
    at.number_input(key="pool_channel").set_value(5).run()
    assert at.success and "equals, value for value, the network's own layer block1.pool" in at.success[0].value
    assert "31×31×64 with k = 2, s = 2 → **15×15×64**" in texts(at)
    at.radio(key="pool_mode").set_value("avg").run()
    assert "max pooling with k = 2 and s = 2" in texts(at)
    at.number_input(key="pool_channel").set_value(63).run()
    at.selectbox(key="pool_layer").set_value("whiten").run()  # 24 channels: the chosen one moves to the last
    assert not at.exception and at.number_input(key="pool_channel").value == 23


def test_feature_map_too_small_for_the_window(network: None) -> None:
    at = open_page("en")
    at.radio(key="pool_input").set_value("fmap").run()
    at.selectbox(key="pool_layer").set_value("block3.pool").run()
    at.number_input(key="pool_window").set_value(4).run()
    assert not at.exception and at.error and "does not fit" in at.error[0].value
    at.selectbox(key="pool_layer").set_value("block3.conv1").run()
    at.number_input(key="pool_window").set_value(2).run()
    assert not at.exception and not at.error
    assert any("the network's own layer block3.pool" in box.value for box in at.success)
    at.selectbox(key="pool_layer").set_value("block3.conv2").run()  # BatchNorm and GELU come before the final pool
    at.number_input(key="pool_window").set_value(3)
    at.number_input(key="pool_stride").set_value(3).run()
    assert not at.exception and not at.error and "🧠" not in texts(at)
    assert not any("network" in box.value for box in [*at.success, *at.info])
