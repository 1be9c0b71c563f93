"""The architecture explorer in AppTest: the two reference networks, sizes that break them, and the builder."""

from __future__ import annotations

import pytest
import torch
from streamlit.testing.v1 import AppTest

from cnn_core.i18n import catalogue, format_number, parse_number
from cnn_core.model import CifarNet
from tests.conftest import ROOT

PAGE = "pages/architecture.py"


def open_page(lang: str = "en", network: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page(PAGE).run()
    if network:
        at.selectbox(key="arch_net").set_value(network).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == catalogue(lang)["arch.title"]
    return at


def table(at: AppTest):
    """The layer table, its counts (written as the session's language writes numbers) read back as integers."""
    frame = next(df for df in at.dataframe if df.editing_mode == "read_only").value.copy()
    for column in ("parameters", "macs"):
        frame[column] = [int(parse_number(text, at.session_state["language"])) for text in frame[column]]
    return frame


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_cifar_net_table_and_totals(lang: str) -> None:
    at = open_page(lang)
    rows = table(at)
    net = CifarNet()
    assert len(rows) == 1 + len([m for m in net.modules() if next(m.children(), None) is None])  # input + every leaf
    assert rows["shape"].tolist()[0] == "3×32×32" and rows["shape"].tolist()[-1] == "10"
    total = sum(p.numel() for p in net.parameters())
    assert int(rows["parameters"].sum()) == total
    assert metric(at, catalogue(lang)["arch.total_parameters"]) == format_number(total, lang)
    assert any("✅" in c.value for c in at.caption)  # equals sum(p.numel()) of the PyTorch model
    assert any("block1.pool" in w.value for w in at.warning)  # 31 → 15: the floor
    assert at.get("plotly_chart") and not at.error


def test_cifar_net_shapes_agree_with_the_predictions_layer_shapes() -> None:
    from cnn_core.model import layer_shapes  # another page's arithmetic, checked against tensors in its own tests

    rows = table(open_page())
    shapes = dict(zip(rows["layer"], rows["shape"]))
    for name, shape, _ in layer_shapes(CifarNet()):
        assert shapes[name] == "×".join(map(str, shape))


@pytest.mark.parametrize("lang", ["es", "en"])
def test_alexnet_table_notes_and_totals(lang: str) -> None:
    at = open_page(lang, "alexnet")
    rows = table(at)
    assert "(torch.flatten)" in rows["layer"].tolist() and "avgpool" in rows["layer"].tolist()
    assert metric(at, catalogue(lang)["arch.total_parameters"]) == {"en": "61,100,840", "es": "61.100.840"}[lang]
    shown = next(df for df in at.dataframe if df.editing_mode == "read_only").value
    assert shown[shown["layer"] == "classifier.1"].iloc[0]["parameters"] == {"en": "37,752,832", "es": "37.752.832"}[lang]
    counts = next(m.value for m in at.markdown if "4096" in m.value and "224×224×3" in m.value)
    assert {"en": "616,562,688", "es": "616.562.688"}[lang] in counts and {"en": "96%", "es": "96\u00a0%"}[lang] in counts
    assert len(at.info) == 2  # the adaptive pooling and the flatten inside forward()
    assert "AdaptiveAvgPool2d" in at.info[0].value
    assert any("features.0" in w.value for w in at.warning)  # (224 − 11 + 4)/4 is not whole
    first = rows[rows["layer"] == "features.0"].iloc[0]
    assert first["formula"] == "⌊(224 − 11 + 2·2)/4⌋ + 1 = 55  ✂️" and first["rf"] == "11×11"
    assert rows["formula"].str.contains("✂️").sum() == 1
    assert rows[rows["layer"] == "classifier.6"].iloc[0]["rf"] in ("all", "toda")


def test_alexnet_at_another_size_uses_uneven_adaptive_windows() -> None:
    at = open_page("en", "alexnet")
    at.number_input(key="arch_side_alexnet").set_value(256).run()
    assert not at.exception and not at.error
    rows = table(at)
    assert rows[rows["layer"] == "avgpool"].iloc[0]["formula"] == "adaptive: 7×7 → 6×6, k ≤ 2"
    assert metric(at, "Parameters (total)") == "61,100,840"


@pytest.mark.parametrize(("network", "side", "layer", "fragment"), [
    ("cifar", 64, "fc", "expects exactly 128 inputs"),
    ("alexnet", 50, "features.12", "(2 − 3 + 2·0)/2 + 1"),
])
def test_sizes_that_break_a_network_are_explained_and_the_table_stays(network: str, side: int, layer: str, fragment: str) -> None:
    at = open_page("en", network)
    at.number_input(key=f"arch_side_{network}").set_value(side).run()
    assert not at.exception
    assert at.error and layer in at.error[0].value and fragment in at.error[0].value
    rows = table(at)
    assert len(rows) > 3 and layer not in rows["layer"].tolist()  # everything before the failing layer
    assert metric(at, "Output") == "—"
    assert metric(at, "Parameters (layers before the error)") == format_number(int(rows['parameters'].sum()), "en")


def test_compact_toggle_hides_shape_preserving_layers() -> None:
    at = open_page()
    full = table(at)
    at.toggle(key="arch_compact").set_value(True).run()
    compact = table(at)
    assert len(compact) < len(full)
    assert not compact["type"].str.contains("GELU").any() and compact["parameters"].sum() == full["parameters"].sum()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_builder_default_is_lenet5(lang: str) -> None:
    at = open_page(lang, "custom")
    assert at.data_editor and at.data_editor[0].editing_mode == "dynamic"
    rows = table(at)
    assert rows["shape"].tolist() == ["1×32×32", "6×28×28", "6×14×14", "16×10×10", "16×5×5", "400", "120", "84", "10"]
    assert int(rows["parameters"].sum()) == 61_706
    assert not at.error


def test_builder_start_that_shrinks_too_much_names_the_layer() -> None:
    at = open_page("es", "custom")
    at.selectbox(key="arch_start").set_value("too_deep").run()
    assert not at.exception
    assert [at.number_input(key=k).value for k in ("arch_b_h", "arch_b_w", "arch_b_c")] == [28, 28, 3]
    assert at.error and "conv3" in at.error[0].value and "4 + 2·0 = 4" in at.error[0].value
    assert table(at)["layer"].tolist()[-1] == "pool2"


def test_builder_edits_flow_through_and_bad_cells_are_reported() -> None:
    at = open_page("en", "custom")
    at.session_state["arch_editor_lenet"] = {"edited_rows": {0: {"p": 2}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert table(at)["shape"].tolist()[1] == "6×32×32"  # padding 2 keeps 32 with k = 5
    at.session_state["arch_editor_lenet"] = {"edited_rows": {2: {"k": None}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert at.error and "Row 3" in at.error[0].value and "“k”" in at.error[0].value
    assert table(at)["layer"].tolist() == ["input", "conv1", "pool1"]
    at.session_state["arch_editor_lenet"] = {"edited_rows": {}, "added_rows": [{"kind": "conv", "units": 4, "k": 3}],
                                             "deleted_rows": []}
    at.run()
    assert not at.exception
    assert at.error and "needs a C×H×W volume" in at.error[0].value
    at.session_state["arch_editor_lenet"] = {"edited_rows": {}, "added_rows": [{"kind": "fc"}], "deleted_rows": [0]}
    at.run()
    assert not at.exception
    assert at.error and "Row 7" in at.error[0].value and "“n / N”" in at.error[0].value  # 7 layers left, the new one empty
    assert table(at)["layer"].tolist()[1] == "pool1"


def test_builder_input_size_and_floor() -> None:
    at = open_page("en", "custom")
    at.selectbox(key="arch_start").set_value("stride").run()
    assert not at.exception and not at.error
    rows = table(at)
    assert rows["formula"].str.contains("✂️").sum() >= 1
    assert any("conv1" in w.value for w in at.warning)  # (32 − 3)/2 is not whole
    at.number_input(key="arch_b_h").set_value(3).run()
    assert not at.exception
    assert at.error and "conv2" in at.error[0].value


def test_flops_of_the_table_match_torch_for_lenet() -> None:
    from torch.utils.flop_counter import FlopCounterMode

    at = open_page("en", "custom")
    rows = table(at)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 6, 5), torch.nn.MaxPool2d(2), torch.nn.Conv2d(6, 16, 5), torch.nn.MaxPool2d(2),
                                torch.nn.Flatten(), torch.nn.Linear(400, 120), torch.nn.Linear(120, 84), torch.nn.Linear(84, 10))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 1, 32, 32))
    assert 2 * int(rows["macs"].sum()) == counter.get_total_flops()
    assert metric(at, "Multiply-adds per image") == format_number(int(rows['macs'].sum()), "en")
