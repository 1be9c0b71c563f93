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

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.conftest import ROOT, encode, wait_idle
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


def _run(coroutine):
    """In a thread of its own: the browser tests' Playwright keeps an event loop running in this one."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_two_students_each_stay_on_their_process_and_get_the_playground(front) -> None:
    url, backends, run_dir = front
    config = (run_dir / "nginx.conf").read_text()
    assert "least_conn" in config and "proxy_set_header Upgrade $http_upgrade" in config
    # A first request holds nothing, so it names no process: only Streamlit's XSRF cookie comes back.
    request = urllib.request.Request(url + "/_stcore/health")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert [c.split("=")[0] for c in response.headers.get_all("Set-Cookie")] == [loadtest.XSRF_COOKIE]

    async def arrive() -> dict[str, loadtest.Student]:
        """Two new browsers, the second while the first is connected; the websocket's answer names the process."""
        students = [loadtest.Student(i, url, "en") for i in range(2)]
        for student in students:
            await student.connect(60)
        for student in students:
            await student.close()
            assert student.cookie and student.cookies["cnn_route"] == student.served_by  # XSRF token and route
        return {student.served_by: student for student in students}

    students = _run(arrive())
    assert sorted(students) == [f"127.0.0.1:{port}" for port in backends]  # the second went where fewer are open

    async def visit(student: loadtest.Student) -> None:
        try:
            await loadtest.student_script(student, loadtest.png_bytes(student.index), 120, 0, random.Random(0))
        finally:
            await student.close()

    async def both() -> None:
        await asyncio.gather(*(visit(s) for s in students.values()))

    for student in students.values():  # student_script connects again, with the cookies the browser already has
        student.connect = _keep_cookies(student)
    _run(both())
    for process, student in students.items():
        assert student.errors == [], student.errors
        assert student.steps_done == list(loadtest.STEPS)  # the playground, a click, an upload (a PUT), the network page
        assert student.served_by == process  # the websocket went where the cookie said
        assert {_served_by(url, student.cookie_header()) for _ in range(5)} == {process}  # and every later request


def test_the_open_websockets_are_what_is_balanced_and_a_forged_route_gets_a_real_one(front) -> None:
    """Each new browser's websocket goes to the process with the fewest open connections, and its answer sets the
    cookie that keeps the browser there: students arriving in the same instant split evenly, and a process whose
    students left gets the next ones."""
    url, backends, _ = front
    addresses = [f"127.0.0.1:{port}" for port in backends]

    async def arrive() -> tuple[list[str], list[str]]:
        students = [loadtest.Student(100 + i, url, "en") for i in range(8)]
        later = [loadtest.Student(200 + i, url, "en") for i in range(2)]
        try:
            await asyncio.gather(*(student.connect(60) for student in students))  # a class arriving in one instant
            together = [student.served_by for student in students]
            leaving = [student for student in students if student.served_by == addresses[0]][:2]
            await asyncio.gather(*(student.close() for student in leaving))
            await asyncio.sleep(1)
            await asyncio.gather(*(student.connect(60) for student in later))  # two more, while 2 and 4 are open
            return together, [student.served_by for student in later]
        finally:
            await asyncio.gather(*(student.close() for student in students + later))

    together, later = _run(arrive())
    assert sorted(together.count(a) for a in addresses) == [4, 4], together
    assert later == [addresses[0]] * 2, later

    async def forged() -> loadtest.Student:
        student = loadtest.Student(300, url, "en", cookies={"cnn_route": "10.0.0.1:22"})
        await student.connect(60)
        await student.close()
        return student

    student = _run(forged())
    assert student.served_by in addresses and student.cookies["cnn_route"] == student.served_by


