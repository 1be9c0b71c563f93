"""Pooling: max and average over windows of an image or of one channel of the CIFAR-10 network's feature maps."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnn_core import InputError, size_steps, to_grayscale
from cnn_core.arithmetic import SizeSteps, pool_output_size, tf_same_output_size
from cnn_core.images import SAMPLES
from cnn_core.pooling import POOL_MODES, explain_pool_output, matching_conv_parameters, pool2d, pool_parameters, pooled_volume
from ui import (
    Setting,
    bounded_number,
    editable,
    image_figure,
    image_picker,
    index_ranges,
    labels,
    latex_number,
    map_figure,
    matrix_figure,
    network_layers,
    network_maps,
    network_ready,
    num,
    pct,
    plot,
    relink,
    share_in_url,
    show_error,
    t,
    take_click,
    working_image,
)
from ui.common import current_language
from ui.figures import HEIGHT

SIDES = (16, 32, 48, 64, 96, 128)
LECTURE = dict(height=32, width=32, channels=12, window=2, stride=2)  # the lecture's example volume


@st.cache_data(show_spinner=False)
def _next_pool() -> dict[str, tuple[str, int, int]]:
    """For each conv of the network whose output goes straight into a max pooling: that pooling's name, window, stride."""
    from torch import nn

    from cnn_core.model import CifarNet

    # Registration order is forward order (as in layer_shapes); a pool right after a conv pools that conv's output.
    leaves = [(name, module) for name, module in CifarNet().named_modules() if not list(module.children())]
    return {
        a: (b, int(pool.kernel_size), int(pool.stride))
        for (a, conv), (b, pool) in zip(leaves, leaves[1:])
        if isinstance(conv, nn.Conv2d) and isinstance(pool, nn.MaxPool2d)
    }


def _mark_window(fig: go.Figure, top: int, left: int, k: int, winner: tuple[int, int] | None,
                 winners: np.ndarray | None) -> go.Figure:
    """The chosen window (yellow), its winner (red ×) and, if asked, every window's winner (small dots)."""
    if winners is not None:
        fig.add_trace(go.Scatter(x=winners[..., 1].ravel(), y=winners[..., 0].ravel(), mode="markers", hoverinfo="skip",
                                 marker=dict(size=4, color="#ff7f0e"), showlegend=False))
    fig.add_shape(type="rect", x0=left - 0.5, x1=left + k - 0.5, y0=top - 0.5, y1=top + k - 0.5,
                  line=dict(color="#ffd400", width=3))
    if winner is not None:
        fig.add_trace(go.Scatter(x=[winner[1]], y=[winner[0]], mode="markers", hoverinfo="skip", showlegend=False,
                                 marker=dict(symbol="x", size=14, color="#d62728", line=dict(width=2, color="white"))))
    return fig


def _size_formula(steps: SizeSteps) -> str:
    lecture = r"\frac{m - k}{s} + 1"
    numbers = rf"\frac{{{steps.m} - {steps.k}}}{{{steps.s}}} + 1"
    if steps.exact:
        return rf"{lecture} = {numbers} = {steps.quotient} + 1 = {steps.output}"
    return (rf"{lecture} = {numbers} \;\rightarrow\; \left\lfloor \frac{{{steps.numerator}}}{{{steps.s}}} \right\rfloor + 1"
            rf" = {steps.quotient} + 1 = {steps.output}")


