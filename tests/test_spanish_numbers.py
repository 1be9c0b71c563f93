"""Every page in Spanish: no number a student reads is written the English way (3,072 or 0.5)."""

from __future__ import annotations

import json
import re
import sys

import pytest
from streamlit.testing.v1 import AppTest

import cnn_core.i18n
from cnn_core.i18n import catalogue
from tests.conftest import ROOT, open_app

PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))
# A comma before exactly three digits (3,072) or a decimal point between digits (0.5), outside longer digit runs.
ENGLISH_NUMBER = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?:,\d{3})+(?![\d,])"  # 3,072 · 120,000
                            r"|(?<![\d.,])(?:0\.\d+|\d+\.(?!\d{3}(?!\d))\d+)(?![\d.])")  # 0.5 · 12.25, not 3.072
# Texts that show an English number on purpose: the softmax editor says both 0.5 and 0,5 are accepted.
ON_PURPOSE = {catalogue("es")["sm.editor_help"]}
# What is not a number: addresses, file names, version strings and the like.
NOT_NUMBERS = re.compile(r"https?://\S+|\b[\w-]+\.(?:py|json|pt|png|jpe?g|wav)\b|\bv?\d+\.\d+\.\d+\b|arXiv[: ]\d+\.\d+")


def _figure_texts(spec: object) -> list[str]:
    """Titles, axis titles, tick texts, annotations and cell texts of a Plotly figure's JSON."""
    found: list[str] = []

    def walk(node: object, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key in ("text", "ticktext", "hovertext", "name", "title"):
            found.append(node)

    walk(spec)
    return found


def student_texts(at: AppTest) -> list[str]:
    """Every text the page shows a student: markdown, captions, alerts, metrics, LaTeX, tables and figure texts."""
    parts = [e.value for kind in ("markdown", "caption", "latex", "error", "warning", "success", "info", "title",
                                  "header", "subheader", "toast") for e in getattr(at, kind, [])]
    parts += [e.value for e in at.code if e.language != "python"]  # Python source is not text in Spanish
    for metric in at.metric:
        parts += [metric.label, str(metric.value), str(metric.proto.delta or "")]
    for frame in list(at.dataframe) + list(at.table):
        value = frame.value
        parts += [str(c) for c in value.columns] + [str(v) for v in value.astype(str).to_numpy().ravel()]
    for element in at.get("plotly_chart"):
        parts += _figure_texts(json.loads(element.proto.spec))
    return [p for p in parts if p and p not in ON_PURPOSE]


def english_numbers(texts: list[str]) -> list[tuple[str, str]]:
    """The English-formatted numbers in `texts`: (context, number)."""
    found = []
    for text in texts:
        cleaned = NOT_NUMBERS.sub(" ", text)
        found += [(cleaned[max(m.start() - 30, 0):m.end() + 30], m.group()) for m in ENGLISH_NUMBER.finditer(cleaned)]
    return found


def test_the_pattern_finds_english_numbers_only() -> None:
    assert [n for _, n in english_numbers(["3,072 pesos", "p = 0.5", "120,000", "0.125"])] == ["3,072", "0.5", "120,000", "0.125"]
    assert not english_numbers(["3.072", "0,5", "90,09 %", "1, 2, 3", "1,23", "(1,2)", "torch 2.14.1",
                                "https://arxiv.org/abs/2404.00498", "cifar10_net.pt", "1.234.567", "0,125", "12.345"])


_ORIGINAL = cnn_core.i18n.format_number
_WRITTEN: set[str] = set()


def _recording(*args, **kwargs) -> str:
    text = _ORIGINAL(*args, **kwargs)
    _WRITTEN.add(text.lstrip("\u2212"))
    return text


@pytest.fixture
def spanish_decimals(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """What the one number formatter wrote: a Spanish decimal with three decimals (162,768) reads like 3,072 in English."""
    _WRITTEN.clear()
    # A module imported during a test keeps the recording function it imported: it writes to the same set.
    for module in list(sys.modules.values()):
        if getattr(module, "format_number", None) is _ORIGINAL:
            monkeypatch.setattr(module, "format_number", _recording)
    return _WRITTEN


@pytest.mark.parametrize("page", PAGES)
def test_no_english_number_in_spanish(page: str, spanish_decimals: set[str]) -> None:
    at = open_app(f"pages/{page}", "es")
    texts = student_texts(at)
    assert texts
    found = [context for context, number in english_numbers(texts) if number not in spanish_decimals]
    assert not found, page
