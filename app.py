"""Entry point: `streamlit run app.py`. Language first, then the translated page list."""

import streamlit as st
import torch

from ui import language_selector, presenter_mode, t

# One thread per computation: a class's sessions already run in parallel, and two threads per tiny tensor
# operation fight each other (measured: convolve 8–60 ms with 2 threads, under 1 ms with 1, on the 2-core server).
torch.set_num_threads(1)
st.set_page_config(page_title=t("app.title"), page_icon="🧠", layout="wide")
language_selector()
presenter_mode()
# Each url_path is its file's name: a server's first run happens in Streamlit's old pages/-folder mode (until
# st.navigation has run once), which finds a deep link's page by file name; equal names keep it on the same page.
pages = {
    t("nav.section_start"): [
        st.Page("pages/home.py", title=t("nav.home"), icon="🏠", url_path="home"),
        st.Page("pages/playground.py", title=t("nav.playground"), icon="🔍", url_path="playground", default=True),
    ],
    t("nav.section_convolution"): [
        st.Page("pages/conv_layer.py", title=t("nav.conv_layer"), icon="🧱", url_path="conv_layer"),
        st.Page("pages/receptive_field.py", title=t("nav.receptive_field"), icon="🎯", url_path="receptive_field"),
        st.Page("pages/denoising.py", title=t("nav.denoising"), icon="🌫️", url_path="denoising"),
    ],
    t("nav.section_layers"): [
        st.Page("pages/pooling.py", title=t("nav.pooling"), icon="🔽", url_path="pooling"),
        st.Page("pages/parameters.py", title=t("nav.parameters"), icon="🧮", url_path="parameters"),
        st.Page("pages/architecture.py", title=t("nav.architecture"), icon="🏗️", url_path="architecture"),
    ],
    t("nav.section_learning"): [
        st.Page("pages/predictions.py", title=t("nav.predictions"), icon="🧠", url_path="predictions"),
        st.Page("pages/network_training.py", title=t("nav.network_training"), icon="📈", url_path="network_training"),
        st.Page("pages/softmax_loss.py", title=t("nav.softmax_loss"), icon="📊", url_path="softmax_loss"),
        st.Page("pages/backprop.py", title=t("nav.backprop"), icon="⛓️", url_path="backprop"),
        st.Page("pages/augmentation.py", title=t("nav.augmentation"), icon="🔀", url_path="augmentation"),
        st.Page("pages/train.py", title=t("nav.train"), icon="🏋️", url_path="train"),
    ],
    t("nav.section_practice"): [
        st.Page("pages/quiz.py", title=t("nav.quiz"), icon="✅", url_path="quiz"),
    ],
}
st.navigation(pages).run()
st.sidebar.caption(t("app.footer"))
