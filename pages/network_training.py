"""How the shipped network learned: its training curves, learning-rate schedule and recipe, and its learned filters."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnn_core.model import TTA_VIEWS, conv_filters, filter_norms, load_model, model_card
from cnn_core.recipe import card_recipe, history, largest_drop, learning_rates, smoothed_target, smoothing_loss_floor
from ui import (
    Setting, curves_figure, network_ready, norms_figure, num, pct, plot, set_link_value, share_in_url, slices_figure, t,
)

LAYERS = ("block1.conv1", "block1.conv2", "block2.conv1", "block2.conv2", "block3.conv1", "block3.conv2")

share_in_url("network_training", {"nt_layer": Setting(str, LAYERS), "nt_filter": Setting(int, low=0, high=127)})
st.title(t("nt.title"))
st.markdown(t("nt.intro"))
if not network_ready():
    st.stop()
card = model_card()
recipe = card_recipe(card)
try:
    past = history(card)
except ValueError:
    st.error(t("nt.no_history"), icon="⚠️")
    st.stop()
training, evaluation = card["training"], card["evaluation"]
floor = smoothing_loss_floor(len(card["classes"]), recipe.label_smoothing)
target = smoothed_target(0, len(card["classes"]), recipe.label_smoothing)

st.header(t("nt.curves_header"))
left, right = st.columns(2)
plot(curves_figure(past.epoch, ((t("nt.loss"), past.loss),), t("nt.loss_title"), t("nt.epoch"), t("nt.loss"),
                   floor=(t("nt.floor", value=num(floor)), floor)), "nt_loss", left)
plot(curves_figure(past.epoch, ((t("nt.train_accuracy"), past.train_accuracy), (t("nt.test_accuracy"), past.test_accuracy)),
                   t("nt.accuracy_title"), t("nt.epoch"), t("nt.accuracy"), percent=True), "nt_accuracy", right)
st.markdown(t(
    "nt.curves_text", first_loss=num(past.loss[0]), last_loss=num(past.loss[-1]), floor=num(floor),
    smoothing=num(recipe.label_smoothing), last_train=pct(past.train_accuracy[-1]), last_test=pct(past.test_accuracy[-1], 2),
    tta=pct(evaluation["test_accuracy_tta"], 2),
))
best, worst = largest_drop(past.test_accuracy)
if worst > best:
    st.markdown(t("nt.curves_dip", best_epoch=int(past.epoch[best]), best=pct(past.test_accuracy[best]),
                  dip_epoch=int(past.epoch[worst]), dip=pct(past.test_accuracy[worst])))

st.header(t("nt.lr_header"))
epochs, filter_lr, bias_lr = learning_rates(recipe, card["data"]["train_images"])
plot(curves_figure(epochs, ((t("nt.lr_filters"), filter_lr),), t("nt.lr_title"), t("nt.epoch"), t("nt.lr")), "nt_lr")
peak_step = int(np.argmax(filter_lr))
st.markdown(t(
    "nt.lr_text", start=pct(recipe.lr_start, 0), peak_at=pct(recipe.lr_peak_at, 0), peak_epoch=num(epochs[peak_step], decimals=1),
    end=pct(recipe.lr_end, 0), peak=num(filter_lr[peak_step]), batch=num(recipe.batch_size, significant=None),
    steps=num(len(epochs), significant=None), bias_scale=num(recipe.bias_lr_scale), bias_peak=num(bias_lr.max()),
))

st.header(t("nt.recipe_header"))
views = "\n".join(t("nt.tta_view", view=t(f"pr.view_{name}"), weight=pct(weight)) for name, weight, _, _ in TTA_VIEWS)
st.markdown(t(
    "nt.recipe_text", epochs=recipe.epochs, batch=num(recipe.batch_size, significant=None), momentum=num(recipe.momentum),
    decay=num(recipe.weight_decay), translate=recipe.translate, smoothing=num(recipe.label_smoothing), best=pct(target[0], 0),
    other=pct(target[1], 0), floor=num(floor), la_start=recipe.lookahead_start_epoch + 1, la_every=recipe.lookahead_every,
    bn_momentum=num(recipe.batchnorm_momentum), bias_scale=num(recipe.bias_lr_scale),
    whiten_images=num(recipe.whiten_images, significant=None), whiten_bias_epochs=recipe.whiten_bias_epochs,
    minutes=num(training["time_seconds"] / 60, decimals=0, significant=None), seed=training["seed"],
) + "\n" + views)


@st.fragment
def learned_filters() -> None:
    """A layer's filters: the norm of every slice, then one filter's slices; only this part reruns on a change."""
    st.header(t("nt.filters_header"))
    st.markdown(t("nt.filters_text"))
    layer = st.selectbox(t("nt.layer"), LAYERS, key="nt_layer")
    filters = conv_filters(load_model(), layer)
    n, c_in, k, _ = filters.shape
    norms = filter_norms(filters)
    plot(norms_figure(norms, t("nt.norms_title", layer=layer, n=n, c_in=c_in), t("nt.input_channel"), t("nt.filter"),
                      t("nt.norms_hover")), "nt_norms")
    st.caption(t("nt.norms_read"))
    st.session_state.nt_filter = min(int(st.session_state.get("nt_filter", 0)), n - 1)
    chosen = int(st.number_input(t("nt.filter_number", last=n - 1), 0, n - 1, key="nt_filter"))
    plot(slices_figure(filters[chosen], t("nt.slices_title", layer=layer, filter=chosen, c_in=c_in, k=k), t("nt.slices_hover")),
         "nt_slices")
    set_link_value("nt_layer", layer)  # a fragment's rerun does not pass through share_in_url
    set_link_value("nt_filter", str(chosen))
    strongest = int(np.argmax(norms[chosen]))
    st.caption(t("nt.slices_read", filter=chosen, channel=strongest, norm=num(norms[chosen, strongest]), c_in=c_in, k=k))


learned_filters()
