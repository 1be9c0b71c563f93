"""The receptive-field page in AppTest: the local field's weights, the CIFAR-10 and custom stacks, one neuron's region."""

from __future__ import annotations

import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch import nn

from cnn_core.i18n import catalogue
from cnn_core.model import CifarNet
from tests.conftest import open_app

PAGE = "pages/receptive_field.py"


def open_page(lang: str = "en") -> AppTest:
    return open_app(PAGE, lang)


def texts(at: AppTest) -> str:
    kinds = ("markdown", "caption", "error", "warning", "success", "info", "latex")
    parts = [e.value for kind in kinds for e in getattr(at, kind)]
    return "\n".join(parts)


def choose_layer(at: AppTest, index: int) -> AppTest:
    box = at.selectbox(key="rf_layer")
    return box.set_value(box.options[index])


def field_column(at: AppTest) -> list[str]:
    table = at.dataframe[0].value
    return list(table[[c for c in table.columns if c.startswith(("Receptive", "Campo"))][0]])


@pytest.mark.parametrize("lang", ["es", "en"])
def test_page_runs_in_both_languages(lang: str) -> None:
    at = open_page(lang)
    assert at.title[0].value == catalogue(lang)["rf.title"]
    assert not at.error
    assert r"5 \times 5 \times 3 = 75" in texts(at)  # the lecture's local receptive field
    assert ("**76 parameters**" if lang == "en" else "**76 parámetros**") in texts(at)


def test_local_field_with_the_students_numbers() -> None:
    at = open_page()
    at.number_input(key="rf_local_channels").set_value(64)
    at.number_input(key="rf_local_kernel").set_value(3).run()
    weights = nn.Conv2d(64, 1, 3).weight.numel()
    assert rf"3 \times 3 \times 64 = {weights}" in texts(at) and "30×30 positions" in texts(at)
    at.number_input(key="rf_local_kernel").set_value(40).run()
    assert not at.exception and at.error and "does not fit" in at.error[0].value
    assert at.dataframe  # the rest of the page keeps working


def test_cifar_table_follows_the_network() -> None:
    at = open_page()
    table = at.dataframe[0].value
    shapes = [module for module in CifarNet().modules() if isinstance(module, (nn.Conv2d, nn.MaxPool2d))]
    assert len(table) == len(shapes) + 1
    x = torch.zeros(1, 3, 32, 32)
    sizes = []
    for module in shapes:  # the network's layers in forward order, applied one after the other
        if isinstance(module, nn.Conv2d):
            x = nn.Conv2d(x.shape[1], x.shape[1], module.kernel_size, module.stride, module.padding)(x)
        else:
            x = module(x)
        sizes.append(f"{x.shape[-1]}×{x.shape[-1]}")
    assert list(table["Output"])[1:] == sizes
    assert field_column(at)[-1] == "67×67"


def test_neuron_regions_in_the_cifar_network() -> None:
    at = open_page()
    choose_layer(at, 1)
    at.number_input(key="rf_row").set_value(0)
    at.number_input(key="rf_col").set_value(0).run()
    assert "input rows **0–1** and columns **0–1**: 2×2 = **4 pixels**" in texts(at)  # the 2×2 whitening conv
    choose_layer(at, 2).run()
    assert "rows **0–2**" in texts(at) and "1 rows and 1 columns of that 4×4 window fall in the padding" in texts(at)
    choose_layer(at, 11).run()  # 1×1 map: the neuron is clamped to (0, 0)
    assert not at.exception and at.number_input(key="rf_row").value == 0
    assert at.success and "whole 32×32 image" in at.success[0].value


def test_custom_stack_and_its_errors() -> None:
    at = open_page("es")
    at.radio(key="rf_stack").set_value("custom").run()
    assert field_column(at) == ["1×1", "3×3", "5×5", "6×6", "10×10"]  # conv3, conv3, pool2, conv3
    assert at.selectbox(key="rf_layer").value == "4 · conv4 · 12×12"  # same position, the new stack's label
    at.number_input(key="rf_layer_count").set_value(2).run()
    assert at.selectbox(key="rf_layer").value == "2 · conv2 · 28×28"
    at.number_input(key="rf_layer_count").set_value(4).run()
    at.number_input(key="rf_k_3").set_value(20).run()  # more than the 14×14 map before it
    assert not at.exception and at.error and "Capa 4" in at.error[0].value
    at.number_input(key="rf_k_3").set_value(3)
    at.number_input(key="rf_p_2").set_value(2).run()  # a 2×2 pool admits p ≤ 1
    assert not at.exception and at.error and "como mucho un relleno" in at.error[0].value
    at.number_input(key="rf_p_2").set_value(0).run()
    assert not at.error


def test_stride_larger_than_window_shows_gaps() -> None:
    at = open_page()
    at.radio(key="rf_stack").set_value("custom").run()
    at.number_input(key="rf_k_2").set_value(1)
    at.number_input(key="rf_s_2").set_value(6).run()  # wider than the 5×5 field the two convs give
    choose_layer(at, 4).run()
    assert not at.exception and at.warning and "skips pixels" in at.warning[0].value


def test_more_layers_and_a_larger_input() -> None:
    at = open_page()
    at.radio(key="rf_stack").set_value("custom").run()
    at.number_input(key="rf_input_size").set_value(64)
    at.number_input(key="rf_layer_count").set_value(6).run()
    assert field_column(at) == ["1×1", "3×3", "5×5", "6×6", "10×10", "14×14", "18×18"]
    assert "Your image at 64×64" in [c.value for c in at.caption] or at.get("plotly_chart")


def _spec(at: AppTest, key: str) -> dict:
    import json

    return json.loads(next(c for c in at.get("plotly_chart") if key in c.proto.id).proto.spec)


@pytest.mark.parametrize(("size", "channels"), [(32, 3), (224, 3), (32, 64), (512, 1)])
def test_the_volumes_channel_ticks_do_not_collide(size: int, channels: int) -> None:
    at = open_app(PAGE, "en", rf_local_size=str(size), rf_local_channels=str(channels))
    scene = _spec(at, "rf_volume")["layout"]["scene"]
    ticks = scene["zaxis"]["tickvals"]
    assert ticks == [channels]  # one tick, the number of channels: none to overlap, none on the width's 0 at the corner
    assert scene["aspectratio"]["z"] >= 0.3 * scene["aspectratio"]["x"]  # and a channel axis long enough to be seen


@pytest.mark.parametrize("index", [0, 4, 11])
def test_the_growth_charts_numbers_have_room_and_leave_the_chosen_marker_free(index: int) -> None:
    at = choose_layer(open_page(), index).run()
    layout = _spec(at, "rf_growth")
    line, chosen = layout["data"][0], layout["data"][1]
    fields = line["y"]
    top = layout["layout"]["yaxis"]["range"][1]
    assert top >= 1.15 * max(fields) and layout["layout"]["yaxis"]["range"][0] == 0  # the highest number is not cut
    assert line["cliponaxis"] is False and line["textposition"] != "top center"  # not under the chosen layer's marker
    assert chosen["x"] == [index]
    note = layout["layout"]["annotations"][0]
    assert note["x"] == 0 and note["xanchor"] == "left" and note["yanchor"] == "bottom"  # above the line, at its left end
    assert all(fields[i] < note["y"] for i in range(2))  # ... where the first layers' points lie below it
