"""A bounded, server-wide registry of live training runs: a few run at once, the rest wait in a FIFO queue.

Sessions keep only a run id; the registry holds the runs (progress, results, models), stops a run nobody has polled
for `idle_seconds`, caps every run's time and steps, and forgets finished runs after `keep_seconds`. Each run trains in
its own worker process (niced, one torch thread), so that training takes neither the web server's interpreter lock nor
its priority; a thread per slot starts it, relays its snapshots and kills it if it overruns its cap.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import threading
import time
import traceback
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch

from .errors import InputError
from .live import MAX_SECONDS, MAX_STEPS, Data, LiveConfig, LiveProgress, LiveResult, build_model, train

SLOTS_ENV = "CNN_COURSE_TRAIN_SLOTS"  # how many runs train at once (default: see default_slots)
NICE = 10  # a worker's niceness: under contention the web server's threads get ~9 times its CPU share
GRACE_SECONDS = 30.0  # past its time budget (final evaluation included) a worker process is killed
STOP_SECONDS = 5.0  # after being asked to stop, a worker that has not ended by then is killed
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
    """At most `slots` runs train at once (a worker process each, one torch thread); up to `max_waiting` wait in order.

    `trainer` has train's signature and, with `processes` (the default), must be importable by name in a fresh
    process; processes=False runs it on the slot's thread instead (tests with fakes that share objects with the test).
    """

    def __init__(self, slots: int | None = None, max_waiting: int = 100, max_seconds: float = MAX_SECONDS,
                 max_steps: int = MAX_STEPS, idle_seconds: float = 20.0, keep_seconds: float = 600.0, keep_runs: int = 200,
                 trainer: Callable[..., LiveResult] = train, processes: bool = True, grace_seconds: float = GRACE_SECONDS,
                 stop_seconds: float = STOP_SECONDS) -> None:
        self.slots = max(1, slots or default_slots())
        self.max_waiting, self.max_seconds, self.max_steps = max_waiting, max_seconds, max_steps
        self.idle_seconds, self.keep_seconds, self.keep_runs = idle_seconds, keep_seconds, keep_runs
        self.grace_seconds, self.stop_seconds = grace_seconds, stop_seconds
        self._trainer, self._processes = trainer, processes
        self._lock = threading.Condition()
        self._runs: OrderedDict[str, _Run] = OrderedDict()
        self._waiting: deque[str] = deque()
        self._closed = False
        self._workers = [threading.Thread(target=self._work, name=f"live-train-{i}", daemon=True) for i in range(self.slots)]
        if processes:  # the forkserver imports torch once (seconds on a busy machine): now rather than at the first run
            self._workers.append(threading.Thread(target=_warm_up, name="live-train-warm-up", daemon=True))
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
            try:
                result = self._in_process(run_id, run) if self._processes else self._in_thread(run)
                if result is None:
                    status = FAILED if not (run.stop_requested or self._idle(run)) else "stopped" if run.stop_requested else ABANDONED
                else:
                    status = ABANDONED if result.status == "stopped" and not run.stop_requested else result.status
            except Exception:  # a bug must not kill the slot and, with it, everyone's queue
                log.exception("live training run %s failed", run_id)
                result, status = None, FAILED
            with self._lock:
                run.result, run.status, run.ended, run.data = result, status, time.monotonic(), ()

    def _should_stop(self, run: _Run) -> bool:
        return run.stop_requested or self._closed or self._idle(run)

    def _in_thread(self, run: _Run) -> LiveResult:
        def report(progress: LiveProgress) -> None:
            run.progress = progress  # one reference swap: a poll sees the old or the new snapshot, whole

        return self._trainer(run.config, run.data, on_progress=report, should_stop=lambda: self._should_stop(run),
                             probe=run.probe)

    def _in_process(self, run_id: str, run: _Run) -> LiveResult | None:
        """Train in a worker process and relay its messages; None when it failed, overran its cap or ignored a stop."""
        context = _context()
        receiver, sender = context.Pipe(duplex=False)
        stop = context.Event()
        worker = context.Process(target=_child, args=(self._trainer, run.config, run.data, run.probe, sender, stop),
                                 name=f"live-train-{run_id[:8]}", daemon=True)
        worker.start()
        sender.close()  # the child holds the only writing end: EOF means it has gone
        deadline = time.monotonic() + run.config.time_budget + self.grace_seconds
        try:
            while True:
                if not stop.is_set() and self._should_stop(run):
                    stop.set()
                    deadline = min(deadline, time.monotonic() + self.stop_seconds)
                if time.monotonic() > deadline:
                    log.warning("live training run %s did not end in time; its process is killed", run_id)
                    return None
                if not receiver.poll(0.1):
                    continue
                try:
                    kind, payload = receiver.recv()
                except EOFError:
                    log.error("live training run %s: its process died (exit code %s)", run_id, worker.exitcode)
                    return None
                if kind == "progress":
                    run.progress = payload  # one reference swap: a poll sees the old or the new snapshot, whole
                elif kind == "result":
                    return _from_child(run.config, *payload)
                else:
                    log.error("live training run %s failed in its process:\n%s", run_id, payload)
                    return None
        finally:
            receiver.close()
            worker.join(timeout=2)
            if worker.is_alive():
                worker.kill()
                worker.join()


def default_slots() -> int:
    """One run per CPU core this process may use, but one core kept for the web server when there are several."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores - 1)