def _shape_section(height: int, width: int, channels: int, k: int, s: int) -> None:
    """Output size with the formula and its floor, the volume (channels kept) and the parameter count."""
    st.header(t("pool.shape_header"))
    st.caption(t("pool.formula_note"))
    steps = {"rows": size_steps(height, k, s), "cols": size_steps(width, k, s)}
    for axis, step in steps.items():
        if axis == "cols" and height == width:
            break
        label = t("pool.axis_both") if height == width else t(f"pool.axis_{axis}")
        st.markdown(f"**{label}** · m = {step.m}, k = {step.k}, s = {step.s}")
        st.latex(_size_formula(step))
        if not step.exact:
            st.warning(t("pool.floor_note", numerator=step.numerator, s=step.s, remainder=step.remainder, m=step.m),
                       icon=":material/content_cut:")
        if step.unreached:
            st.markdown(t(f"pool.unreached_{axis}", which=index_ranges(step.unreached), count=len(step.unreached)))
    step = steps["rows"]
    st.caption(t("pool.rounding_note", m=step.m, k=step.k, s=step.s, floor=step.output,
                 ceil=pool_output_size(step.m, step.k, step.s, ceil_mode=True), same=tf_same_output_size(step.m, step.s)))
    if s < k:
        st.info(t("pool.overlap_note", k=k, s=s), icon=":material/repeat:")
    rows, cols, kept = pooled_volume(height, width, channels, k, s)
    lecture_out = pooled_volume(**LECTURE)
    st.subheader(t("pool.channels_header"))
    st.markdown(t("pool.channels_lecture", h=LECTURE["height"], w=LECTURE["width"], c=LECTURE["channels"],
                  k=LECTURE["window"], s=LECTURE["stride"], oh=lecture_out[0], ow=lecture_out[1], oc=lecture_out[2]))
    st.success(t("pool.channels_yours", h=height, w=width, c=channels, k=k, s=s, oh=rows, ow=cols, oc=kept,
                 before=num(height * width * channels), after=num(rows * cols * kept)), icon=":material/straighten:")
    if channels == 1:
        rgb = pooled_volume(height, width, 3, k, s)
        st.caption(t("pool.channels_rgb", h=height, w=width, k=k, s=s, oh=rgb[0], ow=rgb[1], oc=rgb[2]))
    st.subheader(t("pool.params_header"))
    st.markdown(t("pool.params_text", params=pool_parameters(k, channels), k=k, c=channels,
                  conv=num(matching_conv_parameters(k, channels))))


share_in_url("pooling", {
    "pool_sample": Setting(str, SAMPLES), "pool_input": Setting(str, ("image", "fmap")), "pool_side": Setting(int, SIDES),
    "pool_mode": Setting(str, POOL_MODES), "pool_window": Setting(int, low=1, high=16), "pool_stride": Setting(int, low=1, high=16),
    "pool_all_winners": Setting(bool), "pool_layer": Setting(str, tuple(network_layers())),
    "pool_channel": Setting(int, low=0, high=max(c for c, _, _ in network_layers().values()) - 1),
    "pool_row": Setting(int, low=0, high=max(SIDES) - 1), "pool_col": Setting(int, low=0, high=max(SIDES) - 1),
})
st.title(t("pool.title"))
st.markdown(t("pool.intro"))

with st.sidebar:
    st.header(t("pool.image_header"))
pixels = image_picker("pool")
with st.sidebar:
    st.header(t("pool.input_header"))
    source = st.radio(t("pool.input"), ("image", "fmap"), format_func=labels("pool.input_"), key="pool_input")
    side = st.select_slider(t("pool.side"), SIDES, value=64, key="pool_side", help=t("pool.side_help"),
                            disabled=source != "image")
    st.header(t("pool.pool_header"))
    mode = st.radio(t("pool.mode"), POOL_MODES, format_func=labels("pool.mode_"), horizontal=True, key="pool_mode")
    k = bounded_number(st, t("pool.window"), 1, 16, 2, key="pool_window", help=t("pool.window_help"))
    s = bounded_number(st, t("pool.stride"), 1, 16, 2, key="pool_stride", help=t("pool.stride_help"))
    show_all = mode == "max" and st.toggle(t("pool.all_winners"), key="pool_all_winners", help=t("pool.all_winners_help"))

if pixels is None:
    st.stop()

values, channels, layer, hover_in = None, 1, None, t("pool.hover_image")
if source == "fmap":
    if network_ready():
        maps = network_maps(pixels)
        names = list(maps)
        if st.session_state.get("pool_layer") not in names:  # e.g. a link from a network with other layer names
            st.session_state.pop("pool_layer", None)
        with st.sidebar:
            layer = st.selectbox(t("pool.layer"), names, index=names.index("block1.conv1"), key="pool_layer",
                                 format_func=lambda n: f"{n} · {'×'.join(map(str, maps[n].shape))}")
            volume = maps[layer]
            channels = volume.shape[0]
            st.session_state.pool_channel = min(int(st.session_state.get("pool_channel", 0)), channels - 1)
            relink("pool_channel")
            channel = int(st.number_input(t("pool.channel"), 0, channels - 1, key="pool_channel"))
        values = volume[channel]
        hover_in = t("pool.hover_map")
        st.caption(t("pool.fmap_note", layer=layer, c=channels, h=values.shape[0], w=values.shape[1], channel=channel))
    else:
        st.info(t("pool.fallback"), icon=":material/image:")
