"""The conv-layer page in Chromium: the sliding window plays in the browser, and a click on a map inspects its value."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.conftest import open_page, tall_shot, wait_idle


def test_play_the_sliding_window_and_inspect_a_value(server: str, page: Page) -> None:
    open_page(page, server + "/conv_layer?lang=en", "Inside a convolutional layer")
    expect(page.locator(".stException")).to_have_count(0)
    page.get_by_role("heading", name="The window sliding, step by step").scroll_into_view_if_needed()  # charts draw when seen
    animation = page.locator(".stPlotlyChart").filter(has=page.locator(".updatemenu-button"))
    animation.scroll_into_view_if_needed()
    title = animation.locator(".gtitle")
    expect(title).to_contain_text("o(0, 0) =", timeout=30_000)
    animation.locator(".updatemenu-button", has_text="fast").click()  # 9 steps (7×7, k 3, s 2, p 1, d 2), in the browser
    expect(title).to_contain_text("o(2, 2) =", timeout=15_000)
    tick = animation.locator(".slider-tick-rect").nth(3).bounding_box()  # one step at a time with the slider
    rail = animation.locator(".slider-rail-touch-rect").bounding_box()
    assert tick is not None and rail is not None
    page.mouse.click(tick["x"] + tick["width"] / 2, rail["y"] + rail["height"] / 2)
    expect(title).to_contain_text("o(1, 0) =", timeout=10_000)

    row = page.get_by_label("Output row")
    before = row.input_value()
    page.get_by_role("heading", name="One value, computed in front of you").scroll_into_view_if_needed()
    chart = page.locator(".stPlotlyChart").filter(has_text=re.compile(r"click a\s*value"))  # the title, wrapped by ui.plot
    chart.scroll_into_view_if_needed()
    box = chart.locator(".nsewdrag").first.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] * 0.15, box["y"] + box["height"] * 0.15
    page.mouse.move(x - 3, y - 3)  # Plotly selects the point under the hover label: hover first, as a hand does
    page.mouse.move(x, y, steps=3)
    expect(chart.locator(".hoverlayer .hovertext")).to_have_count(1, timeout=15_000)
    page.mouse.click(x, y)
    wait_idle(page)
    expect(row).not_to_have_value(before, timeout=15_000)
    expect(page.get_by_text("Partial sum of channel B", exact=False)).to_be_visible()
    expect(page.get_by_text("(filter 1, row " + row.input_value(), exact=False)).to_be_visible()
    expect(page.locator(".stException")).to_have_count(0)
    tall_shot(page, "conv_layer_en")
