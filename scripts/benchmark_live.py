"""Time and held-out accuracy of the live-training page's default run (cnn_core.live.LiveConfig()) on one core; with
--polling, what one poll of the training page costs the server (its CPU and the bytes sent) for a running, a queued and
an ended run, over Streamlit's websocket against a server started here with one training slot.

Usage: python scripts/benchmark_live.py [--runs 1] [--data PATH]   (default data: the shipped subset in assets/)
       python scripts/benchmark_live.py --polling [--reruns 10] [--lang es]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # loadtest.py's simulated browser tab

import torch  # noqa: E402

from cnn_core.live import LiveConfig, load_subset, train  # noqa: E402


async def _polls(student, page: str, count: int, pid: int) -> dict:
    """`count` reruns of the student's fragment, each when its timer says: the server's CPU ms and the bytes of each."""
    import loadtest

    cpu, sent, interval = [], [], None
    for _ in range(count):
        if not student.auto_reruns:
            break
        fragment_id, interval = next(iter(student.auto_reruns.items()))
        await asyncio.sleep(interval)
        before = loadtest.cpu_seconds(pid)
        rerun = await asyncio.wait_for(student.rerun("watch", page, fragment_id=fragment_id, auto=True), 60)
        cpu.append((loadtest.cpu_seconds(pid) - before) * 1000)
        sent.append(rerun.bytes)
    return {"polls": len(sent), "interval_s": interval, "cpu_ms": sum(cpu) / max(len(cpu), 1),
            "bytes": sum(sent) / max(len(sent), 1), "max_bytes": max(sent, default=0)}


async def _polling(base_url: str, pid: int, reruns: int, lang: str) -> dict:
    import loadtest

    runner, waiter = loadtest.Student(0, base_url, lang), loadtest.Student(1, base_url, lang)
    pages = []
    for student in (runner, waiter):  # the first takes the one slot, the second waits behind it
        await student.connect(60)
        student.query_string = f"lang={lang}"
        await student.rerun("open", page_name=loadtest.PLAYGROUND_PATH)
        page = student.page(loadtest.TRAIN_TITLE, loadtest.TRAIN_PATHS)
        student.query_string = f"lang={lang}&lv_epochs=30"  # the default network, trained long enough to measure
        await student.rerun("open_train", page)
        button = student.press("lv_train")
        await student.rerun("press_train", page)
        student.states.pop(button, None)
        pages.append(page)
    deadline = time.monotonic() + 120
    while "lv_curves" not in runner.widgets:  # until its curves are drawn
        assert time.monotonic() < deadline, "the run drew no curves in 2 minutes"
        await asyncio.sleep(1)
        if runner.auto_reruns:
            await runner.rerun("watch", pages[0], fragment_id=next(iter(runner.auto_reruns)), auto=True)
    results = {"waiting": await _polls(waiter, pages[1], max(reruns // 3, 2), pid),
               "running": await _polls(runner, pages[0], reruns, pid)}
    stop = runner.press("lv_stop")
    await runner.rerun("stop", pages[0], fragment_id=runner.fragments.get("lv_stop", ""))
    runner.states.pop(stop, None)
    deadline = time.monotonic() + 60
    while runner.auto_reruns:  # the run ends after its current step and final evaluation; then the timer goes
        assert time.monotonic() < deadline, "the stopped run did not end in a minute"
        await _polls(runner, pages[0], 1, pid)
    results["ended"] = {"timer": bool(runner.auto_reruns), "final_bytes": runner.reruns[-1].bytes}
    for student in (runner, waiter):
        await student.close()
    return results


def polling_costs(reruns: int = 10, lang: str = "es") -> dict:
    """Start a server with one training slot; two students press Train (one runs, one waits); the server's CPU ms and
    the bytes of each of their page's polls: {"running": {...}, "waiting": {...}, "ended": {...}}."""
    import loadtest

    port = loadtest.free_port()
    with tempfile.TemporaryFile() as log:
        server = loadtest.start_server(port, log, env={"CNN_COURSE_TRAIN_SLOTS": "1"})
        try:
            base_url = f"http://127.0.0.1:{port}"
            loadtest.wait_healthy(base_url, 120, server)
            return loadtest._run_async(_polling(base_url, loadtest.find_listener_pid(port) or server.pid, reruns, lang))
        finally:
            loadtest.stop_server(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--data", default=None)
    parser.add_argument("--polling", action="store_true", help="the cost of the training page's polls instead")
    parser.add_argument("--reruns", type=int, default=10)
    parser.add_argument("--lang", default="es", choices=("es", "en"))
    args = parser.parse_args(argv)
    if args.polling:
        costs = polling_costs(args.reruns, args.lang)
        for state in ("running", "waiting"):
            c = costs[state]
            print(f"{state:8s} run: a poll every {c['interval_s']} s; {c['polls']} polls, server CPU {c['cpu_ms']:.0f} ms "
                  f"and {c['bytes'] / 1024:.1f} kB per poll (largest {c['max_bytes'] / 1024:.1f} kB)")
        print(f"ended run: {'still polled' if costs['ended']['timer'] else 'no more polls'}; "
              f"its last rerun {costs['ended']['final_bytes'] / 1024:.1f} kB")
        return 0
    data = load_subset(args.data)
    config = LiveConfig()
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, 1 thread; {len(data[0])} training and {len(data[2])} "
          f"held-out images; load average {os.getloadavg()[0]:.2f}")
    print(config)
    worst = 0.0
    for seed in range(args.runs):
        reports: list[float] = []
        began = time.monotonic()
        result = train(LiveConfig(seed=seed), data, on_progress=lambda p, reports=reports: reports.append(time.monotonic()))
        seconds = time.monotonic() - began
        gaps = max((b - a for a, b in zip(reports, reports[1:])), default=0.0)
        worst = max(worst, seconds)
        print(f"seed {seed}: {result.status}, {len(result.losses)} steps, {seconds:.1f} s, held-out accuracy "
              f"{result.accuracy:.2%} (training images {result.train_accuracy:.2%}), final loss {result.losses[-1]:.3f}, "
              f"{len(reports)} progress calls, longest gap {gaps:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
