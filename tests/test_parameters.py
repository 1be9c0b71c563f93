"""Parameter counts against real torch.nn.Linear and torch.nn.Conv2d modules, and the lecture's numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from cnn_core import InputError
from cnn_core.parameters import LECTURE_PRESETS, conv_count, conv_parameters, fc_count, fc_parameters, growth, positive_int


def numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_lecture_numbers() -> None:
    assert fc_count(32, 32, 3, 1).weights == 3_072  # CIFAR-10
    assert fc_count(200, 200, 3, 1).weights == 120_000
    assert conv_count(5, 3, 1).weights == 75
    assert conv_parameters(5, 3, 1) == 76 and conv_parameters(5, 3, 1, bias=False) == 75


@pytest.mark.parametrize("name", LECTURE_PRESETS)
def test_every_preset_gives_the_number_the_lecture_quotes(name: str) -> None:
    preset = LECTURE_PRESETS[name]
    values = {"width": 1, "height": 1, "channels": 1, "neurons": 1, "filters": 1, "kernel": 1} | preset.values
    if preset.layer == "fc":
        module = nn.Linear(values["width"] * values["height"] * values["channels"], values["neurons"], bias=False)
        computed = fc_count(values["width"], values["height"], values["channels"], values["neurons"]).weights
    else:
        module = nn.Conv2d(values["channels"], values["filters"], values["kernel"], bias=False)
        computed = conv_count(values["kernel"], values["channels"], values["filters"]).weights
    assert computed == preset.weights == numel(module)


@given(w=st.integers(1, 300), h=st.integers(1, 300), c=st.integers(1, 16), n=st.integers(1, 64), bias=st.booleans())
def test_fully_connected_matches_torch_linear(w: int, h: int, c: int, n: int, bias: bool) -> None:
    with torch.device("meta"):  # shapes only: no memory for the weights
        module = nn.Linear(w * h * c, n, bias=bias)
    count = fc_count(w, h, c, n, bias)
    assert count.total == fc_parameters(w, h, c, n, bias) == numel(module)
    assert count.weights == module.weight.numel() and count.biases == (module.bias.numel() if bias else 0)


@given(k=st.integers(1, 11), c=st.integers(1, 64), n=st.integers(1, 128), bias=st.booleans(), side=st.integers(11, 40))
def test_convolution_matches_torch_conv2d_whatever_the_image(k: int, c: int, n: int, bias: bool, side: int) -> None:
    module = nn.Conv2d(c, n, k, bias=bias)
    assert conv_parameters(k, c, n, bias) == numel(module)
    with torch.no_grad():  # the same module runs on images of any size: its parameters cannot depend on it
        small, large = module(torch.zeros(1, c, k, k)), module(torch.zeros(1, c, side, side + 3))
    assert small.shape[-2:] == (1, 1) and large.shape[-2:] == (side - k + 1, side + 3 - k + 1)


def test_growth_curves() -> None:
    sides = np.array([8, 16, 32, 64, 200, 512])
    fc, conv = growth(sides, channels=3, neurons=10, kernel=5, filters=32)
    assert fc.tolist() == [fc_parameters(s, s, 3, 10) for s in sides]
    assert set(conv.tolist()) == {conv_parameters(5, 3, 32)}
    weights = fc - 10
    assert (weights[1:4] == 4 * weights[0:3]).all()  # double the side, four times the weights
    fc_nb, conv_nb = growth(sides, 3, 10, 5, 32, bias=False)
    assert (fc - fc_nb == 10).all() and (conv - conv_nb == 32).all()


@pytest.mark.parametrize("sides", [np.array([0, 8]), np.array([[8]]), np.array([8.0, 16.0])])
def test_growth_rejects_bad_sides(sides: np.ndarray) -> None:
    with pytest.raises(ValueError, match="1-D array of positive integers"):
        growth(sides, 3, 1, 3, 1)


def test_growth_refuses_to_overflow() -> None:
    with pytest.raises(ValueError, match="too large for int64"):
        growth(np.array([2**20]), channels=2**12, neurons=2**12, kernel=3, filters=1)  # 2⁶⁴ weights
    assert fc_parameters(2**20, 2**20, 2**10, 2**10) == 2**60 + 2**10  # Python ints: exact at any size


@pytest.mark.parametrize(("value", "key"), [
    (0, "params.err_not_positive"), (-3, "params.err_not_positive"), (2.5, "params.err_not_integer"),
    (True, "params.err_not_integer"), ("3", "params.err_not_integer"), (math.nan, "params.err_not_integer"),
    (math.inf, "params.err_not_integer"), (None, "params.err_not_integer"),
])
def test_invalid_inputs_name_the_symbol(value: object, key: str) -> None:
    with pytest.raises(InputError) as caught:
        fc_count(32, value, 3, 1)  # type: ignore[arg-type]
    assert caught.value.key == key and caught.value.params["symbol"] == "H"
    assert "H" in caught.value.message("es") and "H" in caught.value.message("en")
    with pytest.raises(InputError) as caught:
        conv_count(3, 3, value)  # type: ignore[arg-type]
    assert caught.value.params["symbol"] == "n"


def test_whole_floats_and_numpy_integers_are_accepted() -> None:
    assert positive_int(3.0, "C") == 3 and positive_int(np.int64(7), "C") == 7
    assert fc_parameters(np.int32(4), 4.0, 1, 2, bias=False) == 32
