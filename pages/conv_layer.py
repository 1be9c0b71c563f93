"""Inside a convolutional layer: C input channels, n filters of k×k×C, a bias each, an activation, n maps."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnn_core import InputError, conv_transpose_output_size, parse_kernel_text, size_steps, to_grayscale
from cnn_core.i18n import format_number, translate
from cnn_core.images import SAMPLES
from cnn_core.layer import (
    FILTER_PRESETS,
    conv_layer,
    equivariance,
    explain_layer_output,
    layer_counts,
    normalise_like_network,
    preset_filters,
    sliding_steps,
    transpose_steps,
    window_span,
)
from cnn_core.model import ModelError
from ui import (
    Setting,
    image_figure,
    image_picker,
    labels,
    latex_number,
    map_figure,
    num,
    pct,
    plot,
    product_figure,
    set_link_value,
    share_in_url,
    show_error,
    t,
    take_click,
    working_image,
)
from ui.common import current_language
from ui.figures import animation_figure, tiles_figure, window_figure

SIDES = (16, 24, 32, 48, 64)
ACTS = ("none", "relu", "gelu", "sigmoid", "tanh")
CHANNEL_NAMES = {1: ("gray",), 3: ("R", "G", "B")}
MAX_STEPS_CELLS = 60_000  # frames × grid cells of the animation: keeps its JSON to a few hundred kB

share_in_url("conv_layer", {
    "cl_input": Setting(str, ("image", "volume")), "cl_sample": Setting(str, SAMPLES), "cl_side": Setting(int, SIDES),
    "cl_color": Setting(str, ("rgb", "gray")), "cl_vh": Setting(int, low=4, high=8), "cl_vw": Setting(int, low=4, high=8),
    "cl_vc": Setting(int, (1, 3)), "cl_preset": Setting(str, FILTER_PRESETS), "cl_n": Setting(int, low=1, high=8),
    "cl_k": Setting(int, low=1, high=5), "cl_stride": Setting(int, low=1, high=4), "cl_padding": Setting(int, low=0, high=4),
    "cl_dilation": Setting(int, low=1, high=4), "cl_act": Setting(str, ACTS), "cl_filter": Setting(int, low=1, high=64),
    "cl_row": Setting(int, low=0), "cl_col": Setting(int, low=0), "cl_dy": Setting(int, low=-4, high=4),
    "cl_dx": Setting(int, low=-4, high=4), "cl_amode": Setting(str, ("conv", "transpose")),
    "cl_am": Setting(int, low=3, high=9), "cl_ak": Setting(int, low=1, high=5), "cl_as": Setting(int, low=1, high=4),
    "cl_ap": Setting(int, low=0, high=3), "cl_ad": Setting(int, low=1, high=3), "cl_tm": Setting(int, low=2, high=5),
    "cl_tk": Setting(int, low=1, high=4), "cl_ts": Setting(int, low=1, high=3), "cl_tp": Setting(int, low=0, high=3),
    "cl_td": Setting(int, low=1, high=2), "cl_top": Setting(int, low=0, high=2),
})


def plain(value: float) -> str:
    """A number for a text box the student edits: the session's decimal sign, no thousands separator."""
    return format_number(value, current_language(), significant=6, grouping=False).replace("\u2212", "-")


def separators() -> str:
    """Plotly's decimal and thousands separators for this session's language."""
    return ",." if current_language() == "es" else ".,"


def matrix_text(matrix: np.ndarray) -> str:
    return "\n".join(" ".join(plain(v) for v in row) for row in matrix)


