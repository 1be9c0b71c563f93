"""cnn_core.live: the shipped subset, the training loop's contract (progress, stop, divergence) and its numbers."""

from __future__ import annotations

import io
import tarfile
import time

import numpy as np
import pytest
import torch
from PIL import Image

from cnn_core import InputError
from cnn_core.data import CLASSES
from cnn_core.live import DIVERGED_LOSS, MAX_SECONDS, LiveConfig, binned, filter_image, load_subset, train
from tests.conftest import DATA, encode

# The longest time budget: on a starved machine the run must still end by its steps ("finished"), not by the clock.
TINY = LiveConfig(layers=1, width=8, batch_size=32, epochs=2, learning_rate=0.003, time_budget=MAX_SECONDS)


@pytest.fixture(scope="module")
def data():
    return load_subset()


@pytest.fixture(scope="module")
def small(data):
    """1,600 training and 200 held-out images, every class equally (the subset is sorted by class)."""
    train_x, train_y, test_x, test_y = data
    return train_x[::3][:1600], train_y[::3][:1600], test_x[::5], test_y[::5]


def test_subset_is_fixed_balanced_and_in_class_order(data) -> None:
    train_x, train_y, test_x, test_y = data
    assert train_x.shape == (5000, 32, 32, 3) and test_x.shape == (1000, 32, 32, 3)
    assert train_x.dtype == np.uint8 and train_y.dtype == np.int64
    assert np.bincount(train_y).tolist() == [500] * 10 and np.bincount(test_y).tolist() == [100] * 10
    assert (np.diff(train_y) >= 0).all() and not train_x.flags.writeable


@pytest.mark.skipif(not (DATA / "cifar10-test-jpeg.tar.gz").is_file(), reason="needs the shared CIFAR-10 archives")
def test_subset_holds_the_named_images_of_the_shared_archive(data) -> None:
    with tarfile.open(DATA / "cifar10-test-jpeg.tar.gz") as archive:
        for index, name in ((0, "airplane/0000.jpg"), (399, "cat/0099.jpg"), (999, "truck/0099.jpg")):
            jpeg = archive.extractfile(f"cifar10-jpeg/test/{name}").read()
            assert np.array_equal(np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")), data[2][index]), name


def test_a_configured_full_cifar10_folder_is_used(tmp_path) -> None:
    rng = np.random.default_rng(0)
    for split, count in (("train", 3), ("test", 2)):
        for name in CLASSES[:2]:
            folder = tmp_path / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                (folder / f"{i}.png").write_bytes(encode(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)))
    train_x, train_y, test_x, test_y = load_subset(str(tmp_path))
    assert train_x.shape == (6, 32, 32, 3) and train_y.tolist() == [0, 0, 0, 1, 1, 1] and test_y.tolist() == [0, 0, 1, 1]


