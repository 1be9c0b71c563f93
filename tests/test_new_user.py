"""What a new user tripped over (issue 12), in AppTest: the custom-kernel editor, the inspector, uploads, typed values."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnn_core import convolve, resize_to, sample_image
from tests.conftest import encode, open_app
from ui.figures import map_figure


def _custom(lang: str = "es", **query: str):
    at = open_app(None, lang, **query)
    at.selectbox(key="pg_kernel").set_value("custom").run()
    at.radio(key="pg_custom_how").set_value("text").run()
    return at


def _kernel_text(at) -> str:
    return next(area for area in at.text_area if area.key.startswith("pg_text_")).value


def test_changing_the_kernel_size_keeps_the_typed_cells_that_still_fit() -> None:
    at = _custom()
    next(area for area in at.text_area if area.key.startswith("pg_text_")).input("1 2 3\n4 5 6\n7 8 9").run()
    at.number_input(key="pg_rows").set_value(4).run()
    assert _kernel_text(at).split("\n") == ["1 2 3", "4 5 6", "7 8 9", "0 0 0"]
    at.number_input(key="pg_cols").set_value(2).run()
    assert _kernel_text(at).split("\n") == ["1 2", "4 5", "7 8", "0 0"]
    at.number_input(key="pg_cols").set_value(3).run()  # what left the editor is gone; the rest stays
    assert _kernel_text(at).split("\n") == ["1 2 0", "4 5 0", "7 8 0", "0 0 0"]
    assert not at.exception and not at.error


def test_cells_are_numbered_from_0_in_the_editor_and_in_its_errors() -> None:
    at = _custom()
    next(area for area in at.text_area if area.key.startswith("pg_text_")).input("x 0\n0 0").run()
    assert any("fila 0, columna 0" in e.value for e in at.error), [e.value for e in at.error]
    at.radio(key="pg_custom_how").set_value("table").run()  # the typed cells go along to the table
    assert any("fila 0, columna 0" in e.value for e in at.error), [e.value for e in at.error]
    table = at.dataframe[0].value  # the data editor's table: its columns are 0, 1, … like its rows and the figures' axes
    assert list(table.columns) == ["0", "1", "2"] and list(table.index) == [0, 1, 2] and table.iloc[0, 0] == "x"


def test_the_rgb_view_says_which_channel_the_inspector_explains() -> None:
    at = open_app(None, "en", pg_mode="rgb", pg_channel="all", pg_kernel="sobel_x", pg_sample="coffee", pg_side="64")
    assert at.radio(key="pg_inspect_channel").value == "R"
    assert any("channel **R (red)**" in m.value for m in at.markdown)
    at.radio(key="pg_inspect_channel").set_value("G").run()
    assert any("channel **G (green)**" in m.value for m in at.markdown)
    assert "pg_inspect_channel=G" in str(at.query_params) or at.query_params.get("pg_inspect_channel") in ("G", ["G"])
    row, col = at.session_state.pg_row, at.session_state.pg_col
    from cnn_core import get_kernel
    expected = convolve(resize_to(sample_image("coffee"), 64), get_kernel("sobel_x"), 1, 0)[row, col, 1]
    check = next(m.value for m in at.markdown if ":material/check_circle:" in m.value or ":material/cancel:" in m.value)
    assert ":material/check_circle:" in check and f"({row}, {col})" in check and f"{expected:.4g}"[:4] in check.replace("−", "-")


def test_the_inspector_window_has_the_precision_of_its_sum_line() -> None:
    at = open_app(None, "en", pg_kernel="gaussian", pg_sample="coffee")  # Gaussian weights: many digits in every term
    charts = at.get("plotly_chart")
    window = json.loads(charts[1].proto.spec)["data"][0]["text"]  # the kernel, then window, kernel, products
    terms = at.code[0].value.split("\n")[0]
    for cell in (cell.removesuffix(" ᵖ") for row in window for cell in row):
        assert f"·({cell})" in terms, (cell, terms[:200])  # each window value written as in its product


def test_a_one_pixel_map_has_no_colour_bar() -> None:
    assert not map_figure(np.full((1, 1), 125.2), "t", "h").data[0].showscale
    assert map_figure(np.array([[1.0, 2.0]]), "t", "h").data[0].showscale


def _upload(at, name: str, data: bytes):
    at.radio(key="pg_source").set_value("upload").run()
    next(u for u in at.file_uploader if u.key.startswith("pg_upload")).set_value((name, data, "image/png"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_refused_file_is_explained_in_the_main_area_and_leaves_the_uploader() -> None:
    at = _upload(open_app(None, "es"), "roto.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)
    main = [e.value for e in at.main.error]
    assert any("roto.png" in m and "dañada" in m for m in main), main  # said where the page stops, not only in the sidebar
    assert any("roto.png" in e.value for e in at.sidebar.error)
    assert "2 · Filtro (kernel)" in [h.value for h in at.header] and at.get("plotly_chart")  # what needs no image stays
    assert [u.key for u in at.file_uploader] == ["pg_upload_1"] and not at.file_uploader[0].value  # no stale file
    at.run()  # the message stays until another file is chosen
    assert any("roto.png" in e.value for e in at.main.error)


def test_a_file_over_the_size_limit_gets_a_translated_message_and_a_clean_uploader() -> None:
    at = _upload(open_app(None, "es"), "enorme.png", b"\x89PNG\r\n\x1a\n" + bytes(11_000_000))
    assert any("enorme.png" in e.value and "10 MB" in e.value for e in at.main.error), [e.value for e in at.main.error]
    at = _upload(at, "buena.png", encode(np.full((20, 30, 3), 90, np.uint8)))
    assert not at.error and "pg_upload_1" in [u.key for u in at.file_uploader]  # the refused file's message is gone


@pytest.mark.parametrize(("key", "typed", "allowed"), [("pg_padding", 65, "de 0 a 64"), ("pg_stride", 0, "de 1 a 64"), ("pg_stride", -5, "de 1 a 64")])
def test_a_typed_value_outside_the_range_is_refused_with_the_reason(key: str, typed: int, allowed: str) -> None:
    at = open_app(None, "es", pg_sample="coffee", pg_side="64")
    before = [m.value for m in at.markdown if "$$" in m.value]  # the size's numbers and formulas
    assert before
    at.number_input(key=key).set_value(typed).run()
    refused = [e.value for e in at.error if allowed in e.value]
    assert refused and str(typed).replace("-", "−") in refused[0].replace("-", "−") and "Se sigue usando" in refused[0], [e.value for e in at.error]
    assert [m.value for m in at.markdown if "$$" in m.value] == before  # computed with the value it had
    assert at.query_params.get(key) in (None, "1" if key == "pg_stride" else "0")  # the refused value is not in the link
    at.number_input(key=key).set_value(2).run()
    assert not [e for e in at.error if allowed in e.value] and at.query_params.get(key) in ("2", ["2"])


def test_other_pages_refuse_typed_values_the_same_way() -> None:
    at = open_app("pages/pooling.py", "en")
    at.number_input(key="pool_window").set_value(17).run()
    assert any("from 1 to 16" in e.value and "17" in e.value for e in at.error) and not at.exception
    at = open_app("pages/parameters.py", "en")
    key = next(n.key for n in at.number_input)
    at.number_input(key=key).set_value(0).run()
    assert any("from 1 to" in e.value for e in at.error) and not at.exception


@pytest.mark.parametrize("log", [True, False])
def test_the_parameters_chart_opens_on_the_lectures_sizes(log: bool) -> None:
    import json
    import math

    at = open_app("pages/parameters.py", "en", params_log="1" if log else "0")
    spec = json.loads(next(c for c in at.get("plotly_chart") if "params_chart" in c.proto.id).proto.spec)
    axis = spec["layout"]["xaxis"]
    low, high = axis["range"]
    to_side = (lambda v: 10 ** v) if log else (lambda v: v)
    assert to_side(low) <= 32 and 200 <= to_side(high) <= 1024  # both lecture cases (32×32, 200×200) in view
    line = spec["layout"]["shapes"][0]
    assert math.isclose(to_side(line["x0"]), 32, rel_tol=1e-6)  # "your image" at 32, not at 10³²
