"""Plotly figures for images, feature maps and small matrices, shared by every session that asks for the same one.

Figures are cached as objects (st.cache_resource): a class that opens one link asks for the same figures, and building
a Plotly figure is most of a rerun's cost. Callers must not modify a figure they get; `ui.plot` copies before resizing.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

_shared = st.cache_resource(max_entries=32, show_spinner=False)  # at most ~1.5 MB a figure, ~50 MB a builder


def editable(figure: go.Figure) -> go.Figure:
    """A copy of a shared figure that a page may add to or restyle."""
    return go.Figure(figure)

HEIGHT = 420
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
                xaxis=xaxis, yaxis=yaxis, dragmode=False, shapes=list(shapes), **extra)


def _rectangle(top: float, left: float, rows: float, cols: float, color: str, dash: str = "solid") -> dict:
    """A frame around cells [top, top + rows) × [left, left + cols)."""
    return dict(type="rect", x0=left - 0.5, x1=left + cols - 0.5, y0=top - 0.5, y1=top + rows - 0.5,
                line=dict(color=color, width=3, dash=dash))


@_shared
def image_figure(
    pixels: np.ndarray, title: str, hover: str, padding: int = 0,
    window: tuple[int, int, int, int] | None = None, height: int = HEIGHT,
) -> go.Figure:
    """The input: RGB or grayscale with hover values, the padding frame and a receptive-field window."""
    if pixels.ndim == 3:
        trace = go.Image(z=pixels, hovertemplate=hover + "<extra></extra>")
    else:
        trace = go.Heatmap(z=pixels.astype(np.float32), colorscale="gray", zmin=0, zmax=255, showscale=False,
                           hovertemplate=hover + "<extra></extra>")
    rows, cols = pixels.shape[:2]
    shapes, ranges = [], {}
    if padding:
        shapes.append(_rectangle(-padding, -padding, rows + 2 * padding, cols + 2 * padding, "#888", "dot"))
        ranges = dict(x_range=[-padding - 1, cols + padding], y_range=[rows + padding, -padding - 1])
    if window is not None:
        shapes.append(_rectangle(*window, color="#ffd400"))
    return go.Figure(trace, _square_layout(height, title, shapes, **ranges))


def click_layer(rows: int, cols: int) -> go.Scattergl:
    """Invisible markers on every pixel of a rows × cols image, for clicks: Plotly image and heatmap clicks never reach
    Streamlit. hoverinfo "none", not "skip": skipped points send no clicks either."""
    r, c = np.divmod(np.arange(rows * cols, dtype=np.int32), cols)
    small = np.uint8 if max(rows, cols) <= 256 else np.int16
    return go.Scattergl(x=c.astype(small), y=r.astype(small), mode="markers", showlegend=False, hoverinfo="none",
                        marker=dict(size=max(2, 400 // max(rows, cols)), opacity=0))


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


def _cell_text(z: np.ndarray, decimals: int, marked: np.ndarray | None, mark: str) -> list[list[str]]:
    """Each cell's number to `decimals` significant digits, `mark` after the marked ones."""
    z = z + 0.0  # −1 × 0 is −0.0 in floating point; a student should read 0
    text = [[f"{v:.{decimals}g}" if abs(v) < 10**decimals else f"{v:.0f}" for v in row] for row in z]
    if marked is not None:
        text = [[cell + mark if m else cell for cell, m in zip(row, marks)] for row, marks in zip(text, marked)]
    return text


def _cells(z: np.ndarray, text: list[list[str]], axes: str = "") -> go.Heatmap:
    """A matrix as coloured cells with their numbers, colours centred on 0."""
    limit = float(np.abs(z).max()) or 1.0
    return go.Heatmap(z=z, text=text, texttemplate="%{text}", colorscale="RdBu_r", zmin=-limit, zmax=limit, showscale=False,
                      hovertemplate="%{y}, %{x}: %{z}<extra></extra>", xgap=1, ygap=1, xaxis=f"x{axes}", yaxis=f"y{axes}")


