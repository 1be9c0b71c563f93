"""A class's server in one command: N Streamlit processes of the app on loopback ports, Debian's nginx in front.

Run (from the repository, with the app's virtual environment):
    .venv/bin/python deploy/serve.py                       # one process per core, students open http://<this machine>:8080
    .venv/bin/python deploy/serve.py --processes 4 --port 80 --address 0.0.0.0

nginx (deploy/nginx.conf.in) sends each browser to one process and keeps it there with a cookie (Streamlit holds a
session on one websocket to one process), upgrades the websockets, and stops sending new browsers to a process that
fails. This script waits until every process answers /_stcore/health before it starts nginx, checks them every few
seconds afterwards, and restarts a process that exits or stops answering. Ctrl-C (or SIGTERM) stops everything.
nginx is installed with apt-get if it is missing (root, or sudo). Files of the run (nginx.conf, logs) are in --run-dir.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("nginx.conf.in")
HEALTH = "/_stcore/health"


def _die_with_parent() -> None:
    """In a child: SIGTERM when this script dies, even by SIGKILL, so no process outlives it (Linux prctl)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def find_nginx(install: bool = True) -> str:
    """The nginx binary; installed from Debian's package with apt-get when missing and `install` is set."""
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    if not install:
        raise RuntimeError("nginx is not installed (apt-get install nginx)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("nginx is missing: apt-get install nginx", flush=True)
    subprocess.run(sudo + ["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-q", "nginx"], check=True, env=env)
    return find_nginx(install=False)


def nginx_config(listen: str, ports: list[int], run_dir: Path) -> str:
    """deploy/nginx.conf.in with the listen address, the Streamlit processes (balanced and by cookie) and the run folder."""
    addresses = [f"127.0.0.1:{port}" for port in ports]
    fields = {
        "@UPSTREAMS@": "\n".join(f"        server {a} max_fails=3 fail_timeout=10s;" for a in addresses),
        "@ROUTES@": "\n".join(f'        "{a}" process_{port};' for a, port in zip(addresses, ports)),
        "@KNOWN_ROUTES@": "\n".join(f'        "~^{re.escape(a)}\\|" "";' for a in addresses),
        "@PROCESS_UPSTREAMS@": "\n".join(
            f"    upstream process_{port} {{\n        server {a} max_fails=3 fail_timeout=10s;\n"
            + "".join(f"        server {b} backup;\n" for b in addresses if b != a) + "    }"
            for a, port in zip(addresses, ports)),
        "@LISTEN@": listen,
        "@RUN@": str(run_dir),
    }
    text = TEMPLATE.read_text()
    for field, value in fields.items():
        text = text.replace(field, value)
    return text


def healthy(port: int, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{HEALTH}", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


class Class:
    """The Streamlit processes and nginx of one run."""

    def __init__(self, processes: int, address: str, port: int, first_port: int, run_dir: Path, python: str,
                 install: bool = True) -> None:
        self.ports = [first_port + i for i in range(processes)]
        self.address, self.port, self.run_dir, self.python = address, port, run_dir, python
        self.nginx_binary = find_nginx(install)
        # One secret for every process: a cookie signed by one (XSRF token) is valid on all of them.
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32),
                    "OMP_NUM_THREADS": "1"}
        self.apps: dict[int, subprocess.Popen] = {}
        self.failures: dict[int, int] = {}
        self.nginx: subprocess.Popen | None = None

    def start_app(self, port: int) -> None:
        log = open(self.run_dir / f"streamlit-{port}.log", "ab")
        command = [self.python, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
                   "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
        self.apps[port] = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self.failures[port] = 0

    def wait_healthy(self, ports: list[int], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = set(ports)
        while waiting and time.monotonic() < deadline:
            for port in sorted(waiting):
                if self.apps[port].poll() is not None:
                    raise RuntimeError(f"streamlit on port {port} exited (see {self.run_dir}/streamlit-{port}.log)")
                if healthy(port):
                    waiting.discard(port)
            time.sleep(0.3)
        if waiting:
            raise RuntimeError(f"no answer on {HEALTH} from ports {sorted(waiting)} within {timeout:.0f} s")

    def start(self, timeout: float = 180.0) -> None:
        for port in self.ports:
            self.start_app(port)
        self.wait_healthy(self.ports, timeout)
        for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.run_dir / name).mkdir(exist_ok=True)
        config = self.run_dir / "nginx.conf"
        config.write_text(nginx_config(f"{self.address}:{self.port}", self.ports, self.run_dir))
        subprocess.run([self.nginx_binary, "-t", "-q", "-p", str(self.run_dir), "-c", str(config)], check=True)
        self.nginx = subprocess.Popen([self.nginx_binary, "-p", str(self.run_dir), "-c", str(config), "-g", "daemon off;"],
                                      stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.nginx.poll() is not None:
                raise RuntimeError(f"nginx exited with status {self.nginx.returncode} (see {self.run_dir}/error.log)")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{HEALTH}", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("nginx did not answer within 30 s")

    def check(self, failures_before_restart: int = 3) -> list[int]:
        """One round of health checks; restarts the processes that exited or failed this many checks in a row."""
        restarted = []
        for port, process in list(self.apps.items()):
            if process.poll() is None and healthy(port):
                self.failures[port] = 0
                continue
            self.failures[port] += 1
            if process.poll() is not None or self.failures[port] >= failures_before_restart:
                print(f"streamlit on port {port} {'exited' if process.poll() is not None else 'stopped answering'}: "
                      "restarting it", flush=True)
                self.stop_process(process)
                self.start_app(port)
                restarted.append(port)
        return restarted

    @staticmethod
    def stop_process(process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def stop(self) -> None:
        if self.nginx is not None:
            self.stop_process(self.nginx)
        for process in self.apps.values():
            self.stop_process(process)

    def pids(self) -> dict[int, int]:
        """Streamlit port → pid."""
        return {port: process.pid for port, process in self.apps.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="Streamlit processes (default: one per core, here %(default)s)")
    parser.add_argument("--address", default="0.0.0.0", help="where nginx listens (default 0.0.0.0: the whole network)")
    parser.add_argument("--port", type=int, default=8080, help="nginx's port (default 8080)")
    parser.add_argument("--first-port", type=int, default=8601,
                        help="the Streamlit processes listen on 127.0.0.1 from this port on (default 8601)")
    parser.add_argument("--run-dir", help="folder for nginx.conf and the logs (default: a new temporary folder)")
    parser.add_argument("--python", default=sys.executable, help="the Python with the app installed (default: this one)")
    parser.add_argument("--check-every", type=float, default=5.0, help="seconds between health checks (default 5)")
    parser.add_argument("--no-install", action="store_true", help="fail instead of installing nginx with apt-get")
    args = parser.parse_args(argv)
    if not 1 <= args.processes <= 64:
        parser.error("--processes must be between 1 and 64")
    run_dir = Path(args.run_dir or tempfile.mkdtemp(prefix="cnn-course-")).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds through the finally below
    group = Class(args.processes, args.address, args.port, args.first_port, run_dir, args.python, not args.no_install)
    try:
        group.start()
        shown = "127.0.0.1" if args.address in ("0.0.0.0", "::") else args.address
        print(f"ready: http://{shown}:{args.port} → {args.processes} Streamlit processes "
              f"(ports {group.ports[0]}–{group.ports[-1]}, pids {' '.join(map(str, group.pids().values()))}); "
              f"files in {run_dir}", flush=True)
        while True:
            time.sleep(args.check_every)
            if group.nginx.poll() is not None:
                print(f"nginx exited with status {group.nginx.returncode} (see {run_dir}/error.log)", flush=True)
                return 1
            group.check()
    except KeyboardInterrupt:
        return 0
    finally:
        group.stop()


if __name__ == "__main__":
    sys.exit(main())
