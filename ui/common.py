"""Language, error display and the image picker, the same on every page."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnn_core import ImageError, InputError, LoadedImage, open_image, sample_image
from cnn_core.i18n import LANGUAGES, pick_language, translate
from cnn_core.images import SAMPLES

LANGUAGE_NAMES = {"es": "Español", "en": "English"}
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"]


def current_language() -> str:
    """The language of this session: chosen in the sidebar, else ?lang=, else the browser's."""
    if "lang" not in st.session_state:
        st.session_state.lang = pick_language(st.query_params.get("lang"), st.context.locale)
    return st.session_state.lang


def t(key: str, **params: object) -> str:
    """The text of `key` in this session's language."""
    return translate(key, current_language(), **params)


def labels(prefix: str):
    """A format_func for option values: `value` → the text of `prefix + value` in this session's language."""
    lang = current_language()  # bound now: Streamlit may call format_func outside this script run
    return lambda value: translate(f"{prefix}{value}", lang)


def language_selector() -> str:
    """The sidebar's language choice, kept in the URL so that a shared link keeps it."""
    current_language()
    st.sidebar.selectbox("Idioma · Language", LANGUAGES, format_func=LANGUAGE_NAMES.__getitem__, key="lang")
    st.query_params["lang"] = st.session_state.lang
    return st.session_state.lang


def show_error(error: InputError) -> None:
    """A student-readable error box in this session's language."""
    st.error(error.message(current_language()), icon="⚠️")


@st.cache_resource(show_spinner=False)
def _network() -> object:
    from cnn_core.model import load_model  # imported here: pages without the network never load it

    return load_model()


def network_ready() -> bool:
    """Whether the trained network loads (weights present and matching the model card); explains why not."""
    from cnn_core.model import ModelError

    try:
        _network()
    except ModelError as error:
        st.error(t("net.unavailable", detail=str(error)), icon="🛑")
        return False
    return True


@st.cache_data(max_entries=16, show_spinner=False)
def _decode(data: bytes) -> LoadedImage:
    return open_image(data)


def _read_upload(data: bytes, name: str) -> np.ndarray | None:
    try:
        loaded = _decode(data)
    except ImageError as error:
        st.error(t("picker.bad_file", name=name) + " " + error.message(current_language()), icon="⚠️")
        return None
    if loaded.downscaled:
        width, height = loaded.original_size
        st.caption(t("picker.downscaled", width=width, height=height, new_width=loaded.pixels.shape[1], new_height=loaded.pixels.shape[0]))
    return loaded.pixels


def image_picker(key: str, container=st.sidebar) -> np.ndarray | None:
    """An image from the built-in samples, an upload or the camera, as H × W × 3 uint8 (None: nothing usable yet)."""
    with container:
        source = st.radio(
            t("picker.source"), ("sample", "upload", "camera"), format_func=labels("picker."),
            horizontal=True, key=f"{key}_source",
        )
        if source == "sample":
            name = st.selectbox(t("picker.sample"), SAMPLES, format_func=labels("sample."), key=f"{key}_sample")
            return sample_image(name)
        if source == "upload":
            file = st.file_uploader(t("picker.upload"), type=UPLOAD_TYPES, key=f"{key}_upload", help=t("picker.upload_help"))
        else:
            file = st.camera_input(t("picker.camera"), key=f"{key}_camera")
        if file is None:
            st.info(t("picker.waiting"), icon="📷" if source == "camera" else "📁")
            return None
        return _read_upload(file.getvalue(), file.name)
