"""Entry point: `streamlit run app.py`. Language first, then the translated page list."""

import streamlit as st
import torch

from ui import language_selector, per_session, presenter_mode, say_if_page_unknown, t
from ui.common import current_language, settle_process

# One thread per computation: a class's sessions already run in parallel, and two threads per tiny tensor
# operation fight each other (measured: convolve 8–60 ms with 2 threads, under 1 ms with 1, on the 2-core server).
torch.set_num_threads(1)
st.set_page_config(page_title=t("app.title"), page_icon=":material/psychology:", layout="wide")
settle_process()  # once per process: the network loaded, and the collector told to skip what is loaded
language_selector()
presenter_mode()


def _pages() -> dict[str, list[st.Page]]:
    """The sections and their pages, in the session's language."""
    # Each url_path is its file's name (the default page's is its hidden alias's, below): a server's first run happens in
    # Streamlit's old pages/-folder mode (until st.navigation has run once), which finds a deep link's page by file name.
    playground = st.Page("pages/playground.py", title=t("nav.playground"), icon=":material/search:", url_path="", default=True)
    return {
        t("nav.section_start"): [
            st.Page("pages/home.py", title=t("nav.home"), icon=":material/home:", url_path="home"),
            playground,
            # Streamlit serves the default page at / only: its own url_path is never matched, and /playground would open it
            # under a "Page not found" dialog. This hidden page takes that address (and a cold server's deep link, found by
            # file name) to /, with the link's settings.
            st.Page(lambda: st.switch_page(playground, query_params=st.query_params.to_dict()), title=t("nav.playground"),
                    url_path="playground", visibility="hidden"),
        ],
        t("nav.section_convolution"): [
            st.Page("pages/conv_layer.py", title=t("nav.conv_layer"), icon=":material/view_module:", url_path="conv_layer"),
            st.Page("pages/receptive_field.py", title=t("nav.receptive_field"), icon=":material/filter_center_focus:", url_path="receptive_field"),
            st.Page("pages/denoising.py", title=t("nav.denoising"), icon=":material/blur_on:", url_path="denoising"),
        ],
        t("nav.section_layers"): [
            st.Page("pages/pooling.py", title=t("nav.pooling"), icon=":material/compress:", url_path="pooling"),
            st.Page("pages/parameters.py", title=t("nav.parameters"), icon=":material/calculate:", url_path="parameters"),
            st.Page("pages/architecture.py", title=t("nav.architecture"), icon=":material/account_tree:", url_path="architecture"),
        ],
        t("nav.section_learning"): [
            st.Page("pages/predictions.py", title=t("nav.predictions"), icon=":material/psychology:", url_path="predictions"),
            st.Page("pages/network_training.py", title=t("nav.network_training"), icon=":material/show_chart:", url_path="network_training"),
            st.Page("pages/softmax_loss.py", title=t("nav.softmax_loss"), icon=":material/bar_chart:", url_path="softmax_loss"),
            st.Page("pages/backprop.py", title=t("nav.backprop"), icon=":material/link:", url_path="backprop"),
            st.Page("pages/augmentation.py", title=t("nav.augmentation"), icon=":material/shuffle:", url_path="augmentation"),
            st.Page("pages/train.py", title=t("nav.train"), icon=":material/fitness_center:", url_path="train"),
        ],
        t("nav.section_practice"): [
            st.Page("pages/quiz.py", title=t("nav.quiz"), icon=":material/check_circle:", url_path="quiz"),
        ],
    }


# Built once per session and language: st.Page resolves and checks its file on the disk each time it is made, 13 % of
# a busy server's time when fifteen were made on every rerun.
pages = per_session(_pages, current_language())
page = st.navigation(pages)
say_if_page_unknown([p for section in pages.values() for p in section], default="playground")
page.run()
st.sidebar.caption(t("app.footer"))
