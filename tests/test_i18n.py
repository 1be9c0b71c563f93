"""The two catalogues say the same things, and every key the code asks for exists."""

from __future__ import annotations

import re
import string

import pytest

from cnn_core import KERNELS, SAMPLES
from cnn_core.i18n import LANGUAGES, catalogue, pick_language, translate
from tests.conftest import ROOT

SOURCES = [*ROOT.glob("*.py"), *ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py"), *ROOT.glob("cnn_core/*.py")]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_same_keys_no_empty_values_same_placeholders() -> None:
    es, en = catalogue("es"), catalogue("en")
    assert set(es) == set(en), set(es) ^ set(en)
    for key in es:
        assert es[key].strip() and en[key].strip(), key
        assert placeholders(es[key]) == placeholders(en[key]), key


def test_each_page_catalogue_exists_in_both_languages() -> None:
    locales = ROOT / "cnn_core" / "locales"
    assert {p.name for p in (locales / "es").glob("*.json")} == {p.name for p in (locales / "en").glob("*.json")}


def test_languages_really_differ() -> None:
    es, en = catalogue("es"), catalogue("en")
    same = [k for k in es if es[k] == en[k] and len(es[k]) > 12]
    assert len(same) < len(es) // 20, same


def test_every_literal_key_in_the_code_exists() -> None:
    used = set()
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'\bt\(\s*"([a-z_.]+)"', text))
        used |= set(re.findall(r'(?:Input|Image)Error\(\s*"([a-z_.]+)"', text))
    assert len(used) > 50
    missing = used - set(catalogue("en"))
    assert not missing, missing


def test_every_generated_key_exists() -> None:
    keys = set(catalogue("en"))
    for name in (*KERNELS, "custom", "zeros"):
        assert f"kernel.{name}" in keys
    for name in (*KERNELS, "custom"):
        assert f"kernel_desc.{name}" in keys
    for name in SAMPLES:
        assert f"sample.{name}" in keys
    for name in ("size", "kernel", "stride", "padding", "dilation"):
        assert f"err.{name}_too_small" in keys
    prefixes = set()
    for path in SOURCES:
        prefixes |= set(re.findall(r'labels\(\s*"([a-z_.]+)"\)', path.read_text(encoding="utf-8")))
    assert prefixes and all(any(k.startswith(p) for k in keys) for p in prefixes)


def test_lecture_terms_in_spanish() -> None:
    text = " ".join(catalogue("es").values()).lower()
    for term in ("filtro", "kernel", "mapa de características", "relleno", "padding", "paso", "stride", "campo receptivo"):
        assert term in text, term


@pytest.mark.parametrize(("query", "locale", "expected"), [
    ("en", "es-ES", "en"), ("es", "en-US", "es"), (None, "en-GB", "en"), (None, "es-MX", "es"),
    (None, "fr-FR", "es"), ("xx", "en_US", "en"), (None, None, "es"), ("EN", None, "en"),
])
def test_pick_language(query: str | None, locale: str | None, expected: str) -> None:
    assert pick_language(query, locale) == expected


def test_translate_fills_placeholders() -> None:
    assert "7" in translate("err.kernel_too_large", "es", k=9, m=5, p=1, padded=7)
    assert LANGUAGES == ("es", "en")


def test_one_spanish_term_per_concept() -> None:
    # The network page's texts (pr.*) are another page's catalogue, checked there.
    texts = {key: text for key, text in catalogue("es").items() if not key.startswith("pr.")}
    avoided = ("fórmula de clase", "fórmula de la clase", "números de clase", "agrupación máxima", "agrupación promedio",
               "mapa agrupado", "arreglo", "en test", "volteo", "afila", "chirp y")
    for key, text in texts.items():
        for term in avoided:
            assert term not in text.lower(), (key, term)
    assert catalogue("es")["pg.mode_gray"] == "Escala de grises"
