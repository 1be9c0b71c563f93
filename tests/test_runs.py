"""cnn_core.runs: at most `slots` runs at once, the rest wait in order; caps, stop, idle runs and failures.

The queue's logic is tested with fakes on the slots' threads (processes=False); the worker processes with real runs
and with the module-level fakes below, which a fresh process can import.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from cnn_core import InputError
from cnn_core.live import MAX_SECONDS, LiveConfig, load_subset
from cnn_core.runs import SLOTS_ENV, RunRegistry
from tests.conftest import ROOT


class Gate:
    """A fake trainer: each run reports progress and waits until released (or asked to stop)."""

    def __init__(self) -> None:
        self.started: list[LiveConfig] = []
        self.release = threading.Event()

    def __call__(self, config, data, on_progress, should_stop, probe=None):
        self.started.append(config)
        while not self.release.is_set():
            on_progress("snapshot")
            if should_stop():
                return type("Result", (), {"status": "stopped"})()
            time.sleep(0.01)
        return type("Result", (), {"status": "finished"})()


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def gate():
    return Gate()


def test_runs_beyond_the_slots_wait_in_order(gate) -> None:
    registry = RunRegistry(slots=2, trainer=gate, processes=False)
    try:
        ids = [registry.submit(LiveConfig(seed=i), ()) for i in range(4)]
        wait_for(lambda: len(gate.started) == 2)
        time.sleep(0.1)
        views = [registry.poll(i) for i in ids]
        assert [v.status for v in views] == ["running", "running", "waiting", "waiting"]
        assert [v.position for v in views] == [0, 0, 1, 2] and views[0].progress == "snapshot"
        assert registry.counts() == (2, 2) and len(gate.started) == 2
        registry.stop(ids[2])  # a waiting run that is stopped leaves the queue
        assert registry.poll(ids[2]).status == "stopped" and registry.poll(ids[3]).position == 1
        registry.stop(ids[0])
        wait_for(lambda: len(gate.started) == 3)
        assert gate.started[2].seed == 3 and registry.poll(ids[0]).status == "stopped"
        gate.release.set()
        wait_for(lambda: all(registry.poll(i).done for i in ids))
        assert [registry.poll(i).status for i in ids] == ["stopped", "finished", "stopped", "finished"]
    finally:
        gate.release.set()
        registry.close()


def test_every_run_is_capped_in_time_and_steps(gate) -> None:
    gate.release.set()
    registry = RunRegistry(slots=1, max_seconds=5, max_steps=100, trainer=gate, processes=False)
    try:
        run = registry.submit(LiveConfig(time_budget=100, max_steps=10_000), ())
        wait_for(lambda: registry.poll(run).done)
        assert (gate.started[0].time_budget, gate.started[0].max_steps) == (5, 100)
        with pytest.raises(InputError):
            registry.submit(LiveConfig(layers=9), ())
    finally:
        registry.close()


def test_a_full_queue_refuses_with_a_message(gate) -> None:
    registry = RunRegistry(slots=1, max_waiting=2, trainer=gate, processes=False)
    try:
        registry.submit(LiveConfig(), ())
        wait_for(lambda: registry.counts() == (1, 0))
        registry.submit(LiveConfig(), ()), registry.submit(LiveConfig(), ())
        assert registry.counts() == (1, 2)
        with pytest.raises(InputError) as caught:
            registry.submit(LiveConfig(), ())
        assert caught.value.key == "live.err_busy"
    finally:
        gate.release.set()
        registry.close()


def test_a_run_nobody_polls_is_stopped_and_a_waiting_one_dropped(gate) -> None:
    registry = RunRegistry(slots=1, idle_seconds=0.3, trainer=gate, processes=False)
    try:
        first, second = registry.submit(LiveConfig(), ()), registry.submit(LiveConfig(), ())
        time.sleep(1.0)
        assert registry.poll(first).status == "abandoned"
        wait_for(lambda: registry.poll(second).done)
        assert registry.poll(second).status == "abandoned" and len(gate.started) == 1
    finally:
        gate.release.set()
        registry.close()


def test_a_failing_run_is_reported_and_the_next_one_runs(gate) -> None:
    calls = []

    def trainer(config, *args, **kwargs):
        calls.append(config.seed)
        if config.seed == 0:
            raise RuntimeError("boom")
        return type("Result", (), {"status": "finished"})()

    registry = RunRegistry(slots=1, trainer=trainer, processes=False)
    try:
        bad, good = registry.submit(LiveConfig(seed=0), ()), registry.submit(LiveConfig(seed=1), ())
        wait_for(lambda: registry.poll(good).done)
        assert registry.poll(bad).status == "failed" and registry.poll(good).status == "finished"
    finally:
        registry.close()


def test_real_runs_share_one_slot() -> None:
    train_x, train_y, test_x, test_y = load_subset()
    data = (train_x[::10], train_y[::10], test_x[::10], test_y[::10])
    registry = RunRegistry(slots=1)
    try:
        # The longest budget and a generous wait: on a starved machine both runs still end by their steps, "finished".
        config = LiveConfig(layers=1, width=4, batch_size=32, epochs=1, time_budget=MAX_SECONDS)
        ids = [registry.submit(config, data, probe=test_x[0]) for _ in range(2)]
        assert registry.poll(ids[1]).status == "waiting"
        wait_for(lambda: all(registry.poll(i).done for i in ids), timeout=4 * MAX_SECONDS)
        results = [registry.poll(i).result for i in ids]
        assert [r.status for r in results] == ["finished", "finished"]
        assert results[0].losses == results[1].losses  # same seed, same data: the same run
        assert np.isfinite(results[0].accuracy) and registry.poll(ids[0]).progress.probe.shape == (10,)
    finally:
        registry.close()


def _tiny_data():
    train_x, train_y, test_x, test_y = load_subset()
    return (train_x[::10], train_y[::10], test_x[::10], test_y[::10])


def test_a_real_run_in_its_process_sends_its_snapshots_and_model_back() -> None:
    data = _tiny_data()
    registry = RunRegistry(slots=1)
    try:
        run = registry.submit(LiveConfig(layers=1, width=4, batch_size=16, epochs=5), data, probe=data[2][0])
        seen = set()
        while not (view := registry.poll(run)).done:
            if view.progress is not None:
                seen.add(view.progress.step)
            time.sleep(0.02)
        result = view.result
        assert view.status == "finished" and min(seen) < result.progress.total_steps  # snapshots came while it trained
        assert result.progress.filters.shape == (4, 3, 3, 3) and result.confusion.sum() == len(data[2])
        assert np.array_equal(result.model[0].weight.detach().permute(0, 2, 3, 1).numpy(), result.progress.filters)
        np.testing.assert_allclose(result.predict(data[2][:1])[0], result.progress.probe, atol=1e-6)  # the trained weights
        predicted = result.predict(data[2]).argmax(axis=1)
        assert np.isclose(result.accuracy, (predicted == data[3]).mean())
    finally:
        registry.close()


def test_a_process_run_stops_when_asked_or_unwatched_and_diverges_with_a_status() -> None:
    data = _tiny_data()
    registry = RunRegistry(slots=1, idle_seconds=3.0)
    try:
        long = LiveConfig(layers=1, width=4, batch_size=16, epochs=30)
        stopped = registry.submit(long, data)
        wait_for(lambda: (view := registry.poll(stopped)).progress is not None and view.progress.step > 0, timeout=60)
        registry.stop(stopped)
        wait_for(lambda: registry.poll(stopped).done, timeout=20)
        assert registry.poll(stopped).status == "stopped" and registry.poll(stopped).result.status == "stopped"
        # The whole subset (about 9,400 steps at 30 epochs): on a fast machine the tiny data's 960 steps had finished
        # before the idle limit, and the run ended "finished", not "abandoned".
        unwatched = registry.submit(long, load_subset())
        wait_for(lambda: registry.poll(unwatched).status == "running", timeout=20)
        time.sleep(5)  # nobody polls
        wait_for(lambda: registry._runs[unwatched].status not in ("waiting", "running"), timeout=20)
        assert registry.poll(unwatched).status == "abandoned"
        diverging = registry.submit(LiveConfig(layers=1, width=4, batch_size=16, learning_rate=10.0, optimizer="sgd"), data)
        wait_for(lambda: registry.poll(diverging).done, timeout=60)
        assert registry.poll(diverging).status == "diverged"
    finally:
        registry.close()


def failing_trainer(config, data, on_progress, should_stop, probe=None):
    raise RuntimeError("boom")


def stubborn_trainer(config, data, on_progress, should_stop, probe=None):
    on_progress("started")
    time.sleep(600)  # ignores should_stop and its time budget


@pytest.mark.parametrize(("trainer", "ask_stop"), [(failing_trainer, False), (stubborn_trainer, False), (stubborn_trainer, True)])
def test_a_failing_or_stubborn_process_is_reported_killed_and_the_queue_goes_on(trainer, ask_stop: bool) -> None:
    registry = RunRegistry(slots=1, trainer=trainer, grace_seconds=1.0, stop_seconds=1.0)
    try:
        run = registry.submit(LiveConfig(time_budget=2), ())
        if ask_stop:
            wait_for(lambda: registry.poll(run).progress == "started", timeout=30)
            registry.stop(run)
        wait_for(lambda: registry.poll(run).done, timeout=30)
        assert registry.poll(run).status == ("stopped" if ask_stop else "failed")
        assert registry.poll(run).result is None and registry.counts() == (0, 0)
    finally:
        registry.close()


EXIT_MID_RUN = """
import sys, time
from cnn_core.live import LiveConfig, load_subset
from cnn_core.runs import registry

if __name__ == "__main__":
    data = tuple(part[::10] for part in load_subset())
    runs = registry()
    first = runs.submit(LiveConfig(layers=1, width=4, epochs=30), data)
    runs.submit(LiveConfig(layers=1, width=4, epochs=1), data)  # and one waiting
    deadline = time.monotonic() + 200
    while runs.poll(first).progress is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    print("training", runs.poll(first).status, flush=True)
"""


def test_a_server_that_exits_mid_run_releases_its_semaphores(tmp_path) -> None:
    """Exiting with a run under way (a server shut down during a lesson) leaves no semaphore to the resource tracker."""
    script = tmp_path / "exit_mid_run.py"
    script.write_text(EXIT_MID_RUN)
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), SLOTS_ENV: "1"})
    assert done.returncode == 0 and "training running" in done.stdout, done.stderr[-2000:]
    assert "leaked" not in done.stderr, done.stderr[-2000:]
