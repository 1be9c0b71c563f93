"""The shared figure builders: the numbers printed in cells, and the JSON the browser gets."""

from __future__ import annotations

import numpy as np

from ui.figures import _cell_text


def test_cells_print_numbers_as_a_student_writes_them() -> None:
    z = np.array([[-1.0 * 0.0, 1 / 3, -2.5], [1234.0, 0.0001, 7.0]])
    assert _cell_text(z, 3, None, "") == [["0", "0.333", "-2.5"], ["1234", "0.0001", "7"]]
    marked = np.array([[True, False, False], [False, False, True]])
    assert _cell_text(z, 3, marked, " ᵖ")[0][0] == "0 ᵖ" and _cell_text(z, 3, marked, " ᵖ")[1][2] == "7 ᵖ"


def test_the_fast_json_engine_sends_the_same_figure() -> None:
    """orjson (requirements.txt) serialises the figures Streamlit sends; the browser must get the same numbers."""
    import json

    import plotly.io as pio

    from ui.figures import map_figure

    values = np.random.default_rng(0).normal(size=(20, 30)).astype(np.float32)
    fig = map_figure(values, "map", "%{customdata:.3f}", selected=(2, 3))
    assert pio.json.config.default_engine in ("auto", "orjson")
    fast, plain = pio.to_json(fig, validate=False, engine="orjson"), pio.to_json(fig, validate=False, engine="json")
    assert json.loads(fast) == json.loads(plain)
