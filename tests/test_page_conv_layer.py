"""The conv-layer page in AppTest: both languages, presets, edited cells, every activation, dilation, the animation's
settings, the shared link and impossible settings, every shown value against torch."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest

from cnn_core import resize_to, sample_image
from cnn_core.i18n import catalogue, format_number
from cnn_core.layer import preset_filters
from tests.conftest import open_app

PAGE = "pages/conv_layer.py"
TORCH = {"none": lambda x: x, "relu": torch.relu, "gelu": F.gelu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "error", "warning", "success", "info", "latex") for e in getattr(at, kind)]
    return "\n".join(parts)


def torch_maps(volume: np.ndarray, weights: np.ndarray, bias: np.ndarray, stride=1, padding=0, dilation=1, act="relu") -> np.ndarray:
    x = torch.from_numpy(np.asarray(volume, dtype=np.float64)).permute(2, 0, 1)[None]
    out = F.conv2d(x, torch.from_numpy(weights), torch.from_numpy(bias), stride=stride, padding=padding, dilation=dilation)
    return TORCH[act](out)[0].numpy()


def check_line(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith(("Value ", "Valor ")))


def cat(side: int = 32) -> np.ndarray:
    return resize_to(sample_image("cat"), side).astype(np.float64)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_page_runs_in_both_languages_and_one_filter_gives_one_map(lang: str) -> None:
    at = open_app(PAGE, lang)
    assert at.title[0].value == catalogue(lang)["cl.title"]
    assert not at.error
    shown = texts(at)
    assert ("→ **1 map(s) of 19×30**" if lang == "en" else "→ **1 mapa(s) de 19×30**") in shown  # 3 channels, 1 filter 3×3×3
    assert "✅" in check_line(at)
    assert ("**28 parameters**" if lang == "en" else "**28 parámetros**") in shown  # 3·3·3 + 1
    assert at.radio(key="cl_act").value == "relu"


def test_every_activation_matches_torch() -> None:
    at = open_app(PAGE, "en")
    at.selectbox(key="cl_preset").set_value("edges4")
    at.number_input(key="cl_stride").set_value(2)
    at.number_input(key="cl_padding").set_value(1).run()
    at.number_input(key="cl_filter").set_value(3)
    at.number_input(key="cl_row").set_value(4)
    at.number_input(key="cl_col").set_value(7).run()
    weights, bias, _ = preset_filters("edges4", 3)
    for act in TORCH:
        at.radio(key="cl_act").set_value(act).run()
        assert not at.exception and not at.error
        expected = torch_maps(cat(), weights, bias, 2, 1, 1, act)
        assert expected.shape == (4, 11, 16)
        assert "→ **4 map(s) of 11×16**" in texts(at)  # four filters, four maps
        value = format_number(float(np.float32(expected[2, 4, 7])), "en", significant=6)
        assert f"Value {value} = the map's value {value} (filter 3, row 4, column 7) ✅" == check_line(at)
        assert len([c for c in at.caption if c.value.startswith("Partial sum of channel")]) == 3
        assert (act == "none") == (len(at.get("plotly_chart")) == 9)  # no second row of maps without an activation


def test_bias_edit_and_hand_volume() -> None:
    at = open_app(PAGE, "en")
    at.radio(key="cl_input").set_value("volume").run()
    at.number_input(key="cl_vh").set_value(4)
    at.number_input(key="cl_vw").set_value(4).run()
    volume = np.stack([np.arange(16.0).reshape(4, 4) + c for c in range(3)], axis=-1)
    for c in range(3):
        at.text_area(key=f"cl_vol_4_4_3_{c}").input("\n".join(" ".join(str(int(v)) for v in row) for row in volume[:, :, c]))
    at.run()
    at.text_input(key="cl_b_edge_luma_1_3_3_0").input("-2,5").run()
    at.text_area(key="cl_w_edge_luma_1_3_3_0_1").input("0 0 0\n0 1/2 0\n0 0 0").run()
    assert not at.exception and not at.error
    weights = preset_filters("edge_luma", 3)[0]
    weights[0, 1] = [[0, 0, 0], [0, 0.5, 0], [0, 0, 0]]
    expected = torch_maps(volume, weights, np.array([-2.5]), act="relu")
    assert expected.shape == (1, 2, 2)
    row, col = at.number_input(key="cl_row").value, at.number_input(key="cl_col").value
    value = format_number(float(np.float32(expected[0, row, col])), "en", significant=6)
    assert check_line(at).startswith(f"Value {value} = the map's value {value}") and "✅" in check_line(at)
    assert "Biases: b1 = −2.5" in texts(at)
    at.button(key="cl_edit_reset").click().run()
    assert not at.exception and "Biases: b1 = 0" in texts(at)


def test_bad_cells_and_impossible_settings_are_messages() -> None:
    at = open_app(PAGE, "es")
    at.radio(key="cl_input").set_value("volume").run()
    at.text_area(key="cl_vol_5_5_3_0").input("1 2 x\n1 2 3").run()
    assert not at.exception and at.error
    assert "no es un número" in at.error[0].value
    at.text_area(key="cl_vol_5_5_3_0").input("1 2 3\n4 5 6").run()
    assert not at.exception and "debe tener 5 filas de 5 números" in at.error[0].value
    at.text_area(key="cl_vol_5_5_3_0").input("\n".join(["1 2 3 4 5"] * 5)).run()
    assert not at.error
    at.number_input(key="cl_dilation").set_value(3).run()  # span 3·2 + 1 = 7 > 5
    assert not at.exception and at.error and "no cabe" in at.error[0].value
    assert at.get("plotly_chart")  # the filters and the animation are still shown
    at.number_input(key="cl_padding").set_value(1).run()  # 7 ≤ 5 + 2: fits again
    assert not at.exception and not at.error and "✅" in check_line(at)
    at.text_area(key="cl_w_edge_luma_1_3_3_0_0").input("1 2\n3 4").run()
    assert not at.exception and "3 filas de 3 números" in at.error[0].value


def test_dilation_shows_the_window_with_its_gaps_and_the_general_formula() -> None:
    at = open_app(PAGE, "en")
    at.number_input(key="cl_dilation").set_value(2).run()
    assert not at.exception and not at.error
    shown = texts(at)
    assert "spans 5×5 cells (d = 2)" in shown
    assert r"\left\lfloor \frac{21 + 2 \cdot 0 - 2 \cdot 2 - 1}{1} \right\rfloor + 1 = 16 + 1 = 17" in shown
    assert "k_{\\text{eff}} = d(k-1)+1 = 5" in shown
    spans = [c for c in at.get("plotly_chart") if "taps every 2" in c.proto.spec]
    assert spans


def test_network_preset_uses_the_networks_filters_and_biases() -> None:
    from cnn_core import model as m
    from cnn_core.layer import normalise_like_network

    at = open_app(PAGE, "en", cl_preset="network", cl_act="gelu")
    assert not at.exception and not at.error
    assert "→ **24 map(s) of 20×31**" in texts(at)
    weights = m.load_model().whiten.weight.detach().double().numpy()
    bias = m.load_model().whiten.bias.detach().double().numpy()
    expected = torch_maps(normalise_like_network(cat()), weights, bias, act="gelu")
    row, col = at.number_input(key="cl_row").value, at.number_input(key="cl_col").value
    value = format_number(float(np.float32(expected[0, row, col])), "en", significant=6)
    assert check_line(at).startswith(f"Value {value} =") and "✅" in check_line(at)


def test_gray_input_and_colour_preset() -> None:
    at = open_app(PAGE, "en", cl_preset="colour", cl_color="gray")
    assert not at.exception and not at.error
    assert any("sum of its three slices" in i.value for i in at.info)
    assert "1 input channel(s) × 4 filter(s) of 1×1×1" in texts(at)


def test_random_preset_n_filters() -> None:
    at = open_app(PAGE, "en", cl_preset="random", cl_n="6", cl_k="5")
    assert not at.exception and not at.error
    assert "× 6 filter(s) of 5×5×3 → **6 map(s) of 17×28**" in texts(at)
    assert "5·5·3 = 75 weights" in texts(at)


def test_equivariance_messages() -> None:
    at = open_app(PAGE, "en", cl_dy="2", cl_dx="-2")
    assert at.success and "moved by (2, -2) cells" in at.success[0].value and "largest difference is 0 " in at.success[0].value
    at.number_input(key="cl_stride").set_value(2).run()
    assert at.success and "moved by (1, -1)" in at.success[0].value
    at.number_input(key="cl_dy").set_value(1).run()
    assert not at.exception and at.warning and "does not divide the shift (1, -2)" in at.warning[0].value


def test_animation_frames_and_transposed_size() -> None:
    at = open_app(PAGE, "en")
    spec = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert len(spec["frames"]) == 9  # 7×7, k 3, s 2, p 1, d 2 → 3×3 outputs
    assert len(at.get("plotly_chart")[-1].proto.spec) < 60_000
    at.radio(key="cl_amode").set_value("transpose").run()
    assert not at.exception and not at.error
    spec = json.loads(at.get("plotly_chart")[-1].proto.spec)
    assert len(spec["frames"]) == 9  # one step per input value of the 3×3 input
    size = torch.nn.ConvTranspose2d(1, 1, 3, 2, 1, 1)(torch.zeros(1, 1, 3, 3)).shape[-1]
    assert f"Output {size}×{size}, the same values as torch.nn.ConvTranspose2d on these numbers ✅" in texts(at)
    at.number_input(key="cl_top").set_value(2).run()  # output padding 2 ≥ stride 2 and dilation 1
    assert not at.exception and at.error and "smaller than the stride" in at.error[0].value
    at.number_input(key="cl_top").set_value(0)
    at.number_input(key="cl_tp").set_value(3)
    at.number_input(key="cl_tm").set_value(2)
    at.number_input(key="cl_tk").set_value(1).run()  # (2 − 1)·2 − 6 + 0 + 0 + 1 < 1
    assert not at.exception and at.error and "crops the whole output" in at.error[0].value


def test_settings_in_the_link_and_bad_link_values() -> None:
    at = open_app(PAGE, "en", cl_preset="edges4", cl_act="tanh", cl_dilation="2", cl_stride="nan", cl_padding="99")
    assert not at.exception
    assert at.selectbox(key="cl_preset").value == "edges4" and at.radio(key="cl_act").value == "tanh"
    assert at.number_input(key="cl_dilation").value == 2
    assert at.number_input(key="cl_stride").value == 1 and at.number_input(key="cl_padding").value == 0
    assert len(at.toast) == 2
    at.number_input(key="cl_padding").set_value(2).run()
    assert at.query_params["cl_padding"] == ["2"] or at.query_params["cl_padding"] == "2"
