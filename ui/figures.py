"""Plotly figures for images, feature maps and small matrices, shared by every session that asks for the same one.

Figures are kept as objects by content (`_shared`): a class that opens one link asks for the same figures, and building
a Plotly figure is most of a rerun's cost. Callers must not modify a figure they get; `ui.plot` copies before resizing.
"""

from __future__ import annotations

import base64
import functools
import io
import re
import textwrap

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.colors import get_colorscale, sample_colorscale

from cnn_core.i18n import format_number, format_percent

from .caching import BoundedCache, array_digest, by_content


def _shared(builder):
    """A figure builder whose figures every session shares (kept by content, the 32 latest, at most ~1.5 MB a figure)
    and that ui.plot sends as prepared: a figure is never modified after it is built (see _Prepared in ui.common)."""
    def marked(*args, **kwargs) -> go.Figure:
        figure = builder(*args, **kwargs)
        figure._course_shared = True
        return figure
    return by_content(32)(functools.wraps(builder)(marked))


# An image is encoded once however many figures show it (the input with each padding and window, every session).
_URIS = BoundedCache(64)


@functools.cache
def _scale(name: str) -> list:
    """A named Plotly colour scale as its list of stops: plotly.js knows no reversed names such as RdBu_r."""
    return [list(stop) for stop in get_colorscale(name)]


def _unchecked(traces: list[dict], layout: dict) -> go.Figure:
    """A figure from trace dicts (each with its "type") without Plotly's property validation.

    Validation is most of the cost of a figure (7 ms against 1 ms for a 3×3 matrix), and the hot figures of a rerun
    (the inspector's matrices, the input) are built anew for every pixel; tests/test_figures.py checks that each of them
    is unchanged by validation, i.e. valid as built.
    """
    if layout.get("template") is NO_TEMPLATE:
        layout = {**layout, "template": _VALID_NO_TEMPLATE}
    return go.Figure(traces, layout, _validate=False)


def editable(figure: go.Figure) -> go.Figure:
    """A copy of a shared figure that a page may add to or restyle."""
    return go.Figure(figure)

HEIGHT = 420
# These figures set every colour themselves: Streamlit's Plotly template (default colour scales and colour cycle,
# 3.7 kB a figure) would be sent with each of them for nothing.
NO_TEMPLATE = go.layout.Template()
_VALID_NO_TEMPLATE = go.Figure(layout=dict(template=NO_TEMPLATE)).to_dict()["layout"]["template"]  # as validation writes it
CLICKABLE_LIMIT = 70_000  # beyond this many output pixels the click layer would make the page heavy


def _square_layout(height: int, title: str, shapes: list[dict] = (), ticks: bool = True,
                   x_range: list[float] | None = None, y_range: list[float] | None = None, **extra: object) -> dict:
    """Pixel-square axes, row 0 at the top, no zoom: the layout of every image-like figure."""
    # Layouts are handed to go.Figure whole: update_layout's path parsing cost ~5 ms a figure, most of a rerun.
    xaxis = dict(showgrid=False, zeroline=False, constrain="domain", showticklabels=ticks)
    yaxis = dict(showgrid=False, zeroline=False, constrain="domain", showticklabels=ticks, scaleanchor="x")
    if x_range is not None:
        xaxis["range"] = x_range
    if y_range is not None:
        yaxis["range"] = y_range
    else:
        yaxis["autorange"] = "reversed"
    return dict(title=dict(text=title, x=0.5, xanchor="center"), height=height, margin=dict(l=10, r=10, t=40, b=10),
                xaxis=xaxis, yaxis=yaxis, dragmode=False, template=NO_TEMPLATE,
                **({"shapes": list(shapes)} if shapes else {}), **extra)


def _rectangle(top: float, left: float, rows: float, cols: float, color: str, dash: str = "solid") -> dict:
    """A frame around cells [top, top + rows) × [left, left + cols)."""
    return dict(type="rect", x0=left - 0.5, x1=left + cols - 0.5, y0=top - 0.5, y1=top + rows - 0.5,
                line=dict(color=color, width=3, dash=dash))


