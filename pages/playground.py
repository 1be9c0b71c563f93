"""Convolution playground: an image, a kernel, stride and padding, and every number behind the feature map."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnn_core import (
    KERNELS,
    InputError,
    SizeSteps,
    convolve,
    explain_output_pixel,
    get_kernel,
    parse_kernel,
    parse_kernel_text,
    same_padding,
    size_steps,
    to_grayscale,
)
from cnn_core.images import SAMPLES
from cnn_core.kernels import MAX_KERNEL_SIZE, RESIZABLE, kernel_text_cells
from cnn_core.layer import window_span
from ui import (
    Setting,
    bounded_number,
    image_picker,
    index_ranges,
    labels,
    latex_number,
    matrix_figure,
    num,
    plot,
    relink,
    set_link_value,
    share_in_url,
    show_error,
    t,
    working_image,
)
from ui.caching import by_content, read_only
from ui.common import current_language
from ui.downloads import array_download
from ui.figures import window_figure
from ui.pixelmap import frame, map_image, pixel_map, pixel_picture, rgb_image

RESOLUTIONS = (64, 96, 128, 192, 256, 384, 512)
CHANNELS = ("R", "G", "B")
CELLS = "pg_cells"  # the custom kernel in the link
MAX_MAP = max(RESOLUTIONS) + 2 * 64  # the largest feature map: 1×1 kernel, stride 1, the largest padding


def _apply_same(shape: tuple[int, int]) -> None:
    """Button callback: the padding that keeps the size (stride 1), or why there is none."""
    st.session_state.pg_same_error = None
    try:
        if shape[0] != shape[1]:
            raise InputError("err.same_not_square", rows=shape[0], cols=shape[1])
        st.session_state.pg_padding = same_padding(shape[0], st.session_state.get("pg_dilation", 1))
        st.session_state.pg_stride = 1
    except InputError as error:
        st.session_state.pg_same_error = error


def _starting_cells(rows: int, cols: int, start: str) -> list[list[str]]:
    """The editor's cells for a new size: the cells typed before wherever they still fit, else the preset (or 0)."""
    base = np.zeros((rows, cols))
    if start != "zeros":
        preset = get_kernel(start, 3)
        r0, c0 = (rows - 3) // 2, (cols - 3) // 2
        rs, cs = slice(max(r0, 0), min(r0 + 3, rows)), slice(max(c0, 0), min(c0 + 3, cols))
        base[rs, cs] = preset[rs.start - r0 : rs.stop - r0, cs.start - c0 : cs.stop - c0]
    cells = [[f"{v:.4g}" for v in row] for row in base]
    typed_from, typed = st.session_state.get("pg_typed", (None, []))
    if typed_from == start:  # a new preset replaces the typed cells; a new size keeps them
        for r, row in enumerate(typed[:rows]):
            cells[r][: min(len(row), cols)] = row[:cols]
    return cells


def _custom_kernel() -> np.ndarray | None:
    """The kernel the student types cell by cell (numbers, 0,5 or fractions like 1/9)."""
    c1, c2, c3 = st.columns(3)
    rows = int(c1.number_input(t("pg.rows"), 1, MAX_KERNEL_SIZE, 3, key="pg_rows"))
    cols = int(c2.number_input(t("pg.cols"), 1, MAX_KERNEL_SIZE, 3, key="pg_cols"))
    start = c3.selectbox(t("pg.start_from"), ("zeros",) + KERNELS, format_func=labels("kernel."), key="pg_start")
    how = st.radio(t("pg.custom_input"), ("table", "text"), format_func=labels("pg.custom_"), horizontal=True, key="pg_custom_how")
    if st.session_state.get("pg_editor_for") != (rows, cols, start, how):  # a fresh editor (its own key) for a new size
        st.session_state.pg_editor_for = (rows, cols, start, how)
        st.session_state.pg_editor_cells = _starting_cells(rows, cols, start)
        st.session_state.pg_editor_id = st.session_state.get("pg_editor_id", 0) + 1
    cells, editor = st.session_state.pg_editor_cells, st.session_state.pg_editor_id
    st.caption(t("pg.custom_help"))
    try:
        if how == "text":
            text = st.text_area(t("pg.custom_text_label"), "\n".join(" ".join(row) for row in cells),
                                key=f"pg_text_{editor}", height=max(68, 40 + 24 * rows))
            st.session_state.pg_typed = (start, kernel_text_cells(text))
            return parse_kernel_text(text)
        table = pd.DataFrame(cells, columns=[str(c) for c in range(cols)])  # 0-based, as the figures' indices
        edited = st.data_editor(
            table, key=f"pg_editor_{editor}", width="content",
            column_config={c: st.column_config.TextColumn(c, width="small") for c in table.columns},
        )
        typed = edited.to_numpy(dtype=object).tolist()
        st.session_state.pg_typed = (start, [["" if v is None else str(v) for v in row] for row in typed])
        return parse_kernel(typed)
    except InputError as error:
        show_error(error)
        return None


