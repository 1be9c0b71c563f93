"""Receptive fields against PyTorch autograd: a neuron depends exactly on the input pixels with a nonzero gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from cnn_core.errors import InputError
from cnn_core.model import CifarNet, layer_shapes
from cnn_core.receptive_field import Layer, cifar_layers, input_region, layers_of, local_field, receptive_fields

DEFAULT = [Layer("conv1", "conv", 3, 1, 0), Layer("conv2", "conv", 3, 1, 0), Layer("pool", "max", 2, 2, 0),
           Layer("conv3", "conv", 3, 1, 0)]


def oracle_net(layers: list[Layer]) -> nn.Sequential:
    """All-ones convolutions, and every pool as an average pool of the same geometry: no gradient can cancel."""
    modules: list[nn.Module] = []
    for layer in layers:
        if layer.kind == "conv":
            conv = nn.Conv2d(1, 1, layer.kernel, layer.stride, layer.padding, bias=False)
            nn.init.ones_(conv.weight)
            modules.append(conv)
        else:
            modules.append(nn.AvgPool2d(layer.kernel, layer.stride, layer.padding))
    return nn.Sequential(*modules).double()


def gradient_support(net: nn.Module, size: int, row: int, col: int, channels: int = 1) -> np.ndarray:
    x = torch.ones(1, channels, size, size, dtype=torch.float64, requires_grad=True)
    net(x)[0, 0, row, col].backward()
    return (x.grad[0] != 0).any(dim=0).numpy()


def test_local_receptive_field_of_the_lecture() -> None:
    field = local_field(5, 3, 32)
    conv = nn.Conv2d(3, 1, 5)  # one neuron's filter over a 32×32×3 volume
    assert field.weights == conv.weight.numel() == 75 and field.bias == conv.bias.numel() == 1 and field.total == 76
    assert field.positions == conv(torch.zeros(1, 3, 32, 32)).shape[-1] == 28
    assert field.neurons == conv(torch.zeros(1, 3, 32, 32)).numel() == 784
    assert field.full_weights == nn.Linear(32 * 32 * 3, 1).weight.numel() == 3072


@pytest.mark.parametrize(("k", "c", "m"), [(3, 64, 15), (1, 24, 31), (7, 1, 7)])
def test_local_field_weights_match_torch(k: int, c: int, m: int) -> None:
    field = local_field(k, c, m)
    assert field.weights == nn.Conv2d(c, 1, k).weight.numel() and field.positions == m - k + 1


def test_hand_worked_stack() -> None:
    steps = receptive_fields(DEFAULT, 32)
    # Two 3×3 convs see 5×5; the 2×2 pool adds 1; its stride 2 doubles what the next conv adds.
    assert [s.receptive for s in steps] == [1, 3, 5, 6, 10]
    assert [s.jump for s in steps] == [1, 1, 1, 2, 2]
    assert [s.size for s in steps] == [32, 30, 28, 14, 12]
    region = input_region(steps, 4, 0, 0)
    assert (region.rows, region.cols, region.pixels, region.padding_rows) == ((0, 9), (0, 9), 100, 0)
    assert region.matches_formula and not region.has_gaps


layers_strategy = st.lists(
    st.tuples(st.sampled_from(["conv", "max", "avg"]), st.integers(1, 5), st.integers(1, 3), st.integers(0, 3)),
    min_size=1, max_size=4,
)


@given(layers_strategy, st.integers(1, 24), st.data())
def test_region_is_the_gradient_support(spec: list, size: int, data) -> None:
    layers = [Layer(f"l{i}", kind, k, s, min(p, k // 2) if kind != "conv" else p) for i, (kind, k, s, p) in enumerate(spec)]
    try:
        steps = receptive_fields(layers, size)
    except InputError as error:
        refused = error
    else:
        refused = None
    if refused is not None:
        assert refused.key == "rf.err_no_output"
        with pytest.raises(RuntimeError):  # PyTorch refuses the same stack
            oracle_net(layers)(torch.zeros(1, 1, size, size, dtype=torch.float64))
        return
    net = oracle_net(layers)
    assert net(torch.zeros(1, 1, size, size, dtype=torch.float64)).shape[-1] == steps[-1].size
    index = data.draw(st.integers(0, len(layers)))
    row, col = data.draw(st.integers(0, steps[index].size - 1)), data.draw(st.integers(0, steps[index].size - 1))
    region = input_region(steps, index, row, col)
    expected = gradient_support(net[:index], size, row, col)
    np.testing.assert_array_equal(region.mask, expected)
    # The formula's window, clipped to the image, always contains what the neuron really sees.
    box = np.zeros((size, size), bool)
    r = region.receptive
    box[max(region.top, 0) : max(region.top + r, 0), max(region.left, 0) : max(region.left + r, 0)] = True
    assert not (expected & ~box).any()
    rows_in_image = len(range(max(region.top, 0), min(region.top + r, size)))
    assert region.padding_rows == r - rows_in_image


def test_stride_larger_than_the_window_leaves_gaps() -> None:
    layers = [Layer("p", "max", 1, 2, 0), Layer("c", "conv", 3, 1, 0)]
    steps = receptive_fields(layers, 9)
    region = input_region(steps, 2, 0, 0)
    assert region.receptive == 5 and region.rows == (0, 4) and region.row_mask[:5].tolist() == [True, False, True, False, True]
    assert region.has_gaps and not region.matches_formula
    np.testing.assert_array_equal(region.mask, gradient_support(oracle_net(layers), 9, 0, 0))


def test_padding_is_counted() -> None:
    steps = receptive_fields([Layer("c1", "conv", 3, 1, 1), Layer("c2", "conv", 3, 1, 1)], 8)
    corner = input_region(steps, 2, 0, 0)
    assert (corner.top, corner.receptive, corner.rows, corner.padding_rows, corner.padding_cols) == (-2, 5, (0, 2), 2, 2)
    assert corner.pixels == 9 and corner.matches_formula


def test_cifar_geometry_comes_from_the_network() -> None:
    layers = cifar_layers()
    names = [layer.name for layer in layers]
    shapes = {name: shape for name, shape, _ in layer_shapes(CifarNet())}
    steps = receptive_fields(layers, 32)
    assert names == [name for name in shapes if name != "fc"]
    assert [s.size for s in steps[1:]] == [shapes[name][1] for name in names]
    assert steps[-1].receptive == 67 and steps[-1].jump == 24
    whole = input_region(steps, len(layers), 0, 0)
    assert whole.pixels == 32 * 32  # after the global pool one neuron sees the whole image


def test_regions_in_the_real_cifar_network_match_autograd() -> None:
    """The app's own CifarNet code, with all-ones weights and its max pools made average pools."""
    net = CifarNet().double().eval()
    with torch.no_grad():
        for name, module in list(net.named_modules()):
            if isinstance(module, nn.Conv2d):
                module.weight.fill_(1.0)
                if module.bias is not None:
                    module.bias.zero_()
            if isinstance(module, nn.MaxPool2d):
                parent, _, attr = name.rpartition(".")
                average = nn.AvgPool2d(module.kernel_size, module.stride, module.padding)
                setattr(net.get_submodule(parent) if parent else net, attr, average)
    steps = receptive_fields(layers_of(net), 32)
    names = [s.layer.name for s in steps[1:]]
    for name, row, col in [("whiten", 0, 0), ("block1.conv1", 5, 30), ("block1.pool", 14, 0), ("block2.conv2", 3, 6),
                           ("block3.conv1", 6, 6), ("block3.conv2", 1, 2), ("pool", 0, 0)]:
        x = torch.ones(1, 3, 32, 32, dtype=torch.float64, requires_grad=True)
        _, record = net.features(x)
        record[name][0, 0, row, col].backward()
        region = input_region(steps, names.index(name) + 1, row, col)
        np.testing.assert_array_equal(region.mask, (x.grad[0] != 0).any(dim=0).numpy(), err_msg=name)


