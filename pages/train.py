"""Train a small CNN live: pick it, press train, watch its loss, accuracy, filters and answer change every second."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnn_core import InputError
from cnn_core.live import (
    ACTIVATIONS, BATCH_SIZES, KERNEL_SIZES, LAYERS, MAX_EPOCHS, MAX_SECONDS, OPTIMIZERS, WIDTHS, LiveConfig, binned,
    build_model, filter_image, load_subset,
)
from cnn_core.model import CLASSES, count_parameters, preprocess
from cnn_core.runs import RunView, registry
from ui import Setting, heatmap_figure, image_picker, labels, num, pct, plot, share_in_url, show_error, t

DEFAULT = LiveConfig()
RATES = (0.0001, 0.0003, 0.001, 0.002, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
OVERFIT_GAP = 0.15  # training accuracy this much above held-out accuracy: the network memorises
UNDERFIT = 0.35
COLLAPSED = 0.12  # held-out accuracy at chance: the network gives (almost) every image the same answer  # held-out accuracy below this after a full run: too small or too short to learn much
DEFAULTS = {"lv_layers": DEFAULT.layers, "lv_width": DEFAULT.width, "lv_kernel": DEFAULT.kernel_size,
            "lv_act": DEFAULT.activation, "lv_opt": DEFAULT.optimizer, "lv_lr": DEFAULT.learning_rate,
            "lv_batch": DEFAULT.batch_size, "lv_mode": "epochs", "lv_epochs": DEFAULT.epochs,
            "lv_seconds": int(DEFAULT.time_budget), "lv_aug": DEFAULT.augment}


def _settings(images: int) -> None:
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)
    c1, c2, c3, c4 = st.columns(4)
    c1.select_slider(t("live.layers"), LAYERS, key="lv_layers", help=t("live.layers_help"))
    c2.select_slider(t("live.width"), WIDTHS, key="lv_width", help=t("live.width_help"))
    c3.select_slider(t("live.kernel"), KERNEL_SIZES, key="lv_kernel", format_func=lambda k: f"{k}×{k}", help=t("live.kernel_help"))
    c4.selectbox(t("live.activation"), tuple(ACTIVATIONS), key="lv_act", format_func=labels("live.act_"))
    c1, c2, c3, c4 = st.columns(4)
    c1.radio(t("live.optimizer"), OPTIMIZERS, key="lv_opt", format_func=labels("live.opt_"), horizontal=True,
             help=t("live.optimizer_help"))
    c2.select_slider(t("live.lr"), RATES, key="lv_lr", format_func=num, help=t("live.lr_help"))
    c3.select_slider(t("live.batch"), BATCH_SIZES, key="lv_batch", help=t("live.batch_help"))
    c4.toggle(t("live.augment"), key="lv_aug", help=t("live.augment_help", train=num(images)))
    c1, c2 = st.columns([1, 3])
    c1.radio(t("live.mode"), ("epochs", "time"), key="lv_mode", format_func=labels("live.mode_"), horizontal=True)
    if st.session_state.lv_mode == "epochs":
        c2.slider(t("live.epochs"), 1, MAX_EPOCHS, key="lv_epochs", help=t("live.epochs_help", seconds=num(MAX_SECONDS)))
    else:
        c2.slider(t("live.seconds"), 5, int(MAX_SECONDS), step=5, key="lv_seconds")


def _config() -> LiveConfig:
    ss = st.session_state
    by_time = ss.lv_mode == "time"
    return LiveConfig(layers=ss.lv_layers, width=ss.lv_width, kernel_size=ss.lv_kernel, activation=ss.lv_act,
                      optimizer=ss.lv_opt, learning_rate=float(ss.lv_lr), batch_size=ss.lv_batch,
                      epochs=MAX_EPOCHS if by_time else ss.lv_epochs,
                      time_budget=float(ss.lv_seconds) if by_time else MAX_SECONDS, augment=ss.lv_aug)


def _describe(config: LiveConfig) -> str:
    """The network in one line: conv k×k, C → activation → pool, …, linear, and its parameters."""
    model = build_model(config)
    act = t(f"live.act_{config.activation}")
    parts = [f"conv {config.kernel_size}×{config.kernel_size}, {config.width * 2**i} → {act} → max pool 2×2"
             for i in range(config.layers)]
    linear = model[-1]
    parts.append(f"{t('live.linear')} {num(linear.in_features)} → {len(CLASSES)}")
    return t("live.network", layers=" → ".join(parts), parameters=num(count_parameters(model)))


def _curves(view: RunView, names_key: str) -> go.Figure | None:
    progress = view.progress
    if progress is None or not progress.losses:
        return None
    steps, losses = binned(progress.losses)
    finite = np.isfinite(losses)
    loss = go.Scatter(x=steps[finite], y=losses[finite], mode="lines", name=t("live.curve_loss"), line=dict(color="#1f77b4"),
                      text=[t("live.hover_loss", step=num(round(x)), loss=num(v)) for x, v in zip(steps[finite], losses[finite])],
                      hovertemplate="%{text}<extra></extra>")
    traces = [loss]
    if progress.evaluations:
        eval_steps, accuracies = zip(*progress.evaluations)
        traces.append(go.Scatter(x=eval_steps, y=accuracies, mode="lines+markers", name=t("live.curve_accuracy"), yaxis="y2",
                                 line=dict(color="#d62728"), text=[t("live.hover_accuracy", step=num(x), accuracy=pct(a)) for x, a in progress.evaluations],
                                 hovertemplate="%{text}<extra></extra>"))
    top = max(2.5, float(np.max(losses[finite])) * 1.05) if finite.any() else 2.5
    layout = dict(height=380, margin=dict(l=10, r=10, t=40, b=10), dragmode=False, title=dict(text=t(names_key)),
                  xaxis=dict(title=t("live.axis_step"), range=[0, max(progress.total_steps, 1)]),
                  yaxis=dict(title=t("live.curve_loss"), range=[0, min(top, 20.0)]),
                  yaxis2=dict(title=t("live.curve_accuracy"), overlaying="y", side="right", range=[0, 1], tickformat=".0%"),
                  legend=dict(orientation="h", x=0, y=-0.2, yanchor="top", xanchor="left"))
    return go.Figure(traces, layout)


def _probabilities(probabilities: np.ndarray, title: str) -> go.Figure:
    names = [t(f"class.{c}") for c in CLASSES]
    top = int(np.argmax(probabilities))
    return go.Figure(
        go.Bar(x=probabilities, y=names, orientation="h", marker_color=["#d62728" if i == top else "#9ecae1" for i in range(10)],
               text=[pct(p) for p in probabilities], textposition="outside", hoverinfo="skip"),
        dict(title=dict(text=title), height=320, margin=dict(l=10, r=40, t=40, b=10), dragmode=False,
             yaxis=dict(autorange="reversed"), xaxis=dict(range=[0, 1.2], showticklabels=False)),
    )


def _live(view: RunView) -> None:
    """What changes every second: progress, curves, the first layer's filters and the answer for the student's image."""
    progress = view.progress
    if view.status == "waiting":
        st.info(t("live.waiting", position=view.position), icon="⏳")
    elif progress is not None and not view.done:
        fraction = max(progress.step / max(progress.total_steps, 1), progress.elapsed / view.config.time_budget)
        st.progress(min(fraction, 1.0), text=t("live.progress", step=num(progress.step), total=num(progress.total_steps),
                                              epoch=num(progress.epoch, decimals=1), left=num(progress.time_left, decimals=0)))
    if not view.done:
        st.button(t("live.stop"), key="lv_stop", on_click=registry().stop, args=(view.run_id,), icon=":material/stop:")
    if progress is None:
        return
    left, middle, right = st.columns([5, 2, 3])
    figure = _curves(view, "live.curves_title")
    if figure is not None:
        plot(figure, "lv_curves", left)
    with middle:
        st.markdown(f"**{t('live.filters_header')}**")
        st.image(filter_image(progress.filters, scale=max(2, 24 // progress.filters.shape[1])), width="stretch")
        st.caption(t("live.filters_caption", count=progress.filters.shape[0]))
    if progress.probe is not None and view.probe is not None:
        top = int(np.argmax(progress.probe))
        right.image(np.repeat(np.repeat(view.probe, 3, axis=0), 3, axis=1), caption=t("live.probe_caption"), width=128)
        plot(_probabilities(progress.probe, t("live.probe_title", name=t(f"class.{CLASSES[top]}"), p=pct(progress.probe[top]))),
             "lv_probe", right)


def _outcome(view: RunView) -> None:
    """The end of a run: why it ended, held-out accuracy, per-class accuracy, the confusion matrix and what to learn."""
    result = view.result
    if view.status in ("abandoned", "failed") or result is None:
        st.warning(t(f"live.status_{view.status}" if view.status in ("abandoned", "failed") else "live.stopped_waiting"),
                   icon="⚠️")
        return
    if view.status == "diverged":
        st.error(t("live.diverged", step=num(len(result.losses)), lr=num(view.config.learning_rate),
                   loss=num(result.losses[-1]), guess=num(np.log(len(CLASSES)))), icon="💥")
        return
    st.success(t(f"live.status_{view.status}", seconds=num(result.progress.elapsed, decimals=0),
                 steps=num(len(result.losses))), icon="✅")
    m1, m2, m3 = st.columns(3)
    m1.metric(t("live.accuracy"), pct(result.accuracy), t("live.chance", p=pct(0.1)), delta_color="off", delta_arrow="off")
    m2.metric(t("live.train_accuracy"), pct(result.train_accuracy))
    finite = [v for v in result.losses[-20:] if np.isfinite(v)]
    m3.metric(t("live.final_loss"), num(float(np.mean(finite))) if finite else "—")
    if result.accuracy < COLLAPSED:
        st.warning(t("live.collapsed", lr=num(view.config.learning_rate), guess=num(np.log(len(CLASSES)))), icon="🧟")
    elif result.train_accuracy - result.accuracy > OVERFIT_GAP:
        st.warning(t("live.overfitting", gap=pct(result.train_accuracy - result.accuracy)), icon="📚")
    elif result.accuracy < UNDERFIT and view.status in ("finished", "time_up"):
        st.info(t("live.underfitting"), icon="🐣")
    names = [t(f"class.{c}") for c in CLASSES]
    c1, c2 = st.columns(2)
    plot(_probabilities(result.per_class_accuracy, t("live.per_class")), "lv_per_class", c1)
    plot(heatmap_figure(result.confusion, names, names, t("live.confusion"), t("live.confusion_hover")), "lv_confusion", c2)


def _watch(run_id: str) -> None:
    view = registry().poll(run_id)
    if view is None:
        st.info(t("live.forgotten"), icon="🕰️")
        return
    _live(view)
    if view.done:
        if st.session_state.get("lv_drawn_done") != run_id:  # once: the whole page reruns without the timer
            st.session_state.lv_drawn_done = run_id
            st.rerun()
        _outcome(view)


share_in_url("train", {
    "lv_layers": Setting(int, LAYERS), "lv_width": Setting(int, WIDTHS), "lv_kernel": Setting(int, KERNEL_SIZES),
    "lv_act": Setting(str, tuple(ACTIVATIONS)), "lv_opt": Setting(str, OPTIMIZERS), "lv_lr": Setting(float, RATES),
    "lv_batch": Setting(int, BATCH_SIZES), "lv_mode": Setting(str, ("epochs", "time")),
    "lv_epochs": Setting(int, low=1, high=MAX_EPOCHS), "lv_seconds": Setting(int, low=5, high=MAX_SECONDS), "lv_aug": Setting(bool),
})
st.title(t("live.title"))
st.markdown(t("live.intro"))
with st.sidebar:
    st.header(t("live.image_header"))
pixels = image_picker("lv")
with st.spinner(t("live.loading")):
    data = load_subset()
st.caption(t("live.data", train=num(len(data[0])), test=num(len(data[2]))))

st.header(t("live.settings_header"))
_settings(len(data[0]))
config = _config()
st.markdown(_describe(config))
running, waiting = registry().counts()
st.caption(t("live.load", running=num(running), waiting=num(waiting), slots=num(registry().slots)))
if st.button(t("live.train"), type="primary", key="lv_train", icon=":material/play_arrow:"):
    old = st.session_state.get("lv_run")
    if old:
        registry().stop(old)
    try:
        st.session_state.lv_run = registry().submit(config, data, probe=None if pixels is None else preprocess(pixels))
    except InputError as error:
        show_error(error)

st.header(t("live.run_header"))
run_id = st.session_state.get("lv_run")
if run_id is None:
    st.info(t("live.press_train"), icon="👆")
else:
    current = registry().poll(run_id)
    active = current is not None and not current.done
    st.fragment(_watch, run_every=1.0 if active else None)(run_id)

with st.expander(t("live.lessons_header")):
    st.markdown(t("live.lessons", train=num(len(data[0]))))
