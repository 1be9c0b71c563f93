"""Self-check quiz: generated questions on the lecture's topics, checked at once with the worked computation."""

from __future__ import annotations

import secrets

import streamlit as st

from cnn_core.quiz import IMPOSSIBLE, QUIZ_LENGTH, Question, answer_text, check_answer, make_quiz, shown_params, understood
from ui import Setting, labels, set_link_value, share_in_url, t
from ui.common import current_language

MAX_SEED = 999_999_999
MAX_QUESTIONS = 30
# The lecture's formula behind each kind of question, shown with the worked computation.
FORMULAS = {
    "conv_size": r"o = \frac{m - k + 2p}{s} + 1 \quad\longrightarrow\quad "
                 r"o = \left\lfloor \frac{m - k + 2p}{s} \right\rfloor + 1",
    "fc_params": r"\#\text{params} = H \cdot W \cdot C \cdot N + N",
    "conv_params": r"\#\text{params} = k \cdot k \cdot C \cdot n + n",
    "pool_shape": r"o = \left\lfloor \frac{m - k}{s} \right\rfloor + 1, \qquad "
                  r"m \times m \times C \;\rightarrow\; o \times o \times C",
    "activation": r"\operatorname{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}, \qquad \sigma(z) = \frac{1}{1 + e^{-z}}",
    "chain_rule": r"\frac{\partial L}{\partial w} = "
                  r"\frac{\partial L}{\partial a}\,\frac{\partial a}{\partial z}\,\frac{\partial z}{\partial w}"
                  r" = 2(a - y)\cdot\sigma(z)\,(1 - \sigma(z))\cdot a^{(l-1)}",
}
NEURON = r"z = w\,a^{(l-1)} + b, \qquad a = \sigma(z) = \frac{1}{1 + e^{-z}}, \qquad L = (a - y)^2"


def _new_seed() -> int:
    return secrets.randbelow(MAX_SEED) + 1


def _start_new_quiz() -> None:
    """Button callback: another seed, written into the URL so that the link stays shareable."""
    st.session_state.quiz_seed = _new_seed()
    st.query_params["seed"] = str(st.session_state.quiz_seed)


def _seed() -> int:
    """The quiz's seed: from ?seed=, else this session's, else a new one; always written back into the URL."""
    raw = (st.query_params.get("seed") or "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_SEED)):
        seed = int(raw)
    elif raw:
        st.warning(t("quiz.bad_seed", value=raw[:40], maximum=MAX_SEED), icon="⚠️")
        seed = _new_seed()
    else:  # no seed in the URL (e.g. back from another page): keep this session's quiz
        seed = st.session_state.get("quiz_seed")
        seed = _new_seed() if seed is None else seed
    st.session_state.quiz_seed = seed
    set_link_value("seed", str(seed))
    return seed


def _shown(params: dict[str, object], lang: str) -> dict[str, object]:
    """The numbers as each language writes them: 15.360.000 and 0,25 in Spanish, 15,360,000 and 0.25 in English."""
    return shown_params(params, lang)


def _answer_text(question: Question, lang: str) -> str:
    """The right answer, written for the student."""
    answer = question.answer
    if answer == IMPOSSIBLE:
        return f"**{t('quiz.impossible')}**"
    if question.form == "shape":
        return "**" + "×".join(map(str, answer)) + "**"
    if question.form == "decimal":
        return f"**{answer_text(question, lang)}**"
    if question.form in ("single", "multi"):
        name = labels("quiz.choice.")
        ids = [answer] if isinstance(answer, str) else [c for c in question.choices if c in answer]
        return ", ".join(f"**{name(i)}**" for i in ids)
    return f"**{answer_text(question, lang)}**"


def _check(seed: int, index: int, question: Question) -> None:
    """Form callback: read the answer, keep the first try for the score, remember what to show."""
    given = st.session_state.get(f"quiz_answer_{seed}_{index}")
    feedback = st.session_state.setdefault("quiz_feedback", {})
    if not understood(question, given):
        feedback[(seed, index)] = ("unreadable", given)
        return
    correct = check_answer(question, given)
    first = st.session_state.setdefault("quiz_first_try", {})
    wrong_before = first.get((seed, index)) is False
    first.setdefault((seed, index), correct)
    result = "wrong" if not correct else "right_again" if wrong_before else "right"
    feedback[(seed, index)] = (result, given)


def _answer_widget(question: Question, key: str) -> None:
    if question.form == "single":
        st.radio(t("quiz.choose_one"), question.choices, index=None, format_func=labels("quiz.choice."), key=key)
    elif question.form == "multi":
        st.multiselect(t("quiz.choose_many"), question.choices, format_func=labels("quiz.choice."), key=key,
                       placeholder=t("quiz.choose_many"))
    else:
        st.text_input(t("quiz.your_answer"), key=key, placeholder=t(f"quiz.hint_{question.form}"))


def _feedback(question: Question, seed: int, index: int, lang: str) -> None:
    result, given = st.session_state.get("quiz_feedback", {}).get((seed, index), (None, None))
    if result is None:
        return
    if result == "unreadable":
        typed = isinstance(given, str) and given.strip()
        key = f"quiz.unreadable_{question.form}" if typed or question.form in ("single", "multi") else "quiz.empty"
        st.warning(t(key, given=str(given).strip()[:60]), icon="✏️")
        return
    if result == "wrong":
        st.error(t("quiz.wrong", answer=_answer_text(question, lang)), icon="❌")
    else:
        st.success(t(f"quiz.{result}"), icon="✅")
    st.markdown(f"**{t('quiz.how')}**")
    if question.kind in FORMULAS:
        st.latex(FORMULAS[question.kind])
    st.markdown(t(question.explanation, **_shown(question.explanation_params, lang)))


def _question(question: Question, seed: int, index: int, lang: str) -> None:
    with st.container(border=True):
        st.markdown(f"**{t('quiz.question', number=index + 1)}**")
        if question.kind == "chain_rule":
            st.markdown(t("quiz.q_chain_intro", **_shown(question.params, lang)))
            st.latex(NEURON)
        st.markdown(t(question.prompt, **_shown(question.params, lang)))
        with st.form(f"quiz_form_{seed}_{index}", border=False):
            _answer_widget(question, f"quiz_answer_{seed}_{index}")
            st.form_submit_button(t("quiz.check"), on_click=_check, args=(seed, index, question),
                                  key=f"quiz_check_{seed}_{index}")
        _feedback(question, seed, index, lang)


share_in_url("quiz", {"quiz_count": Setting(int, low=1, high=MAX_QUESTIONS)})
st.title(t("quiz.title"))
st.markdown(t("quiz.intro"))
lang = current_language()
seed = _seed()

left, middle, right = st.columns([1, 1, 2], vertical_alignment="bottom")
count = int(left.number_input(t("quiz.count"), 1, MAX_QUESTIONS, QUIZ_LENGTH, key="quiz_count"))
middle.button(t("quiz.new"), icon="🎲", on_click=_start_new_quiz, key="quiz_new")
with right:
    st.caption(t("quiz.share"))
    st.code(f"{st.context.url or ''}?seed={seed}&lang={lang}", language=None)

quiz = make_quiz(seed, count)
first_try = st.session_state.get("quiz_first_try", {})
answered = [first_try[(seed, i)] for i in range(count) if (seed, i) in first_try]
st.markdown(t("quiz.score", right=sum(answered), total=count, answered=len(answered)))
st.progress(sum(answered) / count)

for index, question in enumerate(quiz):
    _question(question, seed, index, lang)
