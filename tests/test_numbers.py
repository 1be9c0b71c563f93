"""Numbers in the student's language: Babel's CLDR rules, checked against hand-written expectations."""

from __future__ import annotations

import math
import re

import pytest

from cnn_core.i18n import format_number, format_percent, parse_number

NBSP = "\u00a0"


@pytest.mark.parametrize(("value", "es", "en"), [
    (3072, "3.072", "3,072"),
    (120_000, "120.000", "120,000"),
    (569_656, "569.656", "569,656"),
    (0.5, "0,5", "0.5"),
    (157.3, "157,3", "157.3"),
    (1234.5678, "1.235", "1,235"),
    (-2.25, "\u22122,25", "\u22122.25"),
    (-0.0, "0", "0"),
    (1 / 9, "0,1111", "0.1111"),
    (12.0, "12", "12"),
    (2.5e-5, "2,5E\u22125", "2.5E\u22125"),
])
def test_format_number_in_both_languages(value: float, es: str, en: str) -> None:
    assert format_number(value, "es") == es
    assert format_number(value, "en") == en


def test_fixed_decimals_and_non_finite() -> None:
    assert format_number(90.0912, "es", decimals=2) == "90,09"
    assert format_number(-0.001, "en", decimals=2) == "0.00"
    assert format_number(2, "es", decimals=0) == "2"
    assert format_number(math.inf, "es") == "∞"
    assert format_number(math.nan, "en") == "NaN"


def test_format_percent() -> None:
    assert format_percent(0.9009, "es", 2) == f"90,09{NBSP}%"
    assert format_percent(0.9009, "en", 2) == "90.09%"
    assert format_percent(1.0, "es", 0) == f"100{NBSP}%"


@pytest.mark.parametrize(("text", "lang", "value"), [
    ("3.072", "es", 3072), ("3,072", "en", 3072), ("3 072", "es", 3072), ("3 072", "en", 3072),
    ("0,5", "es", 0.5), ("0,5", "en", 0.5), ("0.5", "es", 0.5), ("0.5", "en", 0.5),
    ("1.234,5", "en", 1234.5), ("1,234.5", "es", 1234.5), ("\u22122,5", "es", -2.5), ("0,125", "en", 0.125),
    ("3,072", "es", 3.072), ("1.234.567", "es", 1_234_567), ("42", "es", 42),
])
def test_parse_number_accepts_both_ways(text: str, lang: str, value: float) -> None:
    assert parse_number(text, lang) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "nan", "inf", "1..2"])
def test_parse_number_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(text) + "'?$"):  # the message ends with the refused text
        parse_number(text, "es")


@pytest.mark.parametrize("value", [3072, 0.5, 157.3, 569_656, 0.1111, 12.75])
@pytest.mark.parametrize("lang", ["es", "en"])
def test_round_trip(value: float, lang: str) -> None:
    assert parse_number(format_number(value, lang), lang) == pytest.approx(value)
