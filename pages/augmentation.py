"""Data augmentation: images and sound."""

import streamlit as st

from ui import t

st.title(t("aug.title"))