def _cells_text(kernel: np.ndarray) -> str:
    """A custom kernel for the link: rows joined by '|', cells by ',', each number exact (1/9 stays 1/9 to the last bit)."""
    return "|".join(",".join(f"{v:g}" if float(f"{v:g}") == v else repr(float(v)) for v in row) for row in kernel)


def _load_cells(text: str) -> None:
    """Open the custom kernel of a link in the text editor, or say that the link's kernel is not valid."""
    try:
        kernel = parse_kernel([row.split(",") for row in text.split("|")])
    except InputError:
        st.toast(t("app.bad_url_value", setting=CELLS, value=text[:30]), icon=":material/warning:")
        return
    rows, cols = kernel.shape
    st.session_state.update(pg_rows=rows, pg_cols=cols, pg_start="zeros", pg_custom_how="text", pg_editor_for=None,
                            pg_typed=("zeros", [row.split(",") for row in text.split("|")]))


def _size_formula(steps: SizeSteps, symbol: str) -> str:
    """The lecture's formula with the student's numbers, one step a line: a long line was cut off on a projector or phone."""
    lecture = rf"{symbol} &= \frac{{m - k + 2p}}{{s}} + 1"
    numbers = rf"&= \frac{{{steps.m} - {steps.k} + 2 \cdot {steps.p}}}{{{steps.s}}} + 1 = \frac{{{steps.numerator}}}{{{steps.s}}} + 1"
    if steps.exact:
        lines = [lecture, numbers, rf"&= {steps.quotient} + 1 = {steps.output}"]
    else:
        quotient = latex_number(steps.numerator / steps.s)
        floor = rf"&\rightarrow\; \left\lfloor \frac{{{steps.numerator}}}{{{steps.s}}} \right\rfloor + 1 = \lfloor {quotient} \rfloor + 1"
        lines = [lecture, numbers, floor, rf"&= {steps.quotient} + 1 = {steps.output}"]
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def _arithmetic(steps: dict[str, SizeSteps], computed: tuple[int, int], dilation: int = 1, kernel: tuple[int, int] = (0, 0)) -> None:
    """The lecture's formula with the student's numbers, the floor, and what the kernel never reaches."""
    same = steps["rows"] == steps["cols"]
    for axis, s in steps.items():
        if same and axis == "cols":
            break
        label = t("pg.axis_both") if same else t(f"pg.axis_{axis}")
        # One element for the numbers and their formulas (Streamlit typesets $$…$$ in markdown): every element is work for
        # every rerun of every student.
        parts = [f"**{label}** · m = {s.m}, k = {s.k}, p = {s.p}, s = {s.s}" + (f", d = {dilation}" if dilation > 1 else "")]
        if dilation > 1:  # the lecture's formula with k = the dilated span, beside the general one
            k = kernel[0 if axis == "rows" else 1]
            parts += [t("pg.general_formula"),
                      "$$\n" rf"o = \left\lfloor \frac{{m + 2p - d(k-1) - 1}}{{s}} \right\rfloor + 1 = \left\lfloor \frac{{{s.m} + 2 \cdot {s.p} - "
                      rf"{dilation} \cdot {k - 1} - 1}}{{{s.s}}} \right\rfloor + 1 = {s.output}, \quad k = d(k_0 - 1) + 1 = {s.k}" "\n$$"]
        parts.append(f"$$\n{_size_formula(s, 'o')}\n$$")  # as st.latex writes it
        st.markdown("\n\n".join(parts))
        if not s.exact:
            st.warning(t("pg.floor_note", numerator=s.numerator, s=s.s, remainder=s.remainder), icon=":material/content_cut:")
        if s.s > s.k:
            st.info(t("pg.stride_gaps", s=s.s, k=s.k), icon=":material/grid_off:")
        notes = ([t(f"pg.unreached_{axis}", which=index_ranges(s.unreached), count=len(s.unreached))] if s.unreached else []) + (
            [t("pg.unreached_padding", count=s.unreached_padding)] if s.unreached_padding else [])
        if notes:
            st.markdown("\n\n".join(notes))
    expected = (steps["rows"].output, steps["cols"].output)
    if expected == computed:
        st.success(t("pg.shape_check", rows=computed[0], cols=computed[1]), icon=":material/check_circle:")
    else:  # would be a bug in cnn_core; shown rather than hidden
        st.error(t("pg.shape_mismatch", rows=computed[0], cols=computed[1], erows=expected[0], ecols=expected[1]))


