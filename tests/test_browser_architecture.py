"""The architecture explorer in a real browser: the reference networks and the builder."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.conftest import choose, open_page, shot, wait_idle

URL = "/architecture"  # url_path is the file name (tests/test_pages.py::test_url_paths_are_the_page_file_names)


def test_cifar_and_alexnet_tables(server: str, page: Page) -> None:
    open_page(page, server + URL + "?lang=en", "Architecture explorer")
    expect(page.get_by_test_id("stMetricValue").filter(has_text="569,656")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stDataFrame")).to_have_count(1)
    choose(page, "Network", "AlexNet (torchvision)")
    expect(page.get_by_test_id("stMetricValue").filter(has_text="61,100,840")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("AdaptiveAvgPool2d", exact=False).first).to_be_visible()
    expect(page.locator(".stException")).to_have_count(0)
    shot(page, "architecture_en")


def _move_selection(page: Page, editor, row: int, header: str) -> None:
    """Move the grid's selected cell to (`row`, the column headed `header`) with the arrow keys. The grid is drawn on a
    canvas; its accessibility table (cells `glide-cell-COLUMN-ROW`, one marked aria-selected) says where the selection is."""
    column = editor.locator("[role=columnheader]").filter(has_text=re.compile(f"^{re.escape(header)}$"))
    target = (int(column.get_attribute("aria-colindex")), row)
    selected = editor.locator("[role=gridcell][aria-selected=true]")
    expect(selected).to_have_count(1, timeout=10_000)
    at = tuple(int(n) for n in selected.get_attribute("data-testid").rsplit("-", 2)[1:])
    for _ in range(20):
        if at == target:
            return
        step = (1, 0) if at[0] < target[0] else (-1, 0) if at[0] > target[0] else (0, 1) if at[1] < target[1] else (0, -1)
        page.keyboard.press({(1, 0): "ArrowRight", (-1, 0): "ArrowLeft", (0, 1): "ArrowDown", (0, -1): "ArrowUp"}[step])
        at = (at[0] + step[0], at[1] + step[1])
        expect(editor.get_by_test_id(f"glide-cell-{at[0]}-{at[1]}")).to_have_attribute("aria-selected", "true")
    raise AssertionError(f"the selection did not reach {target}")


def test_builder_reports_the_layer_that_does_not_fit(server: str, page: Page) -> None:
    open_page(page, server + URL + "?lang=en", "Architecture explorer")
    choose(page, "Network", "My own network (builder)")
    expect(page.get_by_test_id("stMetricValue").filter(has_text="61,706")).to_be_visible(timeout=30_000)
    # Edit a cell of the grid like a student: the first row's k, 5 → 3.
    editor = page.get_by_test_id("stDataFrame").first
    editor.scroll_into_view_if_needed()
    box = editor.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 150, box["y"] + 53)  # a cell of the first row, below the 35-px header
    _move_selection(page, editor, 0, "k")  # the click lands by pixels; the arrow keys take it to k
    page.keyboard.press("Enter")
    cell = page.locator("input.gdg-input")  # the grid's cell editor, opened by Enter
    expect(cell).to_have_value("5", timeout=10_000)
    cell.fill("3")
    cell.press("Enter")
    wait_idle(page)
    table = page.get_by_test_id("stDataFrame").nth(1)
    expect(table.get_by_text("6×30×30", exact=True)).to_be_attached(timeout=30_000)  # (32 − 3 + 2·0)/1 + 1 = 30
    choose(page, "Start from", "Too many reductions for a 28×28 image")
    error = page.get_by_text("Layer 5 (conv3) cannot be applied", exact=False)
    expect(error).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stDataFrame")).to_have_count(2)  # the editor and the table up to the failing layer
    expect(page.locator(".stException")).to_have_count(0)
    error.scroll_into_view_if_needed()
    shot(page, "architecture_builder_en")