def _volume() -> np.ndarray | None:
    """The small numeric volume the student types, one text box per channel (H×W×C)."""
    c1, c2, c3 = st.columns(3)
    rows = int(c1.number_input(t("cl.vol_rows"), 4, 8, 5, key="cl_vh"))
    cols = int(c2.number_input(t("cl.vol_cols"), 4, 8, 5, key="cl_vw"))
    channels = int(c3.radio(t("cl.vol_channels"), (1, 3), index=1, horizontal=True, key="cl_vc"))
    start = np.random.default_rng(0).integers(0, 10, (channels, rows, cols))
    st.caption(t("cl.vol_help"))
    planes, boxes = [], st.columns(channels)
    for c, box in enumerate(boxes):
        name = t(f"cl.channel_{CHANNEL_NAMES[channels][c]}")
        text = box.text_area(name, matrix_text(start[c]), key=f"cl_vol_{rows}_{cols}_{channels}_{c}", height=40 + 26 * rows)
        try:
            plane = parse_kernel_text(text)
        except InputError as error:
            with box:
                show_error(error)
            return None
        if plane.shape != (rows, cols):
            box.error(t("cl.vol_shape", name=name, rows=rows, cols=cols, got_rows=plane.shape[0], got_cols=plane.shape[1]), icon=":material/warning:")
            return None
        planes.append(plane)
    return np.stack(planes, axis=-1)


