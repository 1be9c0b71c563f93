"""The playground's feature map and input in Chromium (ui.pixelmap): the hover reads a pixel's row, column and ≈ value
in the student's language, a click frames the pixel, moves the inspector and the link, and the copied link frames it
again; the input shows its exact values, the padding around it and the receptive field of the chosen pixel."""

from __future__ import annotations

import re

import numpy as np
from playwright.sync_api import Browser, Page, expect

from cnn_core import convolve, get_kernel, resize_to, sample_image, to_grayscale
from tests.conftest import feature_map, marked_cell, wait_idle

SIDE = 64  # a 62×62 map (Sobel x, 3×3, stride 1): cells of about 7 px, easy to point at


def _quantised(fmap: np.ndarray) -> np.ndarray:
    """The values the hover shows: the map's 8-bit indices back on its (symmetric) scale."""
    limit = np.abs(fmap).max()
    index = np.rint((fmap + limit) / (2 * limit) * 255).clip(0, 255)
    return -limit + index / 255 * 2 * limit


def _number(text: str) -> float:
    """A number as Spanish writes it (1.234,5 · −0,25) back to a float."""
    return float(text.replace(".", "").replace(",", ".").replace("\u2212", "-"))


def _framed(page: Page, cell: tuple[int, int], key: str = "pg_fmap") -> None:
    """The yellow frame is around `cell` (it is drawn when the map or the selection arrives: wait up to 10 s)."""
    for _ in range(50):
        if (found := marked_cell(page, key)) == cell:
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"the frame is around {found}, not {cell}")


def _hover(page: Page, picture, row: int, col: int, rows: int, cols: int, key: str = "pg_fmap") -> str:
    box = picture.bounding_box()
    assert box is not None
    x, y = box["x"] + (col + 0.5) * box["width"] / cols, box["y"] + (row + 0.5) * box["height"] / rows
    page.mouse.move(x - 4, y - 4)
    page.mouse.move(x, y, steps=3)
    tip = page.locator(f".pixelmap[data-map={key}] .tip")
    expect(tip).to_be_visible(timeout=10_000)
    return tip.text_content() or ""


