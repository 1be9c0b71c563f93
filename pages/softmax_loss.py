"""Softmax and the loss: logits to probabilities, the temperature, cross-entropy and its gradient."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from cnn_core import InputError
from cnn_core.data import CLASSES
from cnn_core.softmax import (
    SoftmaxSteps, negative_log, parse_logits, sigmoid, smoothed_cross_entropy, smoothed_targets, softmax_steps,
)
from cnn_core.images import SAMPLES
from ui import (
    Setting, bar_figure, editable, image_picker, labels, latex_number, network_logits, network_ready, num, pct, plot, share_in_url,
    show_error, t,
)
from ui.common import current_language

TEMPERATURES = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0)
# Each preset: class names (keys of the class.* catalogue), logits as a student would type them, the true class.
PRESETS: dict[str, tuple[tuple[str, ...], tuple[str, ...], int]] = {
    "example": (("cat", "dog", "bird"), ("2", "1", "0.1"), 0),
    "cifar": (CLASSES, ("0.8", "-1.2", "1.1", "3.2", "0.4", "2.5", "0.1", "-0.3", "-1.5", "-0.9"), 3),
    "huge": (("cat", "dog"), ("1000", "1001"), 0),
}
CURVE_P = np.geomspace(1e-3, 1.0, 200)


def _unique(names: list[str]) -> list[str]:
    """Class names for the charts: empty ones numbered, repeated ones told apart."""
    out: list[str] = []
    for i, name in enumerate(names):
        name = name.strip() or f"#{i + 1}"
        out.append(f"{name} (#{i + 1})" if name in out else name)
    return out


def _editable_logits() -> tuple[np.ndarray, list[str], int, str] | None:
    """The student's own logits from a table (presets to start from), or None after explaining what is wrong."""
    preset = st.selectbox(t("sm.preset"), tuple(PRESETS), format_func=labels("sm.preset_"), key="sm_preset")
    classes, values, true_class = PRESETS[preset]
    comma = current_language() == "es"  # the presets as a Spanish student would type them: 0,1
    table = pd.DataFrame({"name": [t(f"class.{c}") for c in classes], "logit": [v.replace(".", ",") if comma else v for v in values]})
    st.caption(t("sm.editor_help"))
    edited = st.data_editor(
        table, key=f"sm_editor_{preset}_{st.session_state.get('lang', '')}", num_rows="dynamic", hide_index=True,
        column_config={
            "name": st.column_config.TextColumn(t("sm.col_class"), width="medium"),
            "logit": st.column_config.TextColumn(t("sm.col_logit"), width="small"),
        },
    )
    try:
        logits = parse_logits(edited["logit"].tolist())
    except InputError as error:
        show_error(error)
        return None
    names = _unique(["" if n is None or (isinstance(n, float) and np.isnan(n)) else str(n) for n in edited["name"].tolist()])
    return logits, names, min(true_class, len(logits) - 1), preset


def _network_logits() -> tuple[np.ndarray, list[str], int, str] | None:
    """The CIFAR-10 network's logits for the image chosen in the sidebar."""
    from cnn_core.model import preprocess  # loads torchvision only when this mode is used

    with st.sidebar:
        st.header(t("sm.image_header"))
    pixels = image_picker("sm")
    if pixels is None:
        st.info(t("sm.waiting_image"))
        return None
    image32 = preprocess(pixels)
    logits = network_logits(image32[None])[0].astype(np.float64)
    left, right = st.columns([1, 3])
    left.image(Image.fromarray(image32).resize((160, 160), Image.Resampling.NEAREST), caption=t("sm.image_caption"))
    right.markdown(t("sm.network_text"))
    return logits, [t(f"class.{c}") for c in CLASSES], int(np.argmax(logits)), "network"


def _steps_table(s: SoftmaxSteps, names: list[str]) -> pd.DataFrame:
    """Every step per class, as text written the way the session's language writes numbers."""
    columns = {"z": s.logits, "z / T": s.scaled, "(z − m) / T": s.shifted, "e^((z − m) / T)": s.exps, "∂L/∂z": s.gradient}
    frame = {t("sm.col_class"): names, **{name: [num(v) for v in values] for name, values in columns.items()}}
    frame["p"] = [num(v, decimals=4) for v in s.probabilities]
    return pd.DataFrame(frame)


