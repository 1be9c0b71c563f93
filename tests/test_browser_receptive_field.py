"""The receptive-field page in Chromium: the 3-D volume, the layer table, the region on the image, without errors."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import open_page, tall_shot, wait_idle


def test_receptive_field_page_in_the_browser(server: str, page: Page) -> None:
    open_page(page, server + "/receptive_field?lang=en", "Receptive fields")
    expect(page.get_by_text("76 parameters", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="2 · How the receptive field grows through the layers")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(1)
    expect(page.locator(".stPlotlyChart")).to_have_count(3, timeout=30_000)  # volume, region on the image, growth
    expect(page.get_by_text("depends on input rows", exact=False)).to_be_visible()
    expect(page.locator(".stException")).to_have_count(0)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    tall_shot(page, "receptive_field_en")


def test_custom_stack_in_spanish(server: str, page: Page) -> None:
    open_page(page, server + "/receptive_field?lang=es", "Campos receptivos")
    page.get_by_text("Mi propia pila").click()
    wait_idle(page)
    expect(page.get_by_text("Número de capas")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("depende de las filas", exact=False)).to_be_visible()
    expect(page.locator(".stException")).to_have_count(0)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    tall_shot(page, "receptive_field_es_custom")
