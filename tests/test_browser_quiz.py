"""The quiz in a real browser: a shared link with a seed, the first question answered right, and the tick."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from cnn_core.quiz import make_quiz
from tests.conftest import open_page, shot, wait_idle


def test_answer_the_first_question_of_a_shared_quiz(server: str, page: Page) -> None:
    question = make_quiz(42)[0]
    assert question.form == "decimal"  # seed 42 opens with a chain-rule number: typed, with a Spanish decimal comma
    open_page(page, server + "/quiz?seed=42&lang=es", "Autoevaluación")  # a shared link straight to the quiz
    expect(page.get_by_text("Puntuación: 0 / 10 correctas al primer intento")).to_be_visible()
    expect(page.get_by_text("?seed=42&lang=es")).to_be_visible()
    form = page.get_by_test_id("stForm").first
    form.get_by_role("textbox").fill(f"{question.answer:.3f}".replace(".", ","))
    form.get_by_role("button", name="Comprobar").click()
    wait_idle(page)
    success = page.get_by_test_id("stAlert").filter(has_text="¡Correcto!")
    expect(success).to_be_visible(timeout=30_000)
    expect(success.get_by_test_id("stAlertDynamicIcon")).to_have_text("check_circle")  # a Material icon: no emoji font needed
    expect(page.get_by_text("Puntuación: 1 / 10 correctas al primer intento")).to_be_visible()
    expect(page.get_by_text("Cálculo paso a paso").first).to_be_visible()
    expect(page.locator(".stException")).to_have_count(0)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    assert "seed=42" in page.url and "lang=es" in page.url
    shot(page, "quiz_es")
