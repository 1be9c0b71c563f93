"""Architecture explorer."""

import streamlit as st

from ui import t

st.title(t("arch.title"))
