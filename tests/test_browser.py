"""The real thing: `streamlit run app.py` on a free port, driven in Debian's Chromium by Playwright."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, expect

from tests.conftest import choose, encode, feature_map, marked_cell, shot, wait_idle


def test_upload_a_photo_and_see_the_feature_map(server: str, page: Page, tmp_path: Path) -> None:
    y, x = np.mgrid[0:300, 0:400]
    photo = np.stack([x % 256, y % 256, ((x // 50 + y // 50) % 2) * 255], axis=2).astype(np.uint8)
    file = tmp_path / "student_photo.png"
    file.write_bytes(encode(photo))
    page.goto(server + "/?lang=en")
    expect(page.get_by_role("heading", name="Convolution playground")).to_be_visible(timeout=60_000)
    page.get_by_text("Upload an image").click()
    page.locator("input[type=file]").set_input_files(str(file))
    wait_idle(page)
    expect(page.get_by_text("Input 192×256")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Feature map 190×254")).to_be_visible()
    expect(page.get_by_text("It matches the shape the convolution produced: 190×254.")).to_be_visible()
    expect(page.locator(".stException")).to_have_count(0)
    shot(page, "playground_upload_en")


def test_bad_upload_in_the_browser(server: str, page: Page, tmp_path: Path) -> None:
    file = tmp_path / "notes.png"
    file.write_bytes(b"these are my notes, not a picture")
    page.goto(server + "/?lang=es")
    expect(page.get_by_role("heading", name="Laboratorio de convolución")).to_be_visible(timeout=60_000)
    page.get_by_text("Subir una imagen").click()
    page.locator("input[type=file]").set_input_files(str(file))
    wait_idle(page)
    sidebar, main = page.get_by_test_id("stSidebar"), page.get_by_test_id("stMain")
    expect(sidebar.get_by_text("No se puede usar «notes.png».", exact=False)).to_be_visible(timeout=30_000)
    expect(main.get_by_text("No se puede usar «notes.png».", exact=False)).to_be_visible()  # said where the page stops too
    expect(page.locator(".stException")).to_have_count(0)
    expect(page.get_by_role("heading", name="2 · Filtro (kernel)").first).to_be_visible()


def test_language_switch_updates_page_and_url(server: str, page: Page) -> None:
    page.goto(server + "/")
    expect(page.get_by_role("heading", name="Convolution playground")).to_be_visible(timeout=60_000)  # browser locale en-US
    choose(page, "Idioma · Language", "Español")
    expect(page.get_by_role("heading", name="Laboratorio de convolución")).to_be_visible(timeout=30_000)
    assert re.search(r"[?&]lang=es\b", page.url)
    shot(page, "playground_es")


def test_click_on_the_feature_map_moves_the_inspector(server: str, page: Page) -> None:
    page.goto(server + "/?lang=en")
    expect(page.get_by_text("Pixel inspector")).to_be_visible(timeout=60_000)
    wait_idle(page)
    row, col = page.get_by_label("Output row"), page.get_by_label("Output column")
    expect(row).to_have_value("84", timeout=15_000)  # the centre of the 168×254 map of the default sample
    # The input is its own PNG on a canvas (ui.pixelmap): the hover reads each pixel's exact value from it.
    image = feature_map(page, "pg_input")
    box = image.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.5 - 3, box["y"] + box["height"] * 0.5 - 3)
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=3)
    hover = page.locator(".pixelmap[data-map=pg_input] .tip")
    expect(hover).to_be_visible(timeout=15_000)
    assert re.fullmatch(r"row \d+, column \d+: \d+", (hover.text_content() or "").strip()), hover.text_content()
    # The feature map is a canvas coloured from its 8-bit indices; a click reports the pixel under the pointer (only the
    # results rerun), and the yellow frame moves there.
    picture = feature_map(page)
    size = picture.bounding_box()
    assert size is not None and size["width"] > 300  # enlarged to the column, pixels kept square
    assert abs(size["height"] / size["width"] - 168 / 254) < 0.01
    picture.click(position={"x": size["width"] * 0.25, "y": size["height"] * 0.5})
    wait_idle(page)
    expect(col).to_have_value(str(int(254 * 0.25)), timeout=15_000)
    assert abs(int(row.input_value()) - 84) <= 1
    assert re.search(r"[?&]pg_col=63\b", page.url), page.url  # the click is in the link
    assert marked_cell(page) == (int(row.input_value()), 63)
    shot(page, "playground_click")


def test_network_page_predicts_and_shows_layers(server: str, page: Page) -> None:
    page.goto(server + "/predictions?lang=en")
    expect(page.get_by_role("heading", name="A real convolutional network: CIFAR-10")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Prediction", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stMetricValue").first).to_have_text("cat")
    expect(page.get_by_role("heading", name="Inside the network")).to_be_visible()
    expect(page.get_by_role("heading", name="Model card")).to_be_visible()
    expect(page.locator(".stException")).to_have_count(0)
    shot(page, "network_en")
