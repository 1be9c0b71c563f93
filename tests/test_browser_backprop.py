"""The chain-rule page in a real browser: the factors, autograd's agreement, and steps of gradient descent."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import open_page, shot, wait_idle


def metric(page: Page, label: str):
    return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")


def test_backprop_page_in_the_browser(server: str, page: Page) -> None:
    open_page(page, server + "/backprop?lang=en", "Backpropagation by the chain rule")
    expect(page.get_by_text("They agree", exact=False)).to_be_visible(timeout=30_000)
    expect(metric(page, "Loss now")).to_have_text("0.534447", timeout=30_000)
    expect(page.locator(".katex").first).to_be_visible()  # the formulas are typeset, not raw LaTeX
    expect(page.locator(".stException")).to_have_count(0)
    shot(page, "backprop_en")

    page.get_by_role("button", name="One step of gradient descent").click()
    wait_idle(page)
    expect(page.get_by_role("spinbutton", name="w (weight)")).to_have_value("-0.0749", timeout=30_000)
    expect(metric(page, "Loss now")).to_have_text("0.153957", timeout=30_000)
    page.get_by_role("button", name="One step of gradient descent").click()
    wait_idle(page)
    expect(page.get_by_text("After 2 steps the loss went from 0.534447 to 0.0408699.")).to_be_visible(timeout=30_000)
    shot(page, "backprop_steps_en")

    page.get_by_role("button", name="Reset", exact=True).click()
    wait_idle(page)
    expect(page.get_by_role("spinbutton", name="w (weight)")).to_have_value("0.5000", timeout=30_000)


def test_bad_learning_rate_in_spanish(server: str, page: Page) -> None:
    open_page(page, server + "/backprop?lang=es", "Retropropagación con la regla de la cadena")
    eta = page.get_by_role("spinbutton", name="η (tasa de aprendizaje)")
    eta.fill("0")
    eta.press("Enter")
    wait_idle(page)
    expect(page.get_by_text("La tasa de aprendizaje η debe ser positiva", exact=False)).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Un paso de descenso del gradiente")).to_be_disabled()
    expect(page.locator(".stException")).to_have_count(0)
    shot(page, "backprop_es")
