"""Architecture explorer: shapes, parameters, multiply-adds and receptive fields layer by layer, and a builder to try your own."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from cnn_core import InputError, conv_output_size
from cnn_core.architecture import BUILDER_KINDS, REFERENCE_NETWORKS, SPATIAL, Row, Trace, build, model_trace, reference_network
from cnn_core.parameters import fc_parameters
from ui import Setting, labels, num, pct, plot, share_in_url, show_error, t

NETWORKS = (*REFERENCE_NETWORKS, "custom")
COLUMNS = ("kind", "units", "k", "s", "p")
# Starting points for the builder: (layers as kind, n/N, k, s, p; input C, H, W).
STARTS: dict[str, tuple[list[tuple[str, int | None, int | None, int | None, int | None]], tuple[int, int, int]]] = {
    "lenet": ([("conv", 6, 5, 1, 0), ("maxpool", None, 2, 2, 0), ("conv", 16, 5, 1, 0), ("maxpool", None, 2, 2, 0),
               ("fc", 120, None, None, None), ("fc", 84, None, None, None), ("fc", 10, None, None, None)], (1, 32, 32)),
    "vgg": ([("conv", 32, 3, 1, 1), ("conv", 32, 3, 1, 1), ("maxpool", None, 2, 2, 0), ("conv", 64, 3, 1, 1),
             ("conv", 64, 3, 1, 1), ("maxpool", None, 2, 2, 0), ("fc", 256, None, None, None), ("fc", 10, None, None, None)],
            (3, 32, 32)),
    "stride": ([("conv", 16, 3, 2, 0), ("conv", 32, 3, 2, 0), ("maxpool", None, 3, 2, 0), ("fc", 10, None, None, None)],
               (3, 32, 32)),
    "too_deep": ([("conv", 16, 5, 1, 0), ("maxpool", None, 2, 2, 0), ("conv", 32, 5, 1, 0), ("maxpool", None, 2, 2, 0),
                  ("conv", 64, 5, 1, 0), ("fc", 10, None, None, None)], (3, 28, 28)),
}
SHAPE_ONLY = ("activation", "dropout", "identity", "norm")


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))


def _size_formula(row: Row) -> str:
    """The lecture's (m − k + 2p)/s + 1 with this layer's numbers, with ⌊ ⌋ where it is needed; one axis if both agree."""
    layer = row.layer
    if layer.kind == "adaptive_avgpool":
        bins = row.adaptive_bins
        return t("arch.adaptive_formula", m=_shape(row.input_shape[1:]), out=_shape(row.shape[1:]),
                 window=bins[0] if bins[0] == bins[1] else _shape(bins))
    parts = []
    for axis in (0, 1):
        m, s, p = row.input_shape[1 + axis], layer.stride[axis], layer.padding[axis]
        k = layer.dilation[axis] * (layer.kernel[axis] - 1) + 1
        inner = f"({m} − {k} + 2·{p})/{s}"
        parts.append(f"{'⌊' + inner + '⌋' if row.remainders[axis] else inner} + 1 = {row.shape[1 + axis]}")
    if parts[0] == parts[1]:
        return parts[0]
    return f"H: {parts[0]};  W: {parts[1]}"


def _receptive_field(row: Row, after_linear: bool) -> str:
    if row.receptive_field is not None:
        rh, rw = row.receptive_field
        return f"{rh}×{rw}"
    return t("arch.rf_all") if after_linear else "—"  # "—": after an adaptive pooling with uneven windows


def _type(row: Row) -> str:
    """The layer's kind in words; an activation also names its function (ReLU, GELU…)."""
    text = t(f"arch.kind_{row.layer.kind}")
    return f"{text} ({row.layer.type_name})" if row.layer.kind == "activation" else text


def _table(result: Trace, compact: bool) -> pd.DataFrame:
    records = [{"#": 0, "layer": t("arch.input_row"), "type": "", "shape": _shape(result.input_shape), "formula": "",
                "parameters": num(0), "macs": num(0), "rf": "1×1"}]
    after_linear = False
    for row in result.rows:
        after_linear = after_linear or row.layer.kind == "linear"
        if compact and row.layer.kind in SHAPE_ONLY:
            continue
        formula = _size_formula(row) if row.layer.kind in SPATIAL else ""
        records.append({
            "#": row.position, "layer": row.layer.name, "type": _type(row), "shape": _shape(row.shape),
            "formula": f"{formula}  ✂" if row.floored else formula,
            "parameters": num(row.parameters), "macs": num(row.multiply_adds), "rf": _receptive_field(row, after_linear),
        })
    return pd.DataFrame(records)


