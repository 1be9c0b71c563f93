"""The playground's feature map and input as ui.pixelmap sends them: 8-bit indices that colour a map and give back its
values, an input's exact pixels, the selected pixel, receptive field and padding in their own small element, and
clicks (AppTest; the browser's side is in test_browser*.py)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from cnn_core import convolve, get_kernel, resize_to, sample_image, to_grayscale
from cnn_core.i18n import format_number
from tests.conftest import click_map, open_app
from ui.figures import _palette
from ui.pixelmap import _payload, map_image, payload_header, picture_image, rgb_image


def _parse(data: bytes) -> tuple[dict, bytes, np.ndarray]:
    """The payload as the component's JavaScript reads it: header, palette, then the PNG of indices."""
    head = payload_header(data)
    start = 4 + int.from_bytes(data[:4], "big")
    palette = data[start : start + head["palette"]]
    image = Image.open(io.BytesIO(data[start + head["palette"] :]))
    return head, palette, np.asarray(image)


def _values(head: dict, indices: np.ndarray) -> np.ndarray:
    """What the hover shows, before rounding: low + index/255·(high − low), per channel."""
    lows, highs = np.array(head["lows"]), np.array(head["highs"])
    index = indices.reshape(*indices.shape[:2], -1).astype(np.float64)
    return lows + index / 255 * (highs - lows)


def test_one_channel_travels_as_indices_and_its_palette() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(0, 50, (37, 53))
    picture = map_image(values)
    head, palette, indices = _parse(_payload(picture, "pg_fmap", "row {row}, column {col}: ≈ {v0}", "the map"))
    assert indices.shape == (37, 53) and indices.dtype == np.uint8  # one byte a pixel, not enlarged
    assert (head["rows"], head["cols"], head["id"], head["colour"]) == (37, 53, "pg_fmap", "#ffd400")
    limit = np.abs(values).max()
    assert head["lows"] == [-limit] and head["highs"] == [limit] and picture.signed  # symmetric: white is 0
    assert palette == bytes(_palette("RdBu_r"))
    # Each value comes back to within half a step of the 8-bit scale: the ≈ of the hover.
    step = 2 * limit / 255
    assert np.abs(_values(head, indices)[:, :, 0] - values).max() <= step / 2 + 1e-9
    extreme = np.unravel_index(np.abs(values).argmax(), values.shape)
    assert indices[extreme] == (0 if values[extreme] < 0 else 255)


def test_a_map_without_negative_values_is_gray_from_its_minimum() -> None:
    picture = map_image(np.array([[2.0, 3.0], [4.0, 6.0]]))
    head, palette, indices = _parse(_payload(picture, "k", "", ""))
    assert (head["lows"], head["highs"], picture.signed) == ([2.0], [6.0], False)
    assert palette == bytes(_palette("gray")) and indices.tolist() == [[0, 64], [128, 255]]
    flat = map_image(np.full((3, 3), 7.5))  # one value: index 0 reads back the value itself
    head, _, indices = _parse(_payload(flat, "k", "", ""))
    assert _values(head, indices).ravel().tolist() == [7.5] * 9


def test_three_channels_show_their_colour_and_give_back_their_values() -> None:
    image = resize_to(sample_image("cat"), 64)
    blurred = convolve(image, get_kernel("box_blur"), 1, 1)  # inside 0–255: shown exactly as before
    head, palette, indices = _parse(_payload(rgb_image(blurred), "pg_rgb", "", ""))
    assert palette == b"" and indices.shape == (*blurred.shape[:2], 3)
    assert head["lows"] == [0.0] * 3 and head["highs"] == [255.0] * 3
    assert np.array_equal(indices, np.clip(np.rint(blurred), 0, 255).astype(np.uint8))
    edges = convolve(image, get_kernel("sobel_x"), 1, 0)  # beyond 0–255: each channel on its own scale
    head, _, indices = _parse(_payload(rgb_image(edges), "pg_rgb", "", ""))
    steps = (np.array(head["highs"]) - np.array(head["lows"])) / 255
    assert head["lows"][0] == pytest.approx(edges[:, :, 0].min()) and head["highs"][2] == pytest.approx(edges[:, :, 2].max())
    assert (np.abs(_values(head, indices) - edges) <= steps / 2 + 1e-9).all()


def num_es(value: float) -> str:
    return format_number(value, "es", significant=6)


def _elements(at) -> dict:
    """The pixel maps by the id their data gives them (the map's key), and the one element with every map's frame."""
    found = {}
    for element in at.get("bidi_component"):
        head = payload_header(element.proto.bytes)
        if head is None:  # ui.pixelmap.pixel_frames: a JSON list
            assert "frames" not in found, "one element carries the frames of every map"
            found["frames"] = element
        else:
            found[head["id"]] = element
    return found


def _map(at, key: str = "pg_fmap"):
    return _elements(at)[key]


def _mark(at, key: str = "pg_fmap") -> dict:
    frames = json.loads(_map(at, "frames").proto.bytes)
    return next(f for f in frames if f["id"] == key)


