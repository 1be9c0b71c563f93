"""The CIFAR-10 network: live predictions, what each layer sees, robustness, and the model card."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import streamlit as st

from cnn_core.augment import perturb
from cnn_core.images import SAMPLES
from cnn_core.model import CLASSES, TTA_VIEWS, layer_shapes, load_model, model_card, parameter_rows, preprocess
from cnn_core.recipe import card_recipe, smoothed_target
from cnn_core.softmax import softmax
from ui import (
    Setting,
    bar_figure,
    heatmap_figure,
    image_picker,
    labels,
    latex_number,
    map_figure,
    mosaic_figure,
    network_layers,
    network_logits,
    network_maps,
    network_ready,
    network_saliency,
    num,
    overlay_figure,
    pct,
    plot,
    set_link_value,
    share_in_url,
    t,
)
from ui.caching import by_content
from ui.common import current_language
from ui.downloads import array_download
from ui.figures import png_uri

SALIENCY_CLASSES = ("top", *CLASSES)
GRAD_CAM_BLOCKS = (3, 2)
WINDOWS = (4, 8, 12)

share_in_url("predictions", {
    "pr_sample": Setting(str, SAMPLES), "pr_dx": Setting(int, low=-16, high=16), "pr_dy": Setting(int, low=-16, high=16),
    "pr_angle": Setting(int, low=-180, high=180), "pr_scale": Setting(float, low=0.5, high=2.0), "pr_flip": Setting(bool),
    "pr_noise": Setting(int, low=0, high=100), "pr_layer": Setting(str, tuple(network_layers())),
    "pr_channel": Setting(int, low=0, high=max(c for c, _, _ in network_layers().values()) - 1),
    "pr_cam_class": Setting(str, SALIENCY_CLASSES), "pr_cam_block": Setting(int, GRAD_CAM_BLOCKS), "pr_window": Setting(int, WINDOWS),
})
st.title(t("pr.title"))
if not network_ready():
    st.stop()
card = model_card()
recipe = card_recipe(card)
st.markdown(t("pr.intro", count=num(card["data"]["train_images"], significant=None)))

with st.sidebar:
    st.header(t("pr.image_header"))
pixels = image_picker("pr")
with st.sidebar:
    st.header(t("pr.robust_header"))
    st.caption(t("pr.robust_help"))
    dx = st.slider(t("pr.shift_x"), -16, 16, 0, key="pr_dx")
    dy = st.slider(t("pr.shift_y"), -16, 16, 0, key="pr_dy")
    angle = st.slider(t("pr.angle"), -180, 180, 0, 5, key="pr_angle")
    scale = st.slider(t("pr.scale"), 0.5, 2.0, 1.0, 0.05, key="pr_scale")
    flip = st.toggle(t("pr.flip"), key="pr_flip")
    noise = st.slider(t("pr.noise"), 0, 100, 0, 5, key="pr_noise")
if pixels is None:
    st.stop()

names = [t(f"class.{c}") for c in CLASSES]
seen = perturb(preprocess(pixels), shift=(dx, dy), angle=angle, scale=scale, flip=flip, noise=noise)
logits = network_logits(seen[None])[0]
probs = softmax(logits)
top = int(np.argmax(probs))

left, right = st.columns([1, 2])
with left:
    # A data URI (encoded once for every session, ui.figures.png_uri): st.image stores no media file for it on each rerun.
    st.image(png_uri(np.kron(seen, np.ones((8, 8, 1), dtype=np.uint8))), caption=t("pr.seen_caption"))
    st.metric(t("pr.top"), names[top], pct(probs[top]), delta_color="off", delta_arrow="off")
    best = smoothed_target(0, len(CLASSES), recipe.label_smoothing)
    st.caption(t("pr.modest", smoothing=num(recipe.label_smoothing), best=pct(best[0], 0), other=pct(best[1], 0)))
with right:
    plot(bar_figure(names, probs, top, t("pr.probabilities"), lang=current_language()), "pr_bars", alt=t("alt.pr_probabilities"))
with st.expander(t("pr.softmax_header")):
    st.markdown(t("pr.softmax_text"))
    z_top = float(logits[top])
    st.latex(rf"p_{{\text{{{names[top]}}}}} = \frac{{e^{{{latex_number(z_top, operand=False)}}}}}{{\sum_{{j=1}}^{{10}} e^{{z_j}}}} = "
             rf"\frac{{{latex_number(np.exp(z_top), operand=False)}}}{{{latex_number(np.exp(logits.astype(np.float64)).sum(), operand=False)}}}"
             rf" = {latex_number(probs[top], operand=False)}")
    st.markdown(t("pr.tta_text") + "\n" + "\n".join(
        t("pr.tta_view", view=t(f"pr.view_{name}"), weight=pct(weight)) for name, weight, _, _ in TTA_VIEWS))
    if st.toggle(t("pr.show_logits"), key="pr_logits"):
        plot(bar_figure(names, logits, top, t("pr.logits"), percent=False, lang=current_language()), "pr_logit_bars")


@by_content(8)
def _table(rows: tuple[dict[str, str], ...]) -> pa.Table:
    """Rows of text as an Arrow table, made once per language: from a list, st.dataframe converted it through pandas
    on every rerun (2 ms a table)."""
    return pa.Table.from_pylist(list(rows))


@by_content(4)
def _filter_tiles(weights: np.ndarray) -> list[str]:
    """The first layer's filters (F×3×h×w) as 48-px images, each scaled to its own range: data URIs, made once."""
    tiles = []
    for w in weights:
        rgb = w.transpose(1, 2, 0)
        rgb = (rgb - rgb.min()) / (rgb.max() - rgb.min() or 1.0)
        cell = 48 // rgb.shape[0]
        tiles.append(png_uri(np.kron((rgb * 255).astype(np.uint8), np.ones((cell, cell, 1), dtype=np.uint8))))
    return tiles


