"""Receptive fields: a neuron's local field and its weights, and how the field grows through a stack of layers."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image, ImageOps

from cnn_core import InputError
from cnn_core.images import SAMPLES
from cnn_core.receptive_field import LAYER_KINDS, FieldStep, Layer, cifar_layers, input_region, local_field, receptive_fields
from ui import (
    Setting,
    bounded_number,
    editable,
    image_figure,
    image_picker,
    labels,
    latex_number,
    num,
    plot,
    relink,
    share_in_url,
    show_error,
    t,
)

MAX_LAYERS = 10
MAX_SIDE = 512 + 2 * 32 * MAX_LAYERS  # the largest map a stack can reach: every layer pads by 32
DEFAULT_STACK = (("conv", 3, 1, 0), ("conv", 3, 1, 0), ("max", 2, 2, 0), ("conv", 3, 1, 0))
CIFAR_SIZE = 32  # the network's input side
def _n(value: int) -> str:
    return num(value)


def _cuboid(x: float, y: float, z: float, dx: float, dy: float, dz: float, color: str, opacity: float, name: str) -> list:
    """A box as a Plotly mesh plus its edges."""
    corners = np.array([[x + a * dx, y + b * dy, z + c * dz] for c in (0, 1) for b in (0, 1) for a in (0, 1)])
    i = [0, 0, 4, 4, 0, 0, 2, 2, 0, 0, 1, 1]
    j = [1, 3, 5, 7, 1, 5, 3, 7, 2, 6, 3, 7]
    k = [3, 2, 7, 6, 5, 4, 7, 6, 6, 4, 7, 5]
    mesh = go.Mesh3d(x=corners[:, 0], y=corners[:, 1], z=corners[:, 2], i=i, j=j, k=k, color=color, opacity=opacity,
                     name=name, hoverinfo="name", flatshading=True)
    order = [0, 1, 3, 2, 0, 4, 5, 7, 6, 4, None, 1, 5, None, 3, 7, None, 2, 6]
    edges = np.array([corners[n] if n is not None else [np.nan] * 3 for n in order])
    lines = go.Scatter3d(x=edges[:, 0], y=edges[:, 1], z=edges[:, 2], mode="lines", line=dict(color="#333", width=3),
                         hoverinfo="skip", showlegend=False)
    return [mesh, lines]


def _volume_figure(m: int, channels: int, k: int) -> go.Figure:
    """The m×m×C input volume and one k×k×C filter position in its corner."""
    fig = go.Figure(_cuboid(0, 0, 0, m, m, channels, "#9ecae1", 0.25, t("rf.volume_name", m=m, c=channels))
                    + _cuboid(0, 0, 0, k, k, channels, "#ff7f0e", 0.9, t("rf.filter_name", k=k, c=channels)))
    depth = max(channels / m, 0.3)  # a thin volume still has room for its two channel ticks
    fig.update_layout(
        height=340, margin=dict(l=0, r=0, t=10, b=0), showlegend=False,
        scene=dict(aspectmode="manual", aspectratio=dict(x=1, y=1, z=min(depth, 1.5)),
                   xaxis_title=t("rf.axis_width"), yaxis_title=t("rf.axis_height"), zaxis_title=t("rf.axis_channels"),
                   # The number of channels alone: every channel's tick overlapped the next one on the short axis, and a
                   # 0 there sat on the width's 0 at the shared corner.
                   zaxis=dict(tickmode="array", tickvals=[channels], ticktext=[_n(channels)]),
                   camera=dict(eye=dict(x=1.5, y=-1.6, z=1.2))),
    )
    return fig


def _local_section() -> None:
    """(a) The lecture's local receptive field: one neuron, its k×k×C weights."""
    st.header(t("rf.local_header"))
    st.markdown(t("rf.local_intro"))
    c1, c2, c3 = st.columns(3)
    m = bounded_number(c1, t("rf.local_size"), 1, 512, 32, key="rf_local_size")
    channels = bounded_number(c2, t("rf.local_channels"), 1, 512, 3, key="rf_local_channels")
    k = bounded_number(c3, t("rf.local_kernel"), 1, 64, 5, key="rf_local_kernel")
    try:
        field = local_field(k, channels, m)
    except InputError as error:
        show_error(error)
        return
    left, right = st.columns([2, 3])
    plot(_volume_figure(m, channels, k), "rf_volume", left)
    with right:
        st.latex(rf"{k} \times {k} \times {channels} = {latex_number(field.weights)} \text{{ {t('rf.weights_word')}}} + "
                 rf"{field.bias} \text{{ {t('rf.bias_word')}}} = {latex_number(field.total)}")
        st.markdown(t("rf.local_text", k=k, c=channels, m=m, weights=_n(field.weights), total=_n(field.total),
                      full=_n(field.full_weights), positions=field.positions, neurons=_n(field.neurons)))
        if (m, channels, k) != (32, 3, 5):
            st.caption(t("rf.local_lecture"))


