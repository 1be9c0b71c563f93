"""Make assets/cifar10-subset-jpeg.tar.gz, the live-training page's offline data: a fixed, class-balanced CIFAR-10 subset.

Usage: python scripts/make_subset.py [--data ../shared/data] [--out assets/cifar10-subset-jpeg.tar.gz]

It copies, byte for byte, the first 500 training and the first 100 test JPEGs of every class (by file name,
0000.jpg upwards) from the shared JPEG archives into one gzip'd tar in the same layout
(cifar10-jpeg/{train,test}/<class>/<NNNN>.jpg), so that cnn_core.data reads it as it reads the full archives.
File times, owners and the gzip header are fixed, so the same input always gives the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import sys
import tarfile
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnn_core.data import ARCHIVE_NAMES, CLASSES  # noqa: E402

PER_CLASS = {True: 500, False: 100}  # training, held out


def pick(archive_path: Path, train: bool) -> dict[str, bytes]:
    """Member name → JPEG bytes of the first PER_CLASS[train] images of every class, by file name."""
    split = "train" if train else "test"
    found: dict[str, bytes] = {}
    with tarfile.open(archive_path, "r:gz") as archive:
        for member in archive:
            parts = PurePosixPath(member.name).parts
            if not member.isfile() or len(parts) < 3 or parts[-3] != split or parts[-2] not in CLASSES:
                continue
            found[member.name] = archive.extractfile(member).read()
    chosen: dict[str, bytes] = {}
    for name in CLASSES:
        names = sorted(n for n in found if PurePosixPath(n).parts[-2] == name)
        if len(names) < PER_CLASS[train]:
            raise SystemExit(f"{archive_path}: only {len(names)} {split} images of {name}")
        for member_name in names[: PER_CLASS[train]]:
            chosen[f"cifar10-jpeg/{split}/{name}/{PurePosixPath(member_name).name}"] = found[member_name]
    return chosen


def write(out: Path, files: dict[str, bytes]) -> None:
    """A reproducible .tar.gz of `files` (fixed times and owners, sorted names)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as zipped:
        with tarfile.open(fileobj=zipped, mode="w", format=tarfile.USTAR_FORMAT) as archive:
            for name in sorted(files):
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.mode = len(files[name]), 0, 0o644
                archive.addfile(info, io.BytesIO(files[name]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "cifar10-subset-jpeg.tar.gz")
    args = parser.parse_args(argv)
    files = {**pick(args.data / ARCHIVE_NAMES[True], True), **pick(args.data / ARCHIVE_NAMES[False], False)}
    write(args.out, files)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"{args.out}: {len(files)} images, {args.out.stat().st_size:,} bytes, sha256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
