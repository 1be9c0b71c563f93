"""Noise and the Gaussian filter."""

import streamlit as st

from ui import t

st.title(t("nz.title"))
