"""scripts/loadtest.py's trainers: they follow the server's AutoRerun timers as a browser tab does."""

from __future__ import annotations

import importlib.util

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.conftest import ROOT
from tests.test_load_smoke import loadtest


def _new_session(*fragment_ids: str) -> ForwardMsg:
    msg = ForwardMsg()
    msg.new_session.initialize.session_id = "s"
    msg.metadata.run.fragment_ids.extend(fragment_ids)
    return msg


def test_a_trainer_keeps_the_fragment_timer_until_a_full_run_drops_it() -> None:
    student = loadtest.Student(0, "http://127.0.0.1:1")
    timer = ForwardMsg()
    timer.auto_rerun.fragment_id, timer.auto_rerun.interval = "f1", 1.0
    student._inspect("watch", timer)
    assert student.auto_reruns == {"f1": 1.0}
    student._inspect("watch", _new_session("f1"))  # the fragment's own run
    assert student.auto_reruns == {"f1": 1.0}
    student._inspect("watch", _new_session())  # a full run (the run ended: the page reruns without the timer)
    assert student.auto_reruns == {}
    student._inspect("watch", timer)
    stop = ForwardMsg()
    stop.stop_auto_rerun.fragment_ids.append("f1")
    student._inspect("watch", stop)
    assert student.auto_reruns == {}


def test_a_fragment_rerun_asks_for_that_fragment() -> None:
    student = loadtest.Student(0, "http://127.0.0.1:1")
    state = student._client_state("page", "", fragment_id="f1", auto=True)
    assert state.fragment_id == "f1" and state.is_auto_rerun
    assert not student._client_state("page", "", fragment_id="f1").is_auto_rerun  # a click in a fragment


def _benchmark_live():
    spec = importlib.util.spec_from_file_location("benchmark_live", ROOT / "scripts" / "benchmark_live.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_queued_run_is_polled_seldom_and_an_ended_run_never() -> None:
    """Over the websocket, one training slot: the polls of a waiting run are rare and tiny, a running run's stay under
    its budget (its figures travel as float32 arrays, hover text formatted by Plotly), an ended run has no timer."""
    costs = _benchmark_live().polling_costs(reruns=3, lang="es")
    waiting, running = costs["waiting"], costs["running"]
    assert waiting["polls"] == 2 and waiting["interval_s"] >= 3 and waiting["max_bytes"] < 4_000, waiting
    assert running["polls"] == 3 and running["interval_s"] == 1 and 3_000 < running["max_bytes"] < 15_000, running
    assert not costs["ended"]["timer"] and costs["ended"]["final_bytes"] < 50_000, costs["ended"]
