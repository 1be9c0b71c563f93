"""load_image on a corpus of good, unusual and bad files, all made here with Pillow."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnn_core import SAMPLES, ImageError, load_image, open_image, resize_to, sample_image
from cnn_core.images import MAX_PIXELS
from tests.conftest import encode


@pytest.mark.parametrize(("fmt", "options", "tolerance"), [
    ("PNG", {}, 0), ("BMP", {}, 0), ("WEBP", {"lossless": True}, 0), ("TIFF", {}, 0),
    ("JPEG", {"quality": 95, "subsampling": 0}, 4), ("GIF", {}, 20),
])
def test_accepted_formats(photo: np.ndarray, fmt: str, options: dict, tolerance: int) -> None:
    pixels = load_image(encode(photo, fmt, **options))
    assert pixels.shape == photo.shape and pixels.dtype == np.uint8
    assert np.abs(pixels.astype(int) - photo).mean() <= tolerance  # exact for lossless formats


def test_grayscale_becomes_three_equal_channels() -> None:
    gray = np.tile(np.arange(0, 250, 10, dtype=np.uint8), (5, 1))
    pixels = load_image(encode(gray))
    assert pixels.shape == (5, 25, 3)
    for c in range(3):
        np.testing.assert_array_equal(pixels[:, :, c], gray)


def test_rgba_is_composited_on_white() -> None:
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[:2, :, 3] = 255  # top half opaque red, bottom half fully transparent
    rgba[2, :, 3] = 128  # a half-transparent row
    pixels = load_image(encode(rgba))
    np.testing.assert_array_equal(pixels[0, 0], [200, 0, 0])
    np.testing.assert_array_equal(pixels[3, 0], [255, 255, 255])
    np.testing.assert_allclose(pixels[2, 0], [227.5, 127, 127], atol=1.5)  # 0.5·colour + 0.5·white


def test_la_and_palette_with_transparency() -> None:
    la = Image.new("LA", (3, 3), (0, 0))
    buffer = io.BytesIO()
    la.save(buffer, "PNG")
    np.testing.assert_array_equal(load_image(buffer.getvalue()), np.full((3, 3, 3), 255))
    palette = Image.new("P", (2, 2), 0)
    palette.putpalette([10, 20, 30, 40, 50, 60])
    palette.putpixel((1, 1), 1)
    buffer = io.BytesIO()
    palette.save(buffer, "PNG", transparency=0)
    pixels = load_image(buffer.getvalue())
    np.testing.assert_array_equal(pixels[0, 0], [255, 255, 255])
    np.testing.assert_array_equal(pixels[1, 1], [40, 50, 60])


def test_cmyk_jpeg_is_converted() -> None:
    cmyk = Image.new("CMYK", (8, 8), (0, 255, 255, 0))  # pure red in CMYK
    buffer = io.BytesIO()
    cmyk.save(buffer, "JPEG", quality=95)
    pixels = load_image(buffer.getvalue())
    assert pixels.shape == (8, 8, 3)
    assert pixels[..., 0].min() > 200 and pixels[..., 1:].max() < 60


def test_sixteen_bit_png_is_rescaled() -> None:
    deep = np.array([[0, 257, 32896, 65535]], dtype=np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(deep).save(buffer, "PNG")
    assert Image.open(io.BytesIO(buffer.getvalue())).mode.startswith("I")
    np.testing.assert_array_equal(load_image(buffer.getvalue())[0, :, 0], [0, 1, 128, 255])


def test_float_tiff_is_rescaled() -> None:
    values = np.array([[0.0, 0.25, 0.5, 1.0]], dtype=np.float32)
    buffer = io.BytesIO()
    Image.fromarray(values, mode="F").save(buffer, "TIFF")
    np.testing.assert_array_equal(load_image(buffer.getvalue())[0, :, 0], [0, 64, 128, 255])


def test_exif_orientation_is_applied() -> None:
    pixels = np.zeros((20, 40, 3), dtype=np.uint8)
    pixels[:, :20] = 255  # left half white
    im = Image.fromarray(pixels)
    exif = im.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", exif=exif, quality=95)
    loaded = open_image(buffer.getvalue())
    assert loaded.pixels.shape == (40, 20, 3)
    assert loaded.original_size == (20, 40)
    assert loaded.pixels[:20].mean() > 200 and loaded.pixels[20:].mean() < 50  # white half now on top


def test_gif_first_frame() -> None:
    frames = [Image.new("RGB", (6, 6), color) for color in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    pixels = load_image(buffer.getvalue())
    assert pixels[0, 0, 0] > 200 and pixels[0, 0, 2] < 50


def test_large_photo_is_downscaled_and_says_so() -> None:
    big = np.random.default_rng(0).integers(0, 255, (1500, 2400, 3), dtype=np.uint8)
    loaded = open_image(encode(big, "JPEG"), max_side=600)
    assert loaded.downscaled and loaded.original_size == (2400, 1500)
    assert max(loaded.pixels.shape[:2]) == 600 and loaded.pixels.shape[:2] == (375, 600)
    assert not open_image(encode(big[:100, :100])).downscaled


def test_decompression_bomb_refused_before_decoding() -> None:
    side = int(MAX_PIXELS**0.5) + 100
    buffer = io.BytesIO()
    Image.new("1", (side, side)).save(buffer, "PNG")  # a tiny file that would decode to > MAX_PIXELS
    assert len(buffer.getvalue()) < 2_000_000
    with pytest.raises(ImageError) as caught:
        load_image(buffer.getvalue())
    assert caught.value.key == "err.image_too_large"
    assert (caught.value.params["width"], caught.value.params["height"]) == (side, side)


def test_a_bomb_that_pillow_refuses_on_opening_is_reported_with_its_real_size() -> None:
    """Over twice Pillow's own limit, Image.open raises before the size can be read: the header still says it."""
    side = int((2 * Image.MAX_IMAGE_PIXELS) ** 0.5) + 100
    buffer = io.BytesIO()
    Image.new("1", (side, 8)).save(buffer, "PNG")
    header = bytearray(buffer.getvalue())
    header[20:24] = side.to_bytes(4, "big")  # IHDR height: a square bomb, the CRC fixed below
    import zlib
    header[29:33] = zlib.crc32(bytes(header[12:29])).to_bytes(4, "big")
    with pytest.raises(ImageError) as caught:
        load_image(bytes(header))
    assert caught.value.key == "err.image_too_large"
    assert (caught.value.params["width"], caught.value.params["height"]) == (side, side)
    assert "?" not in caught.value.message("es") and str(side) in caught.value.message("es").replace(".", "")


