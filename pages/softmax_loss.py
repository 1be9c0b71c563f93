"""Softmax and the loss."""

import streamlit as st

from ui import t

st.title(t("sm.title"))
