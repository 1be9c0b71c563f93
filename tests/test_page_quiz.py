"""The self-check quiz page in AppTest: both languages, shareable seeds, scoring, and answers it cannot read."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cnn_core.i18n import catalogue
from cnn_core.quiz import IMPOSSIBLE, Question, make_quiz
from tests.conftest import ROOT

PAGE = "pages/quiz.py"


def open_quiz(lang: str = "en", seed: str | None = "42") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["lang"] = lang
    if seed is not None:
        at.query_params["seed"] = seed
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    return "\n".join(e.value for kind in (at.markdown, at.success, at.error, at.warning) for e in kind)


def right_text(q: Question) -> str:
    """The right answer as a student would type it."""
    if q.answer == IMPOSSIBLE:
        return "imposible"
    if q.form == "decimal":
        return f"{q.answer:.3f}".replace(".", ",")
    if q.form == "shape":
        return "x".join(map(str, q.answer))
    return str(q.answer)


def first_typed(seed: int) -> tuple[int, Question]:
    return next((i, q) for i, q in enumerate(make_quiz(seed)) if q.form in ("size", "integer", "decimal", "shape"))


def check(at: AppTest, seed: int, index: int, answer: object, widget: str = "text_input") -> AppTest:
    getattr(at, widget)(key=f"quiz_answer_{seed}_{index}").set_value(answer)
    at.button(key=f"quiz_check_{seed}_{index}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("lang", ["es", "en"])
def test_page_runs_in_both_languages_with_ten_questions(lang: str) -> None:
    at = open_quiz(lang)
    words = catalogue(lang)
    assert at.title[0].value == words["quiz.title"]
    checks = [b for b in at.button if b.key.startswith("quiz_check_42_")]
    assert len(checks) == 10 and all(b.label == words["quiz.check"] for b in checks)
    assert words["quiz.score"].format(right=0, total=10, answered=0) in texts(at)
    first = make_quiz(42)[0]
    assert words[first.prompt].split("{")[0] in texts(at)
    assert at.code[0].value.endswith(f"?seed=42&lang={lang}")
    assert not at.error and not at.warning


def test_same_seed_same_first_question_in_two_fresh_sessions() -> None:
    def first_question(at: AppTest) -> list[str]:
        values = [m.value for m in at.markdown]
        start = values.index("**Question 1**")
        return values[start + 1 : values.index("**Question 2**")]

    first, second, other = (first_question(open_quiz("en", seed)) for seed in ("1234", "1234", "999"))
    assert first and first == second and first != other


def test_missing_seed_is_picked_and_written_into_the_url() -> None:
    at = open_quiz("es", seed=None)
    seed = at.query_params["seed"]
    assert seed.isdigit()
    assert at.code[0].value.endswith(f"?seed={seed}&lang=es")
    at.run()
    assert at.query_params["seed"] == seed  # stays for the session


@pytest.mark.parametrize("bad", ["abc", "-3", "1e5", "9" * 5000])
def test_bad_seed_gets_a_message_and_a_fresh_quiz(bad: str) -> None:
    at = open_quiz("es", seed=bad)
    assert at.warning and bad[:40] in at.warning[0].value and "semilla" in at.warning[0].value
    assert at.query_params["seed"].isdigit() and at.query_params["seed"] != bad


def test_new_quiz_button_changes_seed_and_questions() -> None:
    at = open_quiz("en", "42")
    at.button(key="quiz_new").click().run()
    assert not at.exception
    seed = at.query_params["seed"]
    assert seed != "42" and any(b.key.startswith(f"quiz_check_{seed}_") for b in at.button)
    assert at.code[0].value.endswith(f"?seed={seed}&lang=en")


@pytest.mark.parametrize("lang", ["es", "en"])
def test_right_answer_scores_and_shows_the_worked_computation(lang: str) -> None:
    index, q = first_typed(42)
    at = check(open_quiz(lang), 42, index, right_text(q))
    words = catalogue(lang)
    assert [s.value for s in at.success] == [words["quiz.right"]]
    assert words["quiz.score"].format(right=1, total=10, answered=1) in texts(at)
    assert words["quiz.how"] in texts(at) and at.latex


def test_wrong_answer_does_not_score_and_a_later_right_one_does_not_count() -> None:
    index, q = first_typed(42)
    wrong = "7×7×7" if q.form == "shape" else "123456"
    at = check(open_quiz("en"), 42, index, wrong)
    assert at.error and at.error[0].value.startswith("Not correct.")
    assert "Score: **0 / 10** correct at the first try · 1 of 10 answered." in texts(at)
    check(at, 42, index, right_text(q))
    assert at.success[0].value == catalogue("en")["quiz.right_again"]
    assert "Score: **0 / 10**" in texts(at)


@pytest.mark.parametrize("garbage", ["abc", "", "1,2,3,4 píxeles"])
def test_garbage_gets_a_friendly_message_and_no_score(garbage: str) -> None:
    index, q = first_typed(42)
    at = check(open_quiz("es"), 42, index, garbage)
    expected = "Escribe tu respuesta" if not garbage else f"No entiendo «{garbage}»"
    assert at.warning and at.warning[0].value.startswith(expected) and not at.error
    assert "**0 / 10** correctas al primer intento · 0 de 10 respondidas" in texts(at)
    check(at, 42, index, right_text(q))  # the page keeps working
    assert at.success and "**1 / 10**" in texts(at)


def test_multiple_choice_questions() -> None:
    quiz = make_quiz(42)
    at = open_quiz("en")
    for index, q in enumerate(quiz):
        if q.form == "single":
            check(at, 42, index, q.answer, "radio")
        elif q.form == "multi":
            check(at, 42, index, [], "multiselect")  # nothing ticked
            assert any(w.value == catalogue("en")["quiz.unreadable_multi"] for w in at.warning)
            check(at, 42, index, sorted(q.answer), "multiselect")
    choice_questions = sum(q.form in ("single", "multi") for q in quiz)
    assert choice_questions >= 2 and len(at.success) == choice_questions
    assert f"Score: **{choice_questions} / 10**" in texts(at)


def test_number_of_questions() -> None:
    at = open_quiz("en")
    at.number_input(key="quiz_count").set_value(3).run()
    assert not at.exception
    assert len([b for b in at.button if b.key.startswith("quiz_check_")]) == 3
    assert "Score: **0 / 3**" in texts(at)
