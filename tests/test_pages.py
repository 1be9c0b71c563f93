"""Every page in AppTest: both languages, uploads good and bad, and the controls a student can break."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnn_core.i18n import catalogue
from tests.conftest import ROOT, encode, open_app

PAGES = {"pages/playground.py": "pg.title", "pages/predictions.py": "pr.title"}


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [m.value for m in at.caption] + [e.value for e in at.error]
    parts += [e.value for e in at.warning] + [e.value for e in at.success] + [e.value for e in at.info]
    return "\n".join(parts)


def upload(at: AppTest, name: str, data: bytes, mime: str = "image/png") -> AppTest:
    at.radio(key="pg_source").set_value("upload").run()
    at.file_uploader(key="pg_upload").set_value((name, data, mime))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_in_both_languages(page: str, lang: str) -> None:
    at = open_app(page, lang)
    assert at.title[0].value == catalogue(lang)[PAGES[page]]
    assert not at.error


def test_language_switch_in_sidebar_persists() -> None:
    at = open_app(lang="es")
    at.selectbox(key="lang").set_value("en").run()
    assert at.title[0].value == "Convolution playground"
    at.run()  # a later rerun keeps it
    assert at.title[0].value == "Convolution playground" and at.selectbox(key="lang").value == "en"


def test_url_paths_are_the_page_file_names() -> None:
    source = (ROOT / "app.py").read_text(encoding="utf-8")
    pairs = re.findall(r'st.Page\("pages/(\w+).py".*?url_path="([^"]*)"', source)
    stems = {p.stem for p in (ROOT / "pages").glob("*.py")}
    # The default page is served at / (url_path ""); a hidden page takes its file name's address and opens it there.
    assert [stem for stem, url in pairs if url == ""] == ["playground"]
    assert re.search(r'st.Page\(lambda: st.switch_page\(playground, .*?url_path="playground", visibility="hidden"\)', source, re.S)
    assert len(pairs) + 1 == source.count("st.Page(") and all(stem == url for stem, url in pairs if url)
    assert {p for p in re.findall(r'st.Page\("pages/(\w+).py"', source)} == stems  # every page file is in the menu


def _array(z: object) -> np.ndarray:
    """A Plotly array as it travels to the browser: a list, or base64 bytes with their dtype."""
    if isinstance(z, dict):
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"])).reshape([int(n) for n in str(z.get("shape", -1)).split(",")])
    return np.asarray(z)


def test_default_page_shows_map_arithmetic_and_inspector() -> None:
    at = open_app(lang="en")
    text = texts(at)
    assert "It matches the shape the convolution produced" in text
    assert ":material/check_circle:" in text  # the inspector's sum equals the feature-map value
    charts = at.get("plotly_chart")
    assert len(charts) == 4  # kernel, and window, kernel, products; the input and the feature map are pixel maps (ui.pixelmap)
    window, kernel, products = (_array(json.loads(chart.proto.spec)["data"][0]["z"]) for chart in charts[1:])
    assert np.array_equal(kernel, np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]))  # Sobel x, the default
    assert np.array_equal(products, window * kernel) and np.ptp(window) > 0
    formulas = [m.value for m in at.markdown if "$$" in m.value]  # each axis: its numbers and formulas, one element
    assert formulas and "\\frac{m - k + 2p}{s} + 1" in formulas[0] and formulas[0].startswith("**Height (rows)** · m = 170")


def test_upload_works_and_large_photo_is_reported(photo: np.ndarray) -> None:
    big = np.kron(photo, np.ones((30, 30, 1), dtype=np.uint8))  # 1440 × 1920
    at = upload(open_app(lang="en"), "big.jpg", encode(big, "JPEG"), "image/jpeg")
    text = texts(at)
    assert "1440×1920 image (height × width)" in text and "reduced" in text  # alto × ancho, as everywhere
    assert "**Input 192×256**" in [m.value for m in at.markdown] and "It matches" in text
    assert not at.error


@pytest.mark.parametrize(("data", "fragment"), [
    (b"not an image at all", "not an image"),
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "damaged"),
])
def test_bad_upload_shows_error_not_exception(data: bytes, fragment: str) -> None:
    at = upload(open_app(lang="en"), "broken.png", data)
    assert at.error and fragment in at.error[0].value and "broken.png" in at.error[0].value
    assert at.title[0].value == "Convolution playground"
    assert "2 · Filter (kernel)" in [h.value for h in at.header]  # the rest of the page still works
    assert at.get("plotly_chart")  # the kernel matrix


def test_impossible_configuration_is_explained(photo: np.ndarray) -> None:
    at = upload(open_app(lang="es"), "tiny.png", encode(photo[:4, :4]))
    at.selectbox(key="pg_kernel").set_value("gaussian").run()
    at.select_slider(key="pg_ksize").set_value(9).run()
    assert not at.exception
    assert at.error and "no cabe" in at.error[0].value
    at.number_input(key="pg_padding").set_value(3).run()
    assert not at.exception and not at.error


def test_stride_that_does_not_divide_shows_the_floor() -> None:
    at = open_app(lang="en")
    at.number_input(key="pg_stride").set_value(4).run()
    assert not at.exception
    assert any("not divisible" in w.value for w in at.warning)
    assert "never reaches" in texts(at)


def test_same_padding_button() -> None:
    at = open_app(lang="en")
    at.selectbox(key="pg_kernel").set_value("box_blur").run()
    at.select_slider(key="pg_ksize").set_value(7).run()
    at.number_input(key="pg_stride").set_value(3).run()
    at.button(key="pg_same").click().run()
    assert at.number_input(key="pg_padding").value == 3 and at.number_input(key="pg_stride").value == 1
    assert "256×170" in texts(at) or "170×256" in texts(at)


def test_same_padding_with_even_kernel_explains_why_not() -> None:
    at = open_app(lang="en")
    at.selectbox(key="pg_kernel").set_value("custom").run()
    at.number_input(key="pg_rows").set_value(2).run()
    at.number_input(key="pg_cols").set_value(2).run()
    at.button(key="pg_same").click().run()
    assert not at.exception
    assert any("even kernel" in e.value for e in at.error)


@pytest.mark.parametrize(("text", "fragment"), [
    ("1 0\n0", "same number of cells"),
    ("1 x -1\n1 0 -1\n1 0 -1", "holds “x”"),
    ("", "from 1 to 15"),
])
def test_custom_kernel_text_errors(text: str, fragment: str) -> None:
    at = open_app(lang="en")
    at.selectbox(key="pg_kernel").set_value("custom").run()
    at.radio(key="pg_custom_how").set_value("text").run()
    at.text_area[0].set_value(text).run()
    assert not at.exception
    assert any(fragment in e.value for e in at.error), [e.value for e in at.error]
    assert at.title[0].value == "Convolution playground"


def test_custom_kernel_fraction_is_used() -> None:
    at = open_app(lang="en")
    at.selectbox(key="pg_kernel").set_value("custom").run()
    at.radio(key="pg_custom_how").set_value("text").run()
    at.text_area[0].set_value("1/9 1/9 1/9\n1/9 1/9 1/9\n1/9 1/9 1/9").run()
    assert not at.exception and not at.error
    assert "Sum of the weights: 1." in texts(at)


def test_rgb_channels_and_inspector_coordinates() -> None:
    at = open_app(lang="en")
    at.radio(key="pg_mode").set_value("rgb").run()
    assert not at.exception
    at.radio(key="pg_channel").set_value("G").run()
    at.number_input(key="pg_row").set_value(0).run()
    at.number_input(key="pg_col").set_value(0).run()
    assert ":material/check_circle:" in texts(at)
    at.radio(key="pg_channel").set_value("all").run()
    assert not at.exception


def test_inspector_stays_inside_a_shrinking_map() -> None:
    at = open_app(lang="en")
    at.number_input(key="pg_row").set_value(160).run()
    at.number_input(key="pg_stride").set_value(8).run()
    assert not at.exception
    assert at.number_input(key="pg_row").value <= 20


SHARED_SETTINGS = [  # page, widget type, key, a value different from the default
    ("pages/playground.py", "selectbox", "pg_kernel", "gaussian"),
    ("pages/playground.py", "number_input", "pg_stride", 3),
    ("pages/playground.py", "number_input", "pg_padding", 2),
    ("pages/playground.py", "select_slider", "pg_side", 128),
    ("pages/playground.py", "radio", "pg_mode", "rgb"),
    ("pages/playground.py", "selectbox", "pg_sample", "shapes"),
    ("pages/predictions.py", "slider", "pr_dx", 5),
    ("pages/predictions.py", "toggle", "pr_flip", True),
    ("pages/pooling.py", "number_input", "pool_window", 3),
    ("pages/pooling.py", "radio", "pool_mode", "avg"),
    ("pages/receptive_field.py", "radio", "rf_stack", "custom"),
    ("pages/softmax_loss.py", "select_slider", "sm_temperature", 2.0),
    ("pages/backprop.py", "number_input", "bp_w", 1.5),
    ("pages/augmentation.py", "slider", "aug_degrees", 45),
    ("pages/denoising.py", "select_slider", "nz_size", 7),
    ("pages/denoising.py", "radio", "nz_kind", "salt_pepper"),
    ("pages/augmentation.py", "slider", "aug_warp", -20),
    ("pages/augmentation.py", "select_slider", "aug_window", 64),
    ("pages/parameters.py", "number_input", "params_width", 200),
    ("pages/parameters.py", "checkbox", "params_bias", False),
    ("pages/architecture.py", "selectbox", "arch_net", "alexnet"),
    ("pages/architecture.py", "toggle", "arch_compact", True),
    ("pages/pooling.py", "toggle", "pool_all_winners", True),
    ("pages/pooling.py", "number_input", "pool_row", 3),
    ("pages/receptive_field.py", "number_input", "rf_local_kernel", 7),
    ("pages/quiz.py", "number_input", "quiz_count", 5),
    ("pages/softmax_loss.py", "selectbox", "sm_true_example", 2),
]


@pytest.mark.parametrize(("page", "kind", "key", "value"), SHARED_SETTINGS)
def test_settings_round_trip_through_the_url(page: str, kind: str, key: str, value: object) -> None:
    at = open_app(page, "en")
    getattr(at, kind)(key=key).set_value(value).run()
    at.run()  # the URL is written at the start of each run, from the latest widget values
    link = dict(at.query_params)
    assert link[key] == (str(int(value)) if isinstance(value, bool) else str(value)) and link["lang"] == "en"
    fresh = _follow(link, page)
    assert getattr(fresh, kind)(key=key).value == value


def _follow(link: dict[str, str], page: str) -> AppTest:
    """A new session that opens `link` (the playground is served at the root; other pages are opened by name)."""
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    fresh.query_params.update(link)
    fresh.run()
    if page != "pages/playground.py":
        fresh.switch_page(page).run()
    assert not fresh.exception, [e.value for e in fresh.exception]
    return fresh


def test_the_pooled_layer_and_the_chosen_neuron_travel_in_links() -> None:
    pooling = _follow({"lang": "en", "pool_input": "fmap", "pool_layer": "block2.conv1", "pool_channel": "5"}, "pages/pooling.py")
    assert pooling.selectbox(key="pool_layer").value == "block2.conv1" and pooling.number_input(key="pool_channel").value == 5
    neuron = _follow({"lang": "en", "rf_layer_index": "2", "rf_row": "1", "rf_col": "2"}, "pages/receptive_field.py")
    assert neuron.selectbox(key="rf_layer").value.startswith("2 · ")
    assert (neuron.number_input(key="rf_row").value, neuron.number_input(key="rf_col").value) == (1, 2)
    wrong = _follow({"lang": "en", "pool_input": "fmap", "pool_layer": "conv9"}, "pages/pooling.py")
    assert wrong.selectbox(key="pool_layer").value == "block1.conv1"  # a layer this network does not have: the default


def test_bad_link_values_fall_back_with_a_message() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"lang": "en", "pg_stride": "-4", "pg_kernel": "<script>", "presenter": "yes"})
    at.run()
    assert not at.exception
    assert at.number_input(key="pg_stride").value == 1 and at.selectbox(key="pg_kernel").value == "sobel_x"
    assert len(at.toast) == 3


def test_presenter_view_from_the_link() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"lang": "es", "presenter": "1"})
    at.run()
    assert at.toggle(key="presenter").value is True
    assert any("font-size: 22px" in h.proto.body for h in at.get("html"))


@pytest.mark.parametrize("page", ["pages/pooling.py", "pages/receptive_field.py", "pages/softmax_loss.py", "pages/playground.py"])
def test_shared_figures_stay_as_built(page: str) -> None:
    """Figures are shared between sessions (ui.figures): a page that drew on one would change it for everybody."""
    first = [chart.proto.spec for chart in open_app(page).get("plotly_chart")]
    second = [chart.proto.spec for chart in open_app(page).get("plotly_chart")]  # a second student, served from the cache
    assert first and second == first


def test_a_custom_kernel_travels_in_the_link() -> None:
    teacher = open_app(lang="es")
    teacher.selectbox(key="pg_kernel").set_value("custom").run()
    teacher.radio(key="pg_custom_how").set_value("text").run()
    teacher.text_area[0].set_value("1 2 1\n0 0 0\n-1/9 -2 -1,5").run()
    teacher.run()
    link = dict(teacher.query_params)
    assert link["pg_kernel"] == "custom" and link["pg_cells"] == "1,2,1|0,0,0|-0.1111111111111111,-2,-1.5"
    student = open_app(**link)  # lang=es comes with the link
    assert student.selectbox(key="pg_kernel").value == "custom" and student.radio(key="pg_custom_how").value == "text"
    assert student.text_area[0].value == "1 2 1\n0 0 0\n-0.1111111111111111 -2 -1.5"
    assert texts(student) == texts(teacher)  # the same kernel sum, formula, receptive field and inspector sum
    assert dict(student.query_params) == link
    teacher.selectbox(key="pg_kernel").set_value("sobel_y").run()
    assert "pg_cells" not in teacher.query_params


def test_a_broken_custom_kernel_link_falls_back_with_a_message() -> None:
    at = open_app(lang="en", pg_kernel="custom", pg_cells="1,x|2")
    assert len(at.toast) == 1 and "pg_cells" in at.toast[0].value
    assert at.selectbox(key="pg_kernel").value == "custom" and not at.error  # the default zero kernel, editable


@pytest.mark.parametrize(("indices", "text"), [((), ""), ((5,), "5"), ((1, 2, 3, 7), "1–3, 7"), ((0, 2, 4), "0, 2, 4"),
                                                ((8, 9), "8–9")])
def test_unreached_rows_are_written_as_ranges(indices: tuple[int, ...], text: str) -> None:
    from ui import index_ranges

    assert index_ranges(indices) == text


def test_a_session_keeps_only_small_values(photo: np.ndarray) -> None:
    """A class shares one server: no images, tensors or figures in anybody's session state, only widget values."""
    import pickle

    import torch

    at = upload(open_app(lang="es"), "foto.png", encode(photo))
    for page in ("pages/playground.py", "pages/predictions.py", "pages/pooling.py", "pages/softmax_loss.py",
                 "pages/augmentation.py", "pages/denoising.py", "pages/receptive_field.py", "pages/architecture.py",
                 "pages/quiz.py"):
        if page != "pages/playground.py":
            at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        state = {key: value for key, value in at.session_state.to_dict().items() if not key.endswith(("_upload", "_camera"))}
        # A Components v2 element's value (the pixel maps) is Streamlit's own dict subclass, a local class pickle refuses
        state = {key: dict(value) if isinstance(value, dict) else value for key, value in state.items()}
        assert len(state) >= 8, (page, state)  # the language, the links read, this page's widgets
        for key, value in state.items():
            assert not isinstance(value, (np.ndarray, torch.Tensor, bytes)), (page, key)
        assert len(pickle.dumps(state)) < 20_000, page