def _matrix_height(side: int) -> int:
    return min(60 + 40 * side, 460)


@_shared
def matrix_figure(
    matrix: np.ndarray, title: str, marked: np.ndarray | None = None, mark: str = "", decimals: int = 3, height: int | None = None,
) -> go.Figure:
    """A small matrix as a table of coloured cells with its numbers; `marked` cells get `mark` after the number."""
    z = np.asarray(matrix, dtype=np.float64)
    side = max(z.shape)
    layout = _square_layout(height or _matrix_height(side), title, ticks=side <= 15)
    layout["xaxis"]["dtick"] = layout["yaxis"]["dtick"] = 1
    return go.Figure(_cells(z, _cell_text(z, decimals, marked, mark)), layout)


@_shared
def bar_figure(labels: list[str], values: np.ndarray, highlight: int, title: str, percent: bool = True, height: int = 360) -> go.Figure:
    """Horizontal bars, one per class, the highlighted one in a strong colour."""
    colors = ["#d62728" if i == highlight else "#9ecae1" for i in range(len(labels))]
    text = [f"{v:.1%}" if percent else f"{v:.3f}" for v in values]
    return go.Figure(
        go.Bar(x=values, y=labels, orientation="h", marker_color=colors, text=text, textposition="outside",
               hovertemplate="%{y}: %{x:.4f}<extra></extra>"),
        dict(title=dict(text=title), height=height, margin=dict(l=10, r=40, t=40, b=10), dragmode=False,
             yaxis=dict(autorange="reversed"), xaxis=dict(range=[0, 1.15], tickformat=".0%") if percent else {}),
    )


@_shared
def mosaic_figure(maps: np.ndarray, title: str, hover: str, height: int = 560) -> go.Figure:
    """C feature maps (C×H×W) tiled in a grid, each scaled to its own range; hover gives channel and raw value."""
    channels, rows, cols = maps.shape
    per_row = int(np.ceil(np.sqrt(channels)))
    grid_rows = int(np.ceil(channels / per_row))
    gap = 1
    shown = np.full((grid_rows * (rows + gap) - gap, per_row * (cols + gap) - gap), np.nan, dtype=np.float32)
    raw = np.full_like(shown, np.nan)
    channel = np.full(shown.shape, -1, dtype=np.int16)
    for c in range(channels):
        r0, c0 = (c // per_row) * (rows + gap), (c % per_row) * (cols + gap)
        tile = maps[c]
        span = float(tile.max() - tile.min())
        shown[r0 : r0 + rows, c0 : c0 + cols] = (tile - tile.min()) / span if span > 0 else 0.0
        raw[r0 : r0 + rows, c0 : c0 + cols] = tile
        channel[r0 : r0 + rows, c0 : c0 + cols] = c
    shown = np.where(np.isnan(shown), np.nan, np.rint(shown * 255)).astype(np.float32)
    customdata = np.stack([channel.astype(np.float32), raw], axis=-1)  # float32: half of what stacking would give
    return go.Figure(go.Heatmap(z=shown, customdata=customdata, colorscale="Viridis", showscale=False, zmin=0, zmax=255,
                                hovertemplate=hover + "<extra></extra>", hoverongaps=False),
                     _square_layout(height, title, ticks=False))


@_shared
def heatmap_figure(matrix: np.ndarray, x: list[str], y: list[str], title: str, hover: str, height: int = 520) -> go.Figure:
    """A labelled matrix with its numbers, e.g. a confusion matrix (rows: true class, columns: predicted)."""
    return go.Figure(
        go.Heatmap(z=matrix, x=x, y=y, colorscale="Blues", text=matrix, texttemplate="%{text}",
                   hovertemplate=hover + "<extra></extra>", showscale=False),
        dict(title=dict(text=title), height=height, margin=dict(l=10, r=10, t=40, b=10), dragmode=False,
             yaxis=dict(autorange="reversed")),
    )
