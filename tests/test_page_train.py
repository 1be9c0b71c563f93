"""The live-training page in AppTest: a short run in both languages, its results against the run itself, divergence."""

from __future__ import annotations

import base64
import json
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnn_core.i18n import catalogue, format_number, format_percent
from cnn_core.live import LiveConfig, build_model, load_subset, stack_from_builder
from cnn_core.model import count_parameters
from cnn_core.runs import registry
from tests.conftest import open_app

PAGE = "pages/train.py"


def short_settings(at: AppTest, **settings: object) -> AppTest:
    """Set a tiny network (and `settings`)."""
    values = {"lv_layers": 1, "lv_width": 4, "lv_batch": 128, "lv_epochs": 1} | settings
    for key, value in values.items():
        widget = next(w for kind in ("select_slider", "slider", "radio", "toggle") for w in at.get(kind) if w.key == key)
        widget.set_value(value)
    return at.run()


def short_run(at: AppTest, **settings: object) -> AppTest:
    """Set a tiny network (and `settings`), press train, rerun as the page's timer does until the run has ended."""
    at = short_settings(at, **settings)
    at.button(key="lv_train").click().run()
    deadline = time.monotonic() + 60
    while not registry().poll(at.session_state["lv_run"]).done:
        assert time.monotonic() < deadline
        time.sleep(0.5)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def array(z: object) -> np.ndarray:
    """A Plotly array as it travels to the browser: a list, or base64 bytes with their dtype."""
    if isinstance(z, dict):
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"])).reshape(
            [int(n) for n in str(z.get("shape", -1)).split(",")])
    return np.asarray(z)


def chart(at: AppTest, title_start: str) -> dict:
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        if spec["layout"].get("title", {}).get("text", "").replace("<br>", " ").startswith(title_start):  # a long title wraps
            return spec
    raise AssertionError(f"no chart titled {title_start!r}")


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_short_run_shows_its_curves_and_results(lang: str) -> None:
    words = catalogue(lang)
    at = open_app(PAGE, lang)
    assert at.title[0].value == words["live.title"]
    parameters = format_number(count_parameters(build_model(LiveConfig())), lang)
    assert any(parameters in m.value and m.value.startswith(words["live.network"][:8]) for m in at.markdown)
    at = short_run(at)
    view = registry().poll(at.session_state["lv_run"])
    result = view.result
    assert view.status == "finished" and at.success[0].value.startswith(words["live.status_finished"][:8])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[words["live.accuracy"]] == format_percent(result.accuracy, lang)
    assert metrics[words["live.train_accuracy"]] == format_percent(result.train_accuracy, lang)
    curves = chart(at, words["live.curves_title"])
    loss, accuracy = curves["data"]
    assert np.array_equal(array(loss["x"]), np.arange(1, len(result.losses) + 1)) and np.allclose(array(loss["y"]), result.losses)
    assert np.allclose(np.stack([array(accuracy["x"]), array(accuracy["y"])], axis=1), result.evaluations)
    per_class = chart(at, words["live.per_class"])["data"][0]
    assert np.allclose(array(per_class["x"]), result.per_class_accuracy)
    confusion = chart(at, words["live.confusion"])["data"][0]
    assert np.array_equal(array(confusion["z"]), result.confusion) and result.confusion.sum() == 1000
    probe = chart(at, words["live.probe_title"][:8])["data"][0]
    assert np.allclose(array(probe["x"]), view.progress.probe) and at.image  # the student's image and the filters


def test_a_huge_learning_rate_ends_in_the_divergence_message() -> None:
    at = short_run(open_app(PAGE, "en"), lv_opt="sgd", lv_lr=10.0)
    assert registry().poll(at.session_state["lv_run"]).status == "diverged"
    assert at.error and at.error[0].value.startswith("**The training diverged**") and "10" in at.error[0].value


def test_impossible_link_values_fall_back_to_the_defaults() -> None:
    at = open_app(PAGE, "en", lv_lr="nan", lv_layers="7", lv_width="16")
    assert at.select_slider(key="lv_lr").value == LiveConfig().learning_rate and at.select_slider(key="lv_layers").value == 2
    assert not at.error


def test_a_queued_run_shows_its_place_then_trains() -> None:
    busy = registry()
    blockers = [busy.submit(LiveConfig(layers=1, width=4, epochs=30), load_subset()) for _ in range(busy.slots)]
    try:
        deadline = time.monotonic() + 30
        while busy.counts()[1]:  # every slot taken, nobody else queued
            assert time.monotonic() < deadline
            time.sleep(0.1)
        at = short_settings(open_app(PAGE, "en"))
        at.button(key="lv_train").click().run()
        run_id = at.session_state["lv_run"]
        assert busy.poll(run_id).status == "waiting"
        assert any(m.value == catalogue("en")["live.waiting"].format(position=1) for m in at.info)
        for blocker in blockers:
            busy.stop(blocker)
        deadline = time.monotonic() + 60
        while busy.poll(run_id).status == "waiting":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        at.run()
        assert not at.exception
        assert not any(m.value.startswith(catalogue("en")["live.waiting"][:10]) for m in at.info)
    finally:
        for blocker in blockers:
            busy.stop(blocker)
        if "at" in locals():
            busy.stop(at.session_state["lv_run"])


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_architecture_explorers_stack_is_offered_when_it_fits(lang: str) -> None:
    words = catalogue(lang)
    at = open_app("pages/architecture.py", lang)
    at.selectbox(key="arch_net").set_value("custom").run()  # the builder opens on LeNet-5, 1×32×32: gray images
    at.switch_page(PAGE).run()
    assert not at.exception and not any(r.key == "lv_net" for r in at.radio)
    why = next(m.value for m in at.info if m.value.startswith(words["live.stack_unfit"].split("{")[0]))
    assert "1×32×32" in why
    at.switch_page("pages/architecture.py").run()
    at.selectbox(key="arch_net").set_value("custom").run()
    at.selectbox(key="arch_start").set_value("stride").run()  # 3×32×32, convolutions with stride 2, then 10 neurons
    at.switch_page(PAGE).run()
    at.radio(key="lv_net").set_value("builder").run()
    assert not at.exception and at.select_slider(key="lv_layers").disabled
    stack = stack_from_builder([{"kind": "conv", "units": 16, "k": 3, "s": 2, "p": 0}, {"kind": "conv", "units": 32, "k": 3, "s": 2, "p": 0},
                                {"kind": "maxpool", "units": None, "k": 3, "s": 2, "p": 0}, {"kind": "fc", "units": 10}])
    parameters = format_number(count_parameters(build_model(LiveConfig(stack=stack))), lang)
    assert any(m.value.startswith(words["live.stack_network"][:8]) and parameters in m.value for m in at.markdown)
    for key, value in {"lv_batch": 128, "lv_epochs": 1}.items():
        next(w for kind in ("select_slider", "slider") for w in at.get(kind) if w.key == key).set_value(value)
    at.run()
    at.button(key="lv_train").click().run()
    view = registry().poll(at.session_state["lv_run"])
    try:
        assert view.config.stack == stack
    finally:
        registry().stop(view.run_id)
    at.radio(key="lv_net").set_value("preset").run()
    assert not at.select_slider(key="lv_layers").disabled
