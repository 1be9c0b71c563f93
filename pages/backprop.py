"""Backpropagation by the chain rule: one sigmoid neuron, its three factors, torch.autograd beside them, and a descent step."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnn_core import InputError
from cnn_core.backprop import ChainRule, autograd_gradients, chain_rule, gradient_step, loss_curve, neuron_loss, tangent_line
from ui import Setting, latex_number, num, plot, share_in_url, show_error, t

DEFAULTS = {"bp_w": 0.5, "bp_b": 0.0, "bp_a_prev": 2.0, "bp_y": 0.0, "bp_eta": 1.0}
LIMIT = 50.0  # the range of w and b in the inputs; a step that would leave it stops at the edge
SATURATED = 0.01  # σ'(z) below this (|z| > 4.6) makes learning visibly slow


def _state() -> tuple[float, float, float, float]:
    ss = st.session_state
    return ss.bp_w, ss.bp_b, ss.bp_a_prev, ss.bp_y


def _take_step() -> None:
    """Button callback: apply one step of gradient descent to w and b and remember the loss."""
    ss = st.session_state
    ss.bp_clipped = False
    try:
        step = gradient_step(*_state(), ss.bp_eta)
    except InputError:
        return  # the page already shows why; the button is disabled then
    history = ss.get("bp_history", [])
    start = (step.w_before, step.b_before, ss.bp_a_prev, ss.bp_y)
    if not history or not np.allclose(history[-1][0], start):  # the student changed something by hand: a new descent begins
        history = [(start, step.loss_before)]
    w, b = (float(np.clip(v, -LIMIT, LIMIT)) for v in (step.w_after, step.b_after))
    ss.bp_clipped = (w, b) != (step.w_after, step.b_after)
    ss.bp_w, ss.bp_b = w, b
    ss.bp_history = history + [((w, b, ss.bp_a_prev, ss.bp_y), neuron_loss(w, b, ss.bp_a_prev, ss.bp_y))]


def _reset() -> None:
    """Button callback: the starting values and no history."""
    for key, value in DEFAULTS.items():
        st.session_state[key] = value
    st.session_state.bp_history = []
    st.session_state.bp_clipped = False


def _inputs() -> None:
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)
    # Bottom-aligned: a label that wraps (a long one, presenter view's larger text) would push its box below the others.
    c1, c2, c3, c4, c5 = st.columns(5, vertical_alignment="bottom")
    c1.number_input(t("bp.w"), -LIMIT, LIMIT, step=0.1, format="%.4f", key="bp_w", help=t("bp.w_help"))
    c2.number_input(t("bp.b"), -LIMIT, LIMIT, step=0.1, format="%.4f", key="bp_b", help=t("bp.b_help"))
    c3.number_input(t("bp.a_prev"), -10.0, 10.0, step=0.1, format="%.4f", key="bp_a_prev", help=t("bp.a_prev_help"))
    c4.number_input(t("bp.y"), 0.0, 1.0, step=0.05, format="%.4f", key="bp_y", help=t("bp.y_help"))
    c5.number_input(t("bp.eta"), 0.0, 100.0, step=0.1, format="%.4f", key="bp_eta", help=t("bp.eta_help"))


def _forward(c: ChainRule) -> None:
    st.header(t("bp.forward_header"))
    st.markdown(t("bp.graph_text"))
    st.latex(r"w,\; a^{(l-1)},\; b \;\xrightarrow{\;z \,=\, w\,a^{(l-1)} + b\;}\; z \;\xrightarrow{\;\sigma\;}\; a"
             r" \;\xrightarrow{\;(a - y)^2\;}\; L")
    st.latex(rf"z = w\,a^{{(l-1)}} + b = {latex_number(c.w)} \cdot {latex_number(c.a_prev)} + {latex_number(c.b)} = {latex_number(c.z, False)}")
    st.latex(rf"a = \sigma(z) = \frac{{1}}{{1 + e^{{-z}}}} = \sigma({latex_number(c.z, False)}) = {latex_number(c.a, False)}")
    st.latex(rf"L = (a - y)^2 = ({latex_number(c.a)} - {latex_number(c.y)})^2 = {latex_number(c.loss, False)}")


def _backward(c: ChainRule) -> None:
    st.header(t("bp.backward_header"))
    st.markdown(t("bp.chain_text"))
    st.latex(r"\frac{\partial L}{\partial w} = \frac{\partial L}{\partial a} \cdot \frac{\partial a}{\partial z} \cdot "
             r"\frac{\partial z}{\partial w}")
    factors = (
        (rf"\frac{{\partial L}}{{\partial a}} = 2(a - y) = 2({latex_number(c.a)} - {latex_number(c.y)}) = {latex_number(c.dL_da, False)}",
         t("bp.factor_loss")),
        (rf"\frac{{\partial a}}{{\partial z}} = \sigma'(z) = \sigma(z)\,(1 - \sigma(z)) = {latex_number(c.a)}\,(1 - {latex_number(c.a)})"
         rf" = {latex_number(c.da_dz, False)}", t("bp.factor_sigmoid")),
        (rf"\frac{{\partial z}}{{\partial w}} = a^{{(l-1)}} = {latex_number(c.dz_dw, False)}", t("bp.factor_input")),
    )
    for formula, meaning in factors:
        st.latex(formula)
        st.caption(meaning)
    st.latex(rf"\frac{{\partial L}}{{\partial w}} = {latex_number(c.dL_da)} \cdot {latex_number(c.da_dz)} \cdot {latex_number(c.dz_dw)}"
             rf" = {latex_number(c.dL_dw, False)}")
    st.markdown(t("bp.bias_text"))
    st.latex(rf"\frac{{\partial L}}{{\partial b}} = \frac{{\partial L}}{{\partial a}} \cdot \frac{{\partial a}}{{\partial z}}"
             rf" \cdot \frac{{\partial z}}{{\partial b}} = {latex_number(c.dL_da)} \cdot {latex_number(c.da_dz)} \cdot 1"
             rf" = {latex_number(c.dL_db, False)}")
    if c.da_dz < SATURATED:
        st.warning(t("bp.saturated", z=num(c.z, significant=3), slope=num(c.da_dz, significant=2)), icon=":material/hourglass_bottom:")
    if c.a_prev == 0:
        st.info(t("bp.zero_input"), icon=":material/info:")


def _autograd(c: ChainRule) -> None:
    st.subheader(t("bp.autograd_header"))
    st.markdown(t("bp.autograd_text"))
    dw, db = autograd_gradients(c.w, c.b, c.a_prev, c.y)
    columns = {t("bp.col_chain"): [c.dL_dw, c.dL_db], t("bp.col_autograd"): [dw, db],
               t("bp.col_difference"): [abs(c.dL_dw - dw), abs(c.dL_db - db)]}
    rows = {t("bp.col_gradient"): ["∂L/∂w", "∂L/∂b"],
            **{name: [num(v, significant=10) for v in values] for name, values in columns.items()}}
    st.dataframe(rows, hide_index=True)
    if np.isclose(c.dL_dw, dw, rtol=1e-9, atol=1e-12) and np.isclose(c.dL_db, db, rtol=1e-9, atol=1e-12):
        st.success(t("bp.agree"), icon=":material/check_circle:")
    else:  # would be a bug in cnn_core; shown rather than hidden
        st.error(t("bp.disagree"))
    with st.expander(t("bp.code_header")):
        st.code(
            "import torch\n\n"
            f"w = torch.tensor({c.w!r}, dtype=torch.float64, requires_grad=True)\n"
            f"b = torch.tensor({c.b!r}, dtype=torch.float64, requires_grad=True)\n"
            f"a_prev, y = {c.a_prev!r}, {c.y!r}\n"
            "loss = (torch.sigmoid(w * a_prev + b) - y) ** 2\n"
            "loss.backward()\n"
            "print(w.grad, b.grad)",
            language="python",
        )


def _curve_figure(c: ChainRule) -> go.Figure:
    """L as a function of w around the current w, with the tangent whose slope is dL/dw."""
    ws = np.linspace(c.w - 4, c.w + 4, 161)
    near = np.linspace(c.w - 1, c.w + 1, 3)
    fig = go.Figure(go.Scatter(x=ws, y=loss_curve(ws, c.b, c.a_prev, c.y), mode="lines", name=t("bp.curve_loss"),
                               hovertemplate="w = %{x:.3f}<br>L = %{y:.4f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=near, y=tangent_line(near, c.w, c.b, c.a_prev, c.y), mode="lines", name=t("bp.curve_tangent"),
                             line=dict(dash="dash", color="#ff7f0e"), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[c.w], y=[c.loss], mode="markers", name=t("bp.curve_point"), marker=dict(size=12, color="#d62728"),
                             hovertemplate="w = %{x:.4f}<br>L = %{y:.4f}<extra></extra>"))
    # Two lines of title: in its narrow column (presenter view's larger text above all) one line ran past the chart.
    fig.update_layout(title=dict(text=t("bp.curve_title", slope=num(c.dL_dw))), height=380, dragmode=False,
                      margin=dict(l=10, r=10, t=70, b=80), xaxis_title="w", yaxis_title="L",
                      legend=dict(orientation="h", x=0, y=-0.3, yanchor="top"))
    fig.update_yaxes(range=[-0.05, 1.05])  # L = (a − y)² with a, y in [0, 1] never leaves [0, 1]
    return fig


def _descent(c: ChainRule) -> None:
    st.header(t("bp.descent_header"))
    st.markdown(t("bp.descent_text"))
    error = None
    try:
        step = gradient_step(c.w, c.b, c.a_prev, c.y, st.session_state.bp_eta)
    except InputError as caught:
        error, step = caught, None
    if step is not None:
        eta = latex_number(step.learning_rate)
        st.latex(rf"w \leftarrow w - \eta\,\frac{{\partial L}}{{\partial w}} = {latex_number(c.w, False)} - {eta} \cdot {latex_number(c.dL_dw)}"
                 rf" = {latex_number(step.w_after, False)}")
        st.latex(rf"b \leftarrow b - \eta\,\frac{{\partial L}}{{\partial b}} = {latex_number(c.b, False)} - {eta} \cdot {latex_number(c.dL_db)}"
                 rf" = {latex_number(step.b_after, False)}")
        m1, m2 = st.columns(2)
        m1.metric(t("bp.loss_now"), num(step.loss_before, significant=6))
        change = step.loss_after - step.loss_before
        # An ASCII sign: Streamlit colours and points a delta by whether its text starts with "-"
        delta = ("+" if change >= 0 else "") + num(change).replace("\u2212", "-")
        m2.metric(t("bp.loss_after"), num(step.loss_after, significant=6), delta, delta_color="inverse")
        if step.loss_after > step.loss_before:
            st.warning(t("bp.overshoot"), icon=":material/trending_up:")
    else:
        show_error(error)
    with st.container(horizontal=True):
        st.button(t("bp.step"), on_click=_take_step, disabled=step is None, type="primary", key="bp_step", help=t("bp.step_help"))
        st.button(t("bp.reset"), on_click=_reset, key="bp_reset")
    if st.session_state.get("bp_clipped"):
        st.warning(t("bp.clipped", limit=num(LIMIT)))
    history = st.session_state.get("bp_history", [])
    if len(history) >= 2 and np.allclose(history[-1][0], (c.w, c.b, c.a_prev, c.y)):
        losses = [loss for _, loss in history]
        st.markdown(t("bp.history", steps=len(history) - 1, first=num(losses[0], significant=6), last=num(losses[-1], significant=6)))
        fig = go.Figure(go.Scatter(x=list(range(len(losses))), y=losses, mode="lines+markers",
                                   hovertemplate="%{x}: L = %{y:.6f}<extra></extra>"))
        fig.update_layout(title=dict(text=t("bp.history_title")), height=260, margin=dict(l=10, r=10, t=40, b=10),
                          dragmode=False, xaxis=dict(title=t("bp.history_x"), dtick=1), yaxis_title="L")
        plot(fig, "bp_history_fig")


share_in_url("backprop", {
    "bp_w": Setting(float, low=-LIMIT, high=LIMIT), "bp_b": Setting(float, low=-LIMIT, high=LIMIT),
    "bp_a_prev": Setting(float, low=-10.0, high=10.0), "bp_y": Setting(float, low=0.0, high=1.0),
    "bp_eta": Setting(float, low=0.0, high=100.0),
})
st.title(t("bp.title"))
st.markdown(t("bp.intro"))
st.header(t("bp.inputs_header"))
_inputs()
try:
    chain = chain_rule(*_state())
except InputError as bad:  # the inputs are bounded, so only a value set from outside can land here
    show_error(bad)
    st.stop()
left, right = st.columns([3, 2])
with left:
    _forward(chain)
with right:
    plot(_curve_figure(chain), "bp_curve")
    st.caption(t("bp.curve_text"))
_backward(chain)
_autograd(chain)
_descent(chain)