def _custom_stack() -> tuple[list[Layer], int]:
    """The layers the student sets, one row of widgets each."""
    c1, c2 = st.columns(2)
    size = bounded_number(c1, t("rf.input_size"), 1, 512, 32, key="rf_input_size")
    count = int(c2.number_input(t("rf.layer_count"), 1, MAX_LAYERS, len(DEFAULT_STACK), key="rf_layer_count"))
    layers = []
    heads = st.columns([1, 2, 2, 2, 2])
    for head, key in zip(heads, ("rf.col_number", "rf.col_kind", "rf.col_k", "rf.col_s", "rf.col_p")):
        head.markdown(f"**{t(key)}**")
    for i in range(count):
        kind0, k0, s0, p0 = DEFAULT_STACK[i] if i < len(DEFAULT_STACK) else ("conv", 3, 1, 0)
        cols = st.columns([1, 2, 2, 2, 2])
        cols[0].markdown(f"{i + 1}")
        kind = cols[1].selectbox(t("rf.col_kind"), LAYER_KINDS, index=LAYER_KINDS.index(kind0), format_func=labels("rf.kind_"),
                                 key=f"rf_kind_{i}", label_visibility="collapsed")
        k = cols[2].number_input(t("rf.col_k"), 1, 64, k0, key=f"rf_k_{i}", label_visibility="collapsed")
        s = cols[3].number_input(t("rf.col_s"), 1, 16, s0, key=f"rf_s_{i}", label_visibility="collapsed")
        p = cols[4].number_input(t("rf.col_p"), 0, 32, p0, key=f"rf_p_{i}", label_visibility="collapsed")
        name = f"{'conv' if kind == 'conv' else 'pool'}{i + 1}"
        layers.append(Layer(name=name, kind=kind, kernel=int(k), stride=int(s), padding=int(p)))
    return layers, size


def _table(steps: list[FieldStep]) -> list[dict[str, object]]:
    rows = []
    for step in steps:
        layer = step.layer
        rows.append({
            "#": step.index,
            t("rf.col_layer"): t("rf.input_row") if layer is None else layer.name,
            t("rf.col_kind"): "" if layer is None else t(f"rf.kind_{layer.kind}"),
            "k": "—" if layer is None else str(layer.kernel),
            "s": "—" if layer is None else str(layer.stride),
            "p": "—" if layer is None else str(layer.padding),
            t("rf.col_output"): f"{step.size}×{step.size}",
            t("rf.col_jump"): step.jump,
            t("rf.col_field"): f"{step.receptive}×{step.receptive}",
            t("rf.col_start"): step.start,
        })
    return rows


