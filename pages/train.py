"""Train a small CNN live: pick it, press train, watch its loss, accuracy, filters and answer change every second."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnn_core import InputError
from cnn_core.live import (
    ACTIVATIONS,
    BATCH_SIZES,
    KERNEL_SIZES,
    LAYERS,
    MAX_EPOCHS,
    MAX_SECONDS,
    OPTIMIZERS,
    WIDTHS,
    Layers,
    LiveConfig,
    LiveProgress,
    binned,
    build_model,
    filter_image,
    load_subset,
    stack_from_builder,
)
from cnn_core.model import CLASSES, count_parameters, preprocess
from cnn_core.runs import RunView, registry
from ui import Setting, heatmap_figure, image_picker, labels, num, pct, plot, share_in_url, show_error, t
from ui.common import SEPARATORS, current_language
from ui.figures import NO_TEMPLATE, encode_image

DEFAULT = LiveConfig()
RATES = (0.0001, 0.0003, 0.001, 0.002, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
OVERFIT_GAP = 0.15  # training accuracy this much above held-out accuracy: the network memorises
UNDERFIT = 0.35
# Held-out accuracy below this after a full run: at chance, the network gives (almost) every image the same answer.
COLLAPSED = 0.12
POLL_SECONDS = {"running": 1.0, "waiting": 3.0}  # how often the page asks for news of its run; an ended run: never
DEFAULTS = {"lv_layers": DEFAULT.layers, "lv_width": DEFAULT.width, "lv_kernel": DEFAULT.kernel_size,
            "lv_act": DEFAULT.activation, "lv_opt": DEFAULT.optimizer, "lv_lr": DEFAULT.learning_rate,
            "lv_batch": DEFAULT.batch_size, "lv_mode": "epochs", "lv_epochs": DEFAULT.epochs,
            "lv_seconds": int(DEFAULT.time_budget), "lv_aug": DEFAULT.augment, "lv_net": "preset"}


def _explorer_stack() -> tuple[Layers | None, str | None]:
    """The architecture explorer's stack as the trainer takes it, or None and why not (None, None: no stack built)."""
    saved = st.session_state.get("arch_stack")
    if saved is None:
        return None, None
    try:
        return stack_from_builder(saved["specs"], *saved["input"]), None
    except InputError as error:
        return None, error.message(current_language())


def _settings(images: int) -> Layers:
    """The settings' widgets; the explorer's stack when the student chose it (else ())."""
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)
    stack, why = _explorer_stack()
    if stack is None:
        st.session_state.lv_net = "preset"
        if why is None:
            st.caption(t("live.stack_none"))
        else:
            st.info(t("live.stack_unfit", why=why), icon=":material/architecture:")
    else:
        st.radio(t("live.net"), ("preset", "builder"), key="lv_net", format_func=labels("live.net_"), horizontal=True,
                 help=t("live.net_help"))
    own = stack is not None and st.session_state.lv_net == "builder"
    c1, c2, c3, c4 = st.columns(4)
    c1.select_slider(t("live.layers"), LAYERS, key="lv_layers", help=t("live.layers_help"), disabled=own)
    c2.select_slider(t("live.width"), WIDTHS, key="lv_width", help=t("live.width_help"), disabled=own)
    c3.select_slider(t("live.kernel"), KERNEL_SIZES, key="lv_kernel", format_func=lambda k: f"{k}×{k}", help=t("live.kernel_help"),
                     disabled=own)
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
    return stack if own else ()


def _config(stack: Layers) -> LiveConfig:
    ss = st.session_state
    by_time = ss.lv_mode == "time"
    return LiveConfig(layers=ss.lv_layers, width=ss.lv_width, kernel_size=ss.lv_kernel, activation=ss.lv_act,
                      optimizer=ss.lv_opt, learning_rate=float(ss.lv_lr), batch_size=ss.lv_batch,
                      epochs=MAX_EPOCHS if by_time else ss.lv_epochs,
                      time_budget=float(ss.lv_seconds) if by_time else MAX_SECONDS, augment=ss.lv_aug, stack=stack)


def _describe(config: LiveConfig) -> str:
    """The network in one line: conv k×k, C → activation → pool, …, linear, and its parameters."""
    model = build_model(config)
    act = t(f"live.act_{config.activation}")
    if config.stack:
        last_fc = max((i for i, layer in enumerate(config.stack) if layer[0] == "fc"), default=None)
        parts = [f"conv {k}×{k}, {n}" + (f" (s = {s}, p = {p})" if (s, p) != (1, 0) else "") + f" → {act}" if kind == "conv"
                 else f"max pool {k}×{k}" + (f" (s = {s}, p = {p})" if (s, p) != (k, 0) else "") if kind == "maxpool"
                 else f"{t('live.stack_fc')} {num(n)}" + (f" → {act}" if i != last_fc else "")
                 for i, (kind, n, k, s, p) in enumerate(config.stack)]
        if last_fc is None:
            parts.append(f"{t('live.linear')} {num(model[-1].in_features)} → {len(CLASSES)}")
        return t("live.stack_network", layers=" → ".join(parts), parameters=num(count_parameters(model)))
    parts = [f"conv {config.kernel_size}×{config.kernel_size}, {config.width * 2**i} → {act} → max pool 2×2"
             for i in range(config.layers)]
    linear = model[-1]
    parts.append(f"{t('live.linear')} {num(linear.in_features)} → {len(CLASSES)}")
    return t("live.network", layers=" → ".join(parts), parameters=num(count_parameters(model)))