def _edit_filters(weights: np.ndarray, bias: np.ndarray, ident: str, channel_names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The bank with the student's edits: each filter's channel slices and bias, typed cell by cell (kept in the session)."""
    edits = st.session_state.setdefault("cl_edits", {})
    weights, bias = weights.copy(), bias.copy()
    for (key_ident, f), (w, b) in edits.items():
        if key_ident == ident and f < len(bias):
            weights[f], bias[f] = w, b
    with st.expander(t("cl.edit_header")):
        lang = current_language()  # bound now: Streamlit may call format_func outside this script run
        f = int(st.selectbox(t("cl.edit_which"), range(len(bias)), format_func=lambda i: translate("cl.filter_n", lang, f=i + 1),
                             key="cl_edit_f"))
        boxes = st.columns(len(channel_names) + 1)
        new_w, new_b, ok, changed = weights[f].copy(), float(bias[f]), True, False
        for c, box in enumerate(boxes[:-1]):
            shown = matrix_text(weights[f, c])
            text = box.text_area(t("cl.slice", ch=t(f"cl.channel_{channel_names[c]}")), shown,
                                 key=f"cl_w_{ident}_{f}_{c}", height=40 + 26 * weights.shape[2])
            if text == shown:  # shown to 6 digits: an untouched slice keeps its exact weights
                continue
            changed = True
            try:
                plane = parse_kernel_text(text)
                if plane.shape != weights.shape[2:]:
                    raise InputError("err.layer_slice_shape", rows=weights.shape[2], cols=weights.shape[3],
                                     got_rows=plane.shape[0], got_cols=plane.shape[1])
                new_w[c] = plane
            except InputError as error:
                ok = False
                with box:
                    show_error(error)
        text = boxes[-1].text_input(t("cl.bias_of", f=f + 1), plain(bias[f]), key=f"cl_b_{ident}_{f}")
        if text != plain(bias[f]):
            changed = True
            try:
                new_b = float(parse_kernel_text(text)[0, 0]) if text.strip() else 0.0
            except InputError as error:
                ok = False
                with boxes[-1]:
                    show_error(error)
        if ok and changed:
            edits[(ident, f)] = (new_w, new_b)
            weights[f], bias[f] = new_w, new_b
        if any(key_ident == ident for key_ident, _ in edits) and st.button(t("cl.edit_reset"), key="cl_edit_reset"):
            for key in [key for key in edits if key[0] == ident]:
                del edits[key]
            for key in [key for key in st.session_state if str(key).startswith((f"cl_w_{ident}_", f"cl_b_{ident}_"))]:
                del st.session_state[key]
            st.rerun()
    return weights, bias


def _formula(axis_label: str, m: int, k: int, p: int, s: int, d: int) -> None:
    """The general formula beside the lecture's, with the student's numbers."""
    steps = size_steps(m, k, s, p, d)
    st.markdown(f"**{axis_label}** · m = {m}, k = {k}, p = {p}, s = {s}, d = {d}")
    general = (rf"o = \left\lfloor \frac{{m + 2p - d(k-1) - 1}}{{s}} \right\rfloor + 1 = \left\lfloor \frac{{{m} + 2 \cdot {p} - "
               rf"{d} \cdot {k - 1} - 1}}{{{s}}} \right\rfloor + 1 = {steps.quotient} + 1 = {steps.output}")
    st.latex(general)
    lecture = (rf"k_{{\text{{eff}}}} = d(k-1)+1 = {steps.k}:\quad \frac{{m - k_{{\text{{eff}}}} + 2p}}{{s}} + 1 = "
               rf"\frac{{{m} - {steps.k} + 2 \cdot {p}}}{{{s}}} + 1")
    floored = rf" \;\rightarrow\; \lfloor {latex_number(steps.numerator / s, False)} \rfloor + 1 = {steps.output}"
    st.latex(lecture + (rf" = {steps.output}" if steps.exact else floored))
    if d == 1:
        st.caption(t("cl.formula_d1"))


@st.fragment
def _inspect_value(volume: np.ndarray, weights: np.ndarray, bias: np.ndarray, post: np.ndarray, f: int, stride: int,
                   padding: int, dilation: int, activation: str | None, act_name: str, names: tuple[str, ...]) -> None:
    """The chosen value's window ⊙ slice per channel, partial sums, bias and activation: a click reruns only this part."""
    rows, cols = post.shape[1:]
    c2, c3 = st.columns(2)
    channels = volume.shape[2]
    take_click("cl_map", "cl", (rows, cols))
    row = int(c2.number_input(t("cl.out_row"), 0, rows - 1, key="cl_row"))
    col = int(c3.number_input(t("cl.out_col"), 0, cols - 1, key="cl_col"))
    left, right = st.columns([2, 3])
    plot(map_figure(post[f], t("cl.map_title", f=f + 1, rows=rows, cols=cols), t("cl.hover_click"), selected=(row, col),
                    height=340), "cl_map", left, on_select="rerun", selection_mode="points")
    ex = explain_layer_output(volume, weights, bias, f, row, col, stride, padding, dilation, activation)
    with right:
        st.markdown(t("cl.inspect_intro", f=f + 1, row=row, col=col, top=ex.top, left=ex.left, span=ex.span[0], d=dilation))
        for c in range(channels):
            ch = t(f"cl.channel_{names[c]}")
            plot(product_figure(ex.windows[c], ex.kernel[c], ex.products[c],
                                (t("cl.window_of", ch=ch), t("cl.slice", ch=ch), t("cl.products")), marked=ex.is_padding, mark=" ᵖ"),
                 f"cl_products_{c}")
            st.caption(t("cl.partial", ch=ch, value=num(ex.partial_sums[c], significant=6)))
        if dilation > 1:
            span, taps, pad = window_span(volume, ex.top, ex.left, ex.kernel.shape[1:], dilation)
            plot(window_figure(span[0], taps, pad, t("cl.span_title", ch=t(f"cl.channel_{names[0]}"), span=ex.span[0], d=dilation),
                               separators()), "cl_span")
            st.caption(t("cl.span_note", d=dilation))
    sums = " + ".join(latex_number(v) for v in ex.partial_sums)
    st.latex(rf"z = {sums} + {latex_number(ex.bias)} = {latex_number(ex.pre_activation, False)}")
    if activation is not None:
        st.latex(rf"\mathrm{{{t(f'cl.act_{act_name}')}}}({latex_number(ex.pre_activation, False)}) = {latex_number(ex.value, False)}")
    same = ex.value == float(post[f, row, col])
    st.markdown(t("cl.check", value=num(ex.value, significant=6), map=num(float(post[f, row, col]), significant=6),
                  f=f + 1, row=row, col=col, verdict=":material/check_circle:" if same else ":material/cancel:"))
    for key in ("cl_row", "cl_col"):  # a fragment's rerun skips the page's top, which keeps the link
        set_link_value(key, str(st.session_state[key]))


st.title(t("cl.title"))
st.markdown(t("cl.intro"))

with st.sidebar:
    st.header(t("cl.input_header"))
    kind = st.radio(t("cl.input"), ("image", "volume"), format_func=labels("cl.input_"), horizontal=True, key="cl_input")
pixels = None
if kind == "image":
    pixels = image_picker("cl")
    with st.sidebar:
        side = st.select_slider(t("cl.side"), SIDES, value=32, key="cl_side", help=t("cl.side_help"))
        colour = st.radio(t("cl.color"), ("rgb", "gray"), format_func=labels("cl.color_"), horizontal=True, key="cl_color")
with st.sidebar:
    st.header(t("cl.filters_header"))
    preset = st.selectbox(t("cl.preset"), FILTER_PRESETS, format_func=labels("cl.preset_"), key="cl_preset")
    n_random, k_random = 4, 3
    if preset == "random":
        n_random = int(st.number_input(t("cl.n"), 1, 8, 4, key="cl_n"))
        k_random = int(st.number_input(t("cl.k"), 1, 5, 3, key="cl_k"))
    st.header(t("cl.geometry_header"))
    stride = int(st.number_input(t("cl.stride"), 1, 4, 1, key="cl_stride"))
    padding = int(st.number_input(t("cl.padding"), 0, 4, 0, key="cl_padding"))
    dilation = int(st.number_input(t("cl.dilation"), 1, 4, 1, key="cl_dilation", help=t("cl.dilation_help")))
    act_name = st.radio(t("cl.activation"), ACTS, index=1, format_func=labels("cl.act_"), key="cl_act")
activation = None if act_name == "none" else act_name

# --- the input volume -------------------------------------------------------------------------------------------
st.header(t("cl.input_header"))
volume = None
if kind == "volume":
    volume = _volume()
elif pixels is not None:
    working = working_image(pixels, side)
    volume = (to_grayscale(working)[:, :, None] if colour == "gray" else working).astype(np.float64)
    plot(image_figure(working if colour == "rgb" else to_grayscale(working),
                      t("cl.image_title", rows=working.shape[0], cols=working.shape[1], c=volume.shape[2]), t("cl.hover_input"),
                      padding=padding, height=300), "cl_image")

channels = volume.shape[2] if volume is not None else (3 if kind == "image" else int(st.session_state.get("cl_vc", 3)))
names = CHANNEL_NAMES[channels]

# --- the filters --------------------------------------------------------------------------------------------------
st.header(t("cl.filters_header"))
weights = bias = None
try:
    weights, bias, _ = preset_filters(preset, channels, n_random, k_random)
except (InputError, ModelError) as error:
    if isinstance(error, InputError):
        show_error(error)
    else:
        st.error(t("net.unavailable", detail=str(error)), icon=":material/block:")
if weights is not None:
    st.markdown(t(f"cl.preset_desc_{preset}"))
    if preset in ("colour", "network") and channels == 1:
        st.info(t("cl.colour_on_gray"), icon=":material/info:")
    if preset == "network" and kind == "image" and volume is not None and channels == 3:
        volume = normalise_like_network(volume)
        st.caption(t("cl.network_normalised"))
    ident = f"{preset}_{weights.shape[0]}_{channels}_{weights.shape[2]}"
    weights, bias = _edit_filters(weights, bias, ident, names)
    n, k = weights.shape[0], weights.shape[2]
    titles = tuple(t("cl.tile", f=f + 1, ch=t(f"cl.channel_{names[c]}")) for f in range(n) for c in range(channels))
    plot(tiles_figure(weights.reshape(n * channels, k, k), channels * min(n, 4),
                      t("cl.bank_title", n=n, k=k, c=channels), t("cl.hover_weight"), titles, numbers=k * k * n * channels <= 400,
                      separators=separators(), lang=current_language()), "cl_bank")
    st.markdown(t("cl.bias_line", values=" · ".join(f"b{f + 1} = {num(b)}" for f, b in enumerate(bias))))

# --- the maps -----------------------------------------------------------------------------------------------------
pre = post = None
if volume is None:
    st.info(t("cl.no_input"))
elif weights is not None:
    st.header(t("cl.maps_header"))
    try:
        pre = conv_layer(volume, weights, bias, stride, padding, dilation)
        post = conv_layer(volume, weights, bias, stride, padding, dilation, activation)
    except InputError as error:
        show_error(error)
        st.markdown(t("cl.impossible", span=dilation * (k - 1) + 1, m=min(volume.shape[:2]), p=padding))
if pre is not None:
    n, rows, cols = pre.shape
    st.markdown(t("cl.maps_summary", c=channels, n=n, k=k, rows=rows, cols=cols))
    per_row = min(n, 8)
    map_titles = tuple(t("cl.filter_n", f=f + 1) for f in range(n))
    plot(tiles_figure(pre, per_row, t("cl.before_title", n=n, rows=rows, cols=cols), t("cl.hover_map"), map_titles,
                      separators=separators()), "cl_pre")
    if activation is not None:
        plot(tiles_figure(post, per_row, t("cl.after_title", act=t(f"cl.act_{act_name}")), t("cl.hover_map"), map_titles,
                          separators=separators()), "cl_post")
        st.caption(t(f"cl.act_note_{act_name}"))
    st.caption(t("cl.colour_note"))

    # --- one value, computed in front of the student ------------------------------------------------------------
    st.header(t("cl.inspector_header"))
    st.session_state.cl_filter = min(max(int(st.session_state.get("cl_filter", 1)), 1), n)
    f = int(st.columns(3)[0].number_input(t("cl.inspect_filter"), 1, n, key="cl_filter")) - 1
    _inspect_value(volume, weights, bias, post, f, stride, padding, dilation, activation, act_name, names)

    # --- counts and shapes ------------------------------------------------------------------------------------------
    st.header(t("cl.counts_header"))
    h, w = volume.shape[:2]
    _formula(t("cl.axis_rows"), h, k, padding, stride, dilation)
    if w != h:
        _formula(t("cl.axis_cols"), w, k, padding, stride, dilation)
    counts = layer_counts(channels, n, (k, k), (rows, cols))
    st.markdown(t("cl.counts", h=h, w=w, c=channels, n=n, k=k, rows=rows, cols=cols, per_filter=num(counts["per_filter"]),
                  weights=num(counts["weights"]), params=num(counts["parameters"]), values=num(counts["values"]),
                  macs=num(counts["multiply_adds"])))
    st.caption(t("cl.lecture_count"))
    st.page_link("pages/parameters.py", label=t("cl.parameters_link"), icon=":material/calculate:")

    # --- translation equivariance -----------------------------------------------------------------------------------
    st.header(t("cl.equi_header"))
    st.markdown(t("cl.equi_intro"))
    e1, e2 = st.columns(2)
    dy = int(e1.number_input(t("cl.dy"), -4, 4, 1, key="cl_dy"))
    dx = int(e2.number_input(t("cl.dx"), -4, 4, 2, key="cl_dx"))
    eq = equivariance(volume, weights, bias, dy, dx, stride, padding, dilation, activation)
    plot(tiles_figure(np.stack([eq.original[f], eq.shifted[f], eq.difference[f]]), 3, t("cl.equi_title", f=f + 1),
                      t("cl.hover_map"), (t("cl.equi_original"), t("cl.equi_shifted"), t("cl.equi_difference")),
                      separators=separators(), height=330), "cl_equi")
    values = dict(dy=dy, dx=dx, s=stride, my=eq.map_shift[0], mx=eq.map_shift[1], diff=num(eq.max_difference),
                  scale=num(eq.scale), count=num(eq.compared))
    if eq.compared == 0:
        st.info(t("cl.equi_nothing"))
    elif eq.exact_shift:
        st.success(t("cl.equi_exact", **values), icon=":material/check_circle:")
    else:
        st.warning(t("cl.equi_broken", **values), icon=":material/warning:")
    pooled_less = eq.pooled_change < eq.unpooled_change
    st.markdown(t("cl.equi_pool" if pooled_less else "cl.equi_pool_not", plain=pct(eq.unpooled_change), pooled=pct(eq.pooled_change)))
    st.caption(t("cl.equi_why"))

# --- the window sliding, step by step (client-side animation) ---------------------------------------------------------
ANIMATION_KEYS = ("cl_amode", "cl_am", "cl_ak", "cl_as", "cl_ap", "cl_ad", "cl_tm", "cl_tk", "cl_ts", "cl_tp", "cl_td", "cl_top")


@st.fragment
def _animation() -> None:
    """The sliding window or the transposed convolution on a small grid: its settings rerun only this part."""
    st.header(t("cl.anim_header"))
    st.markdown(t("cl.anim_intro"))
    mode = st.radio(t("cl.anim_mode"), ("conv", "transpose"), format_func=labels("cl.anim_"), horizontal=True, key="cl_amode")
    boxes = st.columns(6 if mode == "transpose" else 5)
    if mode == "conv":
        m = int(boxes[0].number_input("m", 3, 9, 7, key="cl_am"))
        ka = int(boxes[1].number_input("k", 1, 5, 3, key="cl_ak"))
        sa = int(boxes[2].number_input("s", 1, 4, 2, key="cl_as"))
        pa = int(boxes[3].number_input("p", 0, 3, 1, key="cl_ap"))
        da = int(boxes[4].number_input("d", 1, 3, 2, key="cl_ad"))
    else:
        m = int(boxes[0].number_input("m", 2, 5, 3, key="cl_tm"))
        ka = int(boxes[1].number_input("k", 1, 4, 3, key="cl_tk"))
        sa = int(boxes[2].number_input("s", 1, 3, 2, key="cl_ts"))
        pa = int(boxes[3].number_input("p", 0, 3, 1, key="cl_tp"))
        da = int(boxes[4].number_input("d", 1, 2, 1, key="cl_td"))
        opa = int(boxes[5].number_input(t("cl.output_padding"), 0, 2, 1, key="cl_top"))
    grid = np.random.default_rng(m).integers(0, 5, (m, m)).astype(np.float64)
    kernel = np.random.default_rng(ka + 10).integers(-1, 2, (ka, ka)).astype(np.float64)
    buttons = (t("cl.play_slow"), t("cl.play"), t("cl.play_fast"), t("cl.pause"))
    try:
        if mode == "conv":
            run = sliding_steps(grid, kernel, sa, pa, da)
            rows, cols = run.output.shape
            if rows * cols * rows * cols > MAX_STEPS_CELLS:
                raise InputError("err.animation_too_large", steps=rows * cols)
            frame_titles = []
            for (r, c), taps in zip(run.cells, run.taps):
                terms = [f"{num(wt)}·{num(run.padded[i, j])}" for wt, (i, j) in zip(kernel.ravel(), taps)]
                lines = [" + ".join(terms[i : i + 9]) for i in range(0, len(terms), 9)]
                frame_titles.append(f"o({r}, {c}) = " + " +<br>".join(lines) + f" = {num(run.output[r, c])}")
            figure = animation_figure(run.padded, run.output[None], run.taps, run.cells[:, None], tuple(frame_titles),
                                      (t("cl.anim_input", m=m, p=pa), t("cl.anim_output", rows=rows, cols=cols)), buttons,
                                      t("cl.step"), (pa, pa, m, m), reveal=True, separators=separators())
            st.latex(rf"o = \left\lfloor \frac{{{m} + 2 \cdot {pa} - {da} \cdot ({ka} - 1) - 1}}{{{sa}}} \right\rfloor + 1 = {rows}")
        else:
            run = transpose_steps(grid, kernel, sa, pa, da, opa)
            size = conv_transpose_output_size(m, ka, sa, pa, opa, da)
            frame_titles = [t("cl.t_frame", i=i, j=j, value=num(grid[i, j]), r0=int(taps[:, 0].min()), c0=int(taps[:, 1].min()))
                            for (i, j), taps in zip(np.ndindex(m, m), run.taps)]
            cells = np.stack(np.divmod(np.arange(m * m), m), axis=-1)[:, None]
            figure = animation_figure(grid, run.canvas[1:], cells, run.taps, tuple(frame_titles),
                                      (t("cl.t_input", m=m), t("cl.t_output", size=size, full=run.canvas.shape[1])), buttons,
                                      t("cl.step"), (0, 0, m, m), right_frame=(pa, pa, size, size), separators=separators())
            st.latex(rf"o = (m - 1)s - 2p + d(k - 1) + \text{{op}} + 1 = ({m} - 1) \cdot {sa} - 2 \cdot {pa} + {da} \cdot ({ka} - 1) + {opa} + 1 = {size}")
            same = run.output.shape == run.torch_output.shape and np.allclose(run.output, run.torch_output)
            st.markdown(t("cl.t_check", size=size, verdict=":material/check_circle:" if same else ":material/cancel:"))
        plot(figure, f"cl_anim_{mode}")
        st.caption(t("cl.anim_help"))
    except InputError as error:
        show_error(error)
    for key in ANIMATION_KEYS:  # a fragment's rerun skips the page's top, which keeps the link
        if key in st.session_state:
            set_link_value(key, str(st.session_state[key]))


_animation()
