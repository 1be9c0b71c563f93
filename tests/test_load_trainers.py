"""scripts/loadtest.py's trainers: they follow the server's AutoRerun timers as a browser tab does."""

from __future__ import annotations

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

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
