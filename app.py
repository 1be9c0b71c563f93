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
pages = {
    t("nav.section_start"): [
        st.Page("pages/playground.py", title=t("nav.playground"), icon="🔍", url_path="convolution", default=True),
        st.Page("pages/home.py", title=t("nav.home"), icon="🏠", url_path="overview"),
    ],
    t("nav.section_convolution"): [
        st.Page("pages/receptive_field.py", title=t("nav.receptive_field"), icon="🎯", url_path="receptive-fields"),
        st.Page("pages/denoising.py", title=t("nav.denoising"), icon="🌫️", url_path="gaussian-noise"),
    ],
    t("nav.section_layers"): [
        st.Page("pages/pooling.py", title=t("nav.pooling"), icon="🔽", url_path="pool"),
        st.Page("pages/parameters.py", title=t("nav.parameters"), icon="🧮", url_path="fc-vs-conv"),
        st.Page("pages/architecture.py", title=t("nav.architecture"), icon="🏗️", url_path="layers"),
    ],
    t("nav.section_learning"): [
        st.Page("pages/predictions.py", title=t("nav.predictions"), icon="🧠", url_path="network"),
        st.Page("pages/softmax_loss.py", title=t("nav.softmax_loss"), icon="📊", url_path="softmax"),
        st.Page("pages/backprop.py", title=t("nav.backprop"), icon="⛓️", url_path="chain-rule"),
        st.Page("pages/augmentation.py", title=t("nav.augmentation"), icon="🔀", url_path="augment"),
    ],
}
st.navigation(pages).run()
st.sidebar.caption(t("app.footer"))