def _growth_figure(steps: list[FieldStep], chosen: int) -> go.Figure:
    """Receptive field size per layer, the chosen layer highlighted, the image size as a reference line."""
    x = list(range(len(steps)))
    r = [s.receptive for s in steps]
    names = [t("rf.input_row") if s.layer is None else s.layer.name for s in steps]
    # The numbers above and to the left of their points (a rising line leaves that corner free; the chosen layer's large
    # marker covered a centred number), inside a range with room above the highest one, never cut at the plot's edge.
    fig = go.Figure(go.Scatter(x=x, y=r, mode="lines+markers+text", text=r, textposition="top left", customdata=names,
                               cliponaxis=False, hovertemplate=t("rf.growth_hover") + "<extra></extra>", name=t("rf.col_field")))
    fig.add_trace(go.Scatter(x=[chosen], y=[r[chosen]], mode="markers", marker=dict(size=16, color="#ffd400",
                             line=dict(color="#333", width=2)), hoverinfo="skip", showlegend=False))
    # The image's side is labelled at the left end of its line, above the first layers' small fields, not on the curve.
    fig.add_hline(y=steps[0].size, line_dash="dash", line_color="#888",
                  annotation_text=t("rf.image_line", size=steps[0].size), annotation_position="top left")
    top = max(max(r), steps[0].size) * 1.2
    fig.update_layout(height=320, margin=dict(l=10, r=20, t=40, b=10), dragmode=False, showlegend=False,
                      title=dict(text=t("rf.growth_title")),
                      xaxis=dict(title=t("rf.growth_x"), tickmode="array", tickvals=x, ticktext=[str(i) for i in x],
                                 range=[-0.6, len(steps) - 0.5]),
                      yaxis=dict(title=t("rf.growth_y"), range=[0, top]))
    return fig


def _fit(pixels: np.ndarray, size: int) -> np.ndarray:
    """The image centre-cropped to a square and resized to size×size, as the network's input is prepared."""
    return np.asarray(ImageOps.fit(Image.fromarray(pixels), (size, size), Image.Resampling.LANCZOS))


def _clamp(key: str, size: int, default: int) -> None:
    st.session_state[key] = min(max(int(st.session_state.get(key, default)), 0), size - 1)
    relink(key)


def _region_figure(image: np.ndarray, region, title: str) -> go.Figure:
    """The input with the formula's window (dashed), the pixels the neuron depends on (tinted) and their box."""
    fig = editable(image_figure(image, title, t("rf.hover_image")))
    n = image.shape[0]
    fig.add_trace(go.Heatmap(z=region.mask.astype(np.float32), colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(255,212,0,0.45)"]],
                             zmin=0, zmax=1, showscale=False, hoverinfo="skip"))
    r = region.receptive
    fig.add_shape(type="rect", x0=region.left - 0.5, x1=region.left + r - 0.5, y0=region.top - 0.5, y1=region.top + r - 0.5,
                  line=dict(color="#d62728", width=2, dash="dash"))
    if region.rows is not None:
        fig.add_shape(type="rect", x0=region.cols[0] - 0.5, x1=region.cols[1] + 0.5, y0=region.rows[0] - 0.5,
                      y1=region.rows[1] + 0.5, line=dict(color="#ffd400", width=3))
    low, high = min(region.top, region.left, 0) - 1, max(region.top + r, region.left + r, n)
    fig.update_xaxes(range=[low, high])
    fig.update_yaxes(range=[high, low])
    return fig


