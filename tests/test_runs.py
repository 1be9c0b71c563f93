"""cnn_core.runs: at most `slots` runs at once, the rest wait in order; caps, stop, idle runs and failures."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from cnn_core import InputError
from cnn_core.live import LiveConfig, load_subset
from cnn_core.runs import RunRegistry


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
    registry = RunRegistry(slots=2, trainer=gate)
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
    registry = RunRegistry(slots=1, max_seconds=5, max_steps=100, trainer=gate)
    try:
        run = registry.submit(LiveConfig(time_budget=100, max_steps=10_000), ())
        wait_for(lambda: registry.poll(run).done)
        assert (gate.started[0].time_budget, gate.started[0].max_steps) == (5, 100)
        with pytest.raises(InputError):
            registry.submit(LiveConfig(layers=9), ())
    finally:
        registry.close()


def test_a_full_queue_refuses_with_a_message(gate) -> None:
    registry = RunRegistry(slots=1, max_waiting=2, trainer=gate)
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
    registry = RunRegistry(slots=1, idle_seconds=0.3, trainer=gate)
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

    registry = RunRegistry(slots=1, trainer=trainer)
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
        config = LiveConfig(layers=1, width=4, batch_size=32, epochs=1)
        ids = [registry.submit(config, data, probe=test_x[0]) for _ in range(2)]
        assert registry.poll(ids[1]).status == "waiting"
        wait_for(lambda: all(registry.poll(i).done for i in ids), timeout=60)
        results = [registry.poll(i).result for i in ids]
        assert [r.status for r in results] == ["finished", "finished"]
        assert results[0].losses == results[1].losses  # same seed, same data: the same run
        assert np.isfinite(results[0].accuracy) and registry.poll(ids[0]).progress.probe.shape == (10,)
    finally:
        registry.close()
