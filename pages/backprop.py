"""Backpropagation by the chain rule."""

import streamlit as st

from ui import t

st.title(t("bp.title"))
