"""Home: convolutional networks."""

import streamlit as st

from ui import t

st.title(t("home.title"))
