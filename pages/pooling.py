"""Pooling: max and average."""

import streamlit as st

from ui import t

st.title(t("pool.title"))
