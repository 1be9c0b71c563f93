"""The pooling page in Chromium: both figures, the inspector and the lecture's volume, without errors."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import open_page, tall_shot, wait_idle


def test_pooling_page_in_the_browser(server: str, page: Page) -> None:
    open_page(page, server + "/pooling?lang=en", "Pooling: max and average")
    expect(page.get_by_role("heading", name="Input and pooled output")).to_be_visible()
    expect(page.locator(".stPlotlyChart")).to_have_count(3, timeout=30_000)  # input, pooled map, window
    expect(page.get_by_text("The pooled map holds", exact=False)).to_be_visible()
    expect(page.get_by_text("**16×16×12**", exact=False)).to_have_count(0)  # markdown is rendered, not shown raw
    expect(page.get_by_text("16×16×12", exact=False).first).to_be_visible()
    expect(page.locator(".stException")).to_have_count(0)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    tall_shot(page, "pooling_en")


def test_pooling_page_average_in_spanish(server: str, page: Page) -> None:
    open_page(page, server + "/pooling?lang=es", "Pooling: máximo y promedio")
    page.get_by_test_id("stSidebar").get_by_text("Promedio", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text("El average pooling suma", exact=False)).to_be_visible(timeout=30_000)
    expect(page.locator(".stException")).to_have_count(0)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    tall_shot(page, "pooling_es_avg")


def test_feature_map_of_the_trained_network(server: str, page: Page) -> None:
    open_page(page, server + "/pooling?lang=en", "Pooling: max and average")
    page.get_by_text("A feature map of the CIFAR-10 network").click()
    wait_idle(page)
    expect(page.get_by_text("equals, value for value, the network's own layer block1.pool", exact=False)).to_be_visible(
        timeout=60_000)
    expect(page.get_by_text("31×31×64 with k = 2, s = 2", exact=False)).to_be_visible()
    expect(page.locator(".stException")).to_have_count(0)
    tall_shot(page, "pooling_fmap_en")
