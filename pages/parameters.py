"""Fully connected versus convolution."""

import streamlit as st

from ui import t

st.title(t("params.title"))