def _impossible(image_shape: tuple[int, int], kernel_shape: tuple[int, int], stride: int, padding: int) -> None:
    """The lecture's formula on numbers that give no output: why nothing fits."""
    for m, k in zip(image_shape, kernel_shape):
        numerator = m - k + 2 * padding
        if numerator < 0:
            st.latex(rf"\frac{{m - k + 2p}}{{s}} + 1 = \frac{{{m} - {k} + 2 \cdot {padding}}}{{{stride}}} + 1 = "
                     rf"\frac{{{numerator}}}{{{stride}}} + 1 \;<\; 1")
            break


def _inspector(image: np.ndarray, kernel: np.ndarray, stride: int, padding: int, fmap: np.ndarray, channel: int, dilation: int = 1) -> None:
    """The receptive field of the chosen output pixel, the kernel, the products and their sum."""
    rows, cols = fmap.shape[:2]
    boxes = st.container(horizontal=True)  # side by side, one block (columns are three), each box half the row
    row = int(boxes.number_input(t("pg.out_row"), 0, rows - 1, key="pg_row"))
    col = int(boxes.number_input(t("pg.out_col"), 0, cols - 1, key="pg_col"))
    ex = explain_output_pixel(image, kernel, row, col, stride, padding, dilation)
    window = ex.window[:, :, channel]
    padded_cells = int(ex.is_padding.sum())
    st.markdown(t(
        "pg.receptive_field", row=row, col=col, r0=ex.top, r1=ex.top + dilation * (kernel.shape[0] - 1),
        c0=ex.left, c1=ex.left + dilation * (kernel.shape[1] - 1), padded=padded_cells,
    ))
    if dilation > 1:
        span, taps, pad = window_span(image[:, :, channel] if image.ndim == 3 else image, ex.top, ex.left, kernel.shape, dilation)
        plot(window_figure(span[0], taps, pad, t("pg.span_title", span=span.shape[1], d=dilation)), "pg_span")
    # Three figures in columns, not one: columns stack on a phone, and each title grows with the presenter view.
    w_col, k_col, p_col = st.columns(3)
    plot(matrix_figure(window, t("pg.window"), marked=ex.is_padding, mark=" ᵖ", decimals=4, lang=current_language()), "pg_window", w_col)
    plot(matrix_figure(kernel, "⊙ " + t("pg.kernel_matrix"), decimals=4, lang=current_language()), "pg_window_kernel", k_col)
    plot(matrix_figure(ex.products[:, :, channel], "= " + t("pg.products"), decimals=4, lang=current_language()), "pg_products", p_col)
    total = float(ex.sums[channel])
    terms = [f"({num(w)})·({num(x)})" for w, x in zip(kernel.ravel(), window.ravel())]
    if len(terms) <= 25:
        st.code(" + ".join(terms) + f"\n= {num(total, significant=6)}", language=None, wrap_lines=True)
    value = float(fmap[row, col, channel] if fmap.ndim == 3 else fmap[row, col])
    # Equal in the tests; isclose only guards display.
    verdict = ":material/check_circle:" if np.isclose(value, total, rtol=1e-6, atol=1e-9) else ":material/cancel:"
    st.markdown(t("pg.sum_check", total=num(total, significant=6), value=num(value, significant=6), row=row, col=col, verdict=verdict))


@by_content(16)
def _gray_levels(working: np.ndarray) -> np.ndarray:
    """The working image in whole gray levels, once per image: the same read-only array on every rerun, whose digest the
    caches below remember."""
    return read_only(np.rint(to_grayscale(working)).astype(np.uint8))


@by_content(64)
def _feature_map(image: np.ndarray, kernel: np.ndarray, stride: int, padding: int, dilation: int) -> np.ndarray:
    """convolve(...), computed once for every student who follows the same link; read-only (the cache's own array)."""
    return read_only(convolve(image, kernel, stride, padding, dilation))


