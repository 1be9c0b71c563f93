"""A shared link in a real browser: what the teacher set up, a student's fresh session shows the same."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from cnn_core import conv_output_size, resize_to, sample_image
from tests.conftest import choose, open_page, shot, wait_idle


def _student(browser: Browser, url: str) -> Page:
    """Another person's browser (English locale, no cookies) opening `url`."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US").new_page()
    page.goto(url)
    return page


def test_the_playground_link_reproduces_the_teachers_view(server: str, page: Page, browser: Browser) -> None:
    open_page(page, server + "/?lang=es&pg_sample=coffee&pg_kernel=gaussian&pg_ksize=5", "Laboratorio de convolución")
    for label, value in (("Paso (stride) s", "2"), ("Relleno (padding) p", "1")):
        field = page.get_by_role("spinbutton", name=label, exact=True)
        field.fill(value)
        field.press("Enter")
        wait_idle(page)
    rows, cols = resize_to(sample_image("coffee"), 256).shape[:2]
    title = f"Mapa de características {conv_output_size(rows, 5, 2, 1)}×{conv_output_size(cols, 5, 2, 1)}"
    expect(page.get_by_text(title)).to_be_visible(timeout=30_000)
    link = page.url
    assert "pg_stride=2" in link and "pg_padding=1" in link and "pg_kernel=gaussian" in link

    student = _student(browser, link)
    try:
        expect(student.get_by_role("heading", name="Laboratorio de convolución")).to_be_visible(timeout=60_000)
        wait_idle(student)
        expect(student.get_by_role("combobox", name="Imagen de ejemplo")).to_have_value("Café (foto)")
        expect(student.get_by_role("combobox", name="Filtro", exact=True)).to_have_value("Gaussiano")
        expect(student.get_by_role("spinbutton", name="Paso (stride) s", exact=True)).to_have_value("2")
        expect(student.get_by_role("spinbutton", name="Relleno (padding) p", exact=True)).to_have_value("1")
        expect(student.get_by_text(title)).to_be_visible()
        expect(student.get_by_label("Fila de salida")).to_have_value(page.get_by_label("Fila de salida").input_value())
        expect(student.locator(".stException")).to_have_count(0)
        shot(student, "shared_link_student_es")
    finally:
        student.context.close()


def test_the_network_link_opens_the_same_layer(server: str, page: Page, browser: Browser) -> None:
    open_page(page, server + "/predictions?lang=en&pr_flip=1", "A real convolutional network: CIFAR-10")
    choose(page, "Layer", "block2.conv1 · 128×15×15")
    expect(page.get_by_text("block2.conv1: 128 feature maps")).to_be_visible(timeout=30_000)
    link = page.url
    assert "pr_layer=block2.conv1" in link and "pr_flip=1" in link

    student = _student(browser, link)
    try:
        expect(student.get_by_text("block2.conv1: 128 feature maps")).to_be_visible(timeout=60_000)
        expect(student.get_by_test_id("stMetricValue").first).to_have_text(page.get_by_test_id("stMetricValue").first.inner_text())
        expect(student.get_by_role("switch", name="Horizontal mirror")).to_be_checked()
        expect(student.locator(".stException")).to_have_count(0)
    finally:
        student.context.close()