def _neuron_section(steps: list[FieldStep], pixels: np.ndarray | None) -> None:
    """(c) One neuron of one layer: the input region it depends on."""
    st.header(t("rf.neuron_header"))
    # The labels are the options, so that the browser never shows a stale name or size after the stack changes;
    # the chosen position is kept across such changes.
    options = [f"{s.index} · {s.layer.name if s.layer else t('rf.input_row')} · {s.size}×{s.size}" for s in steps]
    if st.session_state.get("rf_layer") not in options:
        st.session_state.rf_layer = options[min(st.session_state.get("rf_layer_index", 4), len(steps) - 1)]
    st.session_state.rf_layer_index = index = options.index(st.selectbox(t("rf.layer"), options, key="rf_layer"))
    step = steps[index]
    _clamp("rf_row", step.size, step.size // 2)
    _clamp("rf_col", step.size, step.size // 2)
    c1, c2 = st.columns(2)
    row = int(c1.number_input(t("rf.row"), 0, step.size - 1, key="rf_row"))
    col = int(c2.number_input(t("rf.col"), 0, step.size - 1, key="rf_col"))
    region = input_region(steps, step.index, row, col)
    left, right = st.columns([3, 2])
    n = steps[0].size
    with left:
        if pixels is None:
            st.info(t("rf.no_image"))
        else:
            image = _fit(pixels, n)
            plot(_region_figure(image, region, t("rf.image_title", n=n)), "rf_region")
            st.caption(t("rf.legend"))
    with right:
        plot(_growth_figure(steps, step.index), "rf_growth")
    if step.layer is not None:
        prev = steps[step.index - 1]
        st.latex(rf"r = {prev.receptive} + ({step.layer.kernel} - 1) \cdot {prev.jump} = {step.receptive}, \qquad "
                 rf"j = {prev.jump} \cdot {step.layer.stride} = {step.jump}")
    if region.rows is None:
        st.warning(t("rf.region_none", row=row, col=col), icon=":material/grid_off:")
        return
    (r0, r1), (c0, c1_) = region.rows, region.cols
    st.markdown(t("rf.region_text", row=row, col=col, layer=step.index, size=step.size, r0=r0, r1=r1, c0=c0, c1=c1_,
                  height=int(region.row_mask.sum()), width=int(region.col_mask.sum()), pixels=region.pixels,
                  r=step.receptive, top=region.top, left=region.left))
    if region.padding_rows or region.padding_cols:
        st.markdown(t("rf.region_padding", rows=region.padding_rows, cols=region.padding_cols, r=step.receptive))
    if region.has_gaps:
        st.warning(t("rf.region_gaps", pixels=region.pixels), icon=":material/grid_off:")
    elif not region.matches_formula:
        st.info(t("rf.region_clipped"), icon=":material/content_cut:")
    if region.pixels == n * n:
        st.success(t("rf.region_whole", n=n), icon=":material/crop_free:")


share_in_url("receptive_field", {
    "rf_sample": Setting(str, SAMPLES), "rf_stack": Setting(str, ("cifar", "custom")),
    "rf_local_size": Setting(int, low=1, high=512), "rf_local_channels": Setting(int, low=1, high=512),
    "rf_local_kernel": Setting(int, low=1, high=64), "rf_input_size": Setting(int, low=1, high=512),
    "rf_layer_count": Setting(int, low=1, high=MAX_LAYERS), "rf_layer_index": Setting(int, low=0, high=MAX_LAYERS),
    "rf_row": Setting(int, low=0, high=MAX_SIDE - 1), "rf_col": Setting(int, low=0, high=MAX_SIDE - 1),
    **{f"rf_kind_{i}": Setting(str, LAYER_KINDS) for i in range(MAX_LAYERS)},
    **{f"rf_{name}_{i}": Setting(int, low=low, high=high) for i in range(MAX_LAYERS)
       for name, low, high in (("k", 1, 64), ("s", 1, 16), ("p", 0, 32))},
})
st.title(t("rf.title"))
st.markdown(t("rf.intro"))

with st.sidebar:
    st.header(t("rf.image_header"))
pixels = image_picker("rf")

_local_section()

st.header(t("rf.stack_header"))
st.markdown(t("rf.stack_intro"))
choice = st.radio(t("rf.stack"), ("cifar", "custom"), format_func=labels("rf.stack_"), horizontal=True, key="rf_stack")
if choice == "cifar":
    layers, size = cifar_layers(), CIFAR_SIZE
    st.caption(t("rf.cifar_note"))
else:
    layers, size = _custom_stack()
try:
    steps = receptive_fields(layers, size)
except InputError as error:
    show_error(error)
    st.stop()
st.latex(r"r_{\text{out}} = r_{\text{in}} + (k - 1)\, j_{\text{in}}, \qquad j_{\text{out}} = j_{\text{in}}\, s, \qquad "
         r"\text{start}_{\text{out}} = \text{start}_{\text{in}} - p\, j_{\text{in}}")
st.caption(t("rf.formula_note"))
st.dataframe(_table(steps), hide_index=True, height=35 * (len(steps) + 1) + 3)

_neuron_section(steps, pixels)
