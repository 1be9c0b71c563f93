"""Caches keyed by arrays use every byte; decoded uploads stay in the session that sent them."""

from __future__ import annotations

import numpy as np
import pytest
import streamlit as st
from streamlit.runtime.caching import cache_data_api
from streamlit.testing.v1 import AppTest

import ui.common
from ui.caching import array_digest
from ui.figures import image_figure

SAMPLE_SEED = 0  # Streamlit's runner.cacheHashSeed default: where it samples arrays of ≥ 500,000 values


def _twin_photos() -> tuple[np.ndarray, np.ndarray]:
    """Two different 512×512 RGB images with the same values at every position Streamlit's default hash samples."""
    first = np.random.default_rng(1).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    sampled = np.zeros(first.size, bool)
    sampled[np.random.RandomState(SAMPLE_SEED).choice(np.arange(first.size), size=100_000)] = True
    second = first.copy().ravel()
    second[~sampled] = 255 - second[~sampled]  # about 7 values in 8 changed
    return first, second.reshape(first.shape)


def test_default_hashing_confuses_the_twins_and_the_figure_cache_does_not() -> None:
    first, second = _twin_photos()
    assert not np.array_equal(first, second)

    @st.cache_resource
    def default_hash(image: np.ndarray) -> object:
        return object()

    assert default_hash(first) is default_hash(second)  # Streamlit's sampling: the premise of the fix
    assert array_digest(first) != array_digest(second)
    assert image_figure(first, "t", "h") is not image_figure(second, "t", "h")
    assert image_figure(first, "t", "h") is image_figure(first.copy(), "t", "h")  # equal content still hits the cache


def test_digest_covers_shape_and_dtype() -> None:
    values = np.arange(12, dtype=np.uint8)
    assert array_digest(values.reshape(3, 4)) != array_digest(values.reshape(4, 3))
    assert array_digest(values) != array_digest(values.view(np.int8))
    assert array_digest(values.reshape(3, 4).T) == array_digest(np.ascontiguousarray(values.reshape(3, 4).T))


def _decode_an_upload() -> None:
    import io

    import numpy as np
    from PIL import Image

    from ui.common import _decode

    buffer = io.BytesIO()
    Image.fromarray(np.full((8, 8, 3), 7, np.uint8)).save(buffer, format="PNG")
    _decode(buffer.getvalue())


def test_a_read_only_arrays_digest_is_remembered_and_a_writable_ones_never() -> None:
    frozen = np.arange(12, dtype=np.uint8).reshape(3, 4)
    frozen.flags.writeable = False
    assert array_digest(frozen) == array_digest(frozen.copy())
    writable = frozen.copy()
    before = array_digest(writable)
    writable[0, 0] = 99  # the same object, new bytes: a new digest
    assert array_digest(writable) != before
    view = writable[:, :2]
    view.flags.writeable = False  # read-only, but its base can still change: not remembered
    first = array_digest(view)
    writable[0, 1] = 7
    assert array_digest(view) != first
    del frozen  # a new array that reuses the id gets its own digest
    for _ in range(50):
        other = np.full((3, 4), 5, np.uint8)
        other.flags.writeable = False
        assert array_digest(other) == array_digest(np.full((3, 4), 5, np.uint8))


def test_decoded_uploads_are_cached_per_session(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = []
    real = ui.common.open_image
    monkeypatch.setattr(ui.common, "open_image", lambda data: decoded.append(len(data)) or real(data))
    # Every AppTest runs as one fixed session id; two students are told apart here as the server tells them apart.
    student = {"id": "student-1"}
    monkeypatch.setattr(cache_data_api, "get_session_id_or_throw", lambda: student["id"])
    one = AppTest.from_function(_decode_an_upload)
    one.run()
    one.run()
    assert not one.exception and len(decoded) == 1  # the session's reruns reuse its decoded upload
    student["id"] = "student-2"
    other = AppTest.from_function(_decode_an_upload)
    other.run()
    assert not other.exception and len(decoded) == 2  # the same file from another session is not served from the first


def test_by_content_keeps_results_across_a_page_rerun() -> None:
    """A page script defines its functions again on every rerun: the cache is the function's (name and code), and keys
    its arguments by content, types included."""
    from ui.caching import by_content

    calls: list[object] = []
    source = "@by_content(4)\ndef work(x, scale=1):\n    calls.append(x)\n    return object()\n"
    first, second = {"by_content": by_content, "calls": calls}, {"by_content": by_content, "calls": calls}
    exec(source, first)
    exec(source, second)  # the rerun
    image = np.arange(6.0).reshape(2, 3)
    assert first["work"](image) is second["work"](image.copy())  # one call: the second definition found it
    assert first["work"](1) is not first["work"](1.0) and first["work"](image, scale=2) is not first["work"](image)
    assert len(calls) == 4
    changed = {"by_content": by_content, "calls": calls}
    exec(source.replace("return object()", "return [object()]"), changed)  # edited code: not the old results
    assert changed["work"](image) is not first["work"](image)


def test_sessions_asking_at_once_wait_for_one_computation_and_a_failed_one_is_retried() -> None:
    """Thirty students on one link ask for the same new feature map in the same instant: it is computed once."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from ui.caching import by_content

    calls: list[int] = []
    fail_first = threading.Event()

    @by_content(4)
    def slow(x: int) -> object:
        calls.append(x)
        time.sleep(0.3)
        if fail_first.is_set() and len(calls) == 1:
            raise RuntimeError("stopped")  # as a rerun request stops one session's script
        return object()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(slow, [1] * 8))
    assert len({id(r) for r in results}) == 1 and calls == [1]

    slow.clear()
    calls.clear()
    fail_first.set()
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(slow, 2) for _ in range(4)]
        outcomes = [f.exception() or f.result() for f in futures]
    assert sum(isinstance(o, RuntimeError) for o in outcomes) == 1  # the one that was stopped
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 3 and len(calls) == 4  # the others, by themselves


def test_the_process_is_settled_once_even_without_the_network(tmp_path, monkeypatch) -> None:
    """The first run of a server process loads the network and captum, then freezes what is loaded and lets the
    collector's youngest generation grow; without the weights the playground still opens."""
    import gc

    import cnn_core.model as m
    from tests.conftest import open_app
    from ui import common

    monkeypatch.setattr(m, "WEIGHTS_PATH", tmp_path / "missing.pt")
    common.settle_process.clear()
    common._network.clear()
    threshold = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        at = open_app()  # asserts no exception
        assert at.get("bidi_component") and gc.get_threshold() == (10_000, 10, 10) and gc.get_freeze_count() > 100_000
    finally:
        common.settle_process.clear()
        common._network.clear()
        gc.set_threshold(*threshold)
