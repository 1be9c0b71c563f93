"""Self-check questions generated from the lecture's topics, and a forgiving answer checker."""

from __future__ import annotations

import math
import numbers
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .arithmetic import conv_output_size
from .errors import InputError
from .i18n import format_number

IMPOSSIBLE = "impossible"
IMPOSSIBLE_WORDS = frozenset({"impossible", "imposible"})
KINDS: tuple[str, ...] = ("conv_size", "fc_params", "conv_params", "pool_shape", "activation", "sound_aug", "chain_rule")
FORMS: tuple[str, ...] = ("size", "integer", "decimal", "shape", "single", "multi")
ACTIVATIONS: tuple[str, ...] = ("softmax", "sigmoid", "relu", "tanh")
SOUND_AUGMENTATIONS: tuple[str, ...] = ("time_warp", "time_mask", "freq_mask")  # the lecture's three (SpecAugment)
IMAGE_ONLY_AUGMENTATIONS: tuple[str, ...] = ("rotation", "vertical_flip", "color_jitter", "shear")
CHAIN_FACTORS: tuple[str, ...] = ("dl_da", "da_dz", "dz_dw", "dl_dw")
QUIZ_LENGTH = 10
# One block of ten: every topic, the floor and the impossible case guaranteed, two more drawn at random.
_BLOCK: tuple[str, ...] = ("size_floor", "size_impossible", "fc_params", "conv_params", "pool_shape", "activation",
                           "sound_aug", "chain_rule")
_EXTRA: tuple[str, ...] = ("size_exact", "size_floor", "fc_params", "conv_params", "pool_shape", "chain_rule", "sound_aug")


@dataclass(frozen=True)
class Question:
    """One quiz question: what to ask (key + numbers), the right answer, and the worked explanation (key + numbers)."""

    kind: str  # one of KINDS
    variant: str  # which flavour of the kind, e.g. "floor" or "impossible"
    prompt: str  # translation key of the question text
    params: dict[str, object]  # numbers that fill the prompt
    form: str  # one of FORMS: how the answer is given
    answer: int | float | str | tuple[int, ...] | frozenset[str]
    explanation: str  # translation key of the worked computation
    explanation_params: dict[str, object] = field(default_factory=dict)
    choices: tuple[str, ...] = ()  # choice ids for "single"/"multi"; the page translates them
    tolerance: float = 0.0  # accepted absolute error for "decimal"


