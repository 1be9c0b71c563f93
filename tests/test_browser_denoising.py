"""The noise and Gaussian filter page in a real browser: images, PSNR, the trade-off curves, salt and pepper."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import open_page, shot, wait_idle


def test_denoising_page_in_the_browser(server: str, page: Page) -> None:
    open_page(page, server + "/denoising?lang=en", "Noise and the Gaussian filter")
    expect(page.get_by_text("PSNR with noise")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("PSNR after the Gaussian filter")).to_be_visible()
    expect(page.get_by_text("The Gaussian filter raises the PSNR by", exact=False)).to_be_visible()
    expect(page.get_by_role("heading", name="How much to smooth? The trade-off")).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(3, timeout=30_000)  # kernel and two curves
    expect(page.locator(".stException")).to_have_count(0)
    shot(page, "denoising_en")
    page.get_by_role("heading", name="How much to smooth? The trade-off").scroll_into_view_if_needed()
    shot(page, "denoising_curves_en")

    page.get_by_test_id("stSidebar").get_by_text("Salt and pepper").click()
    wait_idle(page)
    expect(page.get_by_text("A median filter removes them much better", exact=False)).to_be_visible(timeout=30_000)
    expect(page.get_by_text("3×3 median · PSNR", exact=False)).to_be_visible()
    expect(page.locator(".stException")).to_have_count(0)
    shot(page, "denoising_salt_pepper_en")


def test_denoising_page_in_spanish(server: str, page: Page) -> None:
    open_page(page, server + "/denoising?lang=es", "Ruido y filtro gaussiano")
    expect(page.get_by_text("PSNR con ruido")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="¿Cuánto suavizar? El compromiso")).to_be_visible()
    expect(page.locator(".stException")).to_have_count(0)
    shot(page, "denoising_es")
