"""What a new user tripped over (issue 12), in AppTest: the custom-kernel editor, the inspector, uploads, typed values."""

from __future__ import annotations

import numpy as np
import pytest

from cnn_core import convolve, resize_to, sample_image
from tests.conftest import open_app
from ui.figures import map_figure, product_figure


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
    check = next(m.value for m in at.markdown if "✅" in m.value or "❌" in m.value)
    assert "✅" in check and f"({row}, {col})" in check and f"{expected:.4g}"[:4] in check.replace("−", "-")


def test_the_inspector_window_has_the_precision_of_its_sum_line() -> None:
    window = np.array([[157.3, 12.25], [0.5, -3.0]])
    figure = product_figure(window, np.ones((2, 2)), window, ("w", "k", "p"))
    assert "157.3" in str(figure.data[0].text) and "12.25" in str(figure.data[0].text)


def test_a_one_pixel_map_has_no_colour_bar() -> None:
    assert not map_figure(np.full((1, 1), 125.2), "t", "h").data[0].showscale
    assert map_figure(np.array([[1.0, 2.0]]), "t", "h").data[0].showscale
