"""Values read from a link: every page's settings fuzzed with what a mistyped or hostile link carries."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT, open_app
from ui.common import LINK_SETTINGS, Setting

PAGES = sorted(re.findall(r'st.Page\("(pages/\w+\.py)"', (ROOT / "app.py").read_text(encoding="utf-8")))
DEFAULT = "pages/playground.py"
BAD = ("nan", "inf", "-inf", "1e308", "1e-308", "", "9" * 300, "ñandú", "١", " 1", "1_0", "NaN", "+Infinity", "0x10")


@pytest.fixture(scope="module")
def defaults() -> dict[str, dict[str, object]]:
    """Each page's settings as a fresh session opens them (no link): also fills the registry of shared settings."""
    found = {}
    for page in PAGES:
        at = open_app(page)
        found[page] = {key: at.session_state[key] for key in at.session_state if key in LINK_SETTINGS.get(_name(page), {})}
    return found


def _name(page: str) -> str:
    return page.removeprefix("pages/").removesuffix(".py")


def test_every_page_registers_its_link_settings(defaults: dict) -> None:
    assert {_name(p) for p in PAGES if p != "pages/home.py"} <= set(LINK_SETTINGS), sorted(LINK_SETTINGS)
    assert sum(len(s) for s in LINK_SETTINGS.values()) > 100


def test_no_setting_accepts_a_bad_value(defaults: dict) -> None:
    for page, settings in LINK_SETTINGS.items():
        for setting in settings.values():
            for text in BAD:
                with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
                    setting.parse(text)
        for key, value in defaults.get(f"pages/{page}.py", {}).items():
            assert settings[key].parse(settings[key].write(value)) == value, (key, value)  # a real value travels


def test_setting_parse_rules() -> None:
    sigma = Setting(float, low=0.1, high=5.0)
    assert sigma.parse("2.5") == 2.5 and sigma.parse("0.1") == 0.1
    for text in ("nan", "inf", "5.01", "0.09", "1e0", "2,5"):
        with pytest.raises(ValueError, match=re.escape(text)):
            sigma.parse(text)
    assert Setting(int, low=-5, high=5).parse("-5") == -5
    assert not Setting(int, low=0, high=64).accepts(65) and Setting(int, low=0, high=64).accepts(64)
    with pytest.raises(ValueError, match="anything"):
        Setting(str).parse("anything")  # a text setting without its list of options would let anything through


@pytest.mark.parametrize("page", [p for p in PAGES if p != "pages/home.py"])
def test_a_link_full_of_bad_values_opens_the_default_page(page: str, defaults: dict) -> None:
    settings = LINK_SETTINGS[_name(page)]
    query = {key: BAD[i % len(BAD)] for i, key in enumerate(settings)}
    at = open_app(None if page == DEFAULT else page, **query)  # the default page reads its link on the first run
    toasts = "\n".join(toast.value for toast in at.toast)
    for key in settings:
        assert f" {key} " in toasts, (key, toasts[:300])
        if key in defaults[page]:
            assert at.session_state[key] == defaults[page][key], key
        written = at.query_params.get(key)
        assert written in (None, settings[key].write(defaults[page].get(key))) or written == [settings[key].write(defaults[page].get(key))], (key, written)


@pytest.mark.parametrize(('page', 'query', 'key', 'default'), [
    ("pages/playground.py", {"pg_kernel": "gaussian", "pg_sigma": "nan"}, "pg_sigma", 1.0),
    ("pages/denoising.py", {"nz_sigma": "nan"}, "nz_sigma", None),
    ("pages/predictions.py", {"pr_scale": "nan"}, "pr_scale", 1.0),
    ("pages/pooling.py", {"pool_input": "fmap", "pool_layer": "block9.conv7"}, "pool_layer", "block1.conv1"),
    ("pages/predictions.py", {"pr_layer": "nope"}, "pr_layer", "block1.conv1"),
])
def test_the_reported_links(page: str, query: dict, key: str, default: object) -> None:
    at = open_app(None if page == DEFAULT else page, "es", **query)
    assert any(key in toast.value and "no válido" in toast.value for toast in at.toast), [x.value for x in at.toast]
    if default is not None:
        assert at.session_state[key] == default
    assert "nan" not in str(at.query_params.get(key)) and query[key] not in str(at.query_params.get(key))
    at.run()  # the widget works on the next run too
    assert not at.exception


def test_every_number_in_a_link_has_both_bounds(defaults: dict) -> None:
    """A number without an upper bound lets a link ask for row 999999 of a 30-row map."""
    for page, settings in LINK_SETTINGS.items():
        for key, setting in settings.items():
            if setting.kind in (int, float) and not setting.options:
                assert setting.low is not None and setting.high is not None, (page, key)


CLICKED = re.compile(r"_(row|col|channel|filter)$")  # values a click or the map's size bounds, not only the widget


@pytest.mark.parametrize("value", ["999999", "127", "71", "50"])
@pytest.mark.parametrize("page", [p for p in PAGES if p != "pages/home.py"])
def test_a_link_past_the_map_is_clamped_to_it_or_refused(page: str, value: str, defaults: dict) -> None:
    keys = [key for key, setting in LINK_SETTINGS[_name(page)].items() if CLICKED.search(key) and setting.kind is int]
    if not keys:
        pytest.skip("no row, column, channel or filter in this page's link")
    at = open_app(None if page == DEFAULT else page, "en", **{key: value for key in keys})  # no exception
    toasts = "\n".join(toast.value for toast in at.toast)
    boxes = {n.key: n for n in at.number_input}
    for key in keys:
        if key not in at.session_state:  # this page's settings do not show it (another input, another view)
            continue
        if f" {key} " in toasts:  # refused: the default, and the link without the value
            assert at.session_state[key] == defaults[page].get(key, at.session_state[key]), key
        if key in boxes:  # inside the widget's range, which the map's size sets
            box = boxes[key]
            assert box.min <= at.session_state[key] <= box.max, (key, at.session_state[key], box.min, box.max)
        written = at.query_params.get(key)
        if written is not None:  # the link says what the page shows
            assert written in (str(at.session_state[key]), [str(at.session_state[key])]), (key, written, at.session_state[key])
