"""In Chromium without an emoji font: Material icons, the PNG download alone, chart descriptions, the presenter view."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.conftest import open_page


def _font_px(page: Page) -> float:
    return page.get_by_test_id("stMain").get_by_test_id("stMarkdownContainer").locator("p").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")


def test_icons_downloads_and_descriptions(server: str, page: Page) -> None:
    open_page(page, f"{server}/?lang=en", "Convolution playground")
    links = page.get_by_test_id("stSidebarNavLink")
    icons = links.get_by_test_id("stIconMaterial")
    assert links.count() >= 10 and icons.count() == links.count()  # every page shown has a Material icon
    for box in icons.evaluate_all("els => els.map(e => e.getBoundingClientRect())"):
        assert 0 < box["width"] <= 1.5 * box["height"]  # an unknown icon name would be drawn as a word
    # The descriptions, for screen readers: of the input (a canvas, ui.pixelmap) and of a chart (Plotly's figure).
    expect(page.get_by_role("img", name="The input image, 170×256 pixels, with the padding frame and, in yellow, "
                                        "the window that gives the chosen output pixel.")).to_be_visible(timeout=30_000)
    chart = page.get_by_role("figure", name="The kernel as a 3×3 table of its weights.")
    expect(chart).to_be_visible(timeout=30_000)
    chart.hover()
    expect(chart.locator(".modebar-btn")).to_have_count(1)
    expect(chart.locator(".modebar-btn")).to_have_attribute("data-title", "Download plot as a PNG")
    expect(page.get_by_test_id("stDownloadButton")).to_have_count(2)


def test_presenter_view_enlarges_text(server: str, page: Page, browser: Browser) -> None:
    open_page(page, f"{server}/?lang=en", "Convolution playground")
    normal = _font_px(page)
    # A new browser context: a reload of the same tab rejoins the same Streamlit session, which read its link already.
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    try:
        presenter = context.new_page()
        open_page(presenter, f"{server}/?lang=en&presenter=1", "Convolution playground")
        # Streamlit loads the code of each kind of element when it first draws one (st.html too): on a busy machine the
        # style arrives a moment after the heading.
        presenter.wait_for_function("min => parseFloat(getComputedStyle(document.documentElement).fontSize) >= min",
                                    arg=1.3 * normal, timeout=30_000)
        assert _font_px(presenter) >= 1.3 * normal
    finally:
        context.close()
