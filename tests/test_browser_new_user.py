"""What a new user tripped over (issue 12), in Chromium: a clicked pixel in the copied link, an unknown page, and
formulas and the inspector on a projector (1280×720, presenter view) and on a phone (390 px)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import encode, feature_map, shot, streamlit_server, wait_idle


def _open(browser: Browser, url: str, width: int = 1400, height: int = 1000, **options) -> Page:
    page = browser.new_context(viewport={"width": width, "height": height}, locale="en-US", **options).new_page()
    page.goto(url)
    return page


def test_a_clicked_pixel_is_in_the_copied_link(server: str, page: Page, browser: Browser) -> None:
    page.goto(server + "/?lang=en&pg_side=64")
    expect(page.get_by_text("Pixel inspector")).to_be_visible(timeout=60_000)
    wait_idle(page)
    row, col = page.get_by_label("Output row"), page.get_by_label("Output column")
    before = (row.input_value(), col.input_value())
    picture = feature_map(page)
    size = picture.bounding_box()
    assert size is not None
    picture.click(position={"x": size["width"] * 0.2, "y": size["height"] * 0.3})
    wait_idle(page)
    expect(row).not_to_have_value(before[0], timeout=15_000)
    clicked = (row.input_value(), col.input_value())
    link = page.url  # what a teacher copies from the address bar right after the click
    assert f"pg_row={clicked[0]}" in link and f"pg_col={clicked[1]}" in link, (clicked, link)

    student = _open(browser, link)
    try:
        expect(student.get_by_text("Pixel inspector")).to_be_visible(timeout=60_000)
        wait_idle(student)
        expect(student.get_by_label("Output row")).to_have_value(clicked[0], timeout=30_000)
        expect(student.get_by_label("Output column")).to_have_value(clicked[1], timeout=30_000)
    finally:
        student.context.close()


def test_an_unknown_page_says_so_and_opens_the_playground(server: str, browser: Browser) -> None:
    page = _open(browser, server + "/nonexistent_page?lang=es")
    try:
        expect(page.get_by_text("La página «nonexistent_page» no existe")).to_be_visible(timeout=60_000)
        expect(page.get_by_role("heading", name="Laboratorio de convolución")).to_be_visible()
    finally:
        page.context.close()
    page = _open(browser, server + "/playground?lang=es")  # the default page's own name is no unknown page
    try:
        expect(page.get_by_role("heading", name="Laboratorio de convolución")).to_be_visible(timeout=60_000)
        wait_idle(page)
        expect(page.get_by_text("no existe")).to_have_count(0)
    finally:
        page.context.close()


def test_the_playground_address_opens_without_streamlits_page_not_found(browser: Browser) -> None:
    """/playground on a freshly started server, its first session and the next ones: Streamlit served the default page at
    / only, and said "Page not found" in a dialog to every session after the first that typed its name."""
    with streamlit_server() as fresh:
        for path in ("/playground?lang=es", "/playground?lang=es&pg_stride=2", "/?lang=es", "/playground"):
            page = _open(browser, fresh + path)
            try:
                expect(page.get_by_role("heading", name="Laboratorio de convolución" if "lang=es" in path else "Convolution playground")
                       ).to_be_visible(timeout=60_000)
                wait_idle(page)
                page.wait_for_timeout(1000)
                expect(page.get_by_role("dialog")).to_have_count(0)
                expect(page.get_by_text("Page not found")).to_have_count(0)
                if "pg_stride=2" in path:  # the link's settings came along
                    expect(page.get_by_role("spinbutton", name="Paso (stride) s")).to_have_value("2")
            finally:
                page.context.close()


def _formulas_fit(page: Page) -> list[tuple[int, int]]:
    """(content width, visible width) of every formula that does not fit its box, after scrolling to each."""
    return page.evaluate("""() => [...document.querySelectorAll('.katex-display')]
        .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 4)  // KaTeX's own right margin may stick out 2 px
        .map(e => [e.scrollWidth, e.clientWidth])""")


def _last_term_visible(page: Page, width: int) -> None:
    """The right end of every formula (its last term, the answer) lies inside the screen."""
    for display in page.locator(".katex-display").all():
        display.scroll_into_view_if_needed()
        box = display.locator(".katex-html").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, box


def test_formulas_fit_a_projector_in_presenter_view(server: str, browser: Browser) -> None:
    for path, heading in (("/?pg_sample=coffee&pg_stride=2&pg_padding=1", "Convolution playground"),
                          ("/parameters?params_width=200&params_height=200&params_neurons=1000", "Fully connected versus convolution")):
        page = _open(browser, server + path + "&lang=en&presenter=1", 1280, 720)
        try:
            expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=60_000)
            expect(page.locator(".katex-display").first).to_be_attached(timeout=30_000)
            wait_idle(page)
            assert not _formulas_fit(page), _formulas_fit(page)
            _last_term_visible(page, 1280)
            shot(page, "presenter_1280x720_" + (path.strip("/").split("?")[0] or "playground"))
        finally:
            page.context.close()


def test_a_phone_stacks_the_inspector_and_shows_whole_formulas(server: str, browser: Browser) -> None:
    page = _open(browser, server + "/?lang=es&pg_sample=coffee", 390, 844, is_mobile=True, has_touch=True)
    try:
        expect(page.get_by_role("heading", name="Laboratorio de convolución")).to_be_visible(timeout=60_000)
        expect(page.locator(".katex-display").first).to_be_attached(timeout=30_000)
        wait_idle(page)
        assert not _formulas_fit(page), _formulas_fit(page)
        _last_term_visible(page, 390)
        boxes = page.evaluate("""() => [...document.querySelectorAll('.stPlotlyChart')].slice(1, 4)
            .map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })""")
        assert len(boxes) == 3 and all(left >= 0 and left + w <= 391 for left, _, w, _ in boxes), boxes
        assert all(boxes[i][1] + boxes[i][3] <= boxes[i + 1][1] + 1 for i in range(2)), boxes  # stacked, none overlapping
        shot(page, "phone_390_playground")
    finally:
        page.context.close()


def test_a_file_over_40_mb_gets_the_translated_message_and_a_clean_uploader(server: str, page: Page, tmp_path: Path) -> None:
    big = tmp_path / "enorme.png"
    with big.open("wb") as out:  # over the 40 MB Streamlit's uploader used to refuse itself, in English
        out.write(b"\x89PNG\r\n\x1a\n")
        out.truncate(45_000_000)
    good = tmp_path / "buena.png"
    good.write_bytes(encode(np.full((20, 30, 3), 90, np.uint8)))
    page.goto(server + "/?lang=es")
    expect(page.get_by_role("heading", name="Laboratorio de convolución")).to_be_visible(timeout=60_000)
    page.get_by_text("Subir una imagen").click()
    page.locator("input[type=file]").set_input_files(str(big))
    sidebar, main = page.get_by_test_id("stSidebar"), page.get_by_test_id("stMain")
    expect(sidebar.get_by_text("El archivo pesa unos 45 MB", exact=False)).to_be_visible(timeout=60_000)
    expect(main.get_by_text("El archivo pesa unos 45 MB", exact=False)).to_be_visible()
    wait_idle(page)
    expect(page.get_by_test_id("stFileUploaderFile")).to_have_count(0)  # no file chip, red or not, stays behind
    expect(page.get_by_text("or smaller", exact=False)).to_have_count(0)
    page.locator("input[type=file]").set_input_files(str(good))
    wait_idle(page)
    expect(page.get_by_text("Entrada 20×30", exact=False)).to_be_visible(timeout=30_000)
    expect(page.get_by_text("El archivo pesa", exact=False)).to_have_count(0)


_TITLES_CUT = """() => [...document.querySelectorAll('.stPlotlyChart')].filter(e => e.offsetParent !== null).flatMap(e => {
    const svg = e.querySelector('.main-svg'), title = e.querySelector('.gtitle');
    if (!svg || !title || !title.textContent) return [];
    const s = svg.getBoundingClientRect(), r = title.getBoundingClientRect();
    return r.left < s.left - 1 || r.right > s.right + 1 ? [[title.textContent, r.left, r.right, s.left, s.right]] : [];
})"""


def test_the_backprop_inputs_and_chart_fit_a_projector_in_presenter_view(server: str, browser: Browser) -> None:
    for lang, heading in (("es", "Retropropagación con la regla de la cadena"), ("en", "Backpropagation by the chain rule")):
        page = _open(browser, server + f"/backprop?lang={lang}&presenter=1", 1280, 720)
        try:
            expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=60_000)
            expect(page.locator(".stPlotlyChart .gtitle").first).to_be_attached(timeout=30_000)
            wait_idle(page)
            boxes = [box.bounding_box() for box in page.get_by_test_id("stNumberInput").locator("input").all()]
            assert len(boxes) == 5 and all(b is not None for b in boxes), boxes
            assert all(b["x"] >= 0 and b["x"] + b["width"] <= 1280 and b["width"] >= 60 for b in boxes), boxes  # whole, readable
            assert all(abs(b["y"] - boxes[0]["y"]) <= 2 for b in boxes), boxes  # one row: no box pushed below by its label
            assert all(boxes[i]["x"] + boxes[i]["width"] <= boxes[i + 1]["x"] for i in range(4)), boxes  # none overlapping
            assert not page.evaluate(_TITLES_CUT), page.evaluate(_TITLES_CUT)
            shot(page, f"presenter_1280x720_backprop_{lang}")
        finally:
            page.context.close()


_CONFUSION_FITS = """() => [...document.querySelectorAll('.stPlotlyChart')].filter(e => /onfusi/.test(e.textContent)).map(e => {
    const svg = e.querySelector('.main-svg').getBoundingClientRect(), chart = e.getBoundingClientRect();
    const out = [...e.querySelectorAll('.gtitle, .xtick text, .ytick text, .xtitle, .ytitle')].filter(x => x.textContent).map(x => {
        const r = x.getBoundingClientRect();
        return [x.textContent, r.left >= svg.left - 1 && r.right <= svg.right + 1 && r.top >= svg.top - 1 && r.bottom <= svg.bottom + 1];
    }).filter(([, inside]) => !inside).map(([text]) => text);
    const lastColumn = [...e.querySelectorAll('.xtick text')].pop().getBoundingClientRect();
    return {chart: [chart.left, chart.right], cut: out, lastColumn: [lastColumn.left, lastColumn.right]};
})"""


def test_a_phone_shows_the_whole_confusion_matrix(server: str, browser: Browser) -> None:
    for lang in ("es", "en"):
        page = _open(browser, server + f"/predictions?lang={lang}", 390, 844, is_mobile=True, has_touch=True)
        try:
            title = "Una red convolucional de verdad: CIFAR-10" if lang == "es" else "A real convolutional network: CIFAR-10"
            expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=90_000)
            chart = page.locator(".stPlotlyChart").filter(has_text="onfusi")
            expect(chart).to_have_count(1, timeout=90_000)
            wait_idle(page)
            chart.scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            [found] = page.evaluate(_CONFUSION_FITS)
            assert found["chart"][0] >= 0 and found["chart"][1] <= 391, found  # on the screen
            assert not found["cut"], found  # title, class names (the last column's too) and axis titles inside the chart
            assert found["lastColumn"][1] <= 391, found
            shot(page, f"phone_390_confusion_{lang}")
        finally:
            page.context.close()


@pytest.mark.parametrize(("path", "width", "height", "presenter"), [
    ("/conv_layer", 390, 844, False), ("/softmax_loss", 390, 844, False), ("/parameters", 390, 844, False),
    ("/", 1280, 720, True), ("/denoising", 1280, 720, True), ("/network_training", 1280, 720, True),
    ("/softmax_loss", 1280, 720, True), ("/conv_layer", 1280, 720, True),
])
def test_no_chart_title_runs_off_its_chart(server: str, browser: Browser, path: str, width: int, height: int,
                                           presenter: bool) -> None:
    """Titles found cut on a phone and on a projector: ui.plot wraps every long title."""
    page = _open(browser, server + f"{path}?lang=es" + ("&presenter=1" if presenter else ""), width, height,
                 **({} if presenter else {"is_mobile": True, "has_touch": True}))
    try:
        expect(page.locator(".stPlotlyChart .gtitle").first).to_be_attached(timeout=90_000)
        wait_idle(page)
        page.wait_for_timeout(1500)  # charts further down draw a moment later
        assert not page.evaluate(_TITLES_CUT), page.evaluate(_TITLES_CUT)
    finally:
        page.context.close()
