"""Download buttons: the files a student saves hold the numbers the page shows."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
import streamlit.testing.v1.app_test as app_test
from streamlit.runtime.media_file_manager import MediaFileManager

from cnn_core import convolve, get_kernel, resize_to, sample_image, to_grayscale
from cnn_core.augment import perturb
from cnn_core.i18n import catalogue
from cnn_core.images import SAMPLES
from cnn_core.model import feature_maps, preprocess
from tests.conftest import open_app
from tests.test_page_quiz import check, first_typed, right_text
from ui.downloads import csv_bytes, npy_bytes

MANAGERS: list[MediaFileManager] = []


@pytest.fixture(autouse=True)
def keep_media_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest's media file manager (where download buttons keep their files) lives only during a run: keep it."""
    class Kept(MediaFileManager):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            MANAGERS.append(self)

    monkeypatch.setattr(app_test, "MediaFileManager", Kept)


def _file(button) -> bytes:
    """The bytes a download button serves, made as a click makes them."""
    files = MANAGERS[-1]
    url = files.execute_deferred(button.proto.deferred_file_id) if button.proto.deferred_file_id else button.proto.url
    return files._storage.get_file(url.rsplit("/", 1)[-1]).content


def test_csv_and_npy_hold_the_array() -> None:
    values = np.array([[1 / 3, -2.5, 0.0], [1e-7, 123456.789, -0.0]], dtype=np.float64)
    np.testing.assert_allclose(np.loadtxt(io.BytesIO(csv_bytes(values)), delimiter=","), values, rtol=1e-8)
    assert np.array_equal(np.load(io.BytesIO(npy_bytes(values))), values)
    rgb = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3)
    lines = csv_bytes(rgb).decode().splitlines()
    assert lines[0] == "row,col,c0,c1,c2" and len(lines) == 1 + 6
    assert lines[4] == "1,0,9,10,11"  # row 1, column 0: rgb[1, 0]


def test_playground_offers_the_feature_map_it_shows() -> None:
    at = open_app(lang="es")
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["CSV", "NPY"]
    # The default playground: the first sample, grayscale at 256 px, Sobel x, stride 1, no padding.
    gray = np.rint(to_grayscale(resize_to(sample_image(SAMPLES[0]), 256))).astype(np.uint8)  # as the page shows it
    shown = convolve(gray, get_kernel("sobel_x"), 1, 0)
    csv_button, npy_button = at.get("download_button")
    np.testing.assert_allclose(np.loadtxt(io.BytesIO(_file(csv_button)), delimiter=","), shown, rtol=1e-8, atol=1e-9)
    assert np.array_equal(np.load(io.BytesIO(_file(npy_button))), shown)


def test_network_page_offers_the_channel_it_shows() -> None:
    at = open_app("pages/predictions.py", "en")
    layer, channel = at.selectbox(key="pr_layer").value, int(at.number_input(key="pr_channel").value)
    buttons = {b.proto.label: b for b in at.get("download_button")}
    seen = perturb(preprocess(sample_image(SAMPLES[0])), shift=(0, 0), angle=0, scale=1.0, flip=False, noise=0)
    expected = feature_maps(seen)[layer][channel]
    # The page's own values to float32 rounding (torch's thread count can change the last bit of a sum).
    np.testing.assert_allclose(np.load(io.BytesIO(_file(buttons["NPY"]))), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.loadtxt(io.BytesIO(_file(buttons["CSV"])), delimiter=","), expected, rtol=1e-6)


def test_quiz_result_file_lists_each_question_and_the_first_try() -> None:
    seed = 42
    at = open_app("pages/quiz.py", "es", seed=str(seed))
    index, question = first_typed(seed)
    check(at, seed, index, right_text(question))
    (button,) = [b for b in at.get("download_button") if b.proto.id.endswith("quiz_download")]
    rows = list(csv.reader(io.StringIO(_file(button).decode("utf-8-sig"))))
    words = catalogue("es")
    assert rows[0] == [words["dl.quiz_number"], words["dl.quiz_question"], words["dl.quiz_result"], words["dl.quiz_answer"]]
    assert len(rows) == 1 + 10
    results = [row[2] for row in rows[1:]]
    assert results[index] == words["dl.quiz_right"] and results.count(words["dl.quiz_unanswered"]) == 9
    assert rows[1 + index][0] == str(index + 1)
