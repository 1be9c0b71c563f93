"""The quiz generator against independent oracles (torch shapes, torch modules, autograd), and the answer checker."""

from __future__ import annotations

import string
from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnn_core.i18n import LANGUAGES, catalogue, translate
from cnn_core.quiz import IMPOSSIBLE, KINDS, Question, check_answer, make_quiz, understood

SEEDS = range(150)
ALL = [q for seed in SEEDS for q in make_quiz(seed)]
SPEC_AUGMENT = {"time_warp", "time_mask", "freq_mask"}  # Park et al. 2019, as in the lecture


def of_kind(kind: str) -> list[Question]:
    found = [q for q in ALL if q.kind == kind]
    assert len(found) >= 50, kind
    return found


# --- the same quiz for the same seed ---------------------------------------------------------------------------------

def test_same_seed_same_quiz_different_seeds_differ() -> None:
    assert make_quiz(42) == make_quiz(42)
    assert make_quiz(7, 13) == make_quiz(7, 13)
    quizzes = {repr(make_quiz(seed)) for seed in range(60)}
    assert len(quizzes) == 60
    assert make_quiz(1)[0] != make_quiz(2)[0] or make_quiz(1)[1] != make_quiz(2)[1]


def test_count_and_a_longer_quiz_extends_a_shorter_one() -> None:
    assert len(make_quiz(3)) == 10 and len(make_quiz(3, 1)) == 1 and len(make_quiz(3, 27)) == 27
    assert make_quiz(3, 27)[:10] == make_quiz(3, 10)
    assert make_quiz(3, 0) == []


def test_every_quiz_mixes_every_topic_with_the_floor_and_the_impossible_case() -> None:
    for seed in SEEDS:
        quiz = make_quiz(seed)
        assert {q.kind for q in quiz} == set(KINDS), seed
        variants = {(q.kind, q.variant) for q in quiz}
        assert ("conv_size", "floor") in variants and ("conv_size", "impossible") in variants, seed
        assert max(Counter(q.kind for q in quiz).values()) <= 4


# --- every answer against an oracle ----------------------------------------------------------------------------------

def test_output_sizes_match_torch_conv2d() -> None:
    kinds = Counter()
    for q in of_kind("conv_size"):
        m, k, p, s = (q.params[name] for name in "mkps")
        x, w = torch.zeros(1, 1, m, m), torch.zeros(1, 1, k, k)
        if q.answer == IMPOSSIBLE:
            with pytest.raises(RuntimeError):
                F.conv2d(x, w, stride=s, padding=p)
            assert k > m + 2 * p
        else:
            out = F.conv2d(x, w, stride=s, padding=p).shape
            assert out == (1, 1, q.answer, q.answer), q
            assert (q.variant == "floor") == ((m - k + 2 * p) % s != 0), q
            assert q.explanation_params["quotient"] + 1 == q.answer
        kinds[q.variant] += 1
    assert kinds["floor"] >= 150 and kinds["impossible"] >= 150 and kinds["exact"] >= 5


def test_fully_connected_parameter_counts_match_torch_linear() -> None:
    for q in of_kind("fc_params"):
        w, h, c, n = (q.params[name] for name in "whcn")
        layer = torch.nn.Linear(w * h * c, n, bias=q.variant == "bias", device="meta")  # shapes only, no memory
        expected = layer.weight.shape[1] if q.variant == "per_neuron" else sum(p.numel() for p in layer.parameters())
        assert q.answer == expected, q


def test_lecture_fully_connected_examples() -> None:
    per_neuron = {(q.params["w"], q.params["h"], q.params["c"]): q.answer for q in of_kind("fc_params")
                  if q.variant == "per_neuron"}
    assert per_neuron[(32, 32, 3)] == 3_072 and per_neuron[(200, 200, 3)] == 120_000


def test_convolution_parameter_counts_match_torch_conv2d() -> None:
    variants = set()
    for q in of_kind("conv_params"):
        layer = torch.nn.Conv2d(q.params["c"], q.params["n"], q.params["k"], bias=q.variant == "bias", device="meta")
        assert q.answer == sum(p.numel() for p in layer.parameters()), q
        variants.add(q.variant)
    assert variants == {"bias", "no_bias"}