def encode_image(pixels: np.ndarray, palette: list[int] | None = None, webp: bool = False) -> bytes:
    """uint8 pixels (H×W gray, H×W×3 RGB, or H×W indices into `palette`) as a PNG (or lossless WebP) file."""
    image = Image.fromarray(pixels)
    if palette is not None:
        image = image.convert("P") if image.mode != "L" else Image.frombytes("P", image.size, image.tobytes())
        image.putpalette(palette)
    buffer = io.BytesIO()
    if webp:  # lossless, exact pixels: a third smaller than PNG for colour photos (PNG is as small for gray ones)
        # Effort 2 at quality 0: 22 ms for a 256-px RGB photo and 3 % over effort 4's file (70 ms; method 6 took 3 s).
        image.save(buffer, format="WEBP", lossless=True, quality=0, method=2)
    else:
        # zlib's default level: optimize=True took twice as long (10 against 4 ms for a 254-px map) for 0.2 % fewer bytes.
        image.save(buffer, format="PNG")
    return buffer.getvalue()


def png_uri(pixels: np.ndarray, palette: list[int] | None = None, webp: bool = False) -> str:
    """encode_image(...) as a data URI, encoded once for every figure and session that shows the same pixels."""
    key = (array_digest(pixels), None if palette is None else tuple(palette), webp)
    uri = _URIS.get(key)
    if uri is None:
        uri = f"data:image/{'webp' if webp else 'png'};base64," + base64.b64encode(encode_image(pixels, palette, webp)).decode("ascii")
        _URIS.put(key, uri)
    return uri


def _source_hover(hover: str, rgb: bool) -> str:
    """A hover text written for `z` as it reads for an image drawn from a PNG (z is the pixel's [r, g, b, a])."""
    return re.sub(r"%\{z(:[^}]*)?\}", "(%{z[0]}, %{z[1]}, %{z[2]})" if rgb else "%{z[0]}", hover)


@_shared
def image_figure(
    pixels: np.ndarray, title: str, hover: str, padding: int = 0,
    window: tuple[int, int, int, int] | None = None, height: int = HEIGHT,
) -> go.Figure:
    """The input: RGB or grayscale with hover values, the padding frame and a receptive-field window."""
    if pixels.dtype == np.uint8:
        # A PNG (tens of kB) instead of a number per pixel; the hover still reads each pixel's exact value from it.
        trace = dict(type="image", source=png_uri(pixels, webp=True),
                     hovertemplate=_source_hover(hover, pixels.ndim == 3) + "<extra></extra>")
    elif pixels.ndim == 3:
        trace = dict(type="image", z=pixels, hovertemplate=hover + "<extra></extra>")
    else:
        trace = dict(type="heatmap", z=pixels.astype(np.float32), colorscale=_scale("gray"), zmin=0, zmax=255, showscale=False,
                     hovertemplate=hover + "<extra></extra>")
    rows, cols = pixels.shape[:2]
    shapes, ranges = [], {}
    if padding:
        shapes.append(_rectangle(-padding, -padding, rows + 2 * padding, cols + 2 * padding, "#888", "dot"))
        ranges = dict(x_range=[-padding - 1, cols + padding], y_range=[rows + padding, -padding - 1])
    if window is not None:
        shapes.append(_rectangle(*window, color="#ffd400"))
    return _unchecked([trace], _square_layout(height, title, shapes, **ranges))