def _softmax_section(logits: np.ndarray, names: list[str], true_class: int) -> SoftmaxSteps:
    st.header(t("sm.softmax_header"))
    st.latex(r"p_i = \operatorname{softmax}(z)_i = \frac{e^{z_i / T}}{\sum_{j=1}^{K} e^{z_j / T}}")
    temperature = st.select_slider(t("sm.temperature"), TEMPERATURES, value=1.0, key="sm_temperature",
                                   help=t("sm.temperature_help"))
    st.caption(t("sm.temperature_text"))
    s = softmax_steps(logits, true_class, temperature)
    k = len(logits)
    left, right = st.columns([3, 2])
    plot(bar_figure(names, s.probabilities, s.true_class, t("sm.probabilities", t=num(temperature)),
                    height=max(240, 60 + 30 * k), lang=current_language()), "sm_probs", left)
    with right:
        st.metric(t("sm.predicted"), names[s.predicted], pct(s.probabilities[s.predicted]), delta_color="off",
                  delta_arrow="off")
        st.markdown(t("sm.sum_check", total=num(s.probabilities.sum(), decimals=6), k=k))
        if temperature < 1:
            st.info(t("sm.cold", t=num(temperature)), icon="🧊")
        elif temperature > 1:
            st.info(t("sm.hot", t=num(temperature), uniform=pct(1 / k)), icon="🔥")
    st.subheader(t("sm.stable_header"))
    top = float(s.scaled.max())
    st.latex(rf"m = \max_j \frac{{z_j}}{{T}} = {latex_number(top, False)}, \qquad "
             rf"p_i = \frac{{e^{{z_i/T - m}}}}{{\sum_j e^{{z_j/T - m}}}}, \qquad \sum_j e^{{z_j/T - m}} = {latex_number(s.total, False)}")
    st.markdown(t("sm.stable_text"))
    if s.overflow:
        st.warning(t("sm.overflow", top=num(top, significant=6, grouping=False)), icon="💥")
    with st.expander(t("sm.table_header"), expanded=k <= 10):
        st.dataframe(_steps_table(s, names), hide_index=True)
    return s


def _loss_figure(p_true: float, loss: float) -> go.Figure:
    fig = go.Figure(go.Scatter(x=CURVE_P, y=negative_log(CURVE_P), mode="lines", line=dict(color="#1f77b4"),
                               hovertemplate="p = %{x:.3f}<br>L = %{y:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[max(p_true, CURVE_P[0])], y=[min(loss, float(negative_log(CURVE_P[0])))], mode="markers",
                             marker=dict(size=12, color="#d62728"), hovertemplate="p = %{x:.4f}<extra></extra>"))
    fig.update_layout(title=dict(text=t("sm.curve_title")), height=300, margin=dict(l=10, r=10, t=40, b=10), showlegend=False,
                      dragmode=False, xaxis_title=t("sm.curve_x"), yaxis_title=t("sm.curve_y"))
    return fig


def _network_smoothing() -> float | None:
    """The label smoothing ε the app's network was trained with, from its model card (None if the card cannot be read)."""
    from cnn_core.model import ModelError, model_card

    try:
        return float(model_card()["training"]["recipe"]["label_smoothing"])
    except (ModelError, KeyError, TypeError, ValueError):
        return None


def _smoothing_note(s: SoftmaxSteps, names: list[str]) -> None:
    """The one-hot target this page assumes, and label smoothing's softer one, with the network's own ε."""
    epsilon = _network_smoothing()
    if epsilon is None:
        return
    k, y = len(names), s.true_class
    q = smoothed_targets(k, y, epsilon)
    smoothed = smoothed_cross_entropy(s.logits, y, epsilon, s.temperature)
    with st.expander(t("sm.smoothing_header")):
        st.markdown(t("sm.smoothing_text", eps=num(epsilon), k=k, q_true=num(q[y], decimals=4), q_other=num(q[0 if y else 1], decimals=4),
                      name=names[y], loss=num(smoothed, decimals=4), plain=num(s.loss, decimals=4)))