def test_pooling_shapes_match_torch_max_pool2d() -> None:
    variants = set()
    for q in of_kind("pool_shape"):
        m, c = q.params["m"], q.params["c"]
        out = F.max_pool2d(torch.zeros(1, c, m, m), kernel_size=q.params["k"], stride=q.params["s"]).shape
        assert q.answer == (out[2], out[3], out[1]), q
        variants.add(q.variant)
    assert variants == {"exact", "floor"}
    lecture = next(q for q in of_kind("pool_shape") if (q.params["m"], q.params["k"], q.params["s"]) == (32, 2, 2))
    assert lecture.answer == (16, 16, lecture.params["c"])  # 32×32×12 → 16×16×12 in the lecture: channels stay


def test_activation_answer_is_the_one_that_gives_class_probabilities() -> None:
    functions = {"softmax": lambda z: torch.softmax(z, -1), "sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh}
    logits = torch.tensor([[2.0, -1.0, 0.5, -3.0, 1.0] * 200])
    for q in of_kind("activation"):
        assert set(q.choices) == set(functions) and q.form == "single"
        if q.variant == "multiclass":
            z = logits[:, : q.params["classes"]]
            # a probability per class: every output in [0, 1] and they add up to 1
            valid = [name for name, f in functions.items()
                     if bool(((f(z) >= 0) & (f(z) <= 1)).all()) and torch.isclose(f(z).sum(), torch.tensor(1.0))]
        else:
            z = torch.tensor([[-1.0], [0.3], [2.0]])  # one output neuron: its value must be a probability that varies
            valid = [name for name, f in functions.items()
                     if bool(((f(z) > 0) & (f(z) < 1)).all()) and f(z).unique().numel() == 3]
        assert valid == [q.answer], (q, valid)


def test_sound_augmentation_answers() -> None:
    variants = set()
    for q in of_kind("sound_aug"):
        assert len(set(q.choices)) == len(q.choices)
        if q.variant == "all":
            assert q.form == "multi" and q.answer == SPEC_AUGMENT & set(q.choices) and q.answer
        else:
            assert q.form == "single" and set(q.choices) - {q.answer} == SPEC_AUGMENT and q.answer not in SPEC_AUGMENT
        variants.add(q.variant)
    assert variants == {"all", "not"}
    not_rotation = next(q for q in of_kind("sound_aug") if q.variant == "not" and q.answer == "rotation")
    assert check_answer(not_rotation, "rotation") and not check_answer(not_rotation, "time_mask")


def test_chain_rule_numbers_match_autograd() -> None:
    variants = set()
    for q in of_kind("chain_rule"):
        a_prev = torch.tensor(q.params["a_prev"], dtype=torch.float64)
        w = torch.tensor(q.params["w"], dtype=torch.float64, requires_grad=True)
        z = w * a_prev + q.params["b"]
        a = torch.sigmoid(z)
        loss = (a - q.params["y"]) ** 2
        grads = {name: float(torch.autograd.grad(top, bottom, retain_graph=True)[0])
                 for name, top, bottom in (("dl_da", loss, a), ("da_dz", a, z), ("dz_dw", z, w), ("dl_dw", loss, w))}
        expected = grads[q.variant]
        assert q.answer == pytest.approx(float(expected), abs=1e-12), q
        assert abs(q.answer) >= 0.02 and q.tolerance < abs(q.answer)  # 0 never passes
        assert check_answer(q, f"{q.answer:.3f}") and check_answer(q, f"{q.answer:.3f}".replace(".", ","))
        assert not check_answer(q, f"{q.answer + 3 * q.tolerance:.4f}")
        work = q.explanation_params
        assert all(work[name] == pytest.approx(value, abs=1e-4) for name, value in grads.items())
        assert work["a"] == pytest.approx(float(a.detach()), abs=1e-4)
        variants.add(q.variant)
    assert variants == {"dl_da", "da_dz", "dz_dw", "dl_dw"}


# --- the worked explanation and the prompt in both languages ---------------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_prompt_and_explanation_renders_with_its_numbers(lang: str) -> None:
    keys = catalogue(lang)
    for q in ALL:
        prompt = translate(q.prompt, lang, **q.params)
        explanation = translate(q.explanation, lang, **q.explanation_params)
        for name in string.Formatter().parse(keys[q.prompt]):
            assert name[1] is None or name[1] in q.params
        assert all(f"quiz.choice.{c}" in keys for c in q.choices)
        if q.kind in ("conv_params", "fc_params"):
            assert str(q.answer) in explanation
        if q.kind == "conv_size" and q.answer != IMPOSSIBLE:
            assert f"{q.params['m']} − {q.params['k']} + 2·{q.params['p']}" in explanation
            assert explanation.count(str(q.answer)) >= 1
        if q.kind == "pool_shape":
            assert "×".join(map(str, q.answer)) in explanation
        assert "{" not in prompt and "{" not in explanation


def test_floor_explanation_shows_the_worked_computation() -> None:
    q = Question("conv_size", "floor", "quiz.q_conv_size", {"m": 32, "k": 5, "p": 1, "s": 2}, "size", 15,
                 "quiz.exp_size_floor", {"m": 32, "k": 5, "p": 1, "s": 2, "numerator": 29, "padded": 34, "quotient": 14,
                                         "ratio": 14.5, "answer": 15})
    generated = next(g for g in of_kind("conv_size") if g.variant == "floor")
    assert set(generated.explanation_params) == set(q.explanation_params)
    text = translate(q.explanation, "en", **q.explanation_params)
    assert text.startswith("(32 − 5 + 2·1)/2 + 1 = 29/2 + 1 → ⌊14.5⌋ + 1 = 14 + 1 = **15**")


# --- check_answer ----------------------------------------------------------------------------------------------------

def _size(answer: int | str) -> Question:
    return Question("conv_size", "x", "quiz.q_conv_size", {}, "size", answer, "quiz.exp_size_floor")


def _integer(answer: int) -> Question:
    return Question("fc_params", "x", "quiz.q_fc_bias", {}, "integer", answer, "quiz.exp_fc_bias")


def _decimal(answer: float, tolerance: float = 0.0015) -> Question:
    return Question("chain_rule", "x", "quiz.q_chain_dl_dw", {}, "decimal", answer, "quiz.exp_chain", tolerance=tolerance)


@pytest.mark.parametrize("answer", [15, 15.0, "15", " 15 ", "15.0", "15,0", "+15", "15.", 15.0000])
def test_size_accepts_the_right_number_in_any_reasonable_form(answer: object) -> None:
    assert check_answer(_size(15), answer)


@pytest.mark.parametrize("answer", [14, 16, "14", "15.5", "15,5", "imposible", "1 5", "-15", 14.999])
def test_size_rejects_wrong_numbers(answer: object) -> None:
    assert not check_answer(_size(15), answer)


@pytest.mark.parametrize("answer", ["impossible", "imposible", "Imposible", "IMPOSSIBLE", " imposible. ", "¡Imposible!"])
def test_impossible_in_both_languages(answer: str) -> None:
    assert check_answer(_size(IMPOSSIBLE), answer)
    assert understood(_size(15), answer) and not check_answer(_size(15), answer)


@pytest.mark.parametrize("answer", ["0", 0, "-1", "posible", "impossibl", "no cabe"])
def test_impossible_rejects_numbers_and_other_words(answer: object) -> None:
    assert not check_answer(_size(IMPOSSIBLE), answer)


@pytest.mark.parametrize("answer", ["3072", "3,072", "3.072", "3 072", "3\u202f072", 3072, 3072.0])
def test_integer_answers_with_digit_grouping(answer: object) -> None:
    assert check_answer(_integer(3072), answer)


def test_large_integer_grouping() -> None:
    q = _integer(120_001_000)
    assert all(check_answer(q, a) for a in ("120001000", "120,001,000", "120.001.000", "120 001 000"))
    assert not check_answer(q, "120,001") and not check_answer(q, "120001001") and not check_answer(q, "12,0001,000")


@pytest.mark.parametrize("answer", ["0.25", "0,25", ".25", ",25", 0.25, "0.2505", "1/4", "2.5e-1", " 0,251 "])
def test_decimal_within_tolerance(answer: object) -> None:
    assert check_answer(_decimal(0.25), answer)


@pytest.mark.parametrize("answer", ["0.24", "0,2", "-0.25", "0.3", "1/3", 0.26, "25"])
def test_decimal_outside_tolerance(answer: object) -> None:
    assert not check_answer(_decimal(0.25), answer)


def test_negative_decimals_with_any_minus_sign() -> None:
    q = _decimal(-1.2683)
    assert all(check_answer(q, a) for a in ("-1.268", "−1,268", "–1.268", -1.268))
    assert not check_answer(q, "1.268")


def test_shapes() -> None:
    q = Question("pool_shape", "exact", "quiz.q_pool", {}, "shape", (16, 16, 12), "quiz.exp_pool_exact")
    goods = ("16×16×12", "16x16x12", "16 x 16 x 12", "(16, 16, 12)", "16,16,12", "16 16 12", "[16;16;12]",
             (16, 16, 12), [16, 16, 12])
    for good in goods:
        assert check_answer(q, good), good
    for wrong in ("16×16", "16×16×3", "12×16×16", "32×32×12", "8×8×12"):
        assert understood(q, wrong) and not check_answer(q, wrong), wrong
    for garbage in ("16", "16×16×", "a×b×c", "16.5×16×12", (16.5, 16, 12), (True, 16, 12), "", "×"):
        assert not understood(q, garbage) and not check_answer(q, garbage), garbage


def test_choices() -> None:
    single = Question("activation", "multiclass", "quiz.q_activation_multiclass", {}, "single", "softmax",
                      "quiz.exp_activation_multiclass", choices=("sigmoid", "softmax", "relu", "tanh"))
    assert check_answer(single, "softmax") and check_answer(single, ["softmax"]) and check_answer(single, "Softmax")
    assert not check_answer(single, "sigmoid") and not check_answer(single, ["softmax", "relu"])
    assert not understood(single, None) and not understood(single, [])
    multi = Question("sound_aug", "all", "quiz.q_sound_all", {}, "multi", frozenset({"time_mask", "freq_mask"}), "quiz.exp_sound",
                     choices=("rotation", "time_mask", "freq_mask", "shear", "color_jitter"))
    assert check_answer(multi, ["freq_mask", "time_mask"]) and check_answer(multi, "time_mask, freq_mask")
    assert not check_answer(multi, ["time_mask"]) and not check_answer(multi, ["time_mask", "freq_mask", "rotation"])


GARBAGE = [None, "", "   ", "abc", "15 píxeles", "1e400", "nan", "inf", "--5", "5..", "1/0", object(), {}, [], [[1]],
           True, False, float("nan"), float("inf"), 10**400, "9" * 5000, b"15", {"15"}, "15 16", ("softmax", 3)]


@pytest.mark.parametrize("answer", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_is_false_never_an_exception(answer: object) -> None:
    for q in make_quiz(5):
        assert check_answer(q, answer) is False
        assert understood(q, answer) in (True, False)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.lists(st.text(max_size=5), max_size=3), st.none()))
def test_checker_never_raises(answer: object) -> None:
    for q in make_quiz(11):
        assert check_answer(q, answer) in (True, False)


def test_every_generated_answer_passes_its_own_checker_in_text_form() -> None:
    for q in ALL:
        if q.form in ("size", "integer"):
            text = q.answer if q.answer == IMPOSSIBLE else str(q.answer)
        elif q.form == "decimal":
            text = f"{q.answer:.3f}"
        elif q.form == "shape":
            text = "×".join(map(str, q.answer))
        else:
            text = [q.answer] if isinstance(q.answer, str) else sorted(q.answer)
        assert understood(q, text) and check_answer(q, text), q