@_shared
def map_figure(
    values: np.ndarray, title: str, hover: str, selected: tuple[int, int] | None = None, height: int = HEIGHT,
) -> go.Figure:
    """A feature map: diverging colours centred on 0 when it has negative values, a click layer, the chosen pixel."""
    z = values.astype(np.float32)
    signed = float(z.min()) < 0
    limit = float(np.abs(z).max()) or 1.0
    colours = dict(colorscale="RdBu_r", zmid=0, zmin=-limit, zmax=limit) if signed else dict(colorscale="gray")
    colours["showscale"] = bool(z.max() > z.min())  # one value (a 1×1 map) has no scale to read
    rows, cols = z.shape
    traces = []
    if rows * cols <= CLICKABLE_LIMIT:
        traces.append(go.Heatmap(z=z, hoverinfo="skip", colorbar=dict(thickness=12), **colours))
        # Heatmap clicks never reach Streamlit; invisible markers on every pixel do, and carry the hover.
        r, c = np.divmod(np.arange(rows * cols, dtype=np.int32), cols)
        small = np.uint8 if max(rows, cols) <= 256 else np.int16  # 1 or 2 bytes a coordinate instead of 8 in the browser
        r, c = r.astype(small), c.astype(small)
        traces.append(go.Scattergl(
            x=c, y=r, customdata=z.ravel(), mode="markers", marker=dict(size=max(2, 400 // max(rows, cols)), opacity=0),
            hovertemplate=hover + "<extra></extra>", showlegend=False,
        ))
    else:
        traces.append(go.Heatmap(z=z, colorbar=dict(thickness=12),
                                 hovertemplate=hover.replace("%{customdata", "%{z") + "<extra></extra>", **colours))
    shapes = [_rectangle(selected[0], selected[1], 1, 1, color="#ffd400")] if selected is not None else []
    return go.Figure(traces, _square_layout(height, title, shapes, clickmode="event+select"))


@functools.cache
def _palette(name: str, count: int = 256) -> tuple[int, ...]:
    """`count` RGB colours of a Plotly colour scale, flattened as PIL's putpalette wants them (1.5 ms to sample: once)."""
    colours = sample_colorscale(get_colorscale(name), [i / (count - 1) for i in range(count)], colortype="tuple")
    return tuple(round(channel * 255) for colour in colours for channel in colour)


def _cell_text(z: np.ndarray, decimals: int, marked: np.ndarray | None, mark: str, lang: str = "en") -> list[list[str]]:
    """Each cell's number to `decimals` significant digits in `lang`, `mark` after the marked ones."""
    text = [[format_number(v, lang, significant=decimals) for v in row] for row in z]
    if marked is not None:
        text = [[cell + mark if m else cell for cell, m in zip(row, marks)] for row, marks in zip(text, marked)]
    return text


def _cells(z: np.ndarray, text: list[list[str]], axes: str = "") -> dict:
    """A matrix as coloured cells with their numbers, colours centred on 0 (a trace for _unchecked)."""
    limit = float(np.abs(z).max()) or 1.0
    return dict(type="heatmap", z=z, text=text, texttemplate="%{text}", colorscale=_scale("RdBu_r"), zmin=-limit, zmax=limit,
                showscale=False, hovertemplate="%{y}, %{x}: %{z}<extra></extra>", xgap=1, ygap=1, xaxis=f"x{axes}", yaxis=f"y{axes}")


def _matrix_height(side: int) -> int:
    return min(60 + 40 * side, 460)


@_shared
def matrix_figure(
    matrix: np.ndarray, title: str, marked: np.ndarray | None = None, mark: str = "", decimals: int = 3, height: int | None = None,
    lang: str = "en",
) -> go.Figure:
    """A small matrix as a table of coloured cells with its numbers; `marked` cells get `mark` after the number."""
    z = np.asarray(matrix, dtype=np.float64)
    side = max(z.shape)
    layout = _square_layout(height or _matrix_height(side), title, ticks=side <= 15)
    layout["xaxis"]["dtick"] = layout["yaxis"]["dtick"] = 1
    return _unchecked([_cells(z, _cell_text(z, decimals, marked, mark, lang))], layout)


@_shared
def product_figure(
    window: np.ndarray, kernel: np.ndarray, products: np.ndarray, titles: tuple[str, str, str],
    marked: np.ndarray | None = None, mark: str = "", lang: str = "en",
) -> go.Figure:
    """Window ⊙ kernel = products: the three matrices of one output value side by side, each with its own colours."""
    side = max(kernel.shape)
    ticks = side <= 15
    domains = ((0.0, 0.29), (0.355, 0.645), (0.71, 1.0))
    layout: dict = dict(height=_matrix_height(side), margin=dict(l=10, r=10, t=40, b=10), dragmode=False, annotations=[],
                        template=NO_TEMPLATE)
    traces = []
    for i, (matrix, title) in enumerate(zip((window, kernel, products), titles)):
        axes = "" if i == 0 else str(i + 1)
        z = np.asarray(matrix, dtype=np.float64)
        traces.append(_cells(z, _cell_text(z, 3, marked if i == 0 else None, mark, lang), axes))
        layout[f"xaxis{axes}"] = dict(domain=domains[i], showgrid=False, zeroline=False, constrain="domain",
                                      showticklabels=ticks, dtick=1)
        layout[f"yaxis{axes}"] = dict(showgrid=False, zeroline=False, constrain="domain", showticklabels=ticks, dtick=1,
                                      autorange="reversed", scaleanchor=f"x{axes}")
        layout["annotations"].append(dict(text=title, xref=f"x{axes} domain", x=0.5, yref="paper", y=1.0, yanchor="bottom",
                                          showarrow=False, font=dict(size=16)))
    for x, symbol in ((0.3225, "⊙"), (0.6775, "=")):
        layout["annotations"].append(dict(text=symbol, xref="paper", x=x, yref="paper", y=0.5, showarrow=False, font=dict(size=26)))
    return _unchecked(traces, layout)


@_shared
def bar_figure(labels: list[str], values: np.ndarray, highlight: int, title: str, percent: bool = True, height: int = 360,
               lang: str = "en") -> go.Figure:
    """Horizontal bars, one per class, the highlighted one in a strong colour."""
    colors = ["#d62728" if i == highlight else "#9ecae1" for i in range(len(labels))]
    text = [format_percent(v, lang) if percent else format_number(v, lang, decimals=3) for v in values]
    return go.Figure(
        go.Bar(x=values, y=labels, orientation="h", marker_color=colors, text=text, textposition="outside",
               hovertemplate="%{y}: %{x:.4f}<extra></extra>"),
        dict(title=dict(text=title), height=height, margin=dict(l=10, r=40, t=40, b=10), dragmode=False,
             yaxis=dict(autorange="reversed"), xaxis=dict(range=[0, 1.15], tickformat=".0%") if percent else {}),
    )


@_shared
def mosaic_figure(maps: np.ndarray, title: str, hover: str, height: int = 560) -> go.Figure:
    """C feature maps (C×H×W) tiled in a grid, each scaled to its own range; hover names the channel under the pointer.

    `hover` is the hover text of a tile, with %{z} for its channel. The tiles are one PNG: a number per pixel for
    the 64 maps of a layer was a megabyte a rerun.
    """
    channels, rows, cols = maps.shape
    per_row = int(np.ceil(np.sqrt(channels)))
    grid_rows = int(np.ceil(channels / per_row))
    gap = 1
    index = np.full((grid_rows * (rows + gap) - gap, per_row * (cols + gap) - gap), 255, dtype=np.uint8)
    tile_of = np.full((grid_rows, per_row), np.nan, dtype=np.float32)
    for c in range(channels):
        r0, c0 = (c // per_row) * (rows + gap), (c % per_row) * (cols + gap)
        tile = maps[c].astype(np.float64)
        span = float(tile.max() - tile.min())
        index[r0 : r0 + rows, c0 : c0 + cols] = np.rint((tile - tile.min()) / span * 254) if span > 0 else 0
        tile_of[c // per_row, c % per_row] = c
    # 255 shades of Viridis and white (index 255) for the gaps: one byte a pixel, a third of an RGB PNG.
    palette = [*_palette("Viridis", 255), 255, 255, 255]
    picture = go.Image(source=png_uri(index, palette), hoverinfo="skip")
    # One invisible cell per tile carries the hover: 64 numbers instead of one per pixel.
    tiles = go.Heatmap(z=tile_of, x0=(cols - 1) / 2, dx=cols + gap, y0=(rows - 1) / 2, dy=rows + gap, opacity=0,
                       showscale=False, hoverongaps=False, hovertemplate=hover + "<extra></extra>")
    return go.Figure([picture, tiles], _square_layout(height, title, ticks=False))


@_shared
def heatmap_figure(matrix: np.ndarray, x: list[str], y: list[str], title: str, hover: str, height: int = 520) -> go.Figure:
    """A labelled matrix with its numbers, e.g. a confusion matrix (rows: true class, columns: predicted)."""
    # Plotly never wraps a title: a long one ran off a phone's narrow chart. Lines of at most 34 characters fit 360 px.
    lines = textwrap.wrap(title, 34) or [""]
    return go.Figure(
        go.Heatmap(z=matrix, x=x, y=y, colorscale="Blues", text=matrix, texttemplate="%{text}", textfont=dict(size=11),
                   hovertemplate=hover + "<extra></extra>", showscale=False),
        dict(title=dict(text="<br>".join(lines)), height=height + 22 * (len(lines) - 1),
             margin=dict(l=10, r=10, t=20 + 22 * len(lines), b=10), dragmode=False,
             xaxis=dict(automargin=True), yaxis=dict(autorange="reversed", automargin=True)),
    )


@_shared
def overlay_figure(pixels: np.ndarray, heat: np.ndarray, title: str, hover: str, height: int = 360) -> go.Figure:
    """A saliency map in [0, 1] over the 32×32 image the network saw, half transparent, its value on hover."""
    return go.Figure(
        [go.Image(z=pixels, hoverinfo="skip"),
         go.Heatmap(z=heat.astype(np.float32), zmin=0, zmax=1, colorscale="Inferno", opacity=0.55,
                    colorbar=dict(thickness=12), hovertemplate=hover + "<extra></extra>")],
        _square_layout(height, title, ticks=False),
    )


@_shared
def curves_figure(x: np.ndarray, series: tuple[tuple[str, np.ndarray], ...], title: str, x_title: str, y_title: str,
                  percent: bool = False, floor: tuple[str, float] | None = None, height: int = 340) -> go.Figure:
    """Lines over epochs (or steps), one per named series; `floor` draws a labelled dashed horizontal line."""
    traces = [go.Scatter(x=x, y=y, name=name, mode="lines+markers" if len(x) <= 60 else "lines") for name, y in series]
    shapes, annotations = [], []
    if floor is not None:
        label, value = floor
        shapes.append(dict(type="line", xref="paper", x0=0, x1=1, y0=value, y1=value, line=dict(color="#888", dash="dash")))
        annotations.append(dict(text=label, xref="paper", x=1, xanchor="right", y=value, yanchor="bottom", showarrow=False))
    yaxis = dict(title=dict(text=y_title), rangemode="tozero")
    if percent:
        yaxis |= dict(tickformat=".0%", range=[0, 1])
    return go.Figure(traces, dict(title=dict(text=title), height=height, margin=dict(l=10, r=10, t=40, b=10), dragmode=False,
                                  xaxis=dict(title=dict(text=x_title)), yaxis=yaxis, shapes=shapes, annotations=annotations,
                                  legend=dict(orientation="h", y=-0.25), hovermode="x unified", template=NO_TEMPLATE))


@_shared
def slices_figure(slices: np.ndarray, title: str, hover: str, height: int = 460) -> go.Figure:
    """One filter's k×k slices (C_in×k×k) tiled in a grid on one colour scale centred on 0, so slices compare."""
    channels, rows, cols = slices.shape
    per_row = int(np.ceil(np.sqrt(channels)))
    grid_rows = int(np.ceil(channels / per_row))
    z = np.full((grid_rows * (rows + 1) - 1, per_row * (cols + 1) - 1), np.nan, dtype=np.float32)
    channel = np.full(z.shape, -1, dtype=np.float32)
    for c in range(channels):
        r0, c0 = (c // per_row) * (rows + 1), (c % per_row) * (cols + 1)
        z[r0 : r0 + rows, c0 : c0 + cols] = slices[c]
        channel[r0 : r0 + rows, c0 : c0 + cols] = c
    limit = float(np.nanmax(np.abs(z))) or 1.0
    return go.Figure(go.Heatmap(z=z, customdata=channel, colorscale="RdBu_r", zmid=0, zmin=-limit, zmax=limit,
                                colorbar=dict(thickness=12), hoverongaps=False, hovertemplate=hover + "<extra></extra>"),
                     _square_layout(height, title, ticks=False))


@_shared
def norms_figure(norms: np.ndarray, title: str, x_title: str, y_title: str, hover: str, height: int = 460) -> go.Figure:
    """An n × C_in matrix of slice norms: one row per filter, one column per input channel."""
    return go.Figure(
        go.Heatmap(z=norms.astype(np.float32), colorscale="Viridis", zmin=0, colorbar=dict(thickness=12),
                   hovertemplate=hover + "<extra></extra>"),
        dict(title=dict(text=title), height=height, margin=dict(l=10, r=10, t=40, b=10), dragmode=False,
             xaxis=dict(title=dict(text=x_title), showgrid=False), template=NO_TEMPLATE,
             yaxis=dict(title=dict(text=y_title), autorange="reversed", showgrid=False)),
    )


@_shared
def tiles_figure(
    tiles: np.ndarray, per_row: int, title: str, hover: str, tile_titles: tuple[str, ...] = (), numbers: bool = False,
    separators: str = ".,", height: int | None = None, lang: str = "en",
) -> go.Figure:
    """N small matrices (N×h×w) in a grid, `per_row` to a row, each coloured on its own scale centred on 0 (white).

    Hover gets customdata [tile number from 1, value]; `numbers` writes each value in its cell (for filters)."""
    count, rows, cols = tiles.shape
    grid_rows = int(np.ceil(count / per_row))
    gap = 1
    shape = (grid_rows * (rows + gap) - gap, per_row * (cols + gap) - gap)
    shown, raw, index = np.full(shape, np.nan, np.float32), np.full(shape, np.nan, np.float32), np.full(shape, np.nan, np.float32)
    annotations = []
    for i, tile in enumerate(np.asarray(tiles, dtype=np.float64)):
        r0, c0 = (i // per_row) * (rows + gap), (i % per_row) * (cols + gap)
        limit = float(np.nanmax(np.abs(tile))) if np.isfinite(tile).any() else 1.0
        limit = limit or 1.0
        shown[r0 : r0 + rows, c0 : c0 + cols] = tile / limit
        raw[r0 : r0 + rows, c0 : c0 + cols] = tile
        index[r0 : r0 + rows, c0 : c0 + cols] = i + 1
        if i < len(tile_titles):
            annotations.append(dict(text=tile_titles[i], x=c0 + (cols - 1) / 2, y=r0 - 0.5, yanchor="bottom", showarrow=False,
                                    font=dict(size=12)))
    trace = dict(z=shown, colorscale="RdBu_r", zmin=-1, zmax=1, showscale=False, hoverongaps=False)
    if shown.size <= CLICKABLE_LIMIT // 2:  # hover data doubles a figure's bytes; past this the colours must do
        trace.update(customdata=np.stack([index, raw], axis=-1), hovertemplate=hover + "<extra></extra>")
    else:  # one byte a cell instead of four; the gaps between tiles become white, as 0 is
        trace.update(z=np.rint(np.nan_to_num(shown) * 127).astype(np.int8), zmin=-127, zmax=127, hoverinfo="skip")
    if numbers:
        from cnn_core.i18n import format_number

        text = [["" if np.isnan(v) else format_number(v, lang, significant=3) for v in row] for row in raw]
        trace.update(text=text, texttemplate="%{text}", xgap=1, ygap=1)
    side = max(shape)
    layout = _square_layout(height or min(70 + int(1000 * shape[0] / max(shape[1], 1)), 420), title, ticks=False,
                            annotations=annotations, separators=separators)
    if annotations:
        layout["yaxis"]["range"] = [shape[0] - 0.5, -1.8 - 0.02 * side]
        layout["yaxis"].pop("autorange")
    return go.Figure(go.Heatmap(**trace), layout)


@_shared
def window_figure(span: np.ndarray, taps: np.ndarray, padding: np.ndarray, title: str, separators: str = ".,") -> go.Figure:
    """The cells a dilated window spans: its taps coloured with their values, the gaps between them gray."""
    z = np.asarray(span, dtype=np.float64) + 0.0
    on = np.where(taps, z, np.nan)
    off = np.where(taps, np.nan, 0.0)
    limit = float(np.nanmax(np.abs(on))) if np.isfinite(on).any() else 1.0
    layout = _square_layout(_matrix_height(max(z.shape)), title, separators=separators)
    layout["xaxis"]["dtick"] = layout["yaxis"]["dtick"] = 1
    marks = [_rectangle(r, c, 1, 1, "#888", "dot") for r, c in zip(*np.nonzero(padding & taps))]
    layout["shapes"] = marks
    return go.Figure([
        go.Heatmap(z=off, text=z, texttemplate="%{text:.3~g}", colorscale=[[0, "#e8e8e8"], [1, "#e8e8e8"]], showscale=False,
                   hoverinfo="skip", xgap=1, ygap=1, textfont=dict(color="#999")),
        go.Heatmap(z=on, text=z, texttemplate="%{text:.3~g}", colorscale="RdBu_r", zmin=-(limit or 1), zmax=limit or 1,
                   showscale=False, hovertemplate="%{y}, %{x}: %{z}<extra></extra>", xgap=1, ygap=1),
    ], layout)


@_shared
def animation_figure(
    left: np.ndarray, right_frames: np.ndarray, left_marks: np.ndarray, right_marks: np.ndarray, frame_titles: tuple[str, ...],
    titles: tuple[str, str], buttons: tuple[str, str, str, str], step_label: str, left_frame: tuple[int, int, int, int],
    right_frame: tuple[int, int, int, int] | None = None, reveal: bool = False, separators: str = ".,", speed_ms: int = 700,
) -> go.Figure:
    """Two grids side by side, animated in the browser (Plotly frames): step i marks `left_marks[i]` (cells of `left`)
    and `right_marks[i]` (cells of the right grid) and shows the right grid as `right_frames[i]`.

    With `reveal`, right_frames is one grid filled in reading order, one cell a step: the cells not computed yet are
    covered by two rectangles, so that a frame carries no grid (a few hundred bytes). Play, pause and speed are buttons,
    the slider steps back and forth: a class pressing play costs the server nothing."""
    lr, lc = left.shape
    rr, rc = right_frames.shape[1:]
    steps = rr * rc if reveal else len(right_frames)
    z = np.asarray(left, dtype=np.float64) + 0.0
    limit = float(np.abs(z).max()) or 1.0

    def marks(cells: np.ndarray, axes: str) -> dict:
        return dict(x=cells[:, 1].astype(np.int16), y=cells[:, 0].astype(np.int16), xaxis=f"x{axes}", yaxis=f"y{axes}")

    def right_grid(values: np.ndarray) -> dict:
        return dict(z=values.astype(np.float32), xaxis="x2", yaxis="y2")

    out_limit = float(np.nanmax(np.abs(right_frames))) if np.isfinite(right_frames).any() else 1.0
    marker = dict(symbol="square-open", color="#ffb000", line=dict(width=3))
    size = max(8, int(300 / max(lr, lc, rr, rc)))
    traces = [
        go.Heatmap(z=z, texttemplate="%{z:.3~g}", colorscale="Greys", zmin=-limit * 0.3, zmax=limit * 2.5,
                   showscale=False, hoverinfo="skip", xgap=1, ygap=1),
        go.Heatmap(**right_grid(right_frames[-1] if reveal else right_frames[0]), texttemplate="%{z:.3~g}", colorscale="RdBu_r",
                   zmin=-(out_limit or 1), zmax=out_limit or 1, showscale=False, hoverinfo="skip", xgap=1, ygap=1),
        go.Scatter(**marks(left_marks[0], ""), mode="markers", marker=dict(size=size, **marker), hoverinfo="skip", showlegend=False),
        go.Scatter(**marks(right_marks[0], "2"), mode="markers", marker=dict(size=size, **marker), hoverinfo="skip", showlegend=False),
    ]
    shapes = [_rectangle(*left_frame, color="#555", dash="dot")]
    if right_frame is not None:
        shapes.append({**_rectangle(*right_frame, color="#555", dash="dot"), "xref": "x2", "yref": "y2"})

    def covers(step: int) -> list[dict]:
        r, c = divmod(step, rc)
        cover = dict(type="rect", xref="x2", yref="y2", fillcolor="white", line=dict(width=0))
        return [dict(cover, x0=c + 0.5, x1=rc - 0.5, y0=r - 0.5, y1=r + 0.5), dict(cover, x0=-0.5, x1=rc - 0.5, y0=r + 0.5, y1=rr - 0.5)]

    frames = []
    for i in range(steps):
        data, indices = [go.Scatter(**marks(left_marks[i], "")), go.Scatter(**marks(right_marks[i], "2"))], [2, 3]
        layout = dict(title=dict(text=frame_titles[i]))
        if reveal:
            layout["shapes"] = shapes + covers(i)
        else:
            data, indices = [go.Heatmap(**right_grid(right_frames[i]))] + data, [1] + indices
        frames.append(go.Frame(name=str(i), traces=indices, data=data, layout=layout))

    def play(duration: int) -> dict:
        return dict(method="animate", args=[None, dict(frame=dict(duration=duration, redraw=True), fromcurrent=True,
                                                       transition=dict(duration=0), mode="immediate")])

    menu = dict(type="buttons", direction="left", x=0.0, y=-0.11, xanchor="left", yanchor="top", showactive=False, buttons=[
        dict(label=buttons[0], **play(speed_ms * 2)), dict(label=buttons[1], **play(speed_ms)),
        dict(label=buttons[2], **play(max(speed_ms // 4, 60))),
        dict(label=buttons[3], method="animate", args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate",
                                                                     transition=dict(duration=0))]),
    ])
    slider = dict(active=0, x=0.0, y=-0.2, len=1.0, currentvalue=dict(prefix=step_label + " "), pad=dict(t=10),
                  steps=[dict(label=str(i + 1), method="animate",
                              args=[[str(i)], dict(mode="immediate", frame=dict(duration=0, redraw=True), transition=dict(duration=0))])
                         for i in range(steps)])

    def axis(domain: tuple[float, float], n: int, suffix: str) -> tuple[dict, dict]:
        x = dict(domain=domain, showgrid=False, zeroline=False, constrain="domain", dtick=1, range=[-0.5, n - 0.5],
                 anchor=f"y{suffix}")
        y = dict(showgrid=False, zeroline=False, constrain="domain", dtick=1, autorange="reversed", scaleanchor=f"x{suffix}",
                 anchor=f"x{suffix}")
        return x, y

    x1, y1 = axis((0.0, 0.47), lc, "")
    x2, y2 = axis((0.53, 1.0), rc, "2")
    annotations = [dict(text=text, xref=f"x{a} domain", x=0.5, yref="paper", y=1.0, yanchor="bottom", showarrow=False,
                        font=dict(size=14)) for text, a in zip(titles, ("", "2"))]
    layout = dict(title=dict(text=frame_titles[0], x=0.5, xanchor="center", y=0.98), height=560,
                  margin=dict(l=10, r=10, t=80, b=170), dragmode=False, separators=separators, xaxis=x1, yaxis=y1, xaxis2=x2,
                  yaxis2=y2, updatemenus=[menu], sliders=[slider], shapes=shapes + (covers(0) if reveal else []), template=NO_TEMPLATE,
                  annotations=annotations)
    return go.Figure(traces, layout, frames=frames)