@pytest.mark.parametrize(("data", "key"), [
    (b"", "err.image_empty"),
    (b"hello, I am a text file\n" * 10, "err.image_unreadable"),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "err.image_unreadable"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "err.image_corrupt"),
])
def test_bad_files(data: bytes, key: str) -> None:
    with pytest.raises(ImageError) as caught:
        load_image(data)
    assert caught.value.key == key
    assert caught.value.message("es") and caught.value.message("en")


def test_truncated_jpeg_and_png(photo: np.ndarray) -> None:
    for fmt in ("JPEG", "PNG"):
        data = encode(np.tile(photo, (4, 4, 1)), fmt)
        with pytest.raises(ImageError) as caught:
            load_image(data[: len(data) // 2])
        assert caught.value.key == "err.image_corrupt"


@pytest.mark.parametrize("fmt", ["ICO", "PPM", "TGA"])
def test_unsupported_format_is_named(photo: np.ndarray, fmt: str) -> None:
    with pytest.raises(ImageError) as caught:
        load_image(encode(photo, fmt))
    assert caught.value.key == "err.image_format" and fmt in str(caught.value)


def test_image_error_is_a_value_error() -> None:
    assert issubclass(ImageError, ValueError)


@pytest.mark.parametrize("name", SAMPLES)
def test_samples_work_offline_and_are_read_only(name: str) -> None:
    pixels = sample_image(name)
    assert pixels.ndim == 3 and pixels.shape[2] == 3 and pixels.dtype == np.uint8 and min(pixels.shape[:2]) >= 64
    assert pixels.std() > 10  # not blank
    assert not pixels.flags.writeable


def test_resize_to_never_enlarges(photo: np.ndarray) -> None:
    assert resize_to(photo, 1000) is photo
    assert resize_to(photo, 32).shape == (24, 32, 3)