def test_a_click_moves_the_inspector_the_frame_and_the_link() -> None:
    at = open_app(lang="es")
    assert _mark(at) == {"id": "pg_fmap", "window": [84, 127, 1, 1], "padding": 0}  # the centre of the default 168×254 map
    head, _, indices = _parse(_map(at).proto.bytes)
    assert indices.shape == (168, 254) and head["locale"] == "es-ES"
    assert head["hover"] == "fila {row}, columna {col}: ≈ {v0}"
    before = _map(at).proto.SerializeToString()
    assert len(before) < 40_000  # the default 168×254 map: one byte a pixel before PNG's compression, JS included
    click_map(at, "pg_fmap", 10, 200)
    assert (at.number_input(key="pg_row").value, at.number_input(key="pg_col").value) == (10, 200)
    # Only the small frame element changed: the map's message is the same, so Streamlit's message cache sends a hash.
    assert _map(at).proto.SerializeToString() == before
    assert len(_map(at, "frames").proto.SerializeToString()) < 1_000
    assert _mark(at) == {"id": "pg_fmap", "window": [10, 200, 1, 1], "padding": 0}
    assert (at.query_params["pg_row"], at.query_params["pg_col"]) == ("10", "200")
    # The inspector explains the clicked pixel, and the hover's ≈ value is within half a step of its exact value.
    image = np.rint(to_grayscale(resize_to(sample_image("cat"), 256))).astype(np.uint8)
    fmap = convolve(image, get_kernel("sobel_x"), 1, 0)
    assert any("La salida (10, 200)" in m.value for m in at.markdown)
    value = fmap[10, 200]
    assert any(f"({10}, {200}) = **{num_es(value)}**" in m.value for m in at.markdown)
    step = 2 * np.abs(fmap).max() / 255
    assert abs(_values(head, indices)[10, 200, 0] - value) <= step / 2 + 1e-9


def test_a_click_outside_the_map_or_garbled_is_ignored() -> None:
    at = open_app(lang="en")
    click_map(at, "pg_fmap", 500, 3)
    assert (at.number_input(key="pg_row").value, at.number_input(key="pg_col").value) == (84, 127)
    click_map(at, "pg_fmap", -1, 3)
    assert (at.number_input(key="pg_row").value, at.number_input(key="pg_col").value) == (84, 127)
    click_map(at, "pg_fmap", float("inf"), 3)  # what a forged message could carry (JSON's Infinity)
    assert (at.number_input(key="pg_row").value, at.number_input(key="pg_col").value) == (84, 127)
    # No element has a key: a keyed component's state is presented anew each time a widget reads the session state.
    assert [e.key for e in at.get("bidi_component")] == [None] * 3  # the input, the map and their frames
    at.number_input(key="pg_row").set_value(5).run()  # the inspector's box moves the frame too
    assert _mark(at)["window"][0] == 5


def test_the_rgb_view_is_a_pixel_map_too() -> None:
    at = open_app(lang="en", pg_mode="rgb", pg_channel="all")
    head, palette, indices = _parse(_map(at, "pg_rgb").proto.bytes)
    assert palette == b"" and indices.shape[2] == 3
    assert head["hover"] == "row {row}, column {col}: R ≈ {v0} · G ≈ {v1} · B ≈ {v2}"
    click_map(at, "pg_rgb", 3, 4)
    assert (at.number_input(key="pg_row").value, at.number_input(key="pg_col").value) == (3, 4)
    assert _mark(at, "pg_rgb") == {"id": "pg_rgb", "window": [3, 4, 1, 1], "padding": 0}


def test_an_input_travels_as_its_exact_pixels() -> None:
    rng = np.random.default_rng(1)
    gray = rng.integers(0, 256, (20, 30), dtype=np.uint8)
    head, palette, pixels = _parse(_payload(picture_image(gray), "pg_input", "{v0}", "in", clickable=False))
    assert np.array_equal(pixels, gray) and palette == b"" and head["mime"] == "image/png"  # the hover reads these
    assert head["exact"] and not head["clickable"] and (head["rows"], head["cols"]) == (20, 30)
    rgb = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    head, _, pixels = _parse(_payload(picture_image(rgb), "pg_input", "", ""))
    assert head["mime"] == "image/webp" and np.array_equal(np.asarray(Image.fromarray(pixels).convert("RGB")), rgb)  # lossless


def test_stride_padding_and_a_click_resend_only_the_inputs_frame() -> None:
    at = open_app(lang="es")
    head, _, pixels = _parse(_map(at, "pg_input").proto.bytes)
    image = np.rint(to_grayscale(resize_to(sample_image("cat"), 256))).astype(np.uint8)
    assert np.array_equal(pixels, image) and head["hover"] == "fila {row}, columna {col}: {v0}"
    assert head["padding_hover"] == "fila {row}, columna {col}: 0 (relleno)"
    assert _mark(at, "pg_input") == {"id": "pg_input", "window": [84, 127, 3, 3], "padding": 0}  # output (84, 127): rows 84–86
    before = _map(at, "pg_input").proto.SerializeToString()
    at.number_input(key="pg_stride").set_value(2).run()
    at.number_input(key="pg_padding").set_value(2).run()
    rows, cols = at.number_input(key="pg_row").value, at.number_input(key="pg_col").value
    assert _mark(at, "pg_input") == {"id": "pg_input", "window": [rows * 2 - 2, cols * 2 - 2, 3, 3], "padding": 2}
    click_map(at, "pg_fmap", 0, 0)  # the top-left output: its window starts in the padding
    assert _mark(at, "pg_input")["window"] == [-2, -2, 3, 3]
    assert _map(at, "pg_input").proto.SerializeToString() == before  # the image's own message never changed
    assert len(_map(at, "frames").proto.SerializeToString()) < 1_000


def test_the_load_test_reads_the_payload_header_as_the_app_writes_it() -> None:
    """scripts/loadtest.py does not import the app: its own reading of the header must agree with ui.pixelmap's."""
    from tests.test_load_smoke import loadtest

    data = _payload(map_image(np.arange(12.0).reshape(3, 4)), "pg_fmap", "{v0}", "the map")
    head = payload_header(data)
    assert loadtest.pixelmap_header(data) == head and (head["id"], head["rows"], head["cols"]) == ("pg_fmap", 3, 4)
