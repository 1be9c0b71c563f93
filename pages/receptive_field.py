"""Receptive fields."""

import streamlit as st

from ui import t

st.title(t("rf.title"))
