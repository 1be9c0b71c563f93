"""The shared figure builders: the numbers printed in cells and the window ⊙ kernel = products picture."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from ui.figures import _cell_text, product_figure


def test_cells_print_numbers_as_a_student_writes_them() -> None:
    z = np.array([[-1.0 * 0.0, 1 / 3, -2.5], [1234.0, 0.0001, 7.0]])
    assert _cell_text(z, 3, None, "") == [["0", "0.333", "\u22122.5"], ["1,234", "0.0001", "7"]]
    assert _cell_text(z, 3, None, "", "es") == [["0", "0,333", "\u22122,5"], ["1.234", "0,0001", "7"]]
    marked = np.array([[True, False, False], [False, False, True]])
    assert _cell_text(z, 3, marked, " ᵖ")[0][0] == "0 ᵖ" and _cell_text(z, 3, marked, " ᵖ")[1][2] == "7 ᵖ"


def test_product_figure_has_three_panels_with_their_own_colours() -> None:
    window = np.array([[0.0, 10.0], [20.0, 30.0]])
    kernel = np.array([[1.0, -1.0], [0.5, 0.0]])
    fig = product_figure(window, kernel, window * kernel, ("W", "K", "P"), marked=np.array([[True, False], [False, False]]),
                         mark=" ᵖ")
    w, k, p = fig.data
    assert (w.xaxis, k.xaxis, p.xaxis) == ("x", "x2", "x3")
    assert np.array_equal(p.z, window * kernel) and p.text[0][1] == "\u221210" and w.text[0][0].endswith("ᵖ")
    assert (w.zmax, k.zmax, p.zmax) == (30.0, 1.0, 10.0)  # each matrix coloured on its own scale
    assert [a.text for a in fig.layout.annotations] == ["W", "K", "P", "⊙", "="]


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


def _decode_uri(uri: str) -> Image.Image:
    import base64
    import io

    assert uri.startswith(("data:image/png;base64,", "data:image/webp;base64,"))
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def test_images_travel_as_lossless_pngs_with_their_hover() -> None:
    """The input is a lossless image (WebP), not a number per pixel, and the pixels the hover reads from it are exactly the image's."""
    import json

    from ui.figures import image_figure

    rng = np.random.default_rng(1)
    for pixels, hover in ((rng.integers(0, 256, (40, 60), dtype=np.uint8), "%{y}, %{x}: %{z:.4g}"),
                          (rng.integers(0, 256, (40, 60, 3), dtype=np.uint8), "%{y}, %{x}: %{z}")):
        trace = image_figure(pixels, "t", hover, padding=1, window=(0, 0, 3, 3)).data[0]
        decoded = np.asarray(_decode_uri(trace.source).convert("RGB"))
        expected = np.repeat(pixels[:, :, None], 3, axis=2) if pixels.ndim == 2 else pixels  # WebP has no gray mode
        assert np.array_equal(decoded, expected) and trace.z is None
        assert "%{z[0]}" in trace.hovertemplate and ("%{z[2]}" in trace.hovertemplate) == (pixels.ndim == 3)
        assert len(json.dumps(trace.source)) < pixels.nbytes * 4 / 3 + 200  # never more than base64 of the raw pixels


def test_the_mosaic_names_the_channel_of_each_tile() -> None:
    from ui.figures import mosaic_figure

    maps = np.stack([np.full((4, 5), float(c)) + np.arange(20).reshape(4, 5) for c in range(5)])
    picture, tiles = mosaic_figure(maps, "m", "channel %{z}").data
    assert picture.source.startswith("data:image/png") and picture.hoverinfo == "skip"
    grid = np.asarray(tiles.z, dtype=float)
    assert grid.shape == (2, 3) and list(grid.ravel()[:5]) == [0, 1, 2, 3, 4] and np.isnan(grid.ravel()[5])
    # Tile c's centre, in mosaic pixels, is the centre of heatmap cell c: the hover names the right channel.
    assert (tiles.x0, tiles.dx, tiles.y0, tiles.dy) == (2.0, 6, 1.5, 5)
    index = np.asarray(_decode_uri(picture.source))
    assert index.shape == (2 * 5 - 1, 3 * 6 - 1)
    assert index[0, 0] == 0 and index[3, 4] == 254 and index[4, 0] == 255  # its own range per tile; white gaps


