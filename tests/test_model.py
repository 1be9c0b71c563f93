"""Tests of the shipped CIFAR-10 network, its prediction path and the data loader."""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from cnn_core import model as m
from cnn_core.data import CLASSES, load_cifar10

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TEST_ARCHIVE = DATA_DIR / "cifar10-test-jpeg.tar.gz"
needs_data = pytest.mark.skipif(not TEST_ARCHIVE.is_file(), reason=f"CIFAR-10 test data not found at {DATA_DIR}")


@pytest.fixture(scope="module")
def net() -> m.CifarNet:
    return m.load_model()


@pytest.fixture(scope="module")
def test_set() -> tuple[np.ndarray, np.ndarray]:
    if not TEST_ARCHIVE.is_file():
        pytest.skip(f"CIFAR-10 test data not found at {DATA_DIR}")
    images, labels = load_cifar10(DATA_DIR, train=False)
    return images.numpy(), labels.numpy()


# --- weights and model card -------------------------------------------------------------------------------


def test_weights_match_card_and_load_with_weights_only() -> None:
    card = m.model_card()
    assert hashlib.sha256(m.WEIGHTS_PATH.read_bytes()).hexdigest() == card["sha256"]
    state = torch.load(m.WEIGHTS_PATH, map_location="cpu", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert all(v.dtype in (torch.float32, torch.int64) for v in state.values())
    m.CifarNet().load_state_dict(state)  # strict: every name and shape agrees


def test_load_model_is_cached_and_thread_safe(net: m.CifarNet) -> None:
    results: list[m.CifarNet] = []
    threads = [threading.Thread(target=lambda: results.append(m.load_model())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and all(result is net for result in results)
    assert not net.training


def test_tampered_weights_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = bytearray(m.WEIGHTS_PATH.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered = tmp_path / "cifar10_net.pt"
    tampered.write_bytes(bytes(data))
    monkeypatch.setattr(m, "WEIGHTS_PATH", tampered)
    with pytest.raises(m.ModelError, match="does not match the model card; refusing to load it"):
        m.load_model()


def test_missing_weights_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(m, "WEIGHTS_PATH", tmp_path / "absent.pt")
    with pytest.raises(m.ModelError, match="missing"):
        m.load_model()
    assert issubclass(m.ModelError, RuntimeError)


def test_parameter_count(net: m.CifarNet) -> None:
    params = m.count_parameters(net)
    assert params <= 1_000_000
    assert params == m.model_card()["parameters"]
    # whiten 3·24·2·2 + 24; convs 3·3·(24·64 + 64·64 + 64·128 + 128·128 + 128·128 + 128·128); BN 2·(2·64 + 4·128); fc
    by_hand = 3 * 24 * 4 + 24 + 9 * (24 * 64 + 64 * 64 + 64 * 128 + 3 * 128 * 128) + 2 * (2 * 64 + 4 * 128) + 128 * 10
    assert params == by_hand


def test_model_card_contents() -> None:
    card = m.model_card()
    assert card["classes"] == list(CLASSES)
    assert card["multiply_adds_per_image"] == m.multiply_adds(m.CifarNet())
    evaluation = card["evaluation"]
    assert evaluation["test_accuracy_tta"] >= 0.90
    matrix = np.array(evaluation["confusion_matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == card["data"]["test_images"]
    assert set(evaluation["per_class_accuracy"]) == set(CLASSES)


# --- predictions ------------------------------------------------------------------------------------------


def _check_probabilities(probabilities: np.ndarray, n: int) -> None:
    assert probabilities.shape == (n, len(CLASSES))
    assert np.all(probabilities >= 0) and np.all(np.isfinite(probabilities))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)


def test_probabilities_of_random_images() -> None:
    images = np.random.default_rng(0).integers(0, 256, size=(7, 32, 32, 3), dtype=np.uint8)
    _check_probabilities(m.predict_batch(images), 7)
    np.testing.assert_allclose(
        m.predict_batch(images), torch.softmax(torch.from_numpy(m.predict_logits_batch(images)).double(), 1).numpy(), atol=1e-6
    )


def test_predict_batch_rejects_wrong_input() -> None:
    with pytest.raises(ValueError, match="uint8 images"):
        m.predict_batch(np.zeros((2, 32, 32, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="uint8 images"):
        m.predict_batch(np.zeros((2, 28, 28, 3), dtype=np.uint8))


def test_probabilities_of_real_images(test_set: tuple[np.ndarray, np.ndarray]) -> None:
    images = test_set[0][::500]
    _check_probabilities(m.predict_batch(images), len(images))


def test_predict_on_large_non_square_image() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, size=(480, 640, 3), dtype=np.uint8)
    probabilities = m.predict(image)
    assert list(probabilities) == list(CLASSES)
    assert all(p >= 0 for p in probabilities.values())
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-9)
    logits = m.predict_logits(image)
    assert max(logits, key=logits.get) == max(probabilities, key=probabilities.get)


def test_preprocess_centre_crops_and_resizes() -> None:
    image = np.zeros((100, 300, 3), dtype=np.uint8)
    image[:, :100] = (255, 0, 0)  # left margin, cropped away
    image[:, 100:200] = (0, 200, 0)  # centre square
    image[:, 200:] = (0, 0, 255)  # right margin, cropped away
    small = m.preprocess(image)
    assert small.shape == (32, 32, 3) and small.dtype == np.uint8
    assert np.abs(small.astype(int) - (0, 200, 0)).max() <= 1
    tiny = np.random.default_rng(2).integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    np.testing.assert_array_equal(m.preprocess(tiny), tiny)
    tall = np.random.default_rng(3).integers(0, 256, size=(500, 37, 3), dtype=np.uint8)
    assert m.preprocess(tall).shape == (32, 32, 3)


def test_tta_is_nearly_mirror_invariant(test_set: tuple[np.ndarray, np.ndarray]) -> None:
    images = test_set[0][::20]
    probabilities = m.predict_batch(images)
    mirrored = m.predict_batch(images[:, :, ::-1])
    # The mirror pair is exactly symmetric; the diagonal ±1 px shifts become anti-diagonal ones.
    assert np.abs(probabilities - mirrored).max() < 0.15
    assert np.abs(probabilities - mirrored).mean() < 0.005
    assert (probabilities.argmax(1) == mirrored.argmax(1)).mean() >= 0.98


@needs_data
def test_test_set_accuracy(test_set: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = test_set
    assert len(images) == 10_000
    accuracy = float((m.predict_batch(images).argmax(axis=1) == labels).mean())
    assert accuracy >= 0.90
    assert accuracy == pytest.approx(m.model_card()["evaluation"]["test_accuracy_tta"], abs=0.002)


# --- feature maps and arithmetic --------------------------------------------------------------------------


def _expected_feature_shapes() -> dict[str, tuple[int, int, int]]:
    """Shapes by the conv/pool formula floor((m + 2p - k) / s) + 1, from the architecture as documented."""

    def out(size: int, k: int, s: int, p: int) -> int:
        return (size + 2 * p - k) // s + 1

    layers = [("whiten", "conv", 24, 2, 1, 0)]
    for block, width in (("block1", 64), ("block2", 128), ("block3", 128)):
        layers += [(f"{block}.conv1", "conv", width, 3, 1, 1), (f"{block}.pool", "pool", width, 2, 2, 0)]
        layers += [(f"{block}.conv2", "conv", width, 3, 1, 1)]
    layers.append(("pool", "pool", 128, 3, 3, 0))
    size, shapes = 32, {}
    for name, _, channels, k, s, p in layers:
        size = out(size, k, s, p)
        shapes[name] = (channels, size, size)
    return shapes


def test_feature_maps_shapes_order_and_single_pass(net: m.CifarNet) -> None:
    calls = []
    hook = net.whiten.register_forward_hook(lambda *_: calls.append(1))
    try:
        image = np.random.default_rng(4).integers(0, 256, size=(64, 48, 3), dtype=np.uint8)
        maps = m.feature_maps(image)
    finally:
        hook.remove()
    assert len(calls) == 1
    expected = _expected_feature_shapes()
    assert list(maps) == list(expected)
    assert {name: value.shape for name, value in maps.items()} == expected
    assert all(value.dtype == np.float32 for value in maps.values())
    # The last pooled map feeds the classifier: it reproduces the plain (no TTA) logits.
    pooled = torch.from_numpy(maps["pool"].reshape(1, -1))
    with torch.no_grad():
        plain = net(m.to_input(m.preprocess(image)[None]))
    torch.testing.assert_close(net.fc(pooled) * net.logit_scale, plain, rtol=1e-4, atol=1e-5)


def test_multiply_adds_against_forward_hooks() -> None:
    net = m.CifarNet()
    counted: list[int] = []

    def count(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            counted.append(output[0].numel() * module.in_channels // module.groups * kh * kw)
        else:
            counted.append(inputs[0][0].numel() * output[0].numel())

    hooks = [mod.register_forward_hook(count) for mod in net.modules() if isinstance(mod, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        net(torch.zeros(1, 3, 32, 32))
    for hook in hooks:
        hook.remove()
    assert m.multiply_adds(net) == sum(counted)
    by_hand = (
        31 * 31 * 24 * 3 * 4  # whiten
        + 31 * 31 * 64 * 24 * 9 + 15 * 15 * 64 * 64 * 9  # block1
        + 15 * 15 * 128 * 64 * 9 + 7 * 7 * 128 * 128 * 9  # block2
        + 7 * 7 * 128 * 128 * 9 + 3 * 3 * 128 * 128 * 9  # block3
        + 128 * 10
    )
    assert m.multiply_adds(net) == by_hand == 54_223_904


def test_whitening_init_whitens_patches() -> None:
    images = torch.randn(64, 3, 16, 16) * torch.tensor([1.0, 2.0, 0.5]).view(1, 3, 1, 1)
    net = m.CifarNet()
    net.init_whitening(images, eps=0.0)
    with torch.no_grad():
        out = net.whiten(images) - net.whiten.bias.view(1, -1, 1, 1)
    half = out[:, :12].permute(0, 2, 3, 1).reshape(-1, 12).double()
    covariance = half.T @ half / len(half)
    torch.testing.assert_close(covariance, torch.eye(12, dtype=torch.float64), atol=1e-3, rtol=0)
    torch.testing.assert_close(out[:, 12:], -out[:, :12])


# --- data loader on synthetic data ------------------------------------------------------------------------

COLOURS = {"truck": (200, 30, 30), "cat": (20, 180, 60)}


def _make_layout(root: Path) -> Path:
    """cifar10-jpeg/{train,test}/<class>/NNNN.jpg with solid-colour images; train gets 3, test 2 per class."""
    top = root / "cifar10-jpeg"
    for split, count in (("train", 3), ("test", 2)):
        for name, colour in COLOURS.items():
            folder = top / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                shade = tuple(min(255, c + 10 * i) for c in colour)
                Image.new("RGB", (32, 32), shade).save(folder / f"{i:04d}.jpg", quality=75)
    return top


def _make_archive(top: Path, path: Path, split: str) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        archive.add(top / split, arcname=f"cifar10-jpeg/{split}")
    return path


def _check_split(images: torch.Tensor, labels: torch.Tensor, per_class: int) -> None:
    assert images.dtype == torch.uint8 and labels.dtype == torch.int64
    assert images.shape == (2 * per_class, 32, 32, 3)
    # Labels come from the folder names in CIFAR-10 order (cat = 3, truck = 9), not from alphabetical position.
    assert labels.tolist() == [CLASSES.index("cat")] * per_class + [CLASSES.index("truck")] * per_class
    expected = [COLOURS["cat"]] * per_class + [COLOURS["truck"]] * per_class
    for image, colour, i in zip(images, expected, list(range(per_class)) * 2):
        shade = np.array([min(255, c + 10 * i) for c in colour])
        assert np.abs(image.float().mean((0, 1)).numpy() - shade).max() < 6  # JPEG is lossy


def test_loader_on_synthetic_archives_and_folders(tmp_path: Path) -> None:
    top = _make_layout(tmp_path / "src")
    shared = tmp_path / "shared"
    shared.mkdir()
    _make_archive(top, shared / "cifar10-train-jpeg.tar.gz", "train")
    _make_archive(top, shared / "cifar10-test-jpeg.tar.gz", "test")
    cache = tmp_path / "cache"
    sources = [
        shared,  # the folder holding both archives picks the right one
        top,  # cifar10-jpeg/
        tmp_path / "src",  # a folder containing cifar10-jpeg/
    ]
    for source in sources:
        for train, per_class in ((True, 3), (False, 2)):
            _check_split(*load_cifar10(source, train=train, cache_dir=cache), per_class)
    _check_split(*load_cifar10(shared / "cifar10-test-jpeg.tar.gz", train=False, cache_dir=cache), 2)
    _check_split(*load_cifar10(top / "test", train=False, cache_dir=cache), 2)  # the split folder itself
    _check_split(*load_cifar10(top / "train", train=True, cache_dir=cache), 3)
    with pytest.raises(ValueError, match="split"):
        load_cifar10(top / "train", train=False, cache_dir=cache)
    with pytest.raises(ValueError, match="no CIFAR-10 images"):
        load_cifar10(shared / "cifar10-train-jpeg.tar.gz", train=False, cache_dir=cache)


def test_loader_caches_decoded_images(tmp_path: Path) -> None:
    top = _make_layout(tmp_path / "src")
    archive = _make_archive(top, tmp_path / "cifar10-test-jpeg.tar.gz", "test")
    cache = tmp_path / "cache"
    first = load_cifar10(archive, train=False, cache_dir=cache)
    cached = list(cache.glob("*.npz"))
    assert len(cached) == 1
    second = load_cifar10(archive, train=False, cache_dir=cache)
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    # A changed source (size or mtime) gets a new cache entry rather than stale images.
    Image.new("RGB", (32, 32), COLOURS["cat"]).save(top / "test" / "cat" / "0002.jpg", quality=75)
    _make_archive(top, archive, "test")
    images, labels = load_cifar10(archive, train=False, cache_dir=cache)
    assert len(images) == 5 and labels.tolist().count(CLASSES.index("cat")) == 3
    assert len(list(cache.glob("*.npz"))) == 2


def test_loader_rejects_unknown_class(tmp_path: Path) -> None:
    folder = tmp_path / "test" / "unicorn"
    folder.mkdir(parents=True)
    (tmp_path / "test" / "cat").mkdir()
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32)).save(buffer, format="PNG")
    (folder / "0000.png").write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match="unicorn"):
        load_cifar10(tmp_path, train=False, cache_dir=tmp_path / "cache")
