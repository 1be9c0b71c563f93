"""The noise and Gaussian filter page in AppTest: both languages, the numbers it shows, every control, uploads."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnn_core import resize_to, sample_image
from cnn_core.i18n import catalogue, format_number
from cnn_core.noise import add_noise, gaussian_smooth
from tests.conftest import encode, open_app

PAGE = "pages/denoising.py"


def open_page(lang: str = "en") -> AppTest:
    return open_app(PAGE, lang)


def psnr_by_hand(reference: np.ndarray, image: np.ndarray) -> float:
    return 10 * np.log10(255.0**2 / np.mean((reference.astype(float) - image.astype(float)) ** 2))


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("lang", ["es", "en"])
def test_page_runs_and_shows_the_psnr_of_the_sample(lang: str) -> None:
    at = open_page(lang)
    words = catalogue(lang)
    assert at.title[0].value == words["nz.title"]
    assert not at.error
    reference = resize_to(sample_image("cat"), 256)  # the picker's first sample at the page's working size
    noisy = add_noise(reference, "gaussian", 25, 0)
    shown = metrics(at)
    assert shown[words["nz.psnr_noisy"]] == f"{format_number(psnr_by_hand(reference, noisy), lang, decimals=2)} dB"
    assert shown[words["nz.psnr_smoothed"]] == f"{format_number(psnr_by_hand(reference, gaussian_smooth(noisy, 5, 1.0)), lang, decimals=2)} dB"
    assert at.success  # σ = 1 on σₙ = 25 noise: the lecture's claim, the PSNR goes up
    assert len(at.get("plotly_chart")) == 3 and len(at.get("image")) == 4


def test_salt_and_pepper_recommends_the_median() -> None:
    at = open_page()
    at.radio(key="nz_kind").set_value("salt_pepper").run()
    assert not at.exception
    assert any("median filter" in info.value for info in at.info)
    shown = metrics(at)
    assert float(shown["PSNR after the 3×3 median"].split()[0]) > float(shown["PSNR after the Gaussian filter"].split()[0])
    at.slider(key="nz_fraction").set_value(50).run()
    assert not at.exception


def test_no_noise_gives_infinite_psnr_and_says_so() -> None:
    at = open_page()
    at.slider(key="nz_std").set_value(0).run()
    assert not at.exception
    assert metrics(at)["PSNR with noise"] == "∞ dB"
    assert any("MSE = 0" in info.value for info in at.info)


def test_too_much_smoothing_is_a_warning() -> None:
    at = open_page()
    at.slider(key="nz_std").set_value(5).run()
    at.select_slider(key="nz_size").set_value(15).run()
    at.slider(key="nz_sigma").set_value(5.0).run()
    assert not at.exception
    assert at.warning and "lowers the PSNR" in at.warning[0].value


def test_median_can_be_switched_off_and_seed_changes_the_noise() -> None:
    at = open_page()
    before = metrics(at)["PSNR with noise"]
    at.toggle(key="nz_median").set_value(False).run()
    assert len(at.get("image")) == 3 and "PSNR after the 3×3 median" not in metrics(at)
    at.number_input(key="nz_seed").set_value(7).run()
    assert not at.exception and metrics(at)["PSNR with noise"] != before


def test_uploads_good_tiny_and_bad() -> None:
    at = open_page()
    at.radio(key="nz_source").set_value("upload").run()
    assert not at.exception and not at.get("image")  # waiting for a file
    photo = np.full((40, 60, 3), 120, dtype=np.uint8)
    at.file_uploader(key="nz_upload").set_value(("flat.png", encode(photo), "image/png")).run()
    assert not at.exception and not at.error and len(at.get("image")) == 4
    at.file_uploader(key="nz_upload").set_value(("dot.png", encode(photo[:2, :3]), "image/png")).run()
    assert not at.exception and not at.error  # a 2×3 image still works: padding keeps the size
    at.file_uploader(key="nz_upload").set_value(("notes.png", b"not an image at all", "image/png")).run()
    assert not at.exception and at.error and "notes.png" in at.error[0].value