def _page_load_in_flight(url: str) -> socket.socket:
    """A browser without a route cookie still downloading one of the page's scripts (Plotly's, 4.7 MB) over a slow
    network, as many are while a class arrives: nginx holds a connection to one process until the download ends."""
    import streamlit

    static = Path(streamlit.__file__).parent / "static"
    script = max(static.glob("static/js/*.js"), key=lambda path: path.stat().st_size)
    host, port = url.removeprefix("http://").split(":")
    connection = socket.socket()
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # and never read: a slow phone
    connection.settimeout(10)
    connection.connect((host, int(port)))
    connection.sendall(f"GET /{script.relative_to(static).as_posix()} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                       "Accept-Encoding: identity\r\n\r\n".encode())
    return connection


def test_page_loads_in_flight_do_not_count_as_students(front) -> None:
    """Only open websockets are balanced: a student arriving while another browser's page is still loading goes to the
    process with fewer students (with one group for both, that page load had counted as a student: a tie)."""
    url, backends, _ = front

    async def trial() -> list[str]:
        students = [loadtest.Student(400 + i, url, "en") for i in range(2)]
        loading = []
        try:
            await students[0].connect(60)
            loading.append(_page_load_in_flight(url))  # with one group: sent to the other process, the one with none
            await asyncio.sleep(0.5)
            await students[1].connect(60)
            return [student.served_by for student in students]
        finally:
            for connection in loading:
                connection.close()
            await asyncio.gather(*(student.close() for student in students))
            await asyncio.sleep(0.5)

    for _ in range(4):  # a tie would be broken by a round-robin that has moved on with every request
        first, second = _run(trial())
        assert first != second and {first, second} == {f"127.0.0.1:{port}" for port in backends}, (first, second)


def test_the_load_tests_warm_up_reaches_every_process(front) -> None:
    """scripts/loadtest.py --url warms each process before the class (its first run imports torch and loads the
    network): its visits stay connected, so that nginx sends each next one to the process with fewer open websockets."""
    url, backends, _ = front
    results = _run(loadtest.run_load_async(2, url, step_timeout=60, overall_timeout=300))
    assert results["warmup"]["processes"] == [f"127.0.0.1:{port}" for port in backends], results["warmup"]
    assert results["warmup"]["errors"] == [] and results["errors"] == 0 and results["completed_sessions"] == 2


def test_a_real_browser_keeps_the_route_from_the_websocket_and_uploads_to_its_process(front, browser, tmp_path) -> None:
    """Chromium stores the cookie that the websocket's answer (101) sets, so its upload reaches the process that holds
    its session (on another one the upload would be refused). A second browser, while the first is open, gets the
    other process."""
    url, backends, _ = front
    file = tmp_path / "photo.png"
    y, x = np.mgrid[0:90, 0:120]
    file.write_bytes(encode(np.stack([x * 2, y * 2, x + y], axis=2).astype(np.uint8)))
    contexts, routes = [], []
    try:
        for _ in range(2):
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
            contexts.append(context)
            page = context.new_page()
            uploads: list[tuple[int, str]] = []
            page.on("response", lambda r, uploads=uploads: uploads.append((r.status, r.headers.get("x-served-by", "")))
                    if "/_stcore/upload_file/" in r.url else None)
            page.goto(url + "/?lang=en")
            expect(page.get_by_role("heading", name="Convolution playground")).to_be_visible(timeout=60_000)
            wait_idle(page)
            route = [c["value"] for c in context.cookies() if c["name"] == "cnn_route"]
            assert len(route) == 1 and route[0] in {f"127.0.0.1:{port}" for port in backends}, context.cookies()
            routes.append(route[0])
            page.get_by_text("Upload an image").click()
            page.locator("input[type=file]").set_input_files(str(file))
            wait_idle(page)
            expect(page.get_by_text("Input 90×120")).to_be_visible(timeout=30_000)
            expect(page.locator(".stException")).to_have_count(0)
            assert uploads == [(204, route[0])], uploads
    finally:
        for context in contexts:
            context.close()
    assert routes[0] != routes[1], routes


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