@st.fragment
def where_it_looks(seen: np.ndarray, top: int) -> None:
    """Grad-CAM and occlusion for the predicted class or one the student picks; only this part reruns on a change."""
    st.header(t("pr.looks_header"))
    st.markdown(t("pr.looks_intro"))
    c1, c2, c3 = st.columns(3)
    # Labels made now, in this session's language: Streamlit may call format_func outside this run.
    class_labels = {"top": t("pr.cam_top", name=names[top])} | {c: t(f"class.{c}") for c in CLASSES}
    window_labels = {w: t("pr.window_option", window=w, stride=max(1, w // 2)) for w in WINDOWS}
    choice = c1.selectbox(t("pr.cam_class"), SALIENCY_CLASSES, key="pr_cam_class", format_func=class_labels.__getitem__)
    block = c2.radio(t("pr.cam_block"), GRAD_CAM_BLOCKS, key="pr_cam_block", horizontal=True, format_func=labels("pr.cam_block"))
    window = c3.radio(t("pr.window"), WINDOWS, index=1, key="pr_window", horizontal=True, format_func=window_labels.__getitem__)
    for key, value in (("pr_cam_class", choice), ("pr_cam_block", block), ("pr_window", window)):
        set_link_value(key, str(value))  # a fragment's rerun does not pass through share_in_url
    target = top if choice == "top" else CLASSES.index(choice)
    cam = network_saliency(seen, target, "grad_cam", block)
    hidden = network_saliency(seen, target, "occlusion", window)
    left, right = st.columns(2)
    plot(overlay_figure(seen, cam, t("pr.cam_title", name=names[target]), t("pr.saliency_hover")), "pr_cam", left)
    plot(overlay_figure(seen, hidden, t("pr.occlusion_title", name=names[target]), t("pr.saliency_hover")), "pr_occlusion", right)
    for where, values in ((left, cam), (right, hidden)):
        if not values.any():
            where.info(t("pr.no_evidence", name=names[target]), icon=":material/info:")
    left.caption(t("pr.cam_read"))
    right.caption(t("pr.occlusion_read", window=window, stride=max(1, window // 2)))
    st.markdown(t("pr.looks_limits"))


where_it_looks(seen, top)

st.header(t("pr.inside_header"))
maps = network_maps(seen)
shapes = {name: shape for name, shape, _ in layer_shapes(load_model())}
st.markdown(t("pr.flow_text"))
st.dataframe(_table(tuple(
    # the check beside the layer's name: as the last column it lay past a phone's screen, in the table's own scroll
    {t("pr.col_layer"): name, "✓": "✓" if shapes[name] == value.shape else "✗", t("pr.col_formula"): "×".join(map(str, shapes[name])),
     t("pr.col_tensor"): "×".join(map(str, value.shape))}
    for name, value in maps.items()
)), hide_index=True)
with st.expander(t("pr.block_header")):
    rows = parameter_rows()
    example = next(row for row in rows if row.kind == "conv" and not row.biases)
    k, _, c_in, n = example.factors
    st.markdown(t("pr.block_text", rule=f"{k}·{k}·{c_in}·{n}", weights=num(example.weights, significant=None),
                  with_bias=num(example.weights + n, significant=None)))

    def formula(row) -> str:
        if row.kind == "conv":
            k, _, c_in, n = row.factors
            weights = f"{k}·{k}·{c_in}·{n}"
            return f"{weights} + {n}" if row.biases else weights
        if row.kind == "batchnorm":
            return f"2·{row.factors[0]}"
        return "·".join(map(str, row.factors)) + (f" + {row.factors[1]}" if row.biases else "")

    st.dataframe(_table(tuple(
        {t("pr.col_layer"): row.name, t("pr.col_kind"): t(f"pr.kind_{row.kind}"), t("pr.col_rule"): formula(row),
         t("pr.col_params"): num(row.total, significant=None), t("pr.col_frozen"): num(row.frozen, significant=None)}
        for row in rows
    )), hide_index=True)
    total, frozen = sum(r.total for r in rows), sum(r.frozen for r in rows)
    st.caption(t("pr.params_total", total=num(total, significant=None), trained=num(total - frozen, significant=None),
                 frozen=num(frozen, significant=None)))


@st.fragment
def _layer_explorer(maps: dict[str, np.ndarray]) -> None:
    """A layer's feature maps and one channel: choosing another reruns only this part of the page."""
    if st.session_state.get("pr_layer") not in maps:
        st.session_state.pop("pr_layer", None)
    layer = st.selectbox(t("pr.layer"), list(maps), index=1, key="pr_layer",
                         format_func=lambda n: f"{n} · {'×'.join(map(str, maps[n].shape))}")
    values = maps[layer]
    plot(mosaic_figure(values, t("pr.mosaic_title", layer=layer, channels=values.shape[0]), t("pr.mosaic_hover")), "pr_mosaic",
         alt=t("alt.pr_mosaic", layer=layer, channels=values.shape[0]))
    st.caption(t("pr.mosaic_note"))
    stage = "final" if layer == "pool" else layer.rsplit(".", 1)[-1]  # whiten, conv1, pool, conv2 or the final pool
    st.info(t(f"pr.stage_{stage}", layer=layer), icon=":material/info:")
    st.session_state.pr_channel = min(int(st.session_state.get("pr_channel", 0)), values.shape[0] - 1)
    channel = int(st.number_input(t("pr.channel"), 0, values.shape[0] - 1, key="pr_channel"))
    plot(map_figure(values[channel], t("pr.channel_title", layer=layer, channel=channel), t("pg.hover_map"), height=380),
         "pr_channel_fig", alt=t("alt.pr_channel", layer=layer, channel=channel, rows=values.shape[1], cols=values.shape[2]))
    # Downloads: the channel shown, as numbers.
    st.caption(t("dl.layer_caption"))
    array_download(values[channel], f"{layer}_channel_{channel}")
    # The page's top, which keeps the link, does not run with the fragment.
    set_link_value("pr_layer", layer)
    set_link_value("pr_channel", str(channel))


_layer_explorer(maps)

st.subheader(t("pr.filters_header"))
st.markdown(t("pr.filters_text"))
tiles = _filter_tiles(load_model().whiten.weight.detach().numpy())  # 24 × 3 × 2 × 2
st.image(tiles, caption=[str(i) for i in range(len(tiles))])

st.header(t("pr.card_header"))
evaluation, training = card["evaluation"], card["training"]
m1, m2, m3, m4 = st.columns(4)
test_count = num(card["data"]["test_images"], significant=None)
m1.metric(t("pr.accuracy", count=test_count), pct(evaluation["test_accuracy_tta"], 2),
          t("pr.accuracy_plain", value=pct(evaluation["test_accuracy"], 2)), delta_color="off", delta_arrow="off")
m2.metric(t("pr.parameters"), num(card["parameters"], significant=None))
m3.metric(t("pr.macs"), t("pr.millions", value=num(card["multiply_adds_per_image"] / 1e6, decimals=1, significant=None)))
m4.metric(t("pr.train_time"), t("pr.minutes", value=num(training["time_seconds"] / 60, decimals=0, significant=None)),
          t("pr.epochs", epochs=training["epochs"]), delta_color="off", delta_arrow="off")
st.markdown(t("pr.accuracy_which", tta=pct(evaluation["test_accuracy_tta"], 2), plain=pct(evaluation["test_accuracy"], 2),
              count=test_count))
data = card["data"]
source = "pr.card_data_torchvision" if data.get("kind") == "torchvision" else "pr.card_data_jpeg"
st.caption(t(source, train=num(data["train_images"], significant=None), test=num(data["test_images"], significant=None)) + " "
           + t("pr.card_hardware", hardware=training["hardware"]["cpu"], cores=num(training["hardware"]["cpu_count"]),
               torch=training["hardware"]["torch"], date=training["date"]))
per_class = np.array([evaluation["per_class_accuracy"][c] for c in CLASSES])
c1, c2 = st.columns([1, 1])
plot(bar_figure(names, per_class, int(per_class.argmin()), t("pr.per_class"), lang=current_language()), "pr_per_class", c1)
plot(heatmap_figure(np.array(evaluation["confusion_matrix"]), names, names, t("pr.confusion"), t("pr.confusion_hover")),
     "pr_confusion", c2)
st.page_link("pages/network_training.py", label=t("pr.training_link"), icon=":material/show_chart:")
