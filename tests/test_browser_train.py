"""The live-training page in a real browser: start a short run, watch the loss curve grow every second, stop it."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import open_page, shot, tall_shot

CURVE_END = """() => {
  const plot = [...document.querySelectorAll('.js-plotly-plot')].find(p => p._fullData && p._fullData[0] && p._fullData[0].name === 'training loss');
  if (!plot) return 0;
  const x = plot._fullData[0].x;
  return x.length ? Number(x[x.length - 1]) : 0;
}"""


def test_train_page_runs_and_stops_in_the_browser(server: str, page: Page) -> None:
    open_page(page, server + "/train?lang=en&lv_layers=1&lv_width=8&lv_mode=time&lv_seconds=60", "Train a network")
    page.get_by_role("button", name="Train").click()
    expect(page.get_by_text("Step ", exact=False).first).to_be_visible(timeout=60_000)
    page.wait_for_function(f"({CURVE_END})() > 0", timeout=30_000)
    first = page.evaluate(CURVE_END)
    page.wait_for_function(f"({CURVE_END})() > {first}", timeout=15_000)  # redrawn by the page's timer, no click
    expect(page.get_by_text("First-layer filters")).to_be_visible()
    shot(page, "train_running_en")
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_text("Stopped after", exact=False)).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Held-out accuracy per class")).to_be_visible(timeout=30_000)
    expect(page.locator(".stException")).to_have_count(0)
    tall_shot(page, "train_stopped_en")