def test_hover_shows_row_column_and_value_in_spanish_and_a_click_frames_the_pixel(server: str, page: Page, browser: Browser) -> None:
    page.goto(server + f"/?lang=es&pg_side={SIDE}")
    expect(page.get_by_text("Inspector de píxeles")).to_be_visible(timeout=60_000)
    wait_idle(page)
    image = np.rint(to_grayscale(resize_to(sample_image("cat"), SIDE))).astype(np.uint8)
    fmap = convolve(image, get_kernel("sobel_x"), 1, 0)
    shown = _quantised(fmap)
    rows, cols = fmap.shape
    # A pixel whose value has decimals below 100 in magnitude: the decimal comma must show.
    candidates = np.argwhere((np.abs(shown) > 1) & (np.abs(shown) < 100) & (np.abs(shown - np.rint(shown)) > 0.05))
    row, col = (int(v) for v in candidates[len(candidates) // 2])
    picture = feature_map(page)
    text = _hover(page, picture, row, col, rows, cols)
    found = re.fullmatch(r"fila (\d+), columna (\d+): ≈ (\u2212?[\d.]+,\d+)", text)
    assert found, text
    assert (int(found[1]), int(found[2])) == (row, col)
    value = _number(found[3])
    assert abs(value - shown[row, col]) <= 0.005 * abs(shown[row, col]) + 0.01, (value, shown[row, col])
    assert abs(value - fmap[row, col]) <= np.abs(fmap).max() / 255 + 0.01  # ≈ the exact value (half a step, rounded)
    page.mouse.move(5, 5)
    expect(page.locator(".pixelmap[data-map=pg_fmap] .tip")).to_be_hidden()

    # A click: the frame, the inspector and the address bar follow at once.
    _framed(page, (rows // 2, cols // 2))
    box = picture.bounding_box()
    assert box is not None
    picture.click(position={"x": (col + 0.5) * box["width"] / cols, "y": (row + 0.5) * box["height"] / rows})
    wait_idle(page)
    expect(page.get_by_label("Fila de salida")).to_have_value(str(row), timeout=15_000)
    expect(page.get_by_label("Columna de salida")).to_have_value(str(col))
    _framed(page, (row, col))
    expect(page.get_by_text(f"La salida ({row}, {col})")).to_be_visible()
    assert f"pg_row={row}" in page.url and f"pg_col={col}" in page.url, page.url
    # The inspector's box moves the frame too.
    field = page.get_by_label("Fila de salida")
    field.fill(str(row + 1))
    field.press("Enter")
    wait_idle(page)
    expect(page.get_by_text(f"La salida ({row + 1}, {col})")).to_be_visible(timeout=15_000)
    _framed(page, (row + 1, col))

    link = page.url
    student = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="es-ES").new_page()
    try:
        student.goto(link)
        expect(student.get_by_text("Inspector de píxeles")).to_be_visible(timeout=60_000)
        wait_idle(student)
        expect(student.get_by_label("Fila de salida")).to_have_value(str(row + 1), timeout=30_000)
        feature_map(student)
        _framed(student, (row + 1, col))
    finally:
        student.context.close()


def test_the_rgb_view_hovers_three_values(server: str, page: Page) -> None:
    page.goto(server + f"/?lang=en&pg_side={SIDE}&pg_mode=rgb&pg_channel=all&pg_kernel=box_blur")
    expect(page.get_by_text("Pixel inspector")).to_be_visible(timeout=60_000)
    wait_idle(page)
    image = resize_to(sample_image("cat"), SIDE)
    fmap = convolve(image, get_kernel("box_blur"), 1, 0)
    rows, cols = fmap.shape[:2]
    picture = feature_map(page, "pg_rgb")
    text = _hover(page, picture, 5, 7, rows, cols, "pg_rgb")
    found = re.fullmatch(r"row 5, column 7: R ≈ ([\d.]+) · G ≈ ([\d.]+) · B ≈ ([\d.]+)", text)
    assert found, text
    assert np.allclose([float(v) for v in found.groups()], fmap[5, 7], atol=0.5 + 0.01 * fmap[5, 7].max())
    picture.click(position={"x": 2, "y": 2})
    wait_idle(page)
    expect(page.get_by_label("Output row")).to_have_value("0", timeout=15_000)
    _framed(page, (0, 0), "pg_rgb")


def _input_frame(page: Page, rows: int, cols: int, padding: int) -> dict:
    """What the input's overlay draws: the cell (in the image's rows and columns) at the centre of the yellow frame,
    and whether the padding band is shaded and the image itself is not."""
    return page.locator(".pixelmap[data-map=pg_input] canvas.overlay").evaluate("""(overlay, [rows, cols, p]) => {
        const { width, height } = overlay, data = overlay.getContext("2d").getImageData(0, 0, width, height).data;
        let xs = 0, ys = 0, n = 0;
        for (let i = 0; i < data.length; i += 4) {
            if (data[i] > 200 && data[i + 1] > 180 && data[i + 2] < 80 && data[i + 3] > 200) {
                const q = i / 4; xs += q % width; ys += Math.floor(q / width); n++;
            }
        }
        const alpha = (x, y) => data[(Math.floor(y) * width + Math.floor(x)) * 4 + 3];
        const w = width / (cols + 2 * p), h = height / (rows + 2 * p);
        return { cell: n ? [Math.floor(ys / n / h) - p, Math.floor(xs / n / w) - p] : null,
                 band: alpha(width / 2, h * p / 2) > 0, image: alpha(width / 2, height / 2) > 0 };
    }""", [rows, cols, padding])


def test_the_input_hovers_its_exact_values_and_shows_padding_and_receptive_field(server: str, page: Page) -> None:
    page.goto(server + f"/?lang=es&pg_side={SIDE}&pg_padding=2&pg_stride=2&pg_row=0&pg_col=0")
    expect(page.get_by_text("Inspector de píxeles")).to_be_visible(timeout=60_000)
    wait_idle(page)
    image = np.rint(to_grayscale(resize_to(sample_image("cat"), SIDE))).astype(np.uint8)
    rows, cols = image.shape
    picture = feature_map(page, "pg_input")
    assert _hover(page, picture, 5, 7, rows, cols, "pg_input") == f"fila 5, columna 7: {image[5, 7]}"  # exact: whole gray levels
    assert _hover(page, picture, -1, 3, rows, cols, "pg_input") == "fila \u22121, columna 3: 0 (relleno)"
    # Output (0, 0) with stride 2 and padding 2: its 3×3 window covers rows and columns −2 to 0, centred on (−1, −1).
    for _ in range(50):
        drawn = _input_frame(page, rows, cols, 2)
        if drawn["cell"] == [-1, -1]:
            break
        page.wait_for_timeout(200)
    assert drawn == {"cell": [-1, -1], "band": True, "image": False}, drawn
    # A click on the feature map moves the input's frame: output (3, 4) reads rows 4–6, columns 6–8.
    box = feature_map(page).bounding_box()
    assert box is not None
    out_rows, out_cols = (rows - 3 + 4) // 2 + 1, (cols - 3 + 4) // 2 + 1  # the cat is 43×64 at this size
    feature_map(page).click(position={"x": 4.5 * box["width"] / out_cols, "y": 3.5 * box["height"] / out_rows})
    wait_idle(page)
    expect(page.get_by_label("Fila de salida")).to_have_value("3", timeout=15_000)
    for _ in range(50):
        if (drawn := _input_frame(page, rows, cols, 2))["cell"] == [5, 7]:
            break
        page.wait_for_timeout(200)
    assert drawn["cell"] == [5, 7], drawn
