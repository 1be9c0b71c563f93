"""The overview page: the lecture's numbers, computed, and a link to every topic."""

from __future__ import annotations

import re

import pytest
import torch

from cnn_core.i18n import format_number
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


def open_home(lang: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("pages/home.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("lang", ["es", "en"])
def test_home_shows_the_lecture_numbers(lang: str) -> None:
    at = open_home(lang)
    values = [m.value for m in at.metric]
    per_neuron = torch.nn.Linear(32 * 32 * 3, 1, bias=False).weight.numel()
    big = torch.nn.Linear(200 * 200 * 3, 1, bias=False).weight.numel()
    kernel = torch.nn.Conv2d(3, 1, 5, bias=False).weight.numel()
    assert values == [format_number(v, lang) for v in (per_neuron, big, kernel)]
    assert values == {"en": ["3,072", "120,000", "75"], "es": ["3.072", "120.000", "75"]}[lang]


def test_home_links_every_topic_page() -> None:
    source = (ROOT / "pages" / "home.py").read_text(encoding="utf-8")
    linked = set(re.findall(r'page_link\("pages/(\w+)\.py"', source))
    pages = {p.stem for p in (ROOT / "pages").glob("*.py")} - {"home", "quiz"}
    assert pages <= linked, pages - linked
