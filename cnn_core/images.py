"""Reading uploaded images safely, and the built-in sample images."""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from .errors import InputError

FORMATS: tuple[str, ...] = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF")
MAX_PIXELS = 40_000_000  # larger images are refused before decoding (decompression bombs)
MAX_FILE_MB = 10  # larger files are refused here, with a message, rather than by Streamlit's uploader (see config.toml)
WORKING_SIDE = 1024  # longest side after loading: enough detail, still interactive
SAMPLES_DIR = Path(__file__).resolve().parents[1] / "assets" / "samples"


_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*", b"RIFF")


class ImageError(InputError):
    """A file that cannot be used as an image, with the reason in a student's words."""


@dataclass(frozen=True)
class LoadedImage:
    """The decoded pixels and what happened on the way."""

    pixels: np.ndarray  # H × W × 3 uint8
    original_size: tuple[int, int]  # (width, height) as stored in the file, after EXIF rotation
    format: str

    @property
    def downscaled(self) -> bool:
        """Whether the pixels are smaller than the file's image."""
        return (self.pixels.shape[1], self.pixels.shape[0]) != self.original_size


def _to_rgb(im: Image.Image) -> np.ndarray:
    """Any Pillow mode as H × W × 3 uint8, transparency composited on white, deep images rescaled."""
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        values = np.asarray(im, dtype=np.float64)
        if im.mode == "F":
            lo, hi = (0.0, 1.0) if values.min() >= 0 and values.max() <= 1 else (values.min(), values.max())
        else:
            lo, hi = 0.0, 65535.0 if values.max() > 255 or im.mode.startswith("I;16") else 255.0
        scaled = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
        gray = np.clip(np.rint(scaled * 255), 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if im.mode == "P" or im.mode == "PA":
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "RGBa", "La"):
        im = im.convert("RGBA")
        background = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, im)
    return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def _header_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the file's header, read by the format's own Pillow plugin (Image.open refuses a bomb first)."""
    Image.init()
    for name in FORMATS:
        factory, accept = Image.OPEN.get(name, (None, None))
        if factory is None or (accept is not None and not accept(data[:16])):
            continue
        try:
            return factory(io.BytesIO(data)).size
        except Exception:  # noqa: BLE001 - any failure means only that the header does not say
            continue
    return None


def open_image(data: bytes, max_side: int | None = WORKING_SIDE) -> LoadedImage:
    """Decode an uploaded file into RGB pixels, refusing what is not a usable image."""
    if not data:
        raise ImageError("err.image_empty")
    if len(data) > MAX_FILE_MB * 1_000_000:
        raise ImageError("err.file_too_large", size=math.ceil(len(data) / 1_000_000), limit=MAX_FILE_MB)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            if im.format not in FORMATS:
                raise ImageError("err.image_format", format=im.format, formats=", ".join(FORMATS))
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise ImageError("err.image_too_large", width=width, height=height, limit=MAX_PIXELS // 1_000_000)
            turned = im.getexif().get(ExifTags.Base.Orientation, 1) in (5, 6, 7, 8)
            if max_side and im.format == "JPEG":
                im.draft("RGB", (max_side, max_side))  # decode a huge JPEG at a reduced scale directly
            im.seek(0)
            im.load()
            im = ImageOps.exif_transpose(im)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        size = _header_size(data)
        if size is None:
            raise ImageError("err.image_too_large_unknown", limit=MAX_PIXELS // 1_000_000) from None
        raise ImageError("err.image_too_large", width=size[0], height=size[1], limit=MAX_PIXELS // 1_000_000) from None
    except UnidentifiedImageError:
        raise ImageError("err.image_corrupt" if data.startswith(_SIGNATURES) else "err.image_unreadable") from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError):
        raise ImageError("err.image_corrupt") from None
    original = (height, width) if turned else (width, height)
    if max_side and max(im.size) > max_side:
        im = im.copy()
        im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    pixels = _to_rgb(im)
    return LoadedImage(pixels=pixels, original_size=original, format=im.format or "")


def load_image(data: bytes, max_side: int | None = WORKING_SIDE) -> np.ndarray:
    """The one safe way to read an upload: H × W × 3 uint8, downscaled to `max_side`."""
    return open_image(data, max_side).pixels


def resize_to(pixels: np.ndarray, max_side: int) -> np.ndarray:
    """The image shrunk (never enlarged) so that its longest side is at most `max_side`."""
    if max(pixels.shape[:2]) <= max_side:
        return pixels
    im = Image.fromarray(pixels)
    im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return np.asarray(im)


def to_grayscale(pixels: np.ndarray) -> np.ndarray:
    """Luma (ITU-R 601: 0.299 R + 0.587 G + 0.114 B) as H × W float32 in 0..255."""
    rgb = np.asarray(pixels, dtype=np.float32)
    return rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _synthetic(name: str, size: int = 256) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size]
    if name == "shapes":
        img = np.full((size, size, 3), 235, np.uint8)
        img[40:120, 30:110] = (200, 40, 40)
        img[((x - 180) ** 2 + (y - 80) ** 2) < 45**2] = (40, 90, 200)
        img[(y > 150) & (y < 230) & (np.abs(x - 128) < (y - 150))] = (30, 150, 60)
        return img
    if name == "checkerboard":
        board = (((x // 32) + (y // 32)) % 2 * 255).astype(np.uint8)
        return np.repeat(board[:, :, None], 3, axis=2)
    if name == "stripes":
        wave = (127.5 + 127.5 * np.sin(2 * np.pi * x * (1 + 6 * y / size) / size)).astype(np.uint8)
        return np.repeat(wave[:, :, None], 3, axis=2)
    raise KeyError(name)


PHOTO_SAMPLES: tuple[str, ...] = ("cat", "astronaut", "coffee", "camera", "rocket", "brick")
SYNTHETIC_SAMPLES: tuple[str, ...] = ("shapes", "checkerboard", "stripes")
SAMPLES: tuple[str, ...] = PHOTO_SAMPLES + SYNTHETIC_SAMPLES


@cache
def sample_image(name: str) -> np.ndarray:
    """A built-in sample (offline photos in assets/samples, or drawn shapes) as H × W × 3 uint8."""
    if name in PHOTO_SAMPLES:
        pixels = load_image((SAMPLES_DIR / f"{name}.jpg").read_bytes())
    elif name in SYNTHETIC_SAMPLES:
        pixels = _synthetic(name)
    else:
        raise InputError("err.unknown_sample", name=name)
    pixels.setflags(write=False)  # shared by every session: nobody may change it
    return pixels