linked = share_in_url("playground", {
    "pg_sample": Setting(str, SAMPLES), "pg_mode": Setting(str, ("gray", "rgb")), "pg_side": Setting(int, RESOLUTIONS),
    "pg_kernel": Setting(str, KERNELS + ("custom",)), "pg_ksize": Setting(int, tuple(range(1, MAX_KERNEL_SIZE + 1, 2))),
    "pg_sigma": Setting(float, low=0.1, high=5.0), "pg_stride": Setting(int, low=1, high=64), "pg_padding": Setting(int, low=0, high=64),
    "pg_channel": Setting(str, CHANNELS + ("all",)), "pg_inspect_channel": Setting(str, CHANNELS), "pg_dilation": Setting(int, low=1, high=8),
    "pg_row": Setting(int, low=0, high=MAX_MAP - 1), "pg_col": Setting(int, low=0, high=MAX_MAP - 1),
})
if linked and CELLS in st.query_params:
    _load_cells(st.query_params[CELLS])
st.title(t("pg.title"))
st.markdown(t("pg.intro"))

with st.sidebar:
    st.header(t("pg.image_header"))
pixels = image_picker("pg")
with st.sidebar:
    mode = st.radio(t("pg.mode"), ("gray", "rgb"), format_func=labels("pg.mode_"), horizontal=True, key="pg_mode")
    side = st.select_slider(t("pg.resolution"), RESOLUTIONS, value=256, key="pg_side", help=t("pg.resolution_help"))
    st.header(t("pg.kernel_header"))
    name = st.selectbox(t("pg.kernel"), KERNELS + ("custom",), index=KERNELS.index("sobel_x"), format_func=labels("kernel."),
                        key="pg_kernel")
    size, sigma = 3, 1.0
    if name in RESIZABLE:
        size = st.select_slider(t("pg.kernel_size"), tuple(range(1, MAX_KERNEL_SIZE + 1, 2)), value=3, key="pg_ksize")
    if name == "gaussian":
        sigma = st.slider(t("pg.sigma"), 0.1, 5.0, 1.0, 0.1, key="pg_sigma")

st.header(t("pg.kernel_header"))
kernel = _custom_kernel() if name == "custom" else get_kernel(name, size, sigma)
if name == "custom" and kernel is not None:
    set_link_value(CELLS, _cells_text(kernel))
else:
    st.query_params.pop(CELLS, None)
if kernel is not None:
    k1, k2 = st.columns([1, 2])
    plot(matrix_figure(kernel, t("pg.kernel_shape", rows=kernel.shape[0], cols=kernel.shape[1]), lang=current_language()), "pg_kernel_fig", k1,
         alt=t("alt.pg_kernel", rows=kernel.shape[0], cols=kernel.shape[1]))
    k2.markdown(t(f"kernel_desc.{name}"))
    k2.caption(t("pg.kernel_sum", total=num(kernel.sum())) + " " + t("pg.cross_correlation"))

with st.sidebar:
    st.header(t("pg.stride_padding"))
    stride = bounded_number(st, t("pg.stride"), 1, 64, 1, key="pg_stride", help=t("pg.stride_help"))
    padding = bounded_number(st, t("pg.padding"), 0, 64, 0, key="pg_padding", help=t("pg.padding_help"))
    dilation = bounded_number(st, t("pg.dilation"), 1, 8, 1, key="pg_dilation", help=t("pg.dilation_help"))
    st.button(t("pg.same"), on_click=_apply_same, args=(kernel.shape if kernel is not None else (0, 0),),
              disabled=kernel is None, help=t("pg.same_help"), key="pg_same")
    if st.session_state.get("pg_same_error"):
        show_error(st.session_state.pg_same_error)

if pixels is None:
    st.stop()
working = working_image(pixels, side)
# Whole gray levels, as a grayscale photo stores them: the hover over the input (read from its PNG) and the inspector's
# window show the same numbers.
image = _gray_levels(working) if mode == "gray" else working

fmap = steps = error = None
if kernel is not None:
    try:
        steps = {"rows": size_steps(image.shape[0], kernel.shape[0], stride, padding, dilation),
                 "cols": size_steps(image.shape[1], kernel.shape[1], stride, padding, dilation)}
        fmap = _feature_map(image, kernel, stride, padding, dilation)
    except InputError as caught:
        error = caught