@pytest.mark.parametrize(("call", "key"), [
    (lambda: receptive_fields([Layer("a", "conv", 7)], 5), "rf.err_no_output"),
    (lambda: receptive_fields([Layer("a", "max", 3, 1, 2)], 8), "rf.err_pool_padding"),
    (lambda: receptive_fields([Layer("a", "dense", 3)], 8), "rf.err_kind"),
    (lambda: receptive_fields([Layer("a", "conv", 0)], 8), "err.kernel_too_small"),
    (lambda: receptive_fields([Layer("a", "conv", 3, 0)], 8), "err.stride_too_small"),
    (lambda: receptive_fields([Layer("a", "conv", 3, 1, -1)], 8), "err.padding_too_small"),
    (lambda: input_region(receptive_fields(DEFAULT, 32), 5, 0, 0), "rf.err_layer"),
    (lambda: input_region(receptive_fields(DEFAULT, 32), 3, 14, 0), "rf.err_outside"),
    (lambda: local_field(5, 0, 32), "rf.err_channels"),
    (lambda: local_field(9, 3, 8), "rf.err_filter_too_large"),
])
def test_bad_input_is_a_readable_error(call, key: str) -> None:
    with pytest.raises(InputError) as caught:
        call()
    assert caught.value.key == key
    assert caught.value.message("es") != caught.value.message("en")
