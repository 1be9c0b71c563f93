"""The data augmentation page in a real browser: augmented images, spectrograms with SpecAugment, a WAV upload."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, expect

from tests.conftest import open_page, shot, wait_idle


def test_augmentation_page_in_the_browser(server: str, page: Page, tmp_path: Path) -> None:
    open_page(page, server + "/augmentation?lang=en", "Data augmentation: images and sound")
    expect(page.get_by_role("heading", name="8 augmented versions (seed 0)")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("#8", exact=False)).to_be_visible()
    expect(page.get_by_role("heading", name="Sound: SpecAugment")).to_be_visible()
    expect(page.get_by_text("Time warp:", exact=False)).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(2, timeout=30_000)  # original and augmented spectrograms
    expect(page.locator(".stException")).to_have_count(0)
    shot(page, "augmentation_en")
    page.get_by_role("heading", name="SpecAugment on this spectrogram").scroll_into_view_if_needed()
    shot(page, "augmentation_sound_en")
    page.locator(".js-plotly-plot").last.scroll_into_view_if_needed()
    shot(page, "augmentation_spectrograms_en")

    rate = 8000
    t = np.arange(rate) / rate
    file = tmp_path / "whistle.wav"
    with wave.open(str(file), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes((0.5 * 32767 * np.sin(2 * np.pi * 1500 * t)).astype("<i2").tobytes())
    page.get_by_text("Upload a WAV", exact=True).click()
    page.locator("input[type=file]").set_input_files(str(file))
    wait_idle(page)
    expect(page.get_by_text("1.00 s at 8,000 Hz", exact=False)).to_be_visible(timeout=30_000)
    expect(page.locator(".stException")).to_have_count(0)
    wait_idle(page)
    shot(page, "augmentation_wav_en")


def test_augmentation_page_in_spanish(server: str, page: Page) -> None:
    open_page(page, server + "/augmentation?lang=es", "Aumento de datos: imágenes y sonido")
    expect(page.get_by_role("heading", name="8 versiones aumentadas (semilla 0)")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="Sonido: SpecAugment")).to_be_visible()
    expect(page.get_by_text("Máscara de tiempo:", exact=True)).to_be_visible()
    expect(page.locator(".stException")).to_have_count(0)
    shot(page, "augmentation_es")