# The formula first, outside the fragment below: a click on the feature map does not change it, so it is not resent.
if steps is not None:
    st.header(t("pg.arith_header"))
    _arithmetic(steps, fmap.shape[:2], dilation, kernel.shape)

st.header(t("pg.result_header"))
channel = 0
if fmap is not None and fmap.ndim == 3:
    view = st.radio(t("pg.channel"), CHANNELS + ("all",), format_func=labels("pg.channel_"),
                    horizontal=True, key="pg_channel")
    st.info(t("pg.rgb_depthwise"), icon=":material/info:")
    st.page_link("pages/conv_layer.py", label=t("pg.conv_layer_link"), icon=":material/view_module:")
    channel = CHANNELS.index(view) if view in CHANNELS else 0
else:
    view = "gray"


@st.fragment
def _results(image: np.ndarray, kernel: np.ndarray | None, stride: int, padding: int, fmap: np.ndarray | None,
             error: InputError | None, steps: dict[str, SizeSteps] | None, view: str, channel: int, dilation: int = 1) -> None:
    """Input, feature map and inspector: a click on the map or a new row/column reruns only this part of the page."""
    left, right = st.columns(2)
    window = None
    if error is not None:
        with right:
            show_error(error)
            _impossible(image.shape[:2], tuple(dilation * (k - 1) + 1 for k in kernel.shape), stride, padding)
    elif fmap is None:
        right.info(t("pg.fix_kernel"))
    else:  # the map before the input: a click on it, read as the map is drawn, moves the input's frame too
        title = t("pg.map_title", rows=fmap.shape[0], cols=fmap.shape[1])
        right.markdown(f"**{title}**")
        alt = t("alt.pg_map", rows=fmap.shape[0], cols=fmap.shape[1])
        # The map's 8-bit indices as one PNG, coloured in the browser, not a Plotly heatmap with a click marker on every
        # pixel (half a megabyte a rerun); the hover reads each pixel's value back from its index.
        if view == "all":  # clickable as the one-channel map is: the inspector explains the channel chosen below
            r, c = pixel_map(rgb_image(fmap), "pg_rgb", "pg", alt, right)
            right.caption(t("pg.clipped_note") + "  \n" + t("dl.map_caption"))
        else:
            picture = map_image(fmap[:, :, channel] if fmap.ndim == 3 else fmap)
            r, c = pixel_map(picture, "pg_fmap", "pg", alt, right)
            low, high = picture.lows[0], picture.highs[0]
            scale = t("pg.map_scale_signed" if picture.signed else "pg.map_scale", low=num(low), high=num(high))
            right.caption(scale + (" " + t("pg.signed_note") if picture.signed else "") + "  \n" + t("dl.map_caption"))
        # A student keeps the map shown (one channel, or all three as one line per pixel): the caption's last line says so.
        array_download(fmap if view == "all" or fmap.ndim == 2 else fmap[:, :, channel], f"feature_map_{name}_{view}", right)
        window = (r * stride - padding, c * stride - padding, dilation * (kernel.shape[0] - 1) + 1, dilation * (kernel.shape[1] - 1) + 1)

    left.markdown(f"**{t('pg.input_title', rows=image.shape[0], cols=image.shape[1])}**")
    # The image itself, once: a new stride, padding or pixel resends only the frames and the padding around it.
    pixel_picture(image, "pg_input", t("alt.pg_input", rows=image.shape[0], cols=image.shape[1]),
                  padding=padding if fmap is not None else 0, window=window, where=left,
                  framed=() if window is None else (frame("pg_rgb" if view == "all" else "pg_fmap", (r, c, 1, 1)),))

    if steps is not None:
        st.header(t("pg.inspector_header"))
        st.caption(t("pg.inspector_help"))
        if view == "all":  # three values per pixel: the inspector explains one channel at a time, chosen here
            inspected = st.radio(t("pg.inspector_channel_choice"), CHANNELS, format_func=labels("pg.channel_"), horizontal=True,
                                 key="pg_inspect_channel")
            channel = CHANNELS.index(inspected)
            relink("pg_inspect_channel")  # a fragment rerun: the page's top, which keeps the link, did not run
        if fmap.ndim == 3:
            st.markdown(t("pg.inspector_channel", channel=t(f"pg.channel_{CHANNELS[channel]}")))
        _inspector(image, kernel, stride, padding, fmap, channel, dilation)


_results(image, kernel, stride, padding, fmap, error, steps, view, channel, dilation)
