"""The fully connected versus convolution page in a real browser."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import open_page, shot, wait_idle

URL = "/parameters"  # url_path is the file name (tests/test_pages.py::test_url_paths_are_the_page_file_names)


def test_presets_counts_and_chart(server: str, page: Page) -> None:
    open_page(page, server + URL + "?lang=en", "Fully connected versus convolution")
    page.get_by_role("button", name="Image of 200×200×3").click()
    wait_idle(page)
    expect(page.get_by_text("Computed here:", exact=False)).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stMetricValue").filter(has_text="120,001").first).to_be_visible()
    expect(page.get_by_role("spinbutton", name="Width W (pixels)")).to_have_value("200")
    expect(page.get_by_role("heading", name="Why fully connected layers do not scale to images")).to_be_visible()
    expect(page.locator(".stPlotlyChart")).to_have_count(1)
    expect(page.locator(".stException")).to_have_count(0)
    shot(page, "parameters_en")


def test_spanish_page(server: str, page: Page) -> None:
    open_page(page, server + URL + "?lang=es", "Totalmente conectada frente a convolución")
    page.get_by_role("button", name="Imagen de CIFAR-10 32×32×3").click()
    wait_idle(page)
    expect(page.get_by_text("Calculado aquí:", exact=False)).to_be_visible(timeout=30_000)
    expect(page.locator(".stException")).to_have_count(0)
    shot(page, "parameters_es")
