"""Language, error display and the image picker, the same on every page."""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.uploaded_file_manager import UploadedFile

from cnn_core import ImageError, InputError, LoadedImage, open_image, resize_to, sample_image
from cnn_core.i18n import LANGUAGES, format_number, format_percent, pick_language, translate
from cnn_core.images import SAMPLES

from .caching import BoundedCache, by_content, read_only

LANGUAGE_NAMES = {"es": "Español", "en": "English"}
SEPARATORS = {"es": ",.", "en": ".,"}  # Plotly's decimal then thousands separator
T = TypeVar("T")
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff"]


def _leave_page_folder_mode() -> None:
    """Rerun through app.py if Streamlit started this run in its old pages/-folder mode.

    A server's runs use that mode until st.navigation has run once, and a deep link (/quiz?seed=7) would then run the
    page file alone: no app.py, no language menu, and the mode would stay on. Every page calls t() first, so the check
    lives here. The page's url_path is its file name, so the rerun lands on the same page.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        ctx = get_script_run_ctx()
        if ctx and ctx.pages_manager.intended_page_name:  # the rerun forgets the page asked for; say_if_page_unknown needs it
            st.session_state._wanted_page = ctx.pages_manager.intended_page_name
        st.rerun()


def current_language() -> str:
    """The language of this session: chosen in the sidebar, else ?lang=, else the browser's."""
    # t() and num() ask for it a hundred times a rerun; a session-state lookup costs ~20 µs. Remembered for this run
    # only: Streamlit gives every run (and fragment run) a new `cursors` dict, and the language changes between runs.
    ctx = get_script_run_ctx()
    remembered = getattr(ctx, "_course_language", None)
    if remembered is not None and remembered[0] is ctx.cursors:
        return remembered[1]
    _leave_page_folder_mode()
    language = st.session_state.get("language")
    if language is None:
        language = st.session_state.language = pick_language(st.query_params.get("lang"), st.context.locale)
    if ctx is not None:
        ctx._course_language = (ctx.cursors, language)
    return language


def t(key: str, **params: object) -> str:
    """The text of `key` in this session's language."""
    return translate(key, current_language(), **params)


def num(value: float, decimals: int | None = None, significant: int | None = 4, grouping: bool = True) -> str:
    """A number as this session's language writes it (es 3.072 · 0,5; en 3,072 · 0.5): the one formatter of every page."""
    return format_number(value, current_language(), decimals=decimals, significant=significant, grouping=grouping)


def pct(fraction: float, decimals: int = 1) -> str:
    """A fraction as a percentage in this session's language (es 90,1 %, en 90.1%)."""
    return format_percent(fraction, current_language(), decimals)


def labels(prefix: str):
    """A format_func for option values: `value` → the text of `prefix + value` in this session's language."""
    lang = current_language()  # bound now: Streamlit may call format_func outside this script run
    return lambda value: translate(f"{prefix}{value}", lang)


def _language_chosen() -> None:
    st.session_state.language = st.session_state.lang
    ctx = get_script_run_ctx()
    if ctx is not None:  # another callback of this run may have asked for the language before this one changed it
        ctx._course_language = None


def language_selector() -> str:
    """The sidebar's language choice, kept in the URL so that a shared link keeps it."""
    # The choice lives in its own key, not only in the widget's: a widget's state is dropped when Streamlit
    # renames the widget (as it does after a server's first run), the language must not be.
    st.session_state.lang = current_language()
    st.sidebar.selectbox("Idioma · Language", LANGUAGES, format_func=LANGUAGE_NAMES.__getitem__, key="lang",
                         on_change=_language_chosen)
    set_link_value("lang", st.session_state.language)
    return st.session_state.language


def show_error(error: InputError) -> None:
    """A student-readable error box in this session's language."""
    st.error(error.message(current_language()), icon=":material/warning:")


# The first load after a server starts takes seconds; no session (so no language) is known here: both languages.
_LOADING_NETWORK = f"{translate('load.network', 'es')} · {translate('load.network', 'en')}"


@st.cache_resource(show_spinner=_LOADING_NETWORK)
def _network() -> object:
    from cnn_core.model import load_model  # loaded at a process's first run (settle_process), whatever the page

    return load_model()