def _layout(**layout: object) -> dict:
    """A chart's whole layout as one dict: no template, the session's separators (so ui.plot need not copy it)."""
    return dict(margin=dict(l=10, r=10, t=40, b=10), dragmode=False, separators=SEPARATORS[current_language()],
                template=NO_TEMPLATE, **layout)


def _curves(progress: LiveProgress, names_key: str) -> go.Figure | None:
    """Loss per step (binned to ≤ 200 points) and held-out accuracy; hover text formatted by Plotly, not per point."""
    if not progress.losses:
        return None
    steps, losses = binned(progress.losses)
    finite = np.isfinite(losses)
    step = "%{x:,.0f}"
    traces = [go.Scatter(x=steps[finite].astype(np.float32), y=losses[finite].astype(np.float32), mode="lines",
                         name=t("live.curve_loss"), line=dict(color="#1f77b4"),
                         hovertemplate=t("live.hover_loss", step=step, loss="%{y:.4~r}") + "<extra></extra>")]
    if progress.evaluations:
        eval_steps, accuracies = zip(*progress.evaluations)
        traces.append(go.Scatter(x=np.asarray(eval_steps, dtype=np.int32), y=np.asarray(accuracies, dtype=np.float32),
                                 mode="lines+markers", name=t("live.curve_accuracy"), yaxis="y2", line=dict(color="#d62728"),
                                 hovertemplate=t("live.hover_accuracy", step=step, accuracy="%{y:.1%}") + "<extra></extra>"))
    top = max(2.5, float(np.max(losses[finite])) * 1.05) if finite.any() else 2.5
    return go.Figure(traces, _layout(
        height=380, title=dict(text=t(names_key)),
        xaxis=dict(title=dict(text=t("live.axis_step")), range=[0, max(progress.total_steps, 1)]),
        yaxis=dict(title=dict(text=t("live.curve_loss")), range=[0, min(top, 20.0)]),
        yaxis2=dict(title=dict(text=t("live.curve_accuracy")), overlaying="y", side="right", range=[0, 1], tickformat=".0%"),
        legend=dict(orientation="h", x=0, y=-0.2, yanchor="top", xanchor="left")))


def _probabilities(probabilities: np.ndarray, title: str) -> go.Figure:
    names = [t(f"class.{c}") for c in CLASSES]
    top = int(np.argmax(probabilities))
    return go.Figure(
        go.Bar(x=np.asarray(probabilities, dtype=np.float32), y=names, orientation="h",
               marker_color=["#d62728" if i == top else "#9ecae1" for i in range(10)],
               text=[pct(p) for p in probabilities], textposition="outside", hoverinfo="skip"),
        _layout(title=dict(text=title), height=320, yaxis=dict(autorange="reversed"),
                xaxis=dict(range=[0, 1.2], showticklabels=False)) | dict(margin=dict(l=10, r=40, t=40, b=10)),
    )


def _png(pixels: np.ndarray, scale: int) -> bytes:
    """An RGB uint8 image as PNG bytes, each pixel a scale×scale square."""
    return encode_image(np.asarray(pixels).repeat(scale, axis=0).repeat(scale, axis=1))


