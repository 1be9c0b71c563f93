"""Plotly figures for images, feature maps and small matrices."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

HEIGHT = 420
CLICKABLE_LIMIT = 70_000  # beyond this many output pixels the click layer would make the page heavy


def _square_axes(fig: go.Figure, height: int, title: str) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0.5, xanchor="center"), height=height, margin=dict(l=10, r=10, t=40, b=10),
        xaxis=dict(showgrid=False, zeroline=False, constrain="domain"),
        yaxis=dict(showgrid=False, zeroline=False, autorange="reversed", scaleanchor="x", constrain="domain"),
        dragmode=False,
    )
    return fig


def _rectangle(fig: go.Figure, top: float, left: float, rows: float, cols: float, color: str, dash: str = "solid") -> None:
    fig.add_shape(
        type="rect", x0=left - 0.5, x1=left + cols - 0.5, y0=top - 0.5, y1=top + rows - 0.5,
        line=dict(color=color, width=3, dash=dash),
    )


def image_figure(
    pixels: np.ndarray, title: str, hover: str, padding: int = 0,
    window: tuple[int, int, int, int] | None = None, height: int = HEIGHT,
) -> go.Figure:
    """The input: RGB or grayscale with hover values, the padding frame and a receptive-field window."""
    if pixels.ndim == 3:
        fig = go.Figure(go.Image(z=pixels, hovertemplate=hover + "<extra></extra>"))
    else:
        fig = go.Figure(go.Heatmap(z=pixels.astype(np.float32), colorscale="gray", zmin=0, zmax=255, showscale=False,
                                   hovertemplate=hover + "<extra></extra>"))
    rows, cols = pixels.shape[:2]
    if padding:
        _rectangle(fig, -padding, -padding, rows + 2 * padding, cols + 2 * padding, "#888", "dot")
        fig.update_xaxes(range=[-padding - 1, cols + padding])
        fig.update_yaxes(range=[rows + padding, -padding - 1])
    if window is not None:
        _rectangle(fig, *window, color="#ffd400")
    return _square_axes(fig, height, title)


def map_figure(
    values: np.ndarray, title: str, hover: str, selected: tuple[int, int] | None = None, height: int = HEIGHT,
) -> go.Figure:
    """A feature map: diverging colours centred on 0 when it has negative values, a click layer, the chosen pixel."""
    z = values.astype(np.float32)
    signed = float(z.min()) < 0
    limit = float(np.abs(z).max()) or 1.0
    heat = go.Heatmap(
        z=z, colorscale="RdBu_r" if signed else "gray", zmid=0 if signed else None,
        zmin=-limit if signed else None, zmax=limit if signed else None, hoverinfo="skip", colorbar=dict(thickness=12),
    )
    fig = go.Figure(heat)
    rows, cols = z.shape
    if rows * cols <= CLICKABLE_LIMIT:
        # Heatmap clicks never reach Streamlit; invisible markers on every pixel do, and carry the hover.
        r, c = np.divmod(np.arange(rows * cols, dtype=np.int32), cols)
        r, c = r.astype(np.int16), c.astype(np.int16)  # half the bytes sent; maps are far smaller than 32767
        fig.add_trace(go.Scattergl(
            x=c, y=r, customdata=z.ravel(), mode="markers", marker=dict(size=max(2, 400 // max(rows, cols)), opacity=0),
            hovertemplate=hover + "<extra></extra>", showlegend=False,
        ))
    else:
        heat.update(hoverinfo=None, hovertemplate=hover.replace("%{customdata", "%{z") + "<extra></extra>")
    if selected is not None:
        _rectangle(fig, selected[0], selected[1], 1, 1, color="#ffd400")
    fig.update_layout(clickmode="event+select")
    return _square_axes(fig, height, title)


def matrix_figure(
    matrix: np.ndarray, title: str, marked: np.ndarray | None = None, mark: str = "", decimals: int = 3, height: int | None = None,
) -> go.Figure:
    """A small matrix as a table of coloured cells with its numbers; `marked` cells get `mark` after the number."""
    z = np.asarray(matrix, dtype=np.float64)
    text = np.vectorize(lambda v: f"{v:.{decimals}g}" if abs(v) < 10**decimals else f"{v:.0f}")(z)
    if marked is not None:
        text = np.where(marked, np.char.add(text.astype(str), mark), text)
    limit = float(np.abs(z).max()) or 1.0
    fig = go.Figure(go.Heatmap(
        z=z, text=text, texttemplate="%{text}", colorscale="RdBu_r", zmin=-limit, zmax=limit, showscale=False,
        hovertemplate="%{y}, %{x}: %{z}<extra></extra>", xgap=1, ygap=1,
    ))
    side = max(z.shape)
    fig.update_xaxes(showticklabels=side <= 15, dtick=1)
    fig.update_yaxes(showticklabels=side <= 15, dtick=1)
    return _square_axes(fig, height or min(60 + 40 * side, 460), title)


def bar_figure(labels: list[str], values: np.ndarray, highlight: int, title: str, percent: bool = True, height: int = 360) -> go.Figure:
    """Horizontal bars, one per class, the highlighted one in a strong colour."""
    colors = ["#d62728" if i == highlight else "#9ecae1" for i in range(len(labels))]
    text = [f"{v:.1%}" if percent else f"{v:.3f}" for v in values]
    fig = go.Figure(go.Bar(x=values, y=labels, orientation="h", marker_color=colors, text=text, textposition="outside",
                           hovertemplate="%{y}: %{x:.4f}<extra></extra>"))
    fig.update_layout(title=dict(text=title), height=height, margin=dict(l=10, r=40, t=40, b=10), dragmode=False,
                      yaxis=dict(autorange="reversed"))
    if percent:
        fig.update_xaxes(range=[0, 1.15], tickformat=".0%")
    return fig


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
    fig = go.Figure(go.Heatmap(z=shown, customdata=customdata, colorscale="Viridis", showscale=False, zmin=0, zmax=255,
                               hovertemplate=hover + "<extra></extra>", hoverongaps=False))
    return _square_axes(fig, height, title).update_xaxes(showticklabels=False).update_yaxes(showticklabels=False)


def heatmap_figure(matrix: np.ndarray, x: list[str], y: list[str], title: str, hover: str, height: int = 520) -> go.Figure:
    """A labelled matrix with its numbers, e.g. a confusion matrix (rows: true class, columns: predicted)."""
    fig = go.Figure(go.Heatmap(z=matrix, x=x, y=y, colorscale="Blues", text=matrix, texttemplate="%{text}",
                               hovertemplate=hover + "<extra></extra>", showscale=False))
    fig.update_layout(title=dict(text=title), height=height, margin=dict(l=10, r=10, t=40, b=10), dragmode=False,
                      yaxis=dict(autorange="reversed"))
    return fig
