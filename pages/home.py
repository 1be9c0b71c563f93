"""Overview: why convolutional networks, their three kinds of layer, and where each page shows them."""

from __future__ import annotations

import streamlit as st

from cnn_core import conv_output_size
from cnn_core.parameters import conv_parameters, fc_parameters
from ui import num, t

st.title(t("home.title"))
st.markdown(t("home.intro"))

st.header(t("home.why_header"))
small, large = fc_parameters(32, 32, 3, 1, bias=False), fc_parameters(200, 200, 3, 1, bias=False)
layer = fc_parameters(200, 200, 3, 1000, bias=False)
kernel = conv_parameters(5, 3, 1, bias=False)
c1, c2, c3 = st.columns(3)
c1.metric(t("home.fc_small"), num(small))
c2.metric(t("home.fc_large"), num(large))
c3.metric(t("home.conv_filter"), num(kernel))
st.markdown(t("home.why_text", small=num(small), large=num(large), layer=num(layer), kernel=kernel, neurons=num(1000)))
st.page_link("pages/parameters.py", label=t("home.go_parameters"), icon="🧮")

st.header(t("home.blocks_header"))
out = conv_output_size(32, 5, 1, 0)
b1, b2, b3 = st.columns(3)
with b1:
    st.subheader(t("home.conv_header"))
    st.markdown(t("home.conv_text", out=out))
    st.page_link("pages/playground.py", label=t("home.go_playground"), icon="🔍")
    st.page_link("pages/conv_layer.py", label=t("nav.conv_layer"), icon="🧱")
    st.page_link("pages/receptive_field.py", label=t("home.go_receptive"), icon="🎯")
with b2:
    st.subheader(t("home.pool_header"))
    st.markdown(t("home.pool_text", half=conv_output_size(32, 2, 2, 0)))
    st.page_link("pages/pooling.py", label=t("home.go_pooling"), icon="🔽")
with b3:
    st.subheader(t("home.fc_header"))
    st.markdown(t("home.fc_text"))
    st.page_link("pages/softmax_loss.py", label=t("home.go_softmax"), icon="📊")
    st.page_link("pages/architecture.py", label=t("home.go_architecture"), icon="🏗️")

st.header(t("home.learn_header"))
st.markdown(t("home.learn_text"))
l1, l2, l3 = st.columns(3)
l1.page_link("pages/predictions.py", label=t("home.go_network"), icon="🧠")
l2.page_link("pages/backprop.py", label=t("home.go_backprop"), icon="⛓️")
l3.page_link("pages/augmentation.py", label=t("home.go_augmentation"), icon="🔀")
l1.page_link("pages/train.py", label=t("nav.train"), icon="🏋️")
l2.page_link("pages/network_training.py", label=t("nav.network_training"), icon="📈")

st.header(t("home.apps_header"))
a1, a2, a3 = st.columns(3)
with a1:
    st.subheader(t("home.app_classification"))
    st.markdown(t("home.app_classification_text"))
    st.page_link("pages/predictions.py", label=t("home.go_network"), icon="🧠")
with a2:
    st.subheader(t("home.app_segmentation"))
    st.markdown(t("home.app_segmentation_text"))
with a3:
    st.subheader(t("home.app_processing"))
    st.markdown(t("home.app_processing_text"))
    st.page_link("pages/denoising.py", label=t("home.go_denoising"), icon="🌫️")
