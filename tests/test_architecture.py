"""Layer tables against real PyTorch: forward hooks for shapes, sum(p.numel()) for parameters, FlopCounterMode for
multiply-adds, autograd for receptive fields, and the layer where a real forward pass fails."""

from __future__ import annotations

import functools
from collections import OrderedDict
from fractions import Fraction

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models import alexnet

from cnn_core import InputError
from cnn_core.architecture import (
    Layer, Trace, build, builder_layer, model_trace, module_layers, reference_network, trace,
)
from cnn_core.model import CifarNet


@functools.cache
def alexnet_model() -> nn.Module:
    """torchvision's AlexNet with random weights (geometry only), built once: the tests only read it."""
    return alexnet(weights=None).eval()


def leaves(model: nn.Module) -> dict[str, nn.Module]:
    return {name: m for name, m in model.named_modules() if next(m.children(), None) is None}


def forward_record(model: nn.Module, x: torch.Tensor) -> tuple[dict[str, tuple[int, ...]], dict[str, torch.Tensor], str | None]:
    """Output shape and input of every leaf module from a real forward pass, and the module it failed in, if any."""
    shapes: dict[str, tuple[int, ...]] = {}
    inputs: dict[str, torch.Tensor] = {}
    entered: list[str] = []
    handles = []

    def before(name: str):
        def hook(module: nn.Module, args: tuple[torch.Tensor, ...]) -> None:
            entered.append(name)
            inputs[name] = args[0].clone()  # an in-place ReLU would overwrite it
        return hook

    def after(name: str):
        def hook(module: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
            shapes[name] = tuple(out.shape[1:])
        return hook

    for name, module in leaves(model).items():
        handles += [module.register_forward_pre_hook(before(name)), module.register_forward_hook(after(name))]
    failed = None
    try:
        with torch.no_grad():
            model.eval()(x)  # eval: BatchNorm on a 1×1 map would refuse to train, not to run
    except RuntimeError:
        failed = entered[-1]
    finally:
        for handle in handles:
            handle.remove()
    return shapes, inputs, failed


def check_against_torch(model: nn.Module, result: Trace, x: torch.Tensor) -> None:
    """Every traced shape equals the hooked one, every conv/linear MAC count equals FlopCounterMode's / 2."""
    shapes, inputs, failed = forward_record(model, x)
    modules = leaves(model)
    assert result.error is None and failed is None
    traced = [row for row in result.rows if not row.layer.implicit]
    assert [row.layer.name for row in traced] == list(shapes)  # every module, in forward order
    for row in traced:
        assert row.shape == shapes[row.layer.name], row.layer.name
        assert row.parameters == sum(p.numel() for p in modules[row.layer.name].parameters()), row.layer.name
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            modules[row.layer.name](inputs[row.layer.name])
        assert 2 * row.multiply_adds == counter.get_total_flops(), row.layer.name
    assert result.parameters == sum(p.numel() for p in model.parameters())
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    assert 2 * result.multiply_adds == counter.get_total_flops()


def test_cifar_net_table_matches_a_real_forward_pass() -> None:
    model = CifarNet().eval()  # random weights: the geometry does not depend on them
    result = model_trace(model, 3, 32, 32)
    check_against_torch(model, result, torch.zeros(1, 3, 32, 32))
    assert result.output_shape == (10,) and result.parameters == 569_656


@pytest.mark.parametrize("side", [224, 256, 100, 64])
def test_alexnet_table_matches_a_real_forward_pass(side: int) -> None:
    model = alexnet_model().eval()
    result = model_trace(model, 3, side, side)
    check_against_torch(model, result, torch.zeros(1, 3, side, side))
    assert result.parameters == 61_100_840  # the adaptive pooling keeps the classifier the same at any size
    flatten = [row for row in result.rows if row.layer.implicit]
    assert len(flatten) == 1 and flatten[0].shape == (9216,)  # torch.flatten inside forward(), right after avgpool
    names = [row.layer.name for row in result.rows]
    assert names.index("(torch.flatten)") == names.index("avgpool") + 1


def test_reference_networks_on_meta_give_the_same_tables() -> None:
    for name, real in (("cifar", CifarNet()), ("alexnet", alexnet_model())):
        meta = reference_network(name)
        assert next(meta.parameters()).device.type == "meta"
        side = 32 if name == "cifar" else 224
        assert model_trace(meta, 3, side, side) == model_trace(real, 3, side, side)
    with pytest.raises(ValueError):
        reference_network("resnet")


def first_failing_module(model: nn.Module, side: int) -> str | None:
    return forward_record(model, torch.zeros(1, 3, side, side))[2]


@pytest.mark.parametrize(("network", "side", "key"), [
    ("cifar", 64, "arch.err_linear_mismatch"), ("cifar", 100, "arch.err_linear_mismatch"), ("cifar", 20, "arch.err_does_not_fit"),
    ("cifar", 7, "arch.err_does_not_fit"),
    ("alexnet", 50, "arch.err_does_not_fit"), ("alexnet", 8, "arch.err_does_not_fit"),
])
def test_impossible_sizes_stop_where_torch_fails(network: str, side: int, key: str) -> None:
    model = CifarNet() if network == "cifar" else alexnet_model()
    result = model_trace(model, 3, side, side)
    failed = first_failing_module(model, side)
    assert result.error is not None and result.error.key == key and failed is not None
    assert result.error.params["layer"] == failed
    assert result.rows[-1].position == result.failed - 1  # the table up to the failing layer is kept
    hooked, _, _ = forward_record(model, torch.zeros(1, 3, side, side))
    for row in result.rows:
        if not row.layer.implicit:
            assert row.shape == hooked[row.layer.name]
    for lang in ("es", "en"):
        assert failed in result.error.message(lang)


def test_does_not_fit_message_has_the_lectures_numbers() -> None:
    result = model_trace(alexnet_model(), 3, 50, 50)
    error = result.error
    assert error is not None and error.params["layer"] == "features.12"  # 50 → 11 → 5 → 2: the last 3×3 pool on 2×2
    m, k, p, s = (error.params[name] for name in ("m", "k", "p", "s"))
    assert (m, k, p, s) == (2, 3, 0, 2) and error.params["padded"] == 2 and error.params["numerator"] == -1
    assert "(2 − 3 + 2·0)/2 + 1" in error.message("en")


def twin(model: nn.Module, names: list[str]) -> nn.Sequential:
    """A 1-channel copy of the listed conv/pool modules: all-ones convolutions, average pooling, nothing else."""
    layers = []
    for name in names:
        module = leaves(model)[name]
        if isinstance(module, nn.Conv2d):
            conv = nn.Conv2d(1, 1, module.kernel_size, module.stride, module.padding, module.dilation, bias=False)
            nn.init.ones_(conv.weight)
            layers.append(conv)
        elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            assert getattr(module, "dilation", 1) == 1
            layers.append(nn.AvgPool2d(module.kernel_size, module.stride, module.padding))
    return nn.Sequential(*layers)


def gradient_extent(net: nn.Module, side: int) -> tuple[int, int]:
    """Rows and columns of the input that the centre output value depends on, measured with autograd."""
    x = torch.ones(1, 1, side, side, requires_grad=True)
    out = net(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(1)).flatten()
    cols = torch.nonzero(x.grad[0, 0].abs().sum(0)).flatten()
    assert rows.min() > 0 and rows.max() < side - 1, "the field touches the border: use a larger input"
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


@pytest.mark.parametrize(("network", "side", "probe"), [("cifar", 32, 200), ("alexnet", 224, 480)])
def test_receptive_fields_match_autograd(network: str, side: int, probe: int) -> None:
    model = CifarNet() if network == "cifar" else alexnet_model()
    result = model_trace(model, 3, side, side)
    spatial: list[str] = []
    for row in result.rows:
        if row.layer.kind in ("conv", "maxpool", "avgpool"):
            spatial.append(row.layer.name)
            assert row.receptive_field == gradient_extent(twin(model, spatial), probe), row.layer.name
    final = {"cifar": (67, 67), "alexnet": (195, 195)}[network]  # AlexNet's pool5 sees 195×195: the textbook figure
    assert [row.receptive_field for row in result.rows if row.layer.name == spatial[-1]] == [final]


def test_adaptive_pooling_windows_match_torch() -> None:
    result = model_trace(alexnet_model(), 3, 256, 256)  # features end at 7×7, avgpool squeezes 7 into 6
    row = next(row for row in result.rows if row.layer.kind == "adaptive_avgpool")
    basis = torch.eye(7).reshape(7, 1, 7, 1)  # channel c is a one-hot row c
    pooled = nn.AdaptiveAvgPool2d((6, 1))(basis)[:, 0, :, 0]  # 7 × 6: which inputs each output averages
    widest = int((pooled != 0).sum(0).max())
    assert row.adaptive_bins == (widest, widest) == (2, 2)
    before = next(r for r in result.rows if r.layer.name == "features.12")
    assert row.receptive_field == (195 + (widest - 1) * 32,) * 2  # one more step of the 32-pixel grid
    at_224 = next(r for r in model_trace(alexnet_model(), 3, 224, 224).rows if r.layer.kind == "adaptive_avgpool")
    assert at_224.adaptive_bins == (1, 1) and at_224.receptive_field == before.receptive_field


def test_floor_marks_agree_with_the_exact_fraction() -> None:
    for model, side in ((CifarNet(), 32), (alexnet_model(), 224), (alexnet_model(), 227)):
        shapes, _, _ = forward_record(model, torch.zeros(1, 3, side, side))
        result = model_trace(model, 3, side, side)
        for row in result.rows:
            if row.layer.kind in ("conv", "maxpool"):
                m, k, s, p = row.input_shape[1], row.layer.kernel[0], row.layer.stride[0], row.layer.padding[0]
                exact = Fraction(m - k + 2 * p, s) + 1  # the lecture's formula without the floor
                assert row.floored == (exact != shapes[row.layer.name][1]), row.layer.name
    floored = {row.layer.name for row in model_trace(alexnet_model(), 3, 224, 224).rows if row.floored}
    assert floored == {"features.0"}  # (224 − 11 + 4)/4 = 54.25


def torch_stack(layers: list[Layer], channels: int) -> nn.Sequential:
    """Real modules for a builder stack (with an nn.Flatten where the trace flattens)."""
    modules: OrderedDict[str, nn.Module] = OrderedDict()
    volume, features = True, None
    for layer in layers:
        if layer.kind == "conv":
            modules[layer.name] = nn.Conv2d(channels, layer.out_channels, layer.kernel, layer.stride, layer.padding)
            channels = layer.out_channels
        elif layer.kind == "maxpool":
            modules[layer.name] = nn.MaxPool2d(layer.kernel, layer.stride, layer.padding)
        else:
            if volume:
                modules["flatten"] = nn.Flatten()  # the trace's "(torch.flatten)" row
                volume = False
            out = layer.out_features
            modules[layer.name] = nn.LazyLinear(out) if features is None else nn.Linear(features, out)
            features = layer.out_features
    return nn.Sequential(modules)


layer_spec = st.one_of(
    st.fixed_dictionaries({"kind": st.just("conv"), "units": st.integers(1, 4), "k": st.integers(1, 5),
                           "s": st.one_of(st.none(), st.integers(1, 3)), "p": st.one_of(st.none(), st.integers(0, 2))}),
    st.integers(1, 4).flatmap(lambda k: st.fixed_dictionaries({
        "kind": st.just("maxpool"), "units": st.none(), "k": st.just(k), "s": st.one_of(st.none(), st.integers(1, 3)),
        "p": st.integers(0, k // 2)})),
    st.fixed_dictionaries({"kind": st.just("fc"), "units": st.integers(1, 6), "k": st.none(), "s": st.none(), "p": st.none()}),
)


@settings(max_examples=60, deadline=None)
@given(specs=st.lists(layer_spec, min_size=1, max_size=6), c=st.integers(1, 3), h=st.integers(1, 24), w=st.integers(1, 24))
def test_builder_matches_real_modules(specs: list[dict], c: int, h: int, w: int) -> None:
    result = build(specs, c, h, w)
    counts: dict[str, int] = {}
    layers = [builder_layer(spec, i, counts) for i, spec in enumerate(specs, start=1)]
    model = torch_stack(layers, c)
    x = torch.zeros(1, c, h, w)
    shapes, _, failed = forward_record(model, x)
    spatial_after_fc = any(s["kind"] != "fc" for s in specs[[s["kind"] for s in specs].index("fc") + 1:]) if any(
        s["kind"] == "fc" for s in specs) else False
    names = ["flatten" if row.layer.implicit else row.layer.name for row in result.rows]
    if result.error is None:
        assert failed is None
        assert names == list(shapes)
        assert [row.shape for row in result.rows] == [shapes[name] for name in names]
        assert result.parameters == sum(p.numel() for p in model.parameters())
    elif result.error.key == "arch.err_needs_volume":
        assert spatial_after_fc  # torch would not complain in the same words (or at all): a 2-D tensor is no image
    else:
        assert result.error.key == "arch.err_does_not_fit"
        assert failed == result.error.params["layer"]
        assert [row.shape for row in result.rows] == [shapes[name] for name in names]


def test_lenet5_by_hand() -> None:
    specs = [{"kind": "conv", "units": 6, "k": 5}, {"kind": "maxpool", "k": 2}, {"kind": "conv", "units": 16, "k": 5},
             {"kind": "maxpool", "k": 2}, {"kind": "fc", "units": 120}, {"kind": "fc", "units": 84}, {"kind": "fc", "units": 10}]
    result = build(specs, 1, 32, 32)
    shapes = [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (400,), (120,), (84,), (10,)]
    assert [row.shape for row in result.rows] == shapes
    assert [row.parameters for row in result.rows] == [156, 0, 2416, 0, 0, 48120, 10164, 850]  # 5·5·1·6 + 6, …
    assert result.parameters == 61_706
    assert [row.receptive_field for row in result.rows][:4] == [(5, 5), (6, 6), (14, 14), (16, 16)]


@pytest.mark.parametrize(("spec", "key", "column"), [
    ({"kind": None}, "arch.err_kind", None),
    ({"kind": "conv", "units": None, "k": 3}, "arch.err_cell_empty", "n / N"),
    ({"kind": "conv", "units": 4, "k": None}, "arch.err_cell_empty", "k"),
    ({"kind": "conv", "units": 4, "k": 2.5}, "arch.err_cell_integer", "k"),
    ({"kind": "conv", "units": 4, "k": "3"}, "arch.err_cell_integer", "k"),
    ({"kind": "conv", "units": 0, "k": 3}, "arch.err_cell_small", "n / N"),
    ({"kind": "conv", "units": 2, "k": 3, "s": 0}, "arch.err_cell_small", "s"),
    ({"kind": "conv", "units": 2, "k": 3, "p": -1}, "arch.err_cell_small", "p"),
    ({"kind": "fc", "units": float("nan")}, "arch.err_cell_empty", "n / N"),
    ({"kind": "maxpool", "k": 3, "p": 2}, "arch.err_pool_padding", None),
])
def test_bad_cells_name_the_row_and_keep_the_rows_before(spec: dict, key: str, column: str | None) -> None:
    good = [{"kind": "conv", "units": 4, "k": 3, "p": 1}, {"kind": "maxpool", "k": 2}]
    result = build([*good, spec, {"kind": "fc", "units": 10}], 3, 16, 16)
    assert result.error is not None and result.error.key == key and result.error.params["row"] == 3
    if column:
        assert result.error.params["column"] == column
    assert [row.shape for row in result.rows] == [(4, 16, 16), (4, 8, 8)]
    assert result.failed == 3
    assert "3" in result.error.message("es")


def test_builder_defaults_and_names() -> None:
    counts: dict[str, int] = {}
    pool = builder_layer({"kind": "maxpool", "k": 3}, 1, counts)
    conv = builder_layer({"kind": "conv", "units": 8, "k": 3}, 2, counts)
    pool2 = builder_layer({"kind": "maxpool", "k": 2, "s": 1}, 3, counts)
    assert (pool.name, pool.stride, pool.padding) == ("pool1", (3, 3), (0, 0))  # PyTorch: stride defaults to the window
    assert (conv.name, conv.stride, conv.padding) == ("conv1", (1, 1), (0, 0))
    assert (pool2.name, pool2.stride) == ("pool2", (1, 1))


def test_size_error_beats_a_later_typo_and_conv_after_fc_is_explained() -> None:
    result = build([{"kind": "conv", "units": 2, "k": 9}, {"kind": None}], 1, 5, 5)
    assert result.error.key == "arch.err_does_not_fit" and result.rows == ()
    result = build([{"kind": "fc", "units": 5}, {"kind": "conv", "units": 2, "k": 1}], 1, 4, 4)
    assert result.error.key == "arch.err_needs_volume" and result.error.params["features"] == 5
    assert [row.shape for row in result.rows] == [(16,), (5,)]  # fc straight on the image: flattened first


def test_input_size_is_validated() -> None:
    with pytest.raises(InputError) as caught:
        build([], 3, 0, 32)
    assert caught.value.params["symbol"] == "H"
    assert trace([], 3, 4, 5).output_shape == (3, 4, 5)


def test_unsupported_modules_are_refused() -> None:
    with pytest.raises(ValueError, match="LSTM"):
        module_layers(nn.Sequential(nn.Conv2d(3, 4, 3), nn.LSTM(4, 4)))
    with pytest.raises(ValueError, match="padding"):
        module_layers(nn.Sequential(nn.Conv2d(3, 4, 3, padding="same")))


def test_ceil_mode_pooling_is_traced_not_refused() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(2, ceil_mode=True), nn.AvgPool2d(3, 2, 1, ceil_mode=True))
    result = model_trace(model, 3, 45, 44)
    check_against_torch(model.eval(), result, torch.zeros(1, 3, 45, 44))
    assert result.rows[1].shape == (4, 22, 21)  # ⌈(43 − 2)/2⌉ + 1 = 22: the floor would give 21


def test_alexnet_2012_as_the_paper_describes_it() -> None:
    model = reference_network("alexnet2012")
    result = model_trace(model, 3, 227, 227)
    convs = [row for row in result.rows if row.layer.kind == "conv"]
    assert [row.shape[0] for row in convs] == [96, 256, 384, 384, 256] and convs[0].shape == (96, 55, 55)
    assert result.parameters == sum(p.numel() for p in model.parameters()) == 60_965_224
    from cnn_core.architecture import alexnet_2012

    check_against_torch(alexnet_2012().eval(), result, torch.zeros(1, 3, 227, 227))
    at_224 = model_trace(model, 3, 224, 224)  # the paper's 224 gives ⌊(224 − 11)/4⌋ + 1 = 54, and fc6 no longer fits
    assert at_224.rows[0].shape == (96, 54, 54) and at_224.error is not None and at_224.error.key == "arch.err_linear_mismatch"


def test_torchvision_alexnet_counts() -> None:
    model = alexnet_model()
    total = sum(p.numel() for p in model.parameters())
    fully_connected = sum(p.numel() for p in model.classifier.parameters())
    result = model_trace(model, 3, 224, 224)
    assert result.parameters == total == 61_100_840
    assert sum(row.parameters for row in result.rows if row.layer.kind == "linear") == fully_connected
    assert fully_connected / total == pytest.approx(0.96, abs=0.005)  # about 96 % in the three fully connected layers
    convs = [row for row in result.rows if row.layer.kind == "conv"]
    assert [row.shape[0] for row in convs] == [64, 192, 384, 256, 256] and convs[0].shape == (64, 55, 55)
    assert 224 * 224 * 3 * 4096 == 616_562_688  # a fully connected first layer on the raw pixels: ≈ 617 M weights


def test_grouped_dilated_conv_and_batchnorm_against_torch() -> None:
    model = nn.Sequential(nn.Conv2d(4, 8, 3, stride=2, padding=2, dilation=2, groups=2), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.AvgPool2d(3, 2, 1), nn.Conv2d(8, 6, (3, 1), bias=False), nn.Flatten(), nn.Linear(6 * 4 * 6, 5))
    result = model_trace(model, 4, 21, 23)
    check_against_torch(model.eval(), result, torch.zeros(1, 4, 21, 23))
    assert result.rows[1].parameters == 16  # BatchNorm: a scale and a shift per channel
    wrong = model_trace(model, 3, 21, 23)
    assert wrong.error.key == "arch.err_channels" and wrong.error.params == {"position": 1, "layer": "0", "expected": 4, "got": 3}
