"""The data augmentation page in AppTest: both languages, image versions with and without the network, SpecAugment, WAVs."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnn_core import model as m
from cnn_core import resize_to, sample_image
from cnn_core.i18n import catalogue
from tests.conftest import encode, open_app, wav_bytes

PAGE = "pages/augmentation.py"
HAVE_WEIGHTS = m.WEIGHTS_PATH.exists()


def open_page(lang: str = "en") -> AppTest:
    return open_app(PAGE, lang)


def captions(at: AppTest) -> list[str]:
    return [c for image in at.get("image") for c in image.proto.imgs[0].caption.splitlines()]


def texts(at: AppTest) -> str:
    return "\n".join([x.value for x in at.markdown] + [x.value for x in at.caption])


@pytest.mark.parametrize("lang", ["es", "en"])
def test_page_runs_with_images_and_spectrograms(lang: str) -> None:
    at = open_page(lang)
    words = catalogue(lang)
    assert at.title[0].value == words["aug.title"]
    assert len(at.get("image")) == 1 + 8  # the original and 8 versions
    assert len(at.get("plotly_chart")) == 2  # original and augmented spectrograms
    assert words["aug.policy_time"].split(":")[0] in texts(at)
    assert at.code and "RandomHorizontalFlip(p=0.5)" in at.code[0].value
    assert not at.exception


@pytest.mark.skipif(not HAVE_WEIGHTS, reason="the trained CIFAR-10 weights are not there yet")
def test_predictions_and_agreement_with_the_network() -> None:
    at = open_page()
    assert not at.error
    expected = m.predict(resize_to(sample_image("cat"), 160))
    top = max(expected, key=expected.get)
    shown = {x.label: x.value for x in at.metric}
    assert shown["The network says"] == top
    marks = [c for c in captions(at) if c.startswith("#")]
    agreeing = sum(c.endswith("✓") for c in marks)
    assert len(marks) == 8 and shown["Same prediction"] == f"{agreeing} of 8"
    for control, value in (("aug_degrees", 0), ("aug_translate", 0), ("aug_min_area", 100), ("aug_brightness", 0.0),
                            ("aug_contrast", 0.0), ("aug_saturation", 0.0), ("aug_hue", 0.0)):
        at.slider(key=control).set_value(value).run()
    at.toggle(key="aug_hflip").set_value(False).run()
    assert {x.label: x.value for x in at.metric}["Same prediction"] == "8 of 8"  # unchanged copies agree


def test_without_the_network_the_images_still_show(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(m, "WEIGHTS_PATH", tmp_path / "missing.pt")
    from ui import common

    common._network.clear()
    try:
        at = open_page()
        assert at.error and "missing" in at.error[0].value
        assert len(at.get("image")) == 9 and not at.metric
        assert "Without the trained network" in texts(at)
        assert len(at.get("plotly_chart")) == 2  # the sound part is untouched
    finally:
        common._network.clear()


def test_image_controls() -> None:
    at = open_page()
    at.select_slider(key="aug_count").set_value(16).run()
    assert len(at.get("image")) == 17
    first = at.get("image")[1].proto.imgs[0].url
    at.number_input(key="aug_seed").set_value(3).run()
    assert at.get("image")[1].proto.imgs[0].url != first  # another draw
    at.toggle(key="aug_vflip").set_value(True).run()
    at.slider(key="aug_degrees").set_value(180).run()
    at.slider(key="aug_min_area").set_value(10).run()
    at.slider(key="aug_hue").set_value(0.5).run()
    assert not at.exception and "RandomVerticalFlip" in at.code[0].value


def test_image_upload_good_and_bad() -> None:
    at = open_page()
    at.radio(key="aug_source").set_value("upload").run()
    assert not at.exception and not at.get("image") and len(at.get("plotly_chart")) == 2  # no image yet; sound still works
    at.file_uploader(key="aug_upload").set_value(("sky.png", encode(np.full((20, 30, 3), 90, np.uint8)), "image/png")).run()
    assert not at.exception and len(at.get("image")) == 9
    at.file_uploader(key="aug_upload").set_value(("bad.png", b"\x89PNG broken", "image/png")).run()
    assert not at.exception and any("bad.png" in e.value for e in at.error)


def test_spec_augment_controls_and_frames() -> None:
    at = open_page()
    at.radio(key="aug_sound").set_value("vowel").run()
    at.select_slider(key="aug_window").set_value(64).run()
    at.select_slider(key="aug_hop").set_value(20).run()
    # 2 s at 16 kHz, hop 20 ms = 320 samples: 1 + 32000 // 320 = 101 columns; window 64 ms = 1024 samples: 513 rows
    assert "101 columns (instants) × 513 rows" in texts(at)
    at.slider(key="aug_warp").set_value(-40).run()
    at.slider(key="aug_freq_width").set_value(60).run()
    at.slider(key="aug_time_width").set_value(100).run()
    at.number_input(key="aug_spec_seed").set_value(9).run()
    assert not at.exception and "w = -40" in texts(at) and "(100 columns" in texts(at)
    at.slider(key="aug_freq_width").set_value(0).run()
    at.slider(key="aug_time_width").set_value(0).run()
    assert "none (f = 0)" in texts(at) and "none (t = 0)" in texts(at)


def test_wav_uploads() -> None:
    at = open_page()
    at.radio(key="aug_sound").set_value("upload").run()
    assert not at.exception and len(at.get("plotly_chart")) == 0
    rate = 8000
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype("<i2")
    stereo = np.stack([tone, tone], axis=1).ravel()
    at.file_uploader(key="aug_wav").set_value(("la.wav", wav_bytes(stereo, rate, 2, 2), "audio/wav")).run()
    assert not at.exception and not [e for e in at.error if "la.wav" in e.value] and len(at.get("plotly_chart")) == 2
    assert "1.00 s at 8,000 Hz" in texts(at) and at.get("audio")
    long = np.full(rate * 7, 128, dtype=np.uint8)
    at.file_uploader(key="aug_wav").set_value(("long.wav", wav_bytes(long, rate, 1), "audio/wav")).run()
    assert not at.exception and "The file lasts 7.0 s; its first 5 s are used." in texts(at)
    assert "silent" in texts(at) and not at.get("audio")  # nothing to play, and no division by a zero loudness


@pytest.mark.parametrize(("data", "message"), [
    (b"ID3 an mp3 file", "This is not a WAV file"),
    (b"", "The file is empty"),
    (wav_bytes(np.zeros(50, dtype="<i2")), "too short for a spectrogram"),
])
def test_bad_wav_files(data: bytes, message: str) -> None:
    at = open_page()
    at.radio(key="aug_sound").set_value("upload").run()
    at.file_uploader(key="aug_wav").set_value(("clip.wav", data, "audio/wav")).run()
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert len(at.get("image")) == 9  # the image part keeps working


def test_a_refused_wav_file_leaves_the_uploader_and_its_message_stays_until_another_file() -> None:
    at = open_page("es")
    at.radio(key="aug_sound").set_value("upload").run()
    at.file_uploader(key="aug_wav").set_value(("roto.wav", b"ID3 an mp3 file", "audio/wav")).run()
    assert not at.exception
    assert [u.key for u in at.file_uploader if u.key.startswith("aug_wav")] == ["aug_wav_1"]  # a fresh uploader: no stale file
    assert not at.file_uploader(key="aug_wav_1").value
    at.run()  # the message stays until another file is chosen
    assert any("roto.wav" in e.value for e in at.error), [e.value for e in at.error]
    rate = 8000
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype("<i2")
    at.file_uploader(key="aug_wav_1").set_value(("la.wav", wav_bytes(tone, rate), "audio/wav")).run()
    assert not at.exception and not [e for e in at.error if "roto.wav" in e.value] and at.get("audio")
