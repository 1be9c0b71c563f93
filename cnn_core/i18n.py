"""The Spanish and English catalogues of every string the app shows."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

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
