"""Entry point: `streamlit run app.py`. Language first, then the translated page list."""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from ui import language_selector, t

# A process's first run happens in Streamlit's old pages/-folder mode, which st.navigation only switches off while it
# runs; widgets made in that run would lose their state on the next one. Switch it off now and start over.
if PagesManager.uses_pages_directory:
    PagesManager.uses_pages_directory = False
    st.rerun()

st.set_page_config(page_title=t("app.title"), page_icon="🧠", layout="wide")
language_selector()
# Each url_path differs from every file name in pages/, so that the old mode, if ever on, cannot run a page without this script.
pages = [
    st.Page("pages/playground.py", title=t("nav.playground"), icon="🔍", url_path="convolution", default=True),
]
st.navigation(pages).run()
st.sidebar.caption(t("app.footer"))