if values is None:
    values = to_grayscale(working_image(pixels, side))

in_rows, in_cols = values.shape
in_title = t("pool.input_title", rows=in_rows, cols=in_cols)
try:
    pooled = pool2d(values, k, s, mode)
except InputError as error:
    show_error(error)
    plot(image_figure(values, in_title, hover_in) if layer is None else map_figure(values, in_title, hover_in), "pool_in")
    st.stop()

out_rows, out_cols = pooled.values.shape
take_click("pool_out", "pool", (out_rows, out_cols))
row, col = st.session_state.pool_row, st.session_state.pool_col
ex = explain_pool_output(values, row, col, k, s, mode)

st.header(t("pool.result_header"))
left, right = st.columns(2)
if layer is None:
    fig_in = image_figure(values, in_title, hover_in)
else:
    fig_in = map_figure(values, in_title, hover_in)
plot(_mark_window(editable(fig_in), ex.top, ex.left, k, ex.winner, pooled.winners if show_all else None), "pool_in", left)
out_height = max(240, int(HEIGHT * max(out_rows / in_rows, out_cols / in_cols)))
fig_out = editable(map_figure(pooled.values, t(f"pool.output_title_{mode}", rows=out_rows, cols=out_cols),
                     t("pool.hover_map"), selected=(row, col), height=out_height))
# The input's colour scale and range, so that the pooled map reads as a smaller copy and equal values look equal.
heat_in = next(trace for trace in fig_in.data if trace.type == "heatmap")
low = float(values.min()) if heat_in.zmin is None else heat_in.zmin
high = float(values.max()) if heat_in.zmax is None else heat_in.zmax
fig_out.update_traces(colorscale=heat_in.colorscale, zmin=low, zmax=high, zmid=heat_in.zmid, showscale=False,
                      selector=dict(type="heatmap"))
plot(fig_out, "pool_out", right, on_select="rerun", selection_mode="points")
right.caption(t("pool.output_note"))
kept = out_rows * out_cols
st.caption(t("pool.count_note", before=num(in_rows * in_cols), after=num(kept), percent=pct(kept / (in_rows * in_cols))))

st.header(t("pool.inspector_header"))
st.caption(t("pool.inspector_help"))
c1, c2 = st.columns(2)
c1.number_input(t("pool.out_row"), 0, out_rows - 1, key="pool_row")
c2.number_input(t("pool.out_col"), 0, out_cols - 1, key="pool_col")
w1, w2 = st.columns([1, 2])
marked = None
if ex.winner_in_window is not None:
    marked = np.zeros(ex.values.shape, bool)
    marked[ex.winner_in_window] = True
plot(matrix_figure(ex.values, t("pool.window_title", k=k), marked=marked, mark=" ★", decimals=4,
                   height=min(max(220, 60 + 50 * k), 460), lang=current_language()), "pool_window_fig", w1)
value = float(pooled.values[row, col])
with w2:
    st.markdown(t("pool.window_text", row=row, col=col, r0=ex.top, r1=ex.top + k - 1, c0=ex.left, c1=ex.left + k - 1, k=k))
    if mode == "max":
        st.markdown(t("pool.max_text", value=num(ex.value), wr=ex.winner[0], wc=ex.winner[1], others=ex.count - 1))
    else:
        st.latex(rf"\frac{{{latex_number(ex.total, operand=False)}}}{{{ex.count}}} = {latex_number(ex.value, operand=False)}")
        st.markdown(t("pool.avg_text", total=num(ex.total, significant=6), count=ex.count, value=num(ex.value)))
    verdict = ":material/check_circle:" if value == ex.value else ":material/cancel:"
    st.markdown(t("pool.check", value=num(value, significant=6), row=row, col=col, verdict=verdict))

if layer is not None and layer in _next_pool():
    name, nk, ns = _next_pool()[layer]
    if (mode, k, s) == ("max", nk, ns):
        same = np.array_equal(pooled.values, maps[name][channel])
        show = st.success if same else st.error
        show(t("pool.network_same" if same else "pool.network_differs", layer=layer, pool=name), icon=":material/psychology:")
    else:
        st.info(t("pool.network_hint", layer=layer, pool=name, k=nk, s=ns), icon=":material/psychology:")

_shape_section(in_rows, in_cols, channels, k, s)
