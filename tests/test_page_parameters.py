"""The fully connected versus convolution page in AppTest: both languages, the lecture's presets, the formulas, bad input."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cnn_core.i18n import catalogue
from cnn_core.parameters import conv_parameters, fc_parameters
from tests.conftest import ROOT

PAGE = "pages/parameters.py"


def open_page(lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == catalogue(lang)["params.title"]
    return at


def metrics(at: AppTest) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for metric in at.metric:
        out.setdefault(metric.label, []).append(metric.value)
    return out


@pytest.mark.parametrize("lang", ["es", "en"])
def test_defaults_show_both_counts_formulas_chart_and_explanation(lang: str) -> None:
    at = open_page(lang)
    cat = catalogue(lang)
    fc, conv = fc_parameters(32, 32, 3, 100), conv_parameters(5, 3, 32)  # the page's default numbers
    totals = [metrics(at)[cat["params.fc_total"]][0], metrics(at)[cat["params.conv_total"]][0]]
    digits = [value.replace(",", "").replace(".", "") for value in totals]
    assert digits == [str(fc), str(conv)]
    assert metrics(at)[cat["params.ratio"]] == [f"{round(fc / conv)}×"]
    latex = [block.value for block in at.latex]
    assert any(r"H \cdot W \cdot C \cdot N + N = 32 \cdot 32 \cdot 3 \cdot 100 + 100" in block for block in latex)
    assert any(r"k \cdot k \cdot C \cdot n + n = 5 \cdot 5 \cdot 3 \cdot 32 + 32" in block for block in latex)
    assert at.get("plotly_chart")
    assert cat["params.why_header"] in [h.value for h in at.subheader]
    assert not at.error


@pytest.mark.parametrize(("preset", "expected_en", "expected_es", "latex_en", "latex_es", "formula"), [
    ("cifar", "3,072", "3.072", "3{,}072", "3.072", 0), ("large", "120,000", "120.000", "120{,}000", "120.000", 0),
    ("filter", "75", "75", "75", "75", 1),
])
@pytest.mark.parametrize("lang", ["es", "en"])
def test_lecture_presets_reproduce_the_lectures_numbers(
    preset: str, expected_en: str, expected_es: str, latex_en: str, latex_es: str, formula: int, lang: str,
) -> None:
    at = open_page(lang)
    at.button(key=f"params_preset_{preset}").click().run()
    assert not at.exception
    expected = expected_en if lang == "en" else expected_es
    message = at.success[0].value
    assert message.count(f"**{expected}**") == 2 and "✅" in message  # the lecture's figure and the computed one
    weights = latex_en if lang == "en" else latex_es
    assert f"= {weights} + 1 = " in at.latex[formula].value  # weights + the one bias of the single neuron or filter


def test_preset_sets_the_inputs_and_a_change_clears_the_check() -> None:
    at = open_page()
    at.button(key="params_preset_large").click().run()
    assert [at.number_input(key=f"params_{f}").value for f in ("width", "height", "channels", "neurons")] == [200, 200, 3, 1]
    at.number_input(key="params_width").set_value(100).run()
    assert not at.success
    assert metrics(at)["Fully connected: parameters"] == ["60,001"]


def test_bias_checkbox() -> None:
    at = open_page()
    assert "+ N = 32" in at.latex[0].value and "+ n = 5" in at.latex[1].value
    at.checkbox(key="params_bias").uncheck().run()
    assert all("+ N" not in block.value and "+ n" not in block.value for block in at.latex)
    assert metrics(at)["Fully connected: parameters"] == ["307,200"] and metrics(at)["Convolution: parameters"] == ["2,400"]


def test_conv_count_does_not_change_with_the_image_but_fc_does() -> None:
    at = open_page()
    before = metrics(at)["Convolution: parameters"]
    at.number_input(key="params_width").set_value(64).run()
    at.number_input(key="params_height").set_value(64).run()
    assert metrics(at)["Convolution: parameters"] == before
    assert metrics(at)["Fully connected: parameters"] == [f"{fc_parameters(64, 64, 3, 100):,}"]


def test_chart_lines_and_log_toggle() -> None:
    at = open_page()
    chart = at.get("plotly_chart")[0].proto.spec
    assert '"type":"log"' in chart.replace(" ", "")
    at.toggle(key="params_log").set_value(False).run()
    assert '"type":"log"' not in at.get("plotly_chart")[0].proto.spec.replace(" ", "")


def test_kernel_larger_than_image_is_explained_and_tiny_images_flip_the_ratio() -> None:
    at = open_page()
    at.number_input(key="params_width").set_value(3).run()
    at.number_input(key="params_height").set_value(3).run()
    at.number_input(key="params_neurons").set_value(10).run()  # 3·3·3·10 + 10 = 280 < 5·5·3·32 + 32 = 2432
    assert any("larger than the image" in w.value for w in at.warning)
    assert any("convolutional layer has more" in i.value for i in at.info)
    assert metrics(at)["Fully connected ÷ convolution"] == ["0.12×"]  # 280 / 2432


def test_zero_or_negative_sizes_cannot_break_the_page() -> None:
    at = open_page("es")
    at.number_input(key="params_neurons").set_value(0).run()
    at.number_input(key="params_kernel").set_value(-4).run()
    assert not at.exception and not at.error
    assert at.number_input(key="params_neurons").value == 1 and at.number_input(key="params_kernel").value == 1
    assert metrics(at)["Totalmente conectada: parámetros"] == ["3.073"]  # 32·32·3·1 + 1
    assert metrics(at)["Convolución: parámetros"] == ["128"]  # 1·1·3·32 + 32
