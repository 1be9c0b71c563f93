"""CIFAR-10 as uint8 tensors, read from the JPEG archives, a folder of images, or torchvision."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from PIL import Image

CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
ARCHIVE_NAMES: dict[bool, str] = {True: "cifar10-train-jpeg.tar.gz", False: "cifar10-test-jpeg.tar.gz"}
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
IMAGE_SIZE = 32
# Bump when the decoded layout changes, so that old cache files are ignored.
_CACHE_VERSION = 1


def split_name(train: bool) -> str:
    """The folder name of a split: 'train' or 'test'."""
    return "train" if train else "test"


def default_cache_dir() -> Path:
    """Where decoded datasets are cached: $CNN_COURSE_CACHE or ~/.cache/cnn_course."""
    return Path(os.environ.get("CNN_COURSE_CACHE", Path.home() / ".cache" / "cnn_course")).expanduser()


def load_cifar10(
    source: str | Path, train: bool, cache_dir: str | Path | None = None, use_cache: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N×32×32×3 uint8) and labels (N int64, CIFAR-10 order) of one split of `source`."""
    kind, path = resolve_source(source, train)
    if kind == "torchvision":
        return _read_torchvision(path, train)
    cache_file = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    cache_file = cache_file / f"cifar10-{split_name(train)}-{_fingerprint(kind, path, train)}.npz"
    if use_cache and cache_file.is_file():
        try:
            with np.load(cache_file) as cached:
                return torch.from_numpy(cached["images"]), torch.from_numpy(cached["labels"])
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache file is simply rebuilt
    reader = _read_archive if kind == "archive" else _read_folder
    images, labels = reader(path, train)
    if use_cache:
        _write_cache(cache_file, images, labels)
    return torch.from_numpy(images), torch.from_numpy(labels)


def resolve_source(source: str | Path, train: bool) -> tuple[str, Path]:
    """What `source` is for this split: ('archive', file), ('folder', split folder) or ('torchvision', root)."""
    path = Path(source).expanduser()
    split = split_name(train)
    if path.is_file():
        if not path.name.endswith((".tar.gz", ".tgz", ".tar")):
            raise ValueError(f"{path} is a file but not a .tar.gz archive of CIFAR-10 images")
        return "archive", path
    if not path.is_dir():
        return "torchvision", path  # torchvision downloads the original dataset into a new folder
    if (path / ARCHIVE_NAMES[train]).is_file():
        return "archive", path / ARCHIVE_NAMES[train]
    if (path / "cifar10-jpeg").is_dir():
        return resolve_source(path / "cifar10-jpeg", train)
    if _has_class_folders(path / split):
        return "folder", path / split
    if _has_class_folders(path):
        other = split_name(not train)
        if path.name == other:
            raise ValueError(f"{path} holds the {other} split, but the {split} split was asked for")
        return "folder", path
    return "torchvision", path


def _has_class_folders(path: Path) -> bool:
    """Whether `path` is a folder with at least one CIFAR-10 class folder in it."""
    return path.is_dir() and any((path / name).is_dir() for name in CLASSES)


def _label_of(class_name: str, where: str) -> int:
    """The CIFAR-10 index of a class folder name."""
    try:
        return CLASSES.index(class_name)
    except ValueError:
        raise ValueError(f"{where}: '{class_name}' is not a CIFAR-10 class {CLASSES}") from None


def _decode(data: bytes, where: str) -> np.ndarray:
    """One encoded image as a 32×32×3 uint8 array."""
    with Image.open(io.BytesIO(data)) as image:
        array = np.asarray(image.convert("RGB"))
    if array.shape != (IMAGE_SIZE, IMAGE_SIZE, 3):
        raise ValueError(f"{where}: expected a {IMAGE_SIZE}×{IMAGE_SIZE} image, got {array.shape[1]}×{array.shape[0]}")
    return array


def _stack(samples: list[tuple[int, str, np.ndarray]], where: Path) -> tuple[np.ndarray, np.ndarray]:
    """Samples sorted by (label, name) as an image array and a label array."""
    if not samples:
        raise ValueError(f"{where}: no CIFAR-10 images found")
    samples.sort(key=lambda sample: (sample[0], sample[1]))
    images = np.stack([image for _, _, image in samples])
    labels = np.array([label for label, _, _ in samples], dtype=np.int64)
    return images, labels


def _read_archive(path: Path, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """Decode the images of one split straight from a tar archive, without extracting it."""
    unwanted = split_name(not train)
    samples: list[tuple[int, str, np.ndarray]] = []
    with tarfile.open(path, "r:*") as archive:
        for member in archive:  # sequential iteration: random access into a .gz stream is slow
            member_path = PurePosixPath(member.name)
            if not member.isfile() or member_path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            parts = member_path.parts
            if len(parts) < 2 or (len(parts) >= 3 and parts[-3] == unwanted):
                continue
            file = archive.extractfile(member)
            if file is None:
                continue
            where = f"{path}:{member.name}"
            samples.append((_label_of(parts[-2], where), member.name, _decode(file.read(), where)))
    return _stack(samples, path)


def _read_folder(path: Path, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """Decode the images of a split folder laid out as <class>/<image>."""
    samples: list[tuple[int, str, np.ndarray]] = []
    for class_dir in sorted(p for p in path.iterdir() if p.is_dir()):
        label = _label_of(class_dir.name, str(class_dir))
        for file in sorted(class_dir.iterdir()):
            if file.is_file() and file.suffix.lower() in IMAGE_SUFFIXES:
                samples.append((label, file.name, _decode(file.read_bytes(), str(file))))
    return _stack(samples, path)


def _read_torchvision(root: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The original CIFAR-10 through torchvision, downloaded into `root` when missing."""
    import torchvision  # only needed for this source

    dataset = torchvision.datasets.CIFAR10(str(root), train=train, download=True)
    to_label = [_label_of(name, str(root)) for name in dataset.classes]
    labels = torch.tensor([to_label[target] for target in dataset.targets], dtype=torch.int64)
    return torch.from_numpy(np.ascontiguousarray(dataset.data, dtype=np.uint8)), labels


def _fingerprint(kind: str, path: Path, train: bool) -> str:
    """A cache key from the source's path, size and modification time."""
    resolved = path.resolve()
    if kind == "archive":
        stat = resolved.stat()
        size, mtime = stat.st_size, stat.st_mtime_ns
    else:
        size, mtime = 0, resolved.stat().st_mtime_ns
        for directory, _, files in os.walk(resolved):
            mtime = max(mtime, os.stat(directory).st_mtime_ns)
            for name in files:
                stat = os.stat(os.path.join(directory, name))
                size += stat.st_size
                mtime = max(mtime, stat.st_mtime_ns)
    key = f"v{_CACHE_VERSION}|{kind}|{resolved}|{size}|{mtime}|{split_name(train)}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _write_cache(cache_file: Path, images: np.ndarray, labels: np.ndarray) -> None:
    """Save decoded arrays atomically; a cache that cannot be written is skipped."""
    temporary = cache_file.with_name(f"{cache_file.name}.{os.getpid()}.tmp")
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as file:
            np.savez(file, images=images, labels=labels)
        os.replace(temporary, cache_file)
    except OSError:
        temporary.unlink(missing_ok=True)