@st.cache_resource(show_spinner=_LOADING_NETWORK)
def settle_process() -> None:
    """Once per server process: load the network and captum, then tune the garbage collector for a class's reruns."""
    # Measured with 60 students doing eight steps at once on two processes (scripts/loadtest.py, README): torch, plotly
    # and captum are half a million Python objects, and every full collection walked them all, 0.4–0.6 s holding the
    # interpreter, two or three times in each process: a pause for all of its sessions. gc.freeze() moves what exists
    # now into a generation the collector skips (collected first, so that no garbage is kept for ever). The youngest
    # generation is collected every 10,000 allocations instead of 700: thirty sessions' reruns interleave in one
    # interpreter, and a collection every 700 found many of their objects still in use and moved them on towards the
    # oldest generation (likely what filled it so fast). The collector's time per process fell from about 1 s to
    # 0.3 s for those 240 reruns, with no full collection.
    try:
        _network()
        import cnn_core.saliency  # noqa: F401  captum, the heaviest import a page makes
    except (InputError, RuntimeError, OSError):
        pass  # the pages that need the network say what is wrong themselves
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


# The network's answers are kept by content (by_content), not with st.cache_data: its copy of every result on each hit
# (0.65 MB of maps) and its argument hashing were a tenth of a network-page rerun. They are read-only instead.
@by_content(64)
def network_logits(images: np.ndarray) -> np.ndarray:
    """N×32×32×3 uint8 → N×10 logits (with the test-time views), shared by every session: a class on one link asks once."""
    from cnn_core.model import predict_logits_batch

    return read_only(predict_logits_batch(images))


@by_content(32)  # 0.65 MB an image
def network_maps(image: np.ndarray) -> dict[str, np.ndarray]:
    """Every conv and pool layer's output (C×H×W) for one image, shared by every session."""
    from cnn_core.model import feature_maps

    return {name: read_only(values) for name, values in feature_maps(image).items()}


@st.cache_resource(show_spinner=False)
def network_layers() -> dict[str, tuple[int, int, int]]:
    """The network's conv and pool layers and their output shapes C×H×W, in order (known without its weights)."""
    from cnn_core.model import CifarNet, layer_shapes

    return {name: shape for name, shape, _ in layer_shapes(CifarNet()) if len(shape) == 3}