def _size_question(rng: random.Random, variant: str) -> Question:
    """Output width of a convolution: exact, needing the floor, or impossible (kernel larger than the padded input)."""
    while True:
        if variant == "impossible":
            m, p = rng.randint(3, 9), rng.randint(0, 2)
            k, s = m + 2 * p + rng.randint(1, 2), rng.randint(1, 3)  # just too large: the trap is not obvious
        else:
            m = rng.choice((7, 9, 10, 12, 15, 16, 20, 24, 28, 31, 32, 33, 48, 64, 100, 128, 224, 227))
            k = rng.choice((1, 2, 3, 3, 4, 5, 5, 7, 11))
            p, s = rng.randint(0, min(3, k)), rng.randint(1, 4) if variant == "exact" else rng.randint(2, 4)
        numerator = m - k + 2 * p
        if variant == "impossible" or (numerator >= 0 and (numerator % s == 0) == (variant == "exact")):
            break
    params = {"m": m, "k": k, "p": p, "s": s}
    work = {**params, "numerator": numerator, "padded": m + 2 * p}
    try:
        answer: int | str = conv_output_size(m, k, s, p)
    except InputError:
        answer = IMPOSSIBLE
    else:
        work |= {"quotient": numerator // s, "ratio": round(numerator / s, 3), "answer": answer}
    return Question("conv_size", variant, "quiz.q_conv_size", params, "size", answer, f"quiz.exp_size_{variant}", work)


def _fc_question(rng: random.Random) -> Question:
    """Parameters of a fully connected layer on a W×H×C input: per neuron, or in total with or without biases."""
    w, h, c = rng.choice(((32, 32, 3), (200, 200, 3), (28, 28, 1), (64, 64, 3), (100, 100, 3), (96, 96, 3), (16, 16, 8)))
    n = rng.choice((10, 64, 100, 128, 256, 500, 1000))
    variant = rng.choice(("per_neuron", "bias", "no_bias"))
    inputs = w * h * c
    answer = inputs if variant == "per_neuron" else inputs * n + (n if variant == "bias" else 0)
    params = {"w": w, "h": h, "c": c, "n": n}
    work = {**params, "inputs": inputs, "weights": inputs * n, "answer": answer}
    return Question("fc_params", variant, f"quiz.q_fc_{variant}", params, "integer", answer, f"quiz.exp_fc_{variant}", work)


def _conv_params_question(rng: random.Random) -> Question:
    """Parameters of a convolutional layer: k·k·C·n weights plus n biases (or none)."""
    k = rng.choice((1, 3, 3, 5, 5, 7, 11))
    c = rng.choice((1, 3, 3, 16, 32, 64))
    n = rng.choice((6, 8, 16, 32, 64, 96, 128))
    m = rng.choice((28, 32, 64, 200, 224))  # the image size: it does not matter, which is the point
    variant = rng.choice(("bias", "no_bias"))
    weights = k * k * c * n
    answer = weights + (n if variant == "bias" else 0)
    params = {"k": k, "c": c, "n": n, "m": m}
    work = {**params, "per_filter": k * k * c, "weights": weights, "answer": answer}
    return Question("conv_params", variant, f"quiz.q_conv_params_{variant}", params, "integer", answer,
                    f"quiz.exp_conv_params_{variant}", work)


def _pool_question(rng: random.Random) -> Question:
    """Output shape H×W×C of a pooling layer: each channel pooled on its own, so C stays."""
    window, stride = rng.choice(((2, 2), (2, 2), (3, 3), (3, 2), (4, 4)))
    m = rng.choice((8, 12, 13, 16, 24, 27, 28, 32, 55, 56, 64, 100, 112, 224))
    c = rng.choice((3, 6, 12, 16, 32, 64, 96, 256))
    out = conv_output_size(m, window, stride, 0)
    numerator = m - window
    variant = "exact" if numerator % stride == 0 else "floor"
    params = {"m": m, "c": c, "k": window, "s": stride}  # k, as the pooling page calls the window
    work = {**params, "numerator": numerator, "quotient": numerator // stride, "ratio": round(numerator / stride, 3), "out": out}
    return Question("pool_shape", variant, "quiz.q_pool", params, "shape", (out, out, c), f"quiz.exp_pool_{variant}", work)


def _activation_question(rng: random.Random) -> Question:
    """The output activation of a classifier: softmax for several classes, sigmoid for a yes/no output."""
    variant = "binary" if rng.random() < 0.25 else "multiclass"
    classes = 2 if variant == "binary" else rng.choice((3, 5, 10, 100, 1000))
    choices = list(ACTIVATIONS)
    rng.shuffle(choices)
    answer = "sigmoid" if variant == "binary" else "softmax"
    params = {"classes": classes}
    return Question("activation", variant, f"quiz.q_activation_{variant}", params, "single", answer,
                    f"quiz.exp_activation_{variant}", dict(params), tuple(choices))


def _sound_question(rng: random.Random) -> Question:
    """Data augmentation for sound (spectrograms): mark every suitable technique, or spot the one that is not."""
    if rng.random() < 0.5:
        sound = rng.sample(SOUND_AUGMENTATIONS, rng.randint(1, 3))
        choices = sound + rng.sample(IMAGE_ONLY_AUGMENTATIONS, 5 - len(sound))
        variant, form, answer = "all", "multi", frozenset(sound)
    else:
        odd = rng.choice(IMAGE_ONLY_AUGMENTATIONS)
        choices = [*SOUND_AUGMENTATIONS, odd]
        variant, form, answer = "not", "single", odd
    rng.shuffle(choices)
    return Question("sound_aug", variant, f"quiz.q_sound_{variant}", {}, form, answer, "quiz.exp_sound", {},
                    tuple(choices))


def sigmoid(z: float) -> float:
    """σ(z) = 1 / (1 + e^(−z))."""
    return 1.0 / (1.0 + math.exp(-z))


def _chain_question(rng: random.Random) -> Question:
    """One sigmoid neuron with squared error: one factor of the chain rule, or their product dL/dw."""
    variant = rng.choice(CHAIN_FACTORS)
    while True:  # no factor so small that 0 would pass for it
        a_prev = rng.randint(1, 10) / 10
        w = rng.randint(-20, 20) / 10
        b = rng.randint(-10, 10) / 10
        y = rng.choice((0, 1, 0.5, 0.2, 0.8))
        z = w * a_prev + b
        a = sigmoid(z)
        factors = {"dl_da": 2 * (a - y), "da_dz": a * (1 - a), "dz_dw": a_prev}
        factors["dl_dw"] = factors["dl_da"] * factors["da_dz"] * factors["dz_dw"]
        if min(abs(value) for value in factors.values()) >= 0.02:
            break
    answer = factors[variant]
    params = {"a_prev": a_prev, "w": w, "b": b, "y": y}
    work = {**params, "b_term": b, "z": round(z, 4), "a": round(a, 4),
            **{name: round(value, 4) for name, value in factors.items()}}
    # Three decimals asked; leave room for a student who rounds σ(z) to three decimals along the way.
    tolerance = max(0.02 * abs(answer), 0.0015)
    return Question("chain_rule", variant, f"quiz.q_chain_{variant}", params, "decimal", answer, "quiz.exp_chain", work,
                    tolerance=tolerance)


def _make(rng: random.Random, slot: str) -> Question:
    if slot.startswith("size_"):
        return _size_question(rng, slot.removeprefix("size_"))
    makers = {"fc_params": _fc_question, "conv_params": _conv_params_question, "pool_shape": _pool_question,
              "activation": _activation_question, "sound_aug": _sound_question, "chain_rule": _chain_question}
    return makers[slot](rng)


def make_quiz(seed: int, count: int = QUIZ_LENGTH) -> list[Question]:
    """`count` questions mixing every topic, the same for the same seed (a longer quiz extends a shorter one)."""
    rng = random.Random(int(seed))
    questions: list[Question] = []
    while len(questions) < count:
        block = [*_BLOCK, *rng.sample(_EXTRA, QUIZ_LENGTH - len(_BLOCK))]
        rng.shuffle(block)
        questions += [_make(rng, slot) for slot in block]
    return questions[: max(int(count), 0)]


def shown_params(params: dict[str, object], lang: str) -> dict[str, object]:
    """A question's or a solution's numbers as `lang` writes them (es 15.360.000 · 0,25); "b_term" as "+ b" or "− |b|"."""
    out: dict[str, object] = {}
    for name, value in params.items():
        if name == "b_term" and isinstance(value, numbers.Real):
            value = ("+ " if value >= 0 else "− ") + format_number(abs(value), lang)
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            value = format_number(value, lang)
        out[name] = value
    return out


def answer_text(question: Question, lang: str) -> str | None:
    """A numeric answer as `lang` writes it (a decimal to the 3 places the question asks for); None when it is no number."""
    if question.form == "decimal":
        return format_number(float(question.answer), lang, decimals=3)
    if question.form in ("size", "integer") and question.answer != IMPOSSIBLE:
        return format_number(question.answer, lang)  # type: ignore[arg-type]
    return None


# --- reading a student's answer -----------------------------------------------------------------------------------

_MINUS = str.maketrans({"−": "-", "–": "-", "\u00a0": " ", "\u202f": " "})
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:([.,' ])\d{3})(?:\1\d{3})*")  # 3,072 · 120.000 · 1 000 000
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
_FRACTION = re.compile(r"([+-]?\d+(?:[.,]\d+)?)\s*/\s*([+-]?\d+(?:[.,]\d+)?)")
_SHAPE_SPLIT = re.compile(r"\s*[×xX*,;]\s*|\s+")


def _readings(answer: object) -> list[float]:
    """Every number the answer can mean: 3,072 is 3072 in English and 3.072 in Spanish; empty if it is no number."""
    if isinstance(answer, bool) or not isinstance(answer, (numbers.Real, str)):
        return []
    if isinstance(answer, numbers.Real):
        try:
            values = [float(answer)]
        except (OverflowError, ValueError):
            return []
    else:
        text = answer.translate(_MINUS).strip()
        if len(text) > 100:
            return []
        values = []
        if _GROUPED.fullmatch(text):
            values.append(float(re.sub(r"[.,' ]", "", text)))
        if _DECIMAL.fullmatch(text):
            values.append(float(text.replace(",", ".")))
        elif fraction := _FRACTION.fullmatch(text):
            top, bottom = (float(part.replace(",", ".")) for part in fraction.groups())
            if bottom != 0:
                values.append(top / bottom)
    return [v for v in values if math.isfinite(v)]


def _is_impossible_word(answer: object) -> bool:
    return isinstance(answer, str) and answer.strip().strip(".!¡").strip().lower() in IMPOSSIBLE_WORDS


def _shape(answer: object) -> tuple[int, ...] | None:
    """(16, 16, 12) from "16×16×12", "16x16x12", "(16, 16, 12)" or a sequence of whole numbers."""
    if isinstance(answer, str):
        text = answer.strip().strip("()[]").strip()
        if len(text) > 100 or not text:
            return None
        parts: list[object] = _SHAPE_SPLIT.split(text)
    elif isinstance(answer, (tuple, list)):
        parts = list(answer)
    else:
        return None
    sizes = []
    for part in parts:
        if isinstance(part, bool):
            return None
        if isinstance(part, str):
            if not part.isascii() or not part.isdigit():
                return None
            sizes.append(int(part))
        elif isinstance(part, numbers.Integral):
            sizes.append(int(part))
        else:
            return None
    return tuple(sizes)


def _choice_ids(answer: object) -> frozenset[str] | None:
    """The chosen ids: one id, a comma-separated text of ids, or a collection of ids."""
    if isinstance(answer, str):
        items: Iterable[object] = answer.split(",")
    elif isinstance(answer, (list, tuple, set, frozenset)):
        items = answer
    else:
        return None
    ids = set()
    for item in items:
        if not isinstance(item, str):
            return None
        if item.strip():
            ids.add(item.strip().lower())
    return frozenset(ids) or None


def understood(question: Question, answer: object) -> bool:
    """Whether the answer has the form the question asks for (a number, "impossible", a shape, a choice), right or wrong."""
    if question.form == "size" and _is_impossible_word(answer):
        return True
    if question.form in ("size", "integer", "decimal"):
        return bool(_readings(answer))
    if question.form == "shape":
        shape = _shape(answer)
        return shape is not None and len(shape) >= 2
    ids = _choice_ids(answer)
    return ids is not None and (question.form == "multi" or len(ids) == 1)


def check_answer(question: Question, answer: object) -> bool:
    """Whether the answer is right; accepts 15, "15", "15.0", "0,25", "imposible", "16×16×12", choice ids. Never raises."""
    if not understood(question, answer):
        return False
    if question.form in ("size", "integer"):
        if question.answer == IMPOSSIBLE or _is_impossible_word(answer):
            return question.answer == IMPOSSIBLE and _is_impossible_word(answer)
        return any(value == question.answer for value in _readings(answer))
    if question.form == "decimal":
        return any(abs(value - float(question.answer)) <= question.tolerance for value in _readings(answer))
    if question.form == "shape":
        return _shape(answer) == question.answer
    ids = _choice_ids(answer)
    expected = question.answer if isinstance(question.answer, frozenset) else frozenset({question.answer})
    return ids == expected
