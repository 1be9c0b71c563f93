"""The Spanish and English catalogues of every string the app shows."""

from __future__ import annotations

import json
import math
from functools import cache, lru_cache
from pathlib import Path

from babel.numbers import format_decimal, format_scientific
from babel.numbers import format_percent as format_babel_percent

LANGUAGES: tuple[str, ...] = ("es", "en")
DEFAULT_LANGUAGE = "es"
_LOCALES = Path(__file__).with_name("locales")


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The key → text mapping of one language: every locales/<lang>/*.json file (one per page) merged."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; use one of {LANGUAGES}")
    merged: dict[str, str] = {}
    for path in sorted((_LOCALES / lang).glob("*.json")):
        part = json.loads(path.read_text(encoding="utf-8"))
        if clash := merged.keys() & part.keys():
            raise ValueError(f"{path} repeats keys defined in another file: {sorted(clash)}")
        merged |= part
    return merged


def translate(key: str, lang: str, **params: object) -> str:
    """The text of `key` in `lang`, with `{name}` placeholders filled from `params`."""
    text = catalogue(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)[key]
    return text.format(**params) if params else text


def pick_language(query: str | None, browser_locale: str | None) -> str:
    """The language asked for in the URL, else the browser's, else the course's (Spanish)."""
    for candidate in (query, browser_locale):
        if candidate:
            code = candidate.strip().lower().replace("_", "-").split("-")[0]
            if code in LANGUAGES:
                return code
    return DEFAULT_LANGUAGE


# Babel's CLDR data, not format strings: Spanish groups thousands with a dot and writes a decimal comma (3.072; 0,5;
# 90,09 %), English as 3,072; 0.5; 90.09%.
_BABEL_LOCALES = {"es": "es_ES", "en": "en_US"}
_SCIENTIFIC_ABOVE, _SCIENTIFIC_BELOW = 1e15, 1e-4


def format_number(value: float, lang: str, decimals: int | None = None, significant: int | None = 4,
                  grouping: bool = True) -> str:
    """`value` written the way `lang` writes numbers: `decimals` fixed digits after the separator, else `significant` digits."""
    return _format_number(float(value), lang, decimals, significant, grouping)


@lru_cache(maxsize=8192)  # Babel takes ~30 µs a number; a page's numbers repeat from rerun to rerun
def _format_number(value: float, lang: str, decimals: int | None, significant: int | None, grouping: bool) -> str:
    locale = _BABEL_LOCALES.get(lang, _BABEL_LOCALES[DEFAULT_LANGUAGE])
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("∞" if value > 0 else "−∞")
    if decimals is not None:
        value = round(value, decimals) + 0.0  # + 0.0: no "−0"
        pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
        return _minus(format_decimal(value, pattern, locale=locale, group_separator=grouping))
    if value == 0:
        return "0"
    digits = significant or 4
    if abs(value) >= _SCIENTIFIC_ABOVE or abs(value) < _SCIENTIFIC_BELOW:
        return _minus(format_scientific(value, "0." + "#" * (digits - 1) + "E0", locale=locale))
    # `digits` significant digits after the point, but never fewer than the whole integer part (569.656, not 569.700)
    places = max(digits - 1 - math.floor(math.log10(abs(value))), 0)
    rounded = round(value, places)
    pattern = "#,##0" + ("." + "#" * places if places else "")
    return _minus(format_decimal(rounded + 0.0, pattern, locale=locale, group_separator=grouping))


def format_percent(fraction: float, lang: str, decimals: int = 1) -> str:
    """A fraction as a percentage in `lang`: 0.9009 → '90,09 %' (es, with a non-breaking space) or '90.09%' (en)."""
    return _format_percent(float(fraction), lang, decimals)


@lru_cache(maxsize=4096)  # as _format_number: a page's percentages repeat from rerun to rerun
def _format_percent(fraction: float, lang: str, decimals: int) -> str:
    locale = _BABEL_LOCALES.get(lang, _BABEL_LOCALES[DEFAULT_LANGUAGE])
    if not math.isfinite(float(fraction)):
        return format_number(fraction, lang)
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + "%"
    if lang == "es":
        pattern = pattern[:-1] + "\u00a0%"
    return _minus(format_babel_percent(float(fraction), pattern, locale=locale))


def parse_number(text: str, lang: str) -> float:
    """A number typed the Spanish or the English way (3.072, 3 072, 3,072, 0,5, 0.5): ValueError when it is none.

    One separator alone is ambiguous (3,072): it groups thousands when it splits the digits in groups of three after a
    head without a leading zero and `lang` uses it for grouping (es: the dot, en: the comma); otherwise it is decimal.
    """
    cleaned = text.strip().replace("\u2212", "-")
    for space in (" ", "\u00a0", "\u202f", "\u2009"):
        cleaned = cleaned.replace(space, "")
    if "," in cleaned and "." in cleaned:  # both: the last one is the decimal separator (1.234,5 or 1,234.5)
        decimal = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        cleaned = cleaned.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif "," in cleaned or "." in cleaned:
        separator = "," if "," in cleaned else "."
        grouping = "." if lang == "es" else ","
        if cleaned.count(separator) > 1 or (separator == grouping and _looks_grouped(cleaned, separator)):
            if not _looks_grouped(cleaned, separator):
                raise ValueError(text)
            cleaned = cleaned.replace(separator, "")
        else:
            cleaned = cleaned.replace(",", ".")
    value = float(cleaned)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _looks_grouped(text: str, separator: str) -> bool:
    """Whether `separator` splits `text` into thousands groups (1,234 or 12.345.678), not a decimal part."""
    head, *groups = text.lstrip("+-").split(separator)
    return (bool(head) and len(head) <= 3 and head.isdigit() and not head.startswith("0")
            and all(len(g) == 3 and g.isdigit() for g in groups))


def _minus(text: str) -> str:
    """Babel's hyphen-minus as the typographic minus sign that the rest of the app uses."""
    return text.replace("-", "\u2212")
