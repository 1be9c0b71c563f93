"""The CIFAR-10 network: live predictions, what each layer sees, robustness, and the model card."""

from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image

from cnn_core.augment import perturb
from cnn_core.model import CLASSES, layer_shapes, load_model, model_card, preprocess
from cnn_core.softmax import softmax
from cnn_core.images import SAMPLES
from ui import (
    Setting, bar_figure, heatmap_figure, image_picker, map_figure, mosaic_figure, network_layers, network_logits, network_maps, network_ready, plot,
    share_in_url, t,
)

share_in_url("predictions", {
    "pr_sample": Setting(str, SAMPLES), "pr_dx": Setting(int, low=-16, high=16), "pr_dy": Setting(int, low=-16, high=16),
    "pr_angle": Setting(int, low=-180, high=180), "pr_scale": Setting(float, low=0.5, high=2.0), "pr_flip": Setting(bool),
    "pr_noise": Setting(int, low=0, high=100), "pr_layer": Setting(str, tuple(network_layers())),
    "pr_channel": Setting(int, low=0, high=max(c for c, _, _ in network_layers().values()) - 1),
})
st.title(t("pr.title"))
st.markdown(t("pr.intro"))
if not network_ready():
    st.stop()

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
    st.image(Image.fromarray(seen).resize((256, 256), Image.Resampling.NEAREST), caption=t("pr.seen_caption"))
    st.metric(t("pr.top"), names[top], f"{probs[top]:.1%}", delta_color="off", delta_arrow="off")
with right:
    plot(bar_figure(names, probs, top, t("pr.probabilities")), "pr_bars")
with st.expander(t("pr.softmax_header")):
    st.markdown(t("pr.softmax_text"))
    z_top = float(logits[top])
    st.latex(rf"p_{{\text{{{CLASSES[top]}}}}} = \frac{{e^{{{z_top:.3f}}}}}{{\sum_{{j=1}}^{{10}} e^{{z_j}}}} = "
             rf"\frac{{{np.exp(z_top):.4g}}}{{{np.exp(logits.astype(np.float64)).sum():.4g}}} = {probs[top]:.4f}")
    if st.toggle(t("pr.show_logits"), key="pr_logits"):
        plot(bar_figure(names, logits, top, t("pr.logits"), percent=False), "pr_logit_bars")

st.header(t("pr.inside_header"))
maps = network_maps(seen)
shapes = {name: shape for name, shape, _ in layer_shapes(load_model())}
table = [
    {t("pr.col_layer"): name, t("pr.col_formula"): "×".join(map(str, shapes[name])),
     t("pr.col_tensor"): "×".join(map(str, value.shape)), "✓": "✅" if shapes[name] == value.shape else "❌"}
    for name, value in maps.items()
]
st.markdown(t("pr.flow_text"))
st.dataframe(table, hide_index=True)

if st.session_state.get("pr_layer") not in maps:
    st.session_state.pop("pr_layer", None)
layer = st.selectbox(t("pr.layer"), list(maps), index=1, key="pr_layer",
                     format_func=lambda n: f"{n} · {'×'.join(map(str, maps[n].shape))}")
values = maps[layer]
plot(mosaic_figure(values, t("pr.mosaic_title", layer=layer, channels=values.shape[0]), t("pr.mosaic_hover")), "pr_mosaic")
st.caption(t("pr.mosaic_note"))
st.session_state.pr_channel = min(int(st.session_state.get("pr_channel", 0)), values.shape[0] - 1)
channel = int(st.number_input(t("pr.channel"), 0, values.shape[0] - 1, key="pr_channel"))
plot(map_figure(values[channel], t("pr.channel_title", layer=layer, channel=channel), t("pg.hover_map"), height=380),
     "pr_channel_fig")

st.subheader(t("pr.filters_header"))
st.markdown(t("pr.filters_text"))
weights = load_model().whiten.weight.detach().numpy()  # 24 × 3 × 2 × 2
tiles = []
for w in weights:
    rgb = w.transpose(1, 2, 0)
    rgb = (rgb - rgb.min()) / (rgb.max() - rgb.min() or 1.0)
    tiles.append(Image.fromarray((rgb * 255).astype(np.uint8)).resize((48, 48), Image.Resampling.NEAREST))
st.image(tiles, caption=[str(i) for i in range(len(tiles))])

st.header(t("pr.card_header"))
card = model_card()
evaluation, training = card["evaluation"], card["training"]
m1, m2, m3, m4 = st.columns(4)
m1.metric(t("pr.accuracy"), f"{evaluation['test_accuracy_tta']:.2%}", t("pr.accuracy_plain", value=f"{evaluation['test_accuracy']:.2%}"),
          delta_color="off", delta_arrow="off")
m2.metric(t("pr.parameters"), f"{card['parameters']:,}")
m3.metric(t("pr.macs"), f"{card['multiply_adds_per_image'] / 1e6:.1f} M")
m4.metric(t("pr.train_time"), f"{training['time_seconds'] / 60:.0f} min", t("pr.epochs", epochs=training["epochs"]), delta_color="off", delta_arrow="off")
st.caption(t("pr.card_source", data=card["data"]["description"], hardware=training["hardware"]["cpu"]))
per_class = np.array([evaluation["per_class_accuracy"][c] for c in CLASSES])
c1, c2 = st.columns([1, 1])
plot(bar_figure(names, per_class, int(per_class.argmin()), t("pr.per_class")), "pr_per_class", c1)
plot(heatmap_figure(np.array(evaluation["confusion_matrix"]), names, names, t("pr.confusion"), t("pr.confusion_hover")),
     "pr_confusion", c2)
with st.expander(t("pr.recipe")):
    st.json(training["recipe"], expanded=True)