def test_short_run_learns_and_keeps_the_progress_contract(small) -> None:
    reports, stamps = [], []
    probe = small[2][7]
    result = train(TINY, small, on_progress=lambda p: (reports.append(p), stamps.append(time.monotonic())), probe=probe)
    assert result.status == "finished" and len(result.losses) == 2 * (1600 // 32)
    assert np.mean(result.losses[-10:]) < 0.85 * np.mean(result.losses[:5])  # the loss falls
    assert reports[0].step == 0 and reports[-1].step == len(result.losses) == reports[-1].total_steps
    assert [p.step for p in reports] == sorted(p.step for p in reports)
    # At least once a second: a longer gap only where one step or one chunk of evaluation took that long by itself
    # (a starved machine), never over several steps that went unreported.
    for before, after, gap in zip(reports, reports[1:], np.diff(stamps)):
        assert gap < 1.0 or after.step - before.step <= 1, (before.step, after.step, gap)
    assert reports[-1].filters.shape == (8, 3, 3, 3) and reports[-1].probe.shape == (10,)
    assert not np.array_equal(reports[0].filters, reports[-1].filters)  # the first layer learned
    assert reports[-1].probe == pytest.approx(result.predict(probe[None])[0], abs=1e-6)
    # held-out accuracy, per class and the confusion matrix against the trained model and a plain loop
    predicted = result.predict(small[2]).argmax(axis=1)
    assert result.accuracy == pytest.approx(float((predicted == small[3]).mean()))
    assert result.evaluations[-1] == (len(result.losses), pytest.approx(result.accuracy))
    matrix = np.zeros((10, 10), dtype=int)
    for truth, guess in zip(small[3], predicted):
        matrix[truth, guess] += 1
    assert np.array_equal(result.confusion, matrix)
    assert result.per_class_accuracy == pytest.approx(matrix.diagonal() / matrix.sum(axis=1))
    assert result.accuracy > 0.2  # chance is 0.1
    trained = result.predict(small[0][:1000]).argmax(axis=1)
    assert result.train_accuracy == pytest.approx(float((trained == small[1][:1000]).mean()))


def test_should_stop_ends_the_run_early(small) -> None:
    polls = []
    result = train(TINY, small, should_stop=lambda: polls.append(1) or len(polls) > 3)
    assert result.status == "stopped" and len(result.losses) == 3


def test_a_huge_learning_rate_diverges_with_a_status_not_an_exception(small) -> None:
    result = train(LiveConfig(layers=1, width=4, batch_size=32, epochs=1, optimizer="sgd", learning_rate=10.0), small)
    assert result.status == "diverged" and not result.losses[-1] <= DIVERGED_LOSS  # NaN, inf or exploded
    assert len(result.losses) < 1600 // 32


def test_the_time_budget_and_step_cap_end_a_run(small) -> None:
    assert train(LiveConfig(layers=1, width=4, batch_size=16, time_budget=1.0), small).status == "time_up"
    capped = train(LiveConfig(layers=1, width=4, batch_size=16, max_steps=5), small)
    assert capped.status == "step_limit" and len(capped.losses) == 5


@pytest.mark.parametrize("change", [dict(layers=4), dict(width=7), dict(activation="swish"), dict(learning_rate=float("nan")),
                                    dict(learning_rate=0.0), dict(epochs=0), dict(time_budget=1e9), dict(batch_size=1000)])
def test_impossible_settings_are_refused_in_both_languages(change) -> None:
    with pytest.raises(InputError) as caught:
        LiveConfig(**change).validate()
    assert caught.value.message("es") != caught.value.message("en")


def test_binned_curve_is_the_mean_of_each_bin() -> None:
    values = np.arange(1000, dtype=float) ** 0.5
    x, y = binned(values, 100)
    assert len(x) == len(y) == 100
    for i in range(100):
        assert y[i] == pytest.approx(values[i * 10 : i * 10 + 10].mean()) and x[i] == pytest.approx(i * 10 + 5.5)
    assert binned([3.0, 1.0])[1].tolist() == [3.0, 1.0]


def test_filter_image_scales_each_filter_around_grey() -> None:
    filters = np.zeros((5, 3, 3, 3), dtype=np.float32)
    filters[0, 0, 0, 0], filters[0, 1, 1, 1] = 2.0, -2.0
    mosaic = filter_image(filters, scale=2, gap=1)
    assert mosaic.shape == (2 * 7 - 1, 3 * 7 - 1, 3) and mosaic.dtype == np.uint8
    assert mosaic[0, 0].tolist() == [255, 128, 128] and mosaic[2, 2].tolist() == [128, 0, 128]
    assert (mosaic[:6, 7:13] == 128).all()  # an all-zero filter is grey
    assert torch.isfinite(torch.from_numpy(filter_image(np.full((1, 3, 3, 3), np.nan, np.float32)).astype(float))).all()


def test_sessions_arriving_together_decode_the_data_once(monkeypatch) -> None:
    import functools
    import threading

    from cnn_core import live

    calls = []

    @functools.cache
    def slow(source):
        calls.append(source)
        time.sleep(0.2)  # the archive's decoding, during which the other sessions arrive
        return ("decoded", source)

    monkeypatch.setattr(live, "_load_subset", slow)
    got = []
    threads = [threading.Thread(target=lambda: got.append(live.load_subset())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len(got) == 8 and all(g is got[0] for g in got)


VGG_START = [("conv", 32, 3, 1, 1), ("conv", 32, 3, 1, 1), ("maxpool", None, 2, 2, 0), ("conv", 64, 3, 1, 1),
             ("conv", 64, 3, 1, 1), ("maxpool", None, 2, 2, 0), ("fc", 256, None, None, None), ("fc", 10, None, None, None)]


def specs(rows) -> list[dict]:
    """Builder rows (kind, n/N, k, s, p) as the architecture explorer's table gives them."""
    return [dict(zip(("kind", "units", "k", "s", "p"), row)) for row in rows]


@pytest.mark.parametrize("rows", [
    VGG_START,
    [("conv", 16, 3, 2, None), ("conv", 32, 3, 2, 0), ("maxpool", None, 3, 2, None), ("fc", 10, None, None, None)],
    [("maxpool", None, 2, None, None), ("conv", 8, 5, 1, 2), ("conv", 12, 3, 3, 1)],  # no classifier: the trainer adds it
    [("conv", 6, 5, 1, 0), ("maxpool", None, 2, 2, 0), ("conv", 16, 5, 1, 0), ("maxpool", None, 2, 2, 0),
     ("fc", 120, None, None, None), ("fc", 84, None, None, None), ("fc", 10, None, None, None)],
])
def test_the_explorers_stack_becomes_a_model_with_the_builders_shapes(rows) -> None:
    from cnn_core.architecture import build
    from cnn_core.live import build_model, first_conv, stack_from_builder

    stack = stack_from_builder(specs(rows))
    config = LiveConfig(stack=stack, activation="gelu")
    config.validate()
    model = build_model(config)
    shapes = []
    for module in model:
        if isinstance(module, (torch.nn.Conv2d, torch.nn.MaxPool2d, torch.nn.Linear)):
            module.register_forward_hook(lambda m, i, out: shapes.append(tuple(out.shape[1:])))
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    expected = [row.shape for row in build(specs(rows), 3, 32, 32).rows if row.layer.kind in ("conv", "maxpool", "linear")]
    added = [] if rows[-1][0] == "fc" else [(10,)]
    assert shapes == expected + added
    assert sum(isinstance(m, torch.nn.GELU) for m in model) == sum(r[0] == "conv" for r in rows) + max(sum(r[0] == "fc" for r in rows) - 1, 0)
    assert first_conv(model).out_channels == next(r[1] for r in rows if r[0] == "conv")


@pytest.mark.parametrize(("rows", "shape", "key"), [
    (VGG_START, (1, 32, 32), "live.err_stack_input"),
    (VGG_START, (3, 28, 28), "live.err_stack_input"),
    ([("maxpool", None, 2, 2, 0), ("fc", 10, None, None, None)], (3, 32, 32), "live.err_stack_no_conv"),
    (VGG_START[:-1], (3, 32, 32), "live.err_stack_classes"),  # ends with 256 neurons, not one per class
    ([("conv", 128, 3, 1, 1), ("conv", 128, 3, 1, 1)], (3, 32, 32), "live.err_stack_macs"),
    ([("conv", 8, 3, 1, 1), ("fc", 300, None, None, None), ("fc", 10, None, None, None)], (3, 32, 32), "live.err_stack_parameters"),
    ([("conv", 8, 3, 1, 1)] * 11, (3, 32, 32), "live.err_stack_layers"),
    ([("conv", 8, 3, 2, 0)] * 5, (3, 32, 32), "arch.err_does_not_fit"),  # the builder's own reason: 1×1 cannot take k = 3
    ([("conv", 8, None, 1, 0)], (3, 32, 32), "arch.err_cell_empty"),
])
def test_a_stack_that_does_not_fit_says_why(rows, shape, key) -> None:
    from cnn_core.live import stack_from_builder

    with pytest.raises(InputError) as refused:
        stack_from_builder(specs(rows), *shape)
    assert refused.value.key == key
    assert refused.value.message("es") != refused.value.message("en")  # translated in both languages


def test_the_explorers_stack_trains(small) -> None:
    from cnn_core.live import stack_from_builder

    stack = stack_from_builder(specs([("conv", 6, 3, 1, 1), ("maxpool", None, 2, None, None), ("fc", 10, None, None, None)]))
    result = train(LiveConfig(stack=stack, batch_size=32, epochs=1, time_budget=MAX_SECONDS), small)
    assert result.status == "finished" and result.progress.filters.shape == (6, 3, 3, 3)
    assert np.mean(result.losses[-10:]) < np.mean(result.losses[:5])
