"""A bounded, server-wide registry of live training runs: a few run at once, the rest wait in a FIFO queue.

Sessions keep only a run id; the registry holds the runs (progress, results, models), stops a run nobody has polled
for `idle_seconds`, caps every run's time and steps, and forgets finished runs after `keep_seconds`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from .errors import InputError
from .live import MAX_SECONDS, MAX_STEPS, Data, LiveConfig, LiveProgress, LiveResult, train

SLOTS_ENV = "CNN_COURSE_TRAIN_SLOTS"  # how many runs train at once (default: one per CPU core)
log = logging.getLogger(__name__)

WAITING, RUNNING = "waiting", "running"
ABANDONED, FAILED = "abandoned", "failed"  # nobody polled it; an unexpected error (logged)


@dataclass(frozen=True)
class RunView:
    """What a page needs to draw a run: its state, queue position (1 = next), latest snapshot and, at the end, result."""

    run_id: str
    status: str  # waiting, running, abandoned, failed, or a LiveResult status (finished, time_up, stopped, diverged, …)
    position: int  # 0 unless waiting
    config: LiveConfig
    progress: LiveProgress | None
    result: LiveResult | None
    probe: np.ndarray | None  # the 32×32×3 image the run classifies in every snapshot

    @property
    def done(self) -> bool:
        """Whether the run has ended (for whatever reason)."""
        return self.status not in (WAITING, RUNNING)


@dataclass
class _Run:
    config: LiveConfig
    data: Data
    probe: np.ndarray | None
    last_seen: float
    status: str = WAITING
    stop_requested: bool = False
    progress: LiveProgress | None = None
    result: LiveResult | None = None
    ended: float = 0.0


class RunRegistry:
    """At most `slots` runs train at once (worker threads, one torch thread each); up to `max_waiting` wait in order."""

    def __init__(self, slots: int | None = None, max_waiting: int = 100, max_seconds: float = MAX_SECONDS,
                 max_steps: int = MAX_STEPS, idle_seconds: float = 20.0, keep_seconds: float = 600.0, keep_runs: int = 200,
                 trainer: Callable[..., LiveResult] = train) -> None:
        self.slots = max(1, slots or os.cpu_count() or 1)
        self.max_waiting, self.max_seconds, self.max_steps = max_waiting, max_seconds, max_steps
        self.idle_seconds, self.keep_seconds, self.keep_runs = idle_seconds, keep_seconds, keep_runs
        self._trainer = trainer
        self._lock = threading.Condition()
        self._runs: OrderedDict[str, _Run] = OrderedDict()
        self._waiting: deque[str] = deque()
        self._closed = False
        self._workers = [threading.Thread(target=self._work, name=f"live-train-{i}", daemon=True) for i in range(self.slots)]
        for worker in self._workers:
            worker.start()

    def submit(self, config: LiveConfig, data: Data, probe: np.ndarray | None = None) -> str:
        """Queue a run and return its id; InputError when the settings are impossible or the queue is full."""
        config = dataclasses.replace(config, time_budget=min(config.time_budget, self.max_seconds),
                                     max_steps=min(config.max_steps, self.max_steps))
        config.validate()
        with self._lock:
            self._forget_old()
            if len(self._waiting) >= self.max_waiting:
                raise InputError("live.err_busy", waiting=len(self._waiting))
            run_id = uuid.uuid4().hex
            self._runs[run_id] = _Run(config, data, probe, time.monotonic())
            self._waiting.append(run_id)
            self._lock.notify()
        return run_id

    def poll(self, run_id: str) -> RunView | None:
        """The run's current view (and a sign of life: an unpolled run is stopped); None when it is unknown or forgotten."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return None
            run.last_seen = time.monotonic()
            position = self._waiting.index(run_id) + 1 if run.status == WAITING else 0
            return RunView(run_id, run.status, position, run.config, run.progress, run.result, run.probe)

    def stop(self, run_id: str) -> None:
        """Ask a run to stop: a waiting run leaves the queue, a running one ends after its current step."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return
            run.stop_requested = True
            if run.status == WAITING:
                self._waiting.remove(run_id)
                run.status, run.ended = "stopped", time.monotonic()

    def counts(self) -> tuple[int, int]:
        """(running, waiting) runs now."""
        with self._lock:
            return sum(run.status == RUNNING for run in self._runs.values()), len(self._waiting)

    def close(self) -> None:
        """Stop every run and the workers (for tests and shutdown)."""
        with self._lock:
            self._closed = True
            for run in self._runs.values():
                run.stop_requested = True
            self._lock.notify_all()
        for worker in self._workers:
            worker.join(timeout=30)

    def _forget_old(self) -> None:
        now = time.monotonic()
        ended = [key for key, run in self._runs.items() if run.status not in (WAITING, RUNNING)]
        for key in ended:
            run = self._runs[key]
            if now - run.ended > self.keep_seconds or len(self._runs) > self.keep_runs:
                del self._runs[key]

    def _idle(self, run: _Run) -> bool:
        return time.monotonic() - run.last_seen > self.idle_seconds

    def _next(self) -> tuple[str, _Run] | None:
        with self._lock:
            while True:
                if self._closed:
                    return None
                while self._waiting:
                    run_id = self._waiting.popleft()
                    run = self._runs[run_id]
                    if self._idle(run):  # its page was closed while it waited
                        run.status, run.ended, run.data = ABANDONED, time.monotonic(), ()
                        continue
                    run.status = RUNNING
                    return run_id, run
                self._lock.wait()

    def _work(self) -> None:
        while (job := self._next()) is not None:
            run_id, run = job

            def report(progress: LiveProgress, run: _Run = run) -> None:
                run.progress = progress  # one reference swap: a poll sees the old or the new snapshot, whole

            def should_stop(run: _Run = run) -> bool:
                return run.stop_requested or self._idle(run)

            try:
                result = self._trainer(run.config, run.data, on_progress=report, should_stop=should_stop, probe=run.probe)
                status = ABANDONED if result.status == "stopped" and not run.stop_requested else result.status
            except Exception:  # a bug must not kill the worker and, with it, everyone's queue
                log.exception("live training run %s failed", run_id)
                result, status = None, FAILED
            with self._lock:
                run.result, run.status, run.ended, run.data = result, status, time.monotonic(), ()


@cache
def registry() -> RunRegistry:
    """The server's one registry; $CNN_COURSE_TRAIN_SLOTS runs at once (default: one per CPU core)."""
    slots = os.environ.get(SLOTS_ENV)
    return RunRegistry(slots=int(slots) if slots and slots.isdigit() else None)
