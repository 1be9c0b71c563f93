"""The multi-process front (deploy/serve.py): two Streamlit processes behind Debian's nginx, on loopback."""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import random
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_load_smoke import loadtest


def _module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


serve = _module("serve", ROOT / "deploy" / "serve.py")


def _free_ports(count: int) -> int:
    """The first of `count` consecutive ports on 127.0.0.1 that nothing listens on."""
    for _ in range(50):
        first = random.randrange(20_000, 60_000)
        try:
            sockets = []
            for port in range(first, first + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free ports")


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory):
    try:
        serve.find_nginx(install=True)  # what serve.py does on a fresh machine: Debian's package
    except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"nginx is not installed and could not be installed with apt-get here: {error}")
    port, first = _free_ports(1), _free_ports(2)
    run_dir = tmp_path_factory.mktemp("front")
    log = (run_dir / "serve.log").open("wb")
    process = subprocess.Popen([sys.executable, str(ROOT / "deploy" / "serve.py"), "--processes", "2", "--address", "127.0.0.1",
                                "--port", str(port), "--first-port", str(first), "--run-dir", str(run_dir), "--no-install"],
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 240
    while "ready:" not in (run_dir / "serve.log").read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("deploy/serve.py did not start: " + (run_dir / "serve.log").read_text()[-3000:])
        time.sleep(0.5)
    yield f"http://127.0.0.1:{port}", [first, first + 1], run_dir
    process.terminate()
    process.wait(timeout=30)
    for backend in (first, first + 1):  # serve.py stopped its Streamlit processes too
        assert not serve.healthy(backend, timeout=1)


def _served_by(url: str, cookie: str) -> str:
    request = urllib.request.Request(url + "/_stcore/health", headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return response.headers["X-Served-By"]


def test_two_students_each_stay_on_their_process_and_get_the_playground(front) -> None:
    url, backends, run_dir = front
    config = (run_dir / "nginx.conf").read_text()
    assert "least_conn" in config and "proxy_set_header Upgrade $http_upgrade" in config
    # New browsers until two land on different processes (each lands on either with probability 1/2).
    students: dict[str, loadtest.Student] = {}
    for i in range(30):
        student = loadtest.Student(i, url, "en")
        student.cookie = student._xsrf_cookie()
        assert "cnn_route" in student.cookies and student.cookie  # nginx's route and Streamlit's XSRF token
        students.setdefault(_served_by(url, student.cookie_header()), student)
        if len(students) == 2:
            break
    assert sorted(students) == [f"127.0.0.1:{port}" for port in backends]

    async def visit(student: loadtest.Student) -> None:
        try:
            await loadtest.student_script(student, loadtest.png_bytes(student.index), 120, 0, random.Random(0))
        finally:
            await student.close()

    async def both() -> None:
        await asyncio.gather(*(visit(s) for s in students.values()))

    for student in students.values():  # student_script connects with the cookies the browser already has
        student.connect = _keep_cookies(student)
    # In a thread of its own: the browser tests' Playwright keeps an event loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, both()).result()
    for process, student in students.items():
        assert student.errors == [], student.errors
        assert student.steps_done == list(loadtest.STEPS)  # the playground, a click, an upload (a PUT), the network page
        assert student.served_by == process  # the websocket went where the cookie said
        assert {_served_by(url, student.cookie_header()) for _ in range(5)} == {process}  # and every later request


def test_new_students_spread_evenly_and_a_forged_route_gets_a_real_one(front) -> None:
    """Each new browser's first request goes to the process with the fewest open connections of the balanced group
    (first requests only: the websockets go through each process's own group), then stays there by its cookie."""
    url, backends, _ = front
    students = [loadtest.Student(100 + i, url, "en") for i in range(6)]

    async def arrive() -> list[str]:
        try:
            for student in students:  # one after the other, each keeping its websocket open, as a class arrives
                await student.connect(60)
            return [student.served_by for student in students]
        finally:
            await asyncio.gather(*(student.close() for student in students))

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        served = pool.submit(asyncio.run, arrive()).result()
    assert sorted(served.count(f"127.0.0.1:{port}") for port in backends) == [3, 3], served
    assert all(student.cookies["cnn_route"] == student.served_by for student in students)
    forged = urllib.request.Request(url + "/_stcore/health", headers={"Cookie": "cnn_route=10.0.0.1:22"})
    with urllib.request.urlopen(forged, timeout=30) as response:
        served_by = response.headers["X-Served-By"]
        assert served_by in {f"127.0.0.1:{port}" for port in backends}
        assert any(c.startswith(f"cnn_route={served_by};") for c in response.headers.get_all("Set-Cookie"))


def _keep_cookies(student: loadtest.Student):
    """student.connect without a second health request: the browser keeps its cookies between requests."""
    connect = type(student).connect

    async def again(timeout: float) -> None:
        cookies = dict(student.cookies)
        await connect(student, timeout)
        assert student.cookies["cnn_route"] == cookies["cnn_route"]
    return again


def test_the_nginx_configuration_has_one_server_per_process(tmp_path: Path) -> None:
    text = serve.nginx_config("127.0.0.1:9000", [8601, 8602, 8603], tmp_path)
    assert "listen 127.0.0.1:9000;" in text and not any(f"@{n}@" in text for n in ("LISTEN", "UPSTREAMS", "RUN"))
    assert f"pid {tmp_path}/nginx.pid;" in text
    balanced = text[text.index("upstream streamlit {"):].split("}", 1)[0]
    assert [line.split()[1] for line in balanced.splitlines() if line.strip().startswith("server 127.")] == [
        "127.0.0.1:8601", "127.0.0.1:8602", "127.0.0.1:8603"]
    assert '"127.0.0.1:8602" process_8602;' in text and "upstream process_8602 {" in text