def _drawings(view: RunView) -> dict:
    """The snapshot's figures and images, built once per snapshot and kept in the session: a poll that finds no new
    step (a slow step, the final evaluation) redraws them from here, and the student's image is encoded once a run."""
    progress = view.progress
    key = (view.run_id, progress.step, len(progress.evaluations), current_language(), bool(st.session_state.get("presenter")))
    cached = st.session_state.get("lv_drawn")
    if cached is not None and cached["key"] == key:
        return cached
    drawn = {"key": key, "curves": _curves(progress, "live.curves_title"),
             "filters": _png(filter_image(progress.filters, scale=max(2, 24 // progress.filters.shape[1])), 1)}
    drawn["probe_png"] = (cached["probe_png"] if cached is not None and cached["key"][0] == view.run_id
                          else None if view.probe is None else _png(np.asarray(view.probe), 3))
    if progress.probe is not None:
        top = int(np.argmax(progress.probe))
        drawn["probe"] = _probabilities(progress.probe, t("live.probe_title", name=t(f"class.{CLASSES[top]}"),
                                                          p=pct(progress.probe[top])))
    st.session_state.lv_drawn = drawn
    return drawn


def _live(view: RunView) -> None:
    """What changes every second: progress, curves, the first layer's filters and the answer for the student's image."""
    progress = view.progress
    if view.status == "waiting":
        st.info(t("live.waiting", position=view.position), icon=":material/hourglass_top:")
    elif progress is not None and not view.done:
        fraction = max(progress.step / max(progress.total_steps, 1), progress.elapsed / view.config.time_budget)
        st.progress(min(fraction, 1.0), text=t("live.progress", step=num(progress.step), total=num(progress.total_steps),
                                              epoch=num(progress.epoch, decimals=1), left=num(progress.time_left, decimals=0)))
    if not view.done:
        st.button(t("live.stop"), key="lv_stop", on_click=registry().stop, args=(view.run_id,), icon=":material/stop:")
    if progress is None:
        return
    drawn = _drawings(view)
    left, middle, right = st.columns([5, 2, 3])
    if drawn["curves"] is not None:
        plot(drawn["curves"], "lv_curves", left)
    with middle:
        st.markdown(f"**{t('live.filters_header')}**")
        st.image(drawn["filters"], width="stretch")
        st.caption(t("live.filters_caption", count=progress.filters.shape[0]))
    if progress.probe is not None and drawn["probe_png"] is not None:
        right.image(drawn["probe_png"], caption=t("live.probe_caption"), width=128)
        plot(drawn["probe"], "lv_probe", right)


def _outcome(view: RunView) -> None:
    """The end of a run: why it ended, held-out accuracy, per-class accuracy, the confusion matrix and what to learn."""
    result = view.result
    if view.status in ("abandoned", "failed") or result is None:
        st.warning(t(f"live.status_{view.status}" if view.status in ("abandoned", "failed") else "live.stopped_waiting"),
                   icon=":material/warning:")
        return
    if view.status == "diverged":
        st.error(t("live.diverged", step=num(len(result.losses)), lr=num(view.config.learning_rate),
                   loss=num(result.losses[-1]), guess=num(np.log(len(CLASSES)))), icon=":material/error:")
        return
    st.success(t(f"live.status_{view.status}", seconds=num(result.progress.elapsed, decimals=0),
                 steps=num(len(result.losses))), icon=":material/check_circle:")
    m1, m2, m3 = st.columns(3)
    m1.metric(t("live.accuracy"), pct(result.accuracy), t("live.chance", p=pct(0.1)), delta_color="off", delta_arrow="off")
    m2.metric(t("live.train_accuracy"), pct(result.train_accuracy))
    finite = [v for v in result.losses[-20:] if np.isfinite(v)]
    m3.metric(t("live.final_loss"), num(float(np.mean(finite))) if finite else "—")
    if result.accuracy < COLLAPSED:
        st.warning(t("live.collapsed", lr=num(view.config.learning_rate), guess=num(np.log(len(CLASSES)))), icon=":material/sentiment_dissatisfied:")
    elif result.train_accuracy - result.accuracy > OVERFIT_GAP:
        st.warning(t("live.overfitting", gap=pct(result.train_accuracy - result.accuracy)), icon=":material/menu_book:")
    elif result.accuracy < UNDERFIT and view.status in ("finished", "time_up"):
        st.info(t("live.underfitting"), icon=":material/child_care:")
    names = [t(f"class.{c}") for c in CLASSES]
    c1, c2 = st.columns(2)
    plot(_probabilities(result.per_class_accuracy, t("live.per_class")), "lv_per_class", c1)
    plot(heatmap_figure(result.confusion, names, names, t("live.confusion"), t("live.confusion_hover")), "lv_confusion", c2)


def _phase(view: RunView | None) -> str:
    """What the page's timer is set for: a running run is polled every second, a waiting one every few, an ended one never."""
    return "done" if view is None or view.done else view.status


def _watch(run_id: str) -> None:
    view = registry().poll(run_id)
    if _phase(view) != st.session_state.get("lv_timer"):  # started or ended: the whole page reruns and sets the timer anew
        st.rerun()
    if view is None:
        st.info(t("live.forgotten"), icon=":material/history:")
        return
    _live(view)
    if view.done:
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
config = _config(_settings(len(data[0])))
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
    st.info(t("live.press_train"), icon=":material/touch_app:")
else:
    st.session_state.lv_timer = _phase(registry().poll(run_id))
    st.fragment(_watch, run_every=POLL_SECONDS.get(st.session_state.lv_timer))(run_id)

with st.expander(t("live.lessons_header")):
    st.markdown(t("live.lessons", train=num(len(data[0]))))
