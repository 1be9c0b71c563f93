"""What a new user tripped over (issue 12), in Chromium: a clicked pixel in the copied link, an unknown page, and
formulas and the inspector on a projector (1280×720, presenter view) and on a phone (390 px)."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.conftest import feature_map, shot, wait_idle


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
        boxes = page.evaluate("""() => [...document.querySelectorAll('.stPlotlyChart')].slice(2, 5)
            .map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })""")
        assert len(boxes) == 3 and all(left >= 0 and left + w <= 391 for left, _, w, _ in boxes), boxes
        assert all(boxes[i][1] + boxes[i][3] <= boxes[i + 1][1] + 1 for i in range(2)), boxes  # stacked, none overlapping
        shot(page, "phone_390_playground")
    finally:
        page.context.close()