@cache
def _context() -> multiprocessing.context.BaseContext:
    """forkserver where there is one (a clean, single-threaded parent that imported torch once), else spawn; never fork
    the server, whose threads (Streamlit's, torch's) a forked child would inherit mid-flight."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", "cnn_core.live"])
    return context


def _warm_up() -> None:
    if _context().get_start_method() == "forkserver":
        multiprocessing.forkserver.ensure_running()


def _child(trainer: Callable[..., LiveResult], config: LiveConfig, data: Data, probe: np.ndarray | None,
           sender: multiprocessing.connection.Connection, stop: threading.Event) -> None:
    """A worker process: train, sending ("progress", LiveProgress) snapshots, then ("result", …) or ("error", traceback)."""
    try:
        os.nice(NICE)
    except (AttributeError, OSError):
        pass
    torch.set_num_threads(1)
    try:
        result = trainer(config, data, on_progress=lambda progress: sender.send(("progress", progress)),
                         should_stop=stop.is_set, probe=probe)
        sender.send(("result", _to_parent(result)))
    except Exception:  # noqa: BLE001 - every failure goes back to the server, which logs it
        sender.send(("error", traceback.format_exc()))
    finally:
        sender.close()


def _to_parent(result: LiveResult) -> tuple[LiveResult, dict[str, np.ndarray] | None]:
    """The result without its model, and the model's weights as numpy arrays: no torch tensors cross processes."""
    if not isinstance(result, LiveResult):
        return result, None
    state = {name: value.detach().numpy().copy() for name, value in result.model.state_dict().items()}
    return dataclasses.replace(result, model=None), state


def _from_child(config: LiveConfig, result: LiveResult, state: dict[str, np.ndarray] | None) -> LiveResult:
    """The result with its model rebuilt from the weights."""
    if state is None:
        return result
    model = build_model(config)
    model.load_state_dict({name: torch.from_numpy(value) for name, value in state.items()})
    return dataclasses.replace(result, model=model.eval())


@cache
def registry() -> RunRegistry:
    """The server's one registry; $CNN_COURSE_TRAIN_SLOTS runs at once (default: default_slots())."""
    slots = os.environ.get(SLOTS_ENV)
    runs = RunRegistry(slots=int(slots) if slots and slots.isdigit() else None)
    # Each running run's stop Event is five named semaphores; a server that exits with runs under way would leave them
    # to the resource tracker ("leaked semaphore objects"): stop the runs first, so that every Event is released.
    # (atexit runs this before multiprocessing's own exit handler, registered when it was imported.)
    atexit.register(runs.close)
    return runs