def _loss_section(s: SoftmaxSteps, names: list[str]) -> None:
    st.header(t("sm.loss_header"))
    st.markdown(t("sm.loss_text"))
    y, p, k = s.true_class, float(s.probabilities[s.true_class]), len(names)
    st.latex(rf"L = -\log p_y = -\log\left({latex_number(p, False)}\right) = {latex_number(s.loss, False)}")
    st.markdown(t("sm.lse_text"))
    st.latex(rf"L = \log \sum_j e^{{z_j/T}} - \frac{{z_y}}{{T}} = {latex_number(s.log_sum_exp)} - {latex_number(float(s.scaled[y]))}"
             rf" = {latex_number(s.loss, False)}")
    if p == 0:
        st.info(t("sm.underflow"), icon="🔬")
    c1, c2, c3 = st.columns(3)
    c1.metric(t("sm.loss_metric", name=names[y]), num(s.loss, decimals=4))
    c2.metric(t("sm.p_true", name=names[y]), pct(p, 2))
    c3.metric(t("sm.guess_metric", k=k), num(float(negative_log(1 / k)), decimals=4), help=t("sm.guess_help"))
    if s.predicted == y:
        st.success(t("sm.right", name=names[y]), icon="✅")
    else:
        st.warning(t("sm.wrong", name=names[y], predicted=names[s.predicted]), icon="❌")
    left, right = st.columns(2)
    _smoothing_note(s, names)
    plot(_loss_figure(p, s.loss), "sm_curve", left)
    with right:
        st.subheader(t("sm.gradient_header"))
        scale = "" if s.temperature == 1 else r"\frac{1}{T}"
        st.latex(rf"\frac{{\partial L}}{{\partial z_i}} = {scale}\left(p_i - \mathbb{{1}}[i = y]\right)")
        st.markdown(t("sm.gradient_text" if s.temperature == 1 else "sm.gradient_text_t", name=names[y],
                      value=num(s.gradient[y], decimals=4), t=num(s.temperature)))
    gradient = editable(bar_figure(names, s.gradient, y, t("sm.gradient_title"), percent=False, height=max(240, 60 + 30 * k),
                                 lang=current_language()))
    span = float(s.gradient.max() - s.gradient.min()) or 1.0
    gradient.update_xaxes(range=[float(s.gradient.min()) - 0.2 * span, float(s.gradient.max()) + 0.2 * span])  # room for the labels
    plot(gradient, "sm_gradient")
    st.page_link("pages/backprop.py", label=t("sm.go_backprop"), icon="⛓️")


def _why_softmax(logits: np.ndarray | None) -> None:
    st.header(t("sm.why_header"))
    st.markdown(t("sm.why_text"))
    if logits is not None:
        st.markdown(t("sm.sigmoid_check", softmax_sum=num(1, decimals=3), sigmoid_sum=num(float(sigmoid(logits).sum()), decimals=3), k=len(logits)))


share_in_url("softmax_loss", {
    "sm_preset": Setting(str, tuple(PRESETS)), "sm_temperature": Setting(float, TEMPERATURES), "sm_network": Setting(bool),
    "sm_sample": Setting(str, SAMPLES), "sm_true_network": Setting(int, low=0, high=len(CLASSES) - 1),
    **{f"sm_true_{name}": Setting(int, low=0, high=len(classes) - 1) for name, (classes, _, _) in PRESETS.items()},
})
st.title(t("sm.title"))
st.markdown(t("sm.intro"))

st.header(t("sm.logits_header"))
use_network = st.toggle(t("sm.use_network"), key="sm_network", help=t("sm.use_network_help"))
chosen = None
if use_network:
    if network_ready():
        chosen = _network_logits()
        if chosen is None:
            st.stop()
    else:
        st.info(t("sm.network_fallback"))
if chosen is None:
    chosen = _editable_logits()

if chosen is None:
    _why_softmax(None)
else:
    logits, names, default_true, source = chosen
    # One selector per source, so that each preset (and the network) starts from its own true class.
    if st.session_state.get(f"sm_true_{source}", 0) >= len(names):  # rows deleted since, or a link from a longer list
        st.session_state.pop(f"sm_true_{source}")
    true_class = st.selectbox(t("sm.true_class"), range(len(names)), index=default_true, format_func=names.__getitem__,
                              key=f"sm_true_{source}", help=t("sm.true_class_help"))
    steps = _softmax_section(logits, names, true_class)
    _loss_section(steps, names)
    _why_softmax(logits)
