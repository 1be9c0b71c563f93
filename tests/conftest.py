"""Shared paths and fixtures."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import streamlit.testing.v1.app_test as app_test
from hypothesis import settings
from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.runtime.pages_manager import PagesManager

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

# One hypothesis profile for every property test: no deadline (torch's first calls and a shared CPU make timings
# uneven), 100 examples; under CI on top of hypothesis's own "ci" profile (derandomized, no example database).
# HYPOTHESIS_PROFILE=thorough runs ten times as many examples.
settings.register_profile("course", settings.get_profile(settings.get_current_profile_name()), deadline=None, max_examples=100)
settings.register_profile("thorough", settings.get_profile("course"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "course"))


def encode(pixels: np.ndarray, fmt: str = "PNG", **options) -> bytes:
    """An image file's bytes, made with Pillow."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def wav_bytes(samples: np.ndarray, rate: int = 8000, width: int = 2, channels: int = 1) -> bytes:
    """A PCM WAV file made with the standard library; `samples` are already integers of the file's type."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(samples.tobytes())
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def apptest_runs_like_a_warm_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest resets PagesManager.uses_pages_directory before every run, so each run would be a server's first run
    (Streamlit's old pages/-folder mode, which runs a page without app.py). Give AppTest its own copy of the flag to
    reset, and run as a server does after its first run: app.py, then the page. The browser tests cover the first run."""
    monkeypatch.setattr(app_test, "PagesManager", type("AppTestPagesManager", (PagesManager,), {}))
    monkeypatch.setattr(PagesManager, "uses_pages_directory", False)


def open_app(page: str | None = None, lang: str = "en", **query: str):
    """An AppTest of app.py in `lang` with `query` in the URL, switched to `page`; asserts it ran without exception."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"lang": lang, **query})
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def click_map(at, key: str, row: int, col: int):
    """A click on the pixel map `key` (ui.pixelmap) as its JavaScript sends it, then the rerun; AppTest has no widget
    for a Components v2 element (an UnknownElement), so the trigger is added to the widget states it sends."""
    from ui.pixelmap import payload_header  # the maps have no key: each is known by the id in its payload

    component = next(e for e in at.get("bidi_component") if (payload_header(e.proto.bytes) or {}).get("id") == key)
    states = at._tree.get_widget_states()
    trigger = f"$$STREAMLIT_INTERNAL_KEY_{component.proto.id}__events"  # streamlit.components.v2.bidi_component.main
    states.widgets.append(WidgetState(id=trigger, json_trigger_value=json.dumps([{"event": "click", "value": {"row": row, "col": col}}])))
    at._run(states)
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def photo() -> np.ndarray:
    """A deterministic 48 × 64 RGB test image with edges and gradients."""
    y, x = np.mgrid[0:48, 0:64]
    img = np.stack([x * 4, y * 5, ((x // 8 + y // 8) % 2) * 255], axis=2)
    return img.astype(np.uint8)


# --- real browser: one `streamlit run app.py` and one Chromium for the whole session -------------------------

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server() -> Iterator[str]:
    """A freshly started `streamlit run app.py` (its first session sees a cold server), stopped at the end."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).status == 200:
                break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("streamlit did not start: " + process.stdout.read().decode(errors="replace")[-2000:])
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium package is needed: apt-get install chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, errors


def wait_idle(page: Page) -> None:
    """Until Streamlit has finished the rerun it is running."""
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=30_000)


def open_page(page: Page, url: str, heading: str) -> None:
    """Open `url` and wait until its page heading is drawn and Streamlit has finished the run."""
    page.goto(url)
    expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=60_000)
    wait_idle(page)


def choose(page: Page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label` as a student does: open the menu (again, if a rerun closed it)."""
    item = page.get_by_role("option", name=option)
    for _ in range(3):
        page.get_by_test_id("stSelectbox").filter(has_text=label).click()
        try:
            expect(item).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            wait_idle(page)
    item.click()
    wait_idle(page)


def feature_map(page: Page, key: str = "pg_fmap"):
    """The canvas of the pixel map `key` (ui.pixelmap, in its element's open shadow root), scrolled into view and drawn."""
    picture = page.locator(f".pixelmap[data-map={key}] canvas[role=img]")
    expect(picture).to_have_attribute("data-ready", "1", timeout=30_000)
    picture.scroll_into_view_if_needed()
    return picture


def marked_cell(page: Page, key: str = "pg_fmap") -> tuple[int, int] | None:
    """The map cell whose frame the overlay draws: the cell under the yellow (#ffd400) pixels' centre, read back from the
    overlay canvas."""
    cell = page.locator(f".pixelmap[data-map={key}] canvas.overlay").evaluate("""(overlay) => {
        const picture = overlay.parentElement.querySelector("canvas[role=img]");
        const { width, height } = overlay, data = overlay.getContext("2d").getImageData(0, 0, width, height).data;
        let xs = 0, ys = 0, n = 0;
        for (let i = 0; i < data.length; i += 4) {
            if (data[i] > 200 && data[i + 1] > 180 && data[i + 2] < 80 && data[i + 3] > 200) {
                const p = i / 4; xs += p % width; ys += Math.floor(p / width); n++;
            }
        }
        if (!n) return null;
        return [Math.floor(ys / n / height * picture.height), Math.floor(xs / n / width * picture.width)];
    }""")
    return None if cell is None else (cell[0], cell[1])


def shot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def tall_shot(page: Page, name: str) -> None:
    """A screenshot of the whole page: Streamlit scrolls inside its own container, so the viewport is made tall."""
    page.set_viewport_size({"width": 1400, "height": 3400})
    wait_idle(page)
    shot(page, name)