def _show_table(result: Trace, key: str) -> None:
    compact = st.toggle(t("arch.compact"), key="arch_compact", help=t("arch.compact_help"))
    frame = _table(result, compact)
    st.dataframe(
        frame, hide_index=True, key=key, width="stretch", height=38 + 35 * len(frame),  # every row, no inner scrolling
        column_config={
            "#": st.column_config.NumberColumn("#", width=40),
            "layer": st.column_config.TextColumn(t("arch.col_layer")),
            "type": st.column_config.TextColumn(t("arch.col_type")),
            "shape": st.column_config.TextColumn(t("arch.col_shape"), help=t("arch.col_shape_help")),
            "formula": st.column_config.TextColumn(t("arch.col_formula"), help=t("arch.col_formula_help"), width="medium"),
            "parameters": st.column_config.TextColumn(t("arch.col_parameters")),  # text: written as the session's language writes it
            "macs": st.column_config.TextColumn(t("arch.col_macs"), help=t("arch.col_macs_help")),
            "rf": st.column_config.TextColumn(t("arch.col_rf"), help=t("arch.col_rf_help")),
        },
    )


def _share_figure(result: Trace) -> go.Figure | None:
    """Each layer's share of the parameters and of the multiply-adds: where the memory goes and where the work goes."""
    rows = [row for row in result.rows if row.layer.kind in ("conv", "linear")]
    if not rows or not result.parameters or not result.multiply_adds:
        return None
    names = [row.layer.name for row in rows]
    fig = go.Figure()
    fig.add_trace(go.Bar(y=names, x=[row.parameters / result.parameters for row in rows], orientation="h",
                         name=t("arch.share_parameters"), marker_color="#d62728", hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    fig.add_trace(go.Bar(y=names, x=[row.multiply_adds / result.multiply_adds for row in rows], orientation="h",
                         name=t("arch.share_macs"), marker_color="#1f77b4", hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    fig.update_layout(
        barmode="group", height=120 + 34 * len(rows), margin=dict(l=10, r=10, t=40, b=10), dragmode=False,
        title=dict(text=t("arch.share_title")), legend=dict(orientation="h", x=1, xanchor="right", y=1.02, yanchor="bottom"),
        xaxis=dict(tickformat=".0%", range=[0, 1]), yaxis=dict(autorange="reversed"),
    )
    return fig


def _pick_start() -> None:
    """Selectbox callback: the input size that goes with the chosen starting stack."""
    channels, height, width = STARTS[st.session_state.arch_start][1]
    st.session_state.arch_b_c, st.session_state.arch_b_h, st.session_state.arch_b_w = channels, height, width


def _builder() -> Trace | None:
    """The student's stack: input size, then one row per layer in an editable table."""
    st.subheader(t("arch.builder_header"))
    st.markdown(t("arch.builder_intro"))
    st.session_state.setdefault("arch_start", "lenet")
    start = st.selectbox(t("arch.start"), tuple(STARTS), format_func=labels("arch.start_"), key="arch_start",
                         on_change=_pick_start)
    defaults = STARTS[start][1]
    for name, value in zip(("arch_b_c", "arch_b_h", "arch_b_w"), defaults):
        st.session_state.setdefault(name, value)
    c1, c2, c3 = st.columns(3)
    height = c1.number_input(t("arch.input_h"), 1, 4096, step=1, key="arch_b_h")
    width = c2.number_input(t("arch.input_w"), 1, 4096, step=1, key="arch_b_w")
    channels = c3.number_input(t("arch.input_c"), 1, 4096, step=1, key="arch_b_c")
    frame = pd.DataFrame(STARTS[start][0], columns=COLUMNS).astype({c: "Int64" for c in COLUMNS[1:]})
    frame.index += 1  # row numbers as the error messages count them
    edited = st.data_editor(
        frame, key=f"arch_editor_{start}", num_rows="dynamic", hide_index=False, width="content", placeholder="—",
        column_config={
            "kind": st.column_config.SelectboxColumn(t("arch.col_kind"), options=BUILDER_KINDS, format_func=labels("arch.bkind_"),
                                                     required=True, width="medium"),
            "units": st.column_config.NumberColumn(t("arch.col_units"), help=t("arch.col_units_help"), min_value=1, step=1),
            "k": st.column_config.NumberColumn("k", help=t("arch.col_k_help"), min_value=1, step=1),
            "s": st.column_config.NumberColumn("s", help=t("arch.col_s_help"), min_value=1, step=1),
            "p": st.column_config.NumberColumn("p", help=t("arch.col_p_help"), min_value=0, step=1),
        },
    )
    st.caption(t("arch.builder_help"))
    specs = edited.astype(object).where(edited.notna(), None).to_dict("records")
    # For "Train a network", which can train it: not a widget's state, so it outlives this page's widgets.
    st.session_state.arch_stack = {"specs": specs, "input": (int(channels), int(height), int(width))}
    try:
        return build(specs, channels, height, width)
    except InputError as error:  # the input size itself
        show_error(error)
        return None


share_in_url("architecture", {
    "arch_net": Setting(str, NETWORKS), "arch_compact": Setting(bool), "arch_start": Setting(str, tuple(STARTS)),
    **{key: Setting(int, low=1, high=4096) for key in ("arch_b_h", "arch_b_w", "arch_b_c")},
    **{f"arch_side_{name}": Setting(int, low=1, high=1024) for name in REFERENCE_NETWORKS},
})
st.title(t("arch.title"))
st.markdown(t("arch.intro"))
choice = st.selectbox(t("arch.network"), NETWORKS, format_func=labels("arch.net_"), key="arch_net")

if choice == "custom":
    result = _builder()
    if result is None:
        st.stop()
    table_key = "arch_table_custom"
else:
    st.markdown(t(f"arch.about_{choice}"))
    side = st.number_input(t("arch.side"), 1, 1024, REFERENCE_NETWORKS[choice], step=1, key=f"arch_side_{choice}",
                           help=t("arch.side_help", side=REFERENCE_NETWORKS[choice]))
    network = reference_network(choice)
    result = model_trace(network, 3, side, side)
    table_key = f"arch_table_{choice}"

st.subheader(t("arch.table_header"))
_show_table(result, table_key)
if result.error is not None:
    show_error(result.error)
    st.caption(t("arch.stopped", position=result.failed))

m1, m2, m3 = st.columns(3)
partial = "_partial" if result.error is not None else ""  # totals of the layers before the one that failed
m1.metric(t(f"arch.total_parameters{partial}"), num(result.parameters))
m2.metric(t(f"arch.total_macs{partial}"), num(result.multiply_adds),
          t("arch.millions", value=num(result.multiply_adds / 1e6, decimals=1)),
          delta_color="off", delta_arrow="off")
m3.metric(t("arch.output"), _shape(result.output_shape) if result.error is None else "—")
if choice != "custom" and result.error is None:
    numel = sum(p.numel() for p in network.parameters())
    st.caption(t("arch.numel_check", numel=num(numel), verdict=":material/check_circle:" if numel == result.parameters else ":material/cancel:"))

floored = [row.layer.name for row in result.rows if row.floored]
if floored:
    st.warning(t("arch.floor_note", layers=", ".join(floored)), icon=":material/content_cut:")
if any(row.layer.kind == "adaptive_avgpool" for row in result.rows):
    st.info(t("arch.adaptive_note", features=num(256 * 6 * 6), no_padding=conv_output_size(224, 11, 4),
              paper=conv_output_size(227, 11, 4), torchvision=conv_output_size(224, 11, 4, 2)), icon=":material/info:")
if choice.startswith("alexnet") and result.error is None:
    fc = sum(row.parameters for row in result.rows if row.layer.kind == "linear")
    first = fc_parameters(224, 224, 3, 4096, bias=False)
    st.markdown(t("arch.alexnet_counts", total=num(result.parameters), fc=num(fc), share=pct(fc / result.parameters, 0),
                  inputs=num(224 * 224 * 3), weights=num(first), millions=num(first / 1e6, decimals=0)))
flat = next((row for row in result.rows if row.layer.kind == "flatten" and len(row.input_shape) == 3), None)
if flat is not None:
    st.caption(t("arch.vector_note", c_in=result.input_shape[0], c=flat.input_shape[0], h=flat.input_shape[1],
                 w=flat.input_shape[2], n=num(flat.shape[0])))
if any(row.layer.implicit for row in result.rows):
    st.info(t("arch.flatten_note"), icon=":material/info:")
with st.expander(t("arch.columns_header")):
    st.markdown(t("arch.columns_text"))

figure = _share_figure(result)
if figure is not None:
    st.subheader(t("arch.share_header"))
    plot(figure, "arch_share")
    st.caption(t("arch.share_caption"))