@by_content(512)  # 4 KB a map
def network_saliency(image: np.ndarray, target: int, method: str, setting: int) -> np.ndarray:
    """Grad-CAM (`setting`: 3 or 2, the block) or occlusion (`setting`: the window) of one 32×32 image and class,
    computed once for every session that shows the same image."""
    from cnn_core.saliency import grad_cam, occlusion

    if method == "grad_cam":
        return read_only(grad_cam(image, target, layer=f"block{setting}"))
    return read_only(occlusion(image, target, window=setting, stride=max(1, setting // 2)))


def network_ready() -> bool:
    """Whether the trained network loads (weights present and matching the model card); explains why not."""
    from cnn_core.model import ModelError

    try:
        _network()
    except ModelError as error:
        st.error(t("net.unavailable", detail=str(error)), icon=":material/block:")
        return False
    return True


# Per session: an upload never leaves the session that sent it (the README says so); 2 entries: an upload and a photo.
@st.cache_data(max_entries=2, show_spinner=False, scope="session")
def _decode(data: bytes) -> LoadedImage:
    return open_image(data)


def _read_upload(data: bytes, name: str) -> np.ndarray | str:
    """The upload's pixels, or why it cannot be used (in this session's language)."""
    try:
        loaded = _decode(data)
    except ImageError as error:
        return t("picker.bad_file", name=name[:60]) + " " + error.message(current_language())
    if loaded.downscaled:
        width, height = loaded.original_size
        st.caption(t("picker.downscaled", width=width, height=height, new_width=loaded.pixels.shape[1], new_height=loaded.pixels.shape[0]))
    return loaded.pixels


def checked_upload(key: str, widget: str, ask: Callable[..., UploadedFile | None],
                   read: Callable[[bytes, str], T | str]) -> tuple[T | None, str | None]:
    """An upload widget (made by `ask(key=…)`) whose file `read` turns into a value or a refusal (a str, in the
    student's language): (the value, None), or (None, why the last file was refused, None when none was).

    A refused file leaves the widget: the next run makes a fresh one (a new key), which shows no stale file, and the
    refusal is kept under `key` until another file is chosen. The refused file's bytes leave the server's memory at once.
    """
    refused_key, round_key = f"{key}_refused", f"{key}_upload_round"
    rounds = st.session_state.get(round_key, 0)
    file = ask(key=widget + (f"_{rounds}" if rounds else ""))
    if file is not None:
        value = read(file.getvalue(), file.name)
        if not isinstance(value, str):
            st.session_state.pop(refused_key, None)
            return value, None
        ctx = get_script_run_ctx()
        if ctx is not None:
            ctx.uploaded_file_mgr.remove_file(ctx.session_id, file.file_id)
        st.session_state[refused_key] = value
        st.session_state[round_key] = rounds + 1
        st.rerun()  # the fresh widget at once, without the refused file
    return None, st.session_state.get(refused_key)


@by_content(32)
def working_image(pixels: np.ndarray, side: int) -> np.ndarray:
    """resize_to(pixels, side), shared by every rerun and session that asks for it; read-only (the cache's own array)."""
    # Lanczos on a 512-px photo is ~5 ms, the largest single cost of a playground rerun; a rerun reads it from here.
    return read_only(np.array(resize_to(pixels, side)))


def image_picker(key: str, container=st.sidebar) -> np.ndarray | None:
    """An image from the built-in samples, an upload or the camera, as H × W × 3 uint8 (None: nothing usable yet).

    A refused file is said in the sidebar and in the main area (where the page stops for want of an image), and leaves
    the uploader: a fresh one (a new key) shows no stale file, and the message stays until another file is chosen.
    """
    with container:
        source = st.radio(
            t("picker.source"), ("sample", "upload", "camera"), format_func=labels("picker."),
            horizontal=True, key=f"{key}_source",
        )
        if source == "sample":
            st.session_state.pop(f"{key}_refused", None)
            name = st.selectbox(t("picker.sample"), SAMPLES, format_func=labels("sample."), key=f"{key}_sample")
            return sample_image(name)
        if source == "upload":
            ask = partial(st.file_uploader, t("picker.upload"), type=UPLOAD_TYPES, help=t("picker.upload_help"))
        else:
            ask = partial(st.camera_input, t("picker.camera"), help=t("picker.camera_help"))
        read, refused = checked_upload(key, f"{key}_{source}", ask, _read_upload)
        if read is not None:
            return read
        if refused:
            st.error(refused, icon=":material/warning:")
        else:
            st.info(t("picker.waiting"), icon=":material/photo_camera:" if source == "camera" else "📁")
    if refused:
        st.error(t("picker.unusable", reason=refused), icon=":material/broken_image:")
    return None


MAX_LINK_TEXT = 40
_INT = re.compile(r"[+-]?[0-9]{1,9}")
_DECIMAL = re.compile(r"[+-]?([0-9]{1,9}(\.[0-9]{0,9})?|\.[0-9]{1,9})")


@dataclass(frozen=True)
class Setting:
    """How one widget's value is written in a URL and read back, with the values the widget accepts."""

    kind: type  # str, int, float or bool
    options: tuple = ()
    low: float | None = None
    high: float | None = None

    def parse(self, text: str) -> object:
        """The widget value written as `text`; ValueError when the widget would not accept it."""
        # Plain ASCII digits only: int() and float() also take "nan", "1e308", "1_000", " 5" and Arabic-Indic digits.
        if len(text) > MAX_LINK_TEXT or not text.isascii() or (self.kind is str and not self.options):
            raise ValueError(text)
        if self.kind is bool:
            if text not in ("0", "1", "true", "false"):
                raise ValueError(text)
            return text in ("1", "true")
        if self.kind in (int, float) and not (_INT if self.kind is int else _DECIMAL).fullmatch(text):
            raise ValueError(text)
        value = self.kind(text)
        if self.kind is float and not math.isfinite(value):
            raise ValueError(text)
        if self.options and value not in self.options:
            raise ValueError(text)
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ValueError(text)
        return value

    def accepts(self, value: object) -> bool:
        """Whether a link could carry `value` (a typed value outside the widget's range is not written into the link)."""
        try:
            self.parse(self.write(value))
        except (ValueError, TypeError):
            return False
        return True

    def write(self, value: object) -> str:
        """The widget value as URL text."""
        return ("1" if value else "0") if self.kind is bool else str(value)


def set_link_value(key: str, text: str) -> None:
    """`key=text` in the address bar; nothing is sent to the browser when it is already there."""
    if st.query_params.get(key) != text:  # every assignment is a message to the browser, even an unchanged one
        st.query_params[key] = text


LINK_SETTINGS: dict[str, dict[str, Setting]] = {}  # page → its settings in the link, as registered by share_in_url


def share_in_url(page: str, settings: dict[str, Setting]) -> bool:
    """A page's main settings in the URL: taken from it the first time the page runs in a session, then kept in it.

    Call at the top of the page, before its widgets: Streamlit has already put the latest widget values in
    session state, so the URL written here is the one a student would copy. A value the page sets later in the run
    (a click on a map) goes into the link with relink(). True on the run that read the URL.
    """
    LINK_SETTINGS[page] = settings
    loaded = st.session_state.setdefault("_url_loaded", set())
    first = page not in loaded
    if first:
        loaded.add(page)
        for key, setting in settings.items():
            if key in st.query_params:
                try:
                    st.session_state[key] = setting.parse(st.query_params[key])
                except ValueError:
                    st.toast(t("app.bad_url_value", setting=key, value=st.query_params[key][:30]), icon=":material/warning:")
                    del st.query_params[key]  # a copied link must not carry the refused value on
    relink(*settings)
    return first


_MISSING = object()


def relink(*keys: str) -> None:
    """The current values of these shared settings into the address bar (a value the link could not carry is left out)."""
    shared = {key: setting for settings in LINK_SETTINGS.values() for key, setting in settings.items()}
    # One read of the address bar and one of each value: every read through st.session_state or st.query_params looks
    # up the script's context and presents the session state anew, and a page keeps a dozen settings in its link.
    linked, state, changed = st.query_params.to_dict(), st.session_state, {}
    for key in keys:
        setting, value = shared.get(key), state.get(key, _MISSING)
        if setting is not None and value is not _MISSING and setting.accepts(value):
            text = setting.write(value)
            if linked.get(key) != text:
                changed[key] = text
    if changed:  # one message to the browser for all of them (each assignment is one)
        st.query_params.update(changed)


def say_if_page_unknown(pages: list, default: str) -> None:
    """A link to a page that does not exist: say so before the default page opens (Streamlit opens it silently).

    `default` is the default page's own url_path: Streamlit serves that page at "/" and reports its url_path as "",
    so a link to /playground must not be called unknown.
    """
    ctx = get_script_run_ctx()
    manager = ctx.pages_manager if ctx else None
    wanted = (manager.intended_page_name or "").strip("/") if manager and not manager.intended_page_script_hash else ""
    wanted = st.session_state.pop("_wanted_page", None) or wanted  # asked for on a server's first run
    if wanted and wanted not in {page.url_path for page in pages} | {default}:
        st.warning(t("app.unknown_page", page=wanted[:MAX_LINK_TEXT]), icon=":material/explore:")


def bounded_number(where, label: str, low: int, high: int, value: int | None = None, *, key: str, **options) -> int:
    """A whole-number box that takes what is typed and uses it only inside [low, high]; outside, it says why and which
    range is allowed in the student's language, and the page goes on with the last value it accepted.

    The widget itself has no min/max: with them Streamlit would refuse the value in its own English words, in red, while
    the page silently kept the old value. A value the page refuses never reaches the link (relink skips it).
    """
    typed = where.number_input(label, value=value, step=1, key=key, **options)
    # One dict for every box: each key in session state is read by every widget of every rerun (Streamlit's own check).
    accepted = st.session_state.setdefault("_accepted", {})
    if typed is not None and low <= typed <= high:
        accepted[key] = int(typed)
        return int(typed)
    used = accepted.get(key, low if value is None else value)
    shown = t("app.empty_number") if typed is None else num(typed)
    where.error(t("app.out_of_range", label=label, value=shown, low=num(low), high=num(high), used=num(used)), icon=":material/swap_horiz:")
    return int(used)


def presenter_mode() -> bool:
    """The sidebar's presenter toggle (also ?presenter=1): larger text and figures for a projector."""
    share_in_url("app", {"presenter": Setting(bool)})
    on = st.sidebar.toggle(t("app.presenter"), key="presenter", help=t("app.presenter_help"))
    # A formula wider than the screen (a phone, a projector) scrolls with a visible bar instead of running off it.
    st.html("<style>.katex-display { overflow-x: auto; overflow-y: hidden; padding-bottom: 6px; scrollbar-width: thin; }</style>")
    if on:
        # The page already uses the whole width (layout="wide"). Streamlit's theme sets one font size for the whole
        # server (theme.baseFontSize), not per session; its text is sized in rem, so the root's size scales it all.
        st.html("<style>html { font-size: 22px; }</style>")
    return on


_PER_SESSION = BoundedCache(1024)  # a class of 60 in two languages many times over; small objects


def per_session(build, *key: object):
    """build() made once per session and `key`, then the same object on every rerun of that session.

    For objects a session may reuse but must not share with another (Streamlit's pages carry per-run state).
    """
    ctx = get_script_run_ctx()
    if ctx is None:
        return build()
    full = (ctx.session_id, build.__module__, build.__qualname__, *key)
    value = _PER_SESSION.get(full)
    if value is None:
        value = build()
        _PER_SESSION.put(full, value)
    return value


def _chart_config(key: str) -> dict:
    """Plotly's mode bar with its "download as PNG" button alone: students keep what they made, nothing else distracts."""
    return {"displayModeBar": "hover", "modeBarButtons": [["toImage"]], "displaylogo": False,
            "toImageButtonOptions": {"filename": key, "scale": 2}}


class _Prepared(go.Figure):
    """A figure as it is sent: its dict, made once.

    st.plotly_chart calls to_dict() on every rerun, a deep copy of the figure with its arrays turned into base64 (5 ms
    for the playground's input, most of what drawing a figure costs); a shared figure never changes, so neither does
    its dict. The dict is read, never modified, by plotly.io.to_json and Streamlit.
    """

    def __init__(self, sent: dict) -> None:
        # Only to_dict() is ever read: the figure is not kept twice. An empty template: Plotly's default costs 1 ms to load.
        super().__init__({"layout": {"template": {}}}, _validate=False)
        self._sent = sent

    def to_dict(self) -> dict:
        return self._sent


# Plotly never wraps a title: one longer than its chart is cut at both ends. Characters a title line may hold in the
# narrowest chart it gets (a third of a laptop screen, a phone, a third of a projector with the presenter's larger font).
TITLE_CHARACTERS = {False: 36, True: 26}


def wrap_title(text: str, width: int) -> str:
    """`text` with <br> between words so that no line shows more than `width` characters (tags do not count)."""
    lines = []
    for line in re.split(r"<br\s*/?>", text):
        current, shown = "", 0
        for word in line.split(" "):
            length = len(re.sub(r"<[^>]+>", "", word))
            if current and shown + 1 + length > width:
                lines.append(current)
                current, shown = word, length
            else:
                current, shown = (f"{current} {word}", shown + 1 + length) if current else (word, length)
        lines.append(current)
    return "<br>".join(lines)


def _restyled(figure: go.Figure, separators: str, presenter: bool) -> tuple[_Prepared, str | None]:
    """The figure as sent, with Plotly's separators of the session's language, its title wrapped to fit, larger in
    presenter mode; and its title as plain text. The figure itself is not changed (ui.figures shares it between sessions).
    """
    sent = figure.to_dict()  # a deep copy: what st.plotly_chart would send, changed here instead of copying the figure
    layout = sent.setdefault("layout", {})
    # Plotly's own numbers (ticks, hover, %{x:.2f}) as the language writes them; unset is Plotly's ".," (English)
    if layout.get("separators", SEPARATORS["en"]) != separators:
        layout["separators"] = separators
    title = layout.get("title", {}).get("text") if isinstance(layout.get("title"), dict) else None
    if title:
        wrapped = wrap_title(title, TITLE_CHARACTERS[presenter])  # a wrapped title wraps to itself
        extra = wrapped.count("<br>") - title.count("<br>")
        layout["title"]["text"] = wrapped
        if extra > 0 and layout.get("margin", {}).get("t") is not None:  # room above the plot for the added lines
            layout["margin"]["t"] += extra * (30 if presenter else 22)
    if presenter:
        layout.setdefault("font", {})["size"] = 20
        if layout.get("height"):
            layout["height"] = int(layout["height"] * 1.3)
    plain = re.sub(r"<[^>]+>", " ", str(title or "")).strip() or None
    return _Prepared(sent), plain


def plot(figure, key: str, where=None, alt: str | None = None, **options):
    """st.plotly_chart (in `where`, a column or container) with a PNG download, numbers in the session's language, larger
    in presenter mode.

    `alt`: what the chart shows, for screen readers (translated); without it, the figure's title.
    """
    separators, presenter = SEPARATORS[current_language()], bool(st.session_state.get("presenter"))
    if getattr(figure, "_course_shared", False):  # from ui.figures' cache: prepared once per language and view
        prepared = figure.__dict__.setdefault("_course_prepared", {})
        if (separators, presenter) not in prepared:
            prepared[separators, presenter] = _restyled(figure, separators, presenter)
        sent, title = prepared[separators, presenter]
    else:
        sent, title = _restyled(figure, separators, presenter)
    return (where or st).plotly_chart(sent, key=key, config=_chart_config(key), alt=alt or title, **options)


def latex_number(value: float, operand: bool = True) -> str:
    """A number for LaTeX in this session's language: 4 significant digits, powers of ten as such, a negative operand in ()."""
    text = num(value)
    if "E" in text:
        mantissa, exponent = text.split("E")
        text = rf"{mantissa} \times 10^{{{exponent}}}"
    text = text.replace(",", "{,}").replace("\u2212", "-")  # {,}: LaTeX would space a bare comma as punctuation
    return f"({text})" if operand and value < 0 else text


def index_ranges(indices: tuple[int, ...]) -> str:
    """1, 2, 3, 7 → '1–3, 7'."""
    parts, start = [], None
    for i, value in enumerate(indices):
        start = value if start is None else start
        if i + 1 == len(indices) or indices[i + 1] != value + 1:
            parts.append(str(start) if start == value else f"{start}–{value}")
            start = None
    return ", ".join(parts)


def take_click(chart: str, prefix: str, shape: tuple[int, int]) -> None:
    """Move `prefix`_row/_col to a new click on the map drawn with key `chart`, and keep them inside a map of `shape`."""
    event = st.session_state.get(chart)
    points = event.selection.points if event and event.get("selection") else []
    if points and "x" in points[0] and "y" in points[0]:
        clicked = (int(round(points[0]["y"])), int(round(points[0]["x"])))
        if clicked != st.session_state.get(f"{prefix}_clicked"):  # a selection stays in the event until the next click
            st.session_state[f"{prefix}_clicked"] = clicked
            st.session_state[f"{prefix}_row"], st.session_state[f"{prefix}_col"] = clicked
    keep_pixel(prefix, shape)


def keep_pixel(prefix: str, shape: tuple[int, int]) -> tuple[int, int]:
    """`prefix`_row/_col inside a map of `shape` (the centre at first), and in the link: the page's top, which keeps
    the link, ran before a click moved them."""
    for axis, name in enumerate((f"{prefix}_row", f"{prefix}_col")):
        st.session_state[name] = min(max(int(st.session_state.get(name, shape[axis] // 2)), 0), shape[axis] - 1)
    relink(f"{prefix}_row", f"{prefix}_col")
    return st.session_state[f"{prefix}_row"], st.session_state[f"{prefix}_col"]