def test_every_page_draws_its_figures_through_ui_plot() -> None:
    """One helper (ui.plot) sizes figures for the presenter view and sets their toolbar; no page bypasses it."""
    from tests.conftest import ROOT

    direct = [path.name for path in (ROOT / "pages").glob("*.py") if "plotly_chart(" in path.read_text()]
    assert direct == []


def test_plot_sets_plotlys_separators_per_language() -> None:
    from tests.conftest import open_app

    for lang, separators in (("es", ",."), ("en", None)):  # None: Plotly's default ".," (English)
        at = open_app("pages/parameters.py", lang)
        specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
        assert specs and all(spec["layout"].get("separators") == separators for spec in specs), lang


def test_figures_built_without_validation_are_valid_as_built() -> None:
    """The hot figures skip Plotly's validation (most of their cost): validating them must change nothing."""
    import plotly.graph_objects as go
    import plotly.io as pio

    from ui.figures import image_figure, matrix_figure

    rng = np.random.default_rng(0)
    built = [
        matrix_figure(rng.normal(size=(3, 3)), "W", marked=np.eye(3, dtype=bool), mark=" ᵖ", lang="es"),
        image_figure(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8), "in", "%{x}, %{y}: %{z}", padding=2, window=(0, 0, 3, 3)),
        image_figure(rng.integers(0, 256, (20, 30), dtype=np.uint8), "in", "%{z}"),
        image_figure(rng.uniform(0, 255, (20, 30)), "in", "%{z}"),
        image_figure(rng.uniform(0, 255, (20, 30, 3)), "in", "%{z}"),
        product_figure(rng.normal(size=(3, 3)), rng.normal(size=(3, 3)), rng.normal(size=(3, 3)), ("W", "K", "P")),
    ]
    for figure in built:
        sent = json.loads(pio.to_json(figure, validate=False))
        assert sent == json.loads(pio.to_json(go.Figure(figure.to_dict()), validate=False))
        assert all(isinstance(trace.get("colorscale", []), list) for trace in sent["data"])  # plotly.js knows no "RdBu_r"


def test_a_shared_figure_is_sent_prepared_for_each_language_and_view(monkeypatch) -> None:
    """ui.plot keeps the dict of a shared figure per language and presenter view: reruns send the same, each view its own."""
    import plotly.graph_objects as go

    from tests.conftest import open_app

    at = open_app(None, "es")  # the playground: its input, window, kernel and products are shared figures

    def specs() -> dict[str, dict]:
        return {chart.proto.id: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}

    first = specs()
    assert first and all(spec["layout"]["separators"] == ",." for spec in first.values())
    calls = []
    monkeypatch.setattr(go.Figure, "to_dict", lambda self: calls.append(self) or go.Figure.__base__.to_dict(self))
    at.run()
    assert specs() == first and calls == []  # nothing rebuilt or copied again: every figure came prepared
    at.toggle(key="presenter").set_value(True).run()
    large = specs()
    assert all(spec["layout"]["font"]["size"] == 20 for spec in large.values())
    heights = sorted(spec["layout"]["height"] for spec in first.values())
    assert sorted(spec["layout"]["height"] for spec in large.values()) == [int(h * 1.3) for h in heights]
    at.toggle(key="presenter").set_value(False).run()
    at.selectbox(key="lang").set_value("en").run()
    assert specs() and all("separators" not in spec["layout"] for spec in specs().values())


def test_long_titles_wrap_between_words_and_tags_do_not_count() -> None:
    from ui.common import wrap_title

    assert wrap_title("= Productos elemento a elemento de la ventana", 26) == "= Productos elemento a<br>elemento de la ventana"
    assert wrap_title("p<sub>i</sub> con T = 1", 10) == "p<sub>i</sub> con T =<br>1"  # "pi con T =" shows 10 characters
    assert wrap_title("short", 36) == "short" and wrap_title("a<br>bb cc", 3) == "a<br>bb<br>cc"
    wrapped = wrap_title("Probabilidades con T = 1 para las diez clases del conjunto de prueba", 36)
    assert wrap_title(wrapped, 36) == wrapped and all(len(line) <= 36 for line in wrapped.split("<br>"))
