"""Fully connected versus convolution: how many parameters each needs, and why only one of them scales to images."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnn_core import InputError
from cnn_core.parameters import LECTURE_PRESETS, ParameterCount, conv_count, fc_count, growth
from ui import Setting, latex_number, num, plot, share_in_url, show_error, t

SIDES = np.unique(np.geomspace(8, 512, 60).round().astype(np.int64))
FIELDS = {"width": 32, "height": 32, "channels": 3, "neurons": 100, "filters": 32, "kernel": 5}
LIMITS = {"width": 4096, "height": 4096, "channels": 2048, "neurons": 100_000, "filters": 4096, "kernel": 64}


def _apply_preset(name: str) -> None:
    """Button callback: fill in one of the lecture's examples and remember it for the check below."""
    for field, value in LECTURE_PRESETS[name].values.items():
        st.session_state[f"params_{field}"] = value
    st.session_state.params_preset = name


def _forget_preset() -> None:
    st.session_state.params_preset = None


def _int_input(column, field: str) -> int:
    key = f"params_{field}"
    st.session_state.setdefault(key, FIELDS[field])  # a default in the state, not the widget: presets write the state
    return int(column.number_input(t(f"params.{field}"), 1, LIMITS[field], step=1, key=key, help=t(f"params.{field}_help"),
                                   on_change=_forget_preset))


def _formula(symbols: str, values: str, count: ParameterCount, bias_symbol: str) -> str:
    """The count's formula, then the student's numbers, then weights + biases = total."""
    weights, total = latex_number(count.weights), latex_number(count.total)
    if count.biases:
        biases = latex_number(count.biases)
        return rf"{symbols} + {bias_symbol} = {values} + {biases} = {weights} + {biases} = {total}"
    return rf"{symbols} = {values} = {total}"


def _growth_figure(fc: np.ndarray, conv: np.ndarray, channels: int, neurons: int, kernel: int, filters: int,
                   log: bool, side: int | None) -> go.Figure:
    """Parameters against the image side: the fully connected line climbs, the convolution stays flat."""
    hover = t("params.hover") + "<extra></extra>"
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=SIDES, y=fc, mode="lines", name=t("params.trace_fc", n=neurons),
                             line=dict(color="#d62728", width=3), hovertemplate=hover))
    fig.add_trace(go.Scatter(x=SIDES, y=conv, mode="lines", name=t("params.trace_conv", n=filters, k=kernel),
                             line=dict(color="#1f77b4", width=3), hovertemplate=hover))
    if side is not None:
        fig.add_vline(x=side, line=dict(color="#888", dash="dot"), annotation_text=t("params.your_image", side=side))
    fig.update_layout(
        height=420, margin=dict(l=10, r=10, t=40, b=10), dragmode=False,
        title=dict(text=t("params.chart_title", channels=channels)), legend=dict(orientation="h", y=-0.2),
        xaxis=dict(title=t("params.axis_side", channels=channels), type="log" if log else "linear"),
        yaxis=dict(title=t("params.axis_count"), type="log" if log else "linear"),
    )
    return fig


share_in_url("parameters", {
    **{f"params_{field}": Setting(int, low=1, high=high) for field, high in LIMITS.items()},
    "params_bias": Setting(bool), "params_log": Setting(bool),
})
st.title(t("params.title"))
st.markdown(t("params.intro"))

st.subheader(t("params.presets_header"))
st.caption(t("params.presets_help"))
columns = st.columns(len(LECTURE_PRESETS))
for column, name in zip(columns, LECTURE_PRESETS):
    column.button(t(f"params.preset_{name}"), on_click=_apply_preset, args=(name,), key=f"params_preset_{name}",
                  width="stretch")

st.subheader(t("params.input_header"))
h_col, w_col, c_col = st.columns(3)  # alto × ancho × canales, the lecture's order
height, width, channels = _int_input(h_col, "height"), _int_input(w_col, "width"), _int_input(c_col, "channels")
lecture = {name: num(preset.weights) for name, preset in LECTURE_PRESETS.items()}
bias = st.checkbox(t("params.bias"), value=True, key="params_bias", help=t("params.bias_help", **lecture))

fc_side, conv_side = st.columns(2)
with fc_side:
    st.subheader(t("params.fc_header"))
    neurons = _int_input(st, "neurons")
with conv_side:
    st.subheader(t("params.conv_header"))
    k_col, n_col = st.columns(2)
    kernel, filters = _int_input(k_col, "kernel"), _int_input(n_col, "filters")

try:
    fc = fc_count(width, height, channels, neurons, bias)
    conv = conv_count(kernel, channels, filters, bias)
except InputError as error:  # the widgets keep values in range; a value from elsewhere still gets a message
    show_error(error)
    st.stop()

with fc_side:
    st.caption(t("params.fc_explain", w=width, h=height, c=channels, inputs=num(width * height * channels)))
with conv_side:
    st.caption(t("params.conv_explain", k=kernel, c=channels, per_filter=num(kernel * kernel * channels)))

st.subheader(t("params.count_header"))
st.markdown(t("params.fc_formula_label"))
st.latex(_formula(r"H \cdot W \cdot C \cdot N", rf"{height} \cdot {width} \cdot {channels} \cdot {latex_number(neurons)}",
                  fc, "N"))
st.markdown(t("params.conv_formula_label"))
st.latex(_formula(r"k \cdot k \cdot C \cdot n", rf"{kernel} \cdot {kernel} \cdot {channels} \cdot {latex_number(filters)}",
                  conv, "n"))
if kernel > min(width, height):
    st.warning(t("params.kernel_larger", k=kernel, w=width, h=height), icon="⚠️")
m1, m2, m3 = st.columns(3)
m1.metric(t("params.fc_total"), num(fc.total))
m2.metric(t("params.conv_total"), num(conv.total))
ratio = fc.total / conv.total
m3.metric(t("params.ratio"), f"{num(round(ratio))}×" if ratio >= 10 else f"{num(ratio, significant=2)}×")
if ratio < 1:
    st.info(t("params.ratio_conv"), icon="⚖️")

preset = st.session_state.get("params_preset")
if preset:
    quoted = LECTURE_PRESETS[preset]
    computed = fc.weights if quoted.layer == "fc" else conv.weights
    verdict = "✅" if computed == quoted.weights else "❌"
    st.success(t(f"params.check_{preset}", expected=num(quoted.weights), value=num(computed), verdict=verdict), icon="🎓")


st.subheader(t("params.chart_header"))
log = st.toggle(t("params.log"), value=True, key="params_log")
fc_line, conv_line = growth(SIDES, channels, neurons, kernel, filters, bias)
plot(_growth_figure(fc_line, conv_line, channels, neurons, kernel, filters, log,
                    width if width == height and width <= SIDES[-1] else None), "params_chart")
st.caption(t("params.chart_caption"))

st.subheader(t("params.why_header"))
st.markdown(t("params.why_text", weights=num(200 * 200 * 3 * 1000), neurons=num(1000)))
