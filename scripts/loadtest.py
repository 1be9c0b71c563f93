"""A class at once: concurrent sessions drive the app over Streamlit's own websocket protocol, no browsers.

Each simulated student opens the convolution playground in Spanish (?lang=es), changes the kernel, the stride and
the padding, switches the image source to an upload and uploads a small PNG, then opens the CIFAR-10 network page.
Every rerun is timed from the BackMsg that asks for it to the ForwardMsg.script_finished that ends it; errors are
exceptions in the deltas, error boxes, disconnects, timeouts and script_finished statuses other than success.

Run:  .venv/bin/python scripts/loadtest.py --sessions 40                  (starts `streamlit run app.py` on 127.0.0.1)
      .venv/bin/python scripts/loadtest.py --sessions 40 --url http://127.0.0.1:8501   (a server already running here)
By default the students arrive over 10 s and pause 1 to 3 s between steps (--think 2: the mean, uniform within ±50 %),
a class following the teacher; --think 0 --ramp 0 has every student click at the same instant, the worst case.
With --trainers N, N more sessions open "Train a network", press Train (the default run) and watch it, their page's
fragment rerunning every second as a browser's timer makes it; --compare runs the class without and then with them and
prints the ordinary students' p95 both times: .venv/bin/python scripts/loadtest.py --sessions 30 --trainers 10 --compare
Before the class, each process has a warm-up visit that is not measured (its first run imports torch and loads the
network; behind nginx the visits stay connected until every process has had one); --no-warmup measures it too.
Options: --think S, --ramp S, --timeout, --step-timeout, --server-env NAME=VALUE, --json FILE. Exit status 0 only when
every student finished every step without an error and the p95 rerun latency is under 1 s.
From Python: `run_load(sessions=40)` returns the results dict that the CLI prints.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import ctypes
import io
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.Common_pb2 import FileURLs, FileURLsResponse, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnn_core.i18n import translate  # noqa: E402  (the page titles a student sees in the menu)

STREAM_PATH = "/_stcore/stream"
HEALTH_PATH = "/_stcore/health"
XSRF_COOKIE = "_streamlit_xsrf"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
# A run that stopped for st.rerun() or a newer request is followed by another run; only these end what we asked for.
FINAL_STATUSES = {ForwardMsg.FINISHED_SUCCESSFULLY: "ok", ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "ok",
                  ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile_error"}
# The playground is the default page: st.navigation serves it at "/" whatever its url_path (a link to the url_path
# gets a page_not_found), so a student opens the root, as the shared link does.
PLAYGROUND_PATH = ""
# The network page as a student finds it in the menu: by its title, else by one of the url paths it has had.
NETWORK_TITLE, NETWORK_PATHS = "nav.predictions", ("predictions", "network")
STEPS = ("open_playground", "kernel", "stride", "padding", "pixel", "source_upload", "upload", "open_network")
# What a student may receive per step, in bytes (issue 11): a playground change 150 kB, a click on the feature map
# 50 kB, opening the network page 300 kB. Opening the playground and uploading a photo send a new image: not budgeted.
BUDGETS = {"kernel": 150_000, "stride": 150_000, "padding": 150_000, "pixel": 50_000, "open_network": 300_000}
# A trainer opens "Train a network", presses Train with the default network and watches: the page's st.fragment asks
# for a rerun of itself every second (AutoRerun), as the browser's timer does, until the run ends or train_seconds pass.
TRAIN_TITLE, TRAIN_PATHS = "nav.train", ("train",)
TRAINER_STEPS = ("open_train", "press_train", "watch")


# --- the server: started here on loopback, or one already running on loopback ---------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: SIGTERM when the load test dies, even by SIGKILL, so no server outlives it (Linux prctl)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start_server(port: int, log: io.IOBase, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`streamlit run app.py` on 127.0.0.1:port; its output goes to `log` (a pipe nobody reads could block it)."""
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, preexec_fn=_die_with_parent)


def wait_healthy(base_url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Until /_stcore/health answers 200; RuntimeError if the server exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"streamlit exited with status {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(base_url + HEALTH_PATH, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer {base_url}{HEALTH_PATH} within {timeout:.0f} s")


def stop_server(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it has not exited after 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def check_loopback(base_url: str) -> str:
    """The URL without a trailing slash, if it is http on a loopback host; ValueError otherwise."""
    parsed = urllib.parse.urlsplit(base_url)
    if parsed.scheme != "http" or parsed.hostname not in LOOPBACK_HOSTS or not parsed.port:
        raise ValueError(f"only http://127.0.0.1:PORT (loopback, explicit port) may be load-tested, not {base_url!r}")
    return base_url.rstrip("/")


def find_listener_pid(port: int) -> int | None:
    """The pid of a process of ours listening on TCP `port` (via /proc), or None."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A = LISTEN
                inodes.add(fields[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in {f"socket:[{i}]" for i in inodes}:
                    return int(pid)
        except OSError:
            continue
    return None


# --- the server process's memory and CPU, from /proc ------------------------------------------------------------------


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak resident set since the process started) in kB; empty if unreadable."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in text.splitlines()) if k in {"VmRSS", "VmHWM"}}


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds the process (all its threads) has used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


async def sample_rss(pid: int, peak: list[int], period: float = 0.2) -> None:
    """Keep peak[0] at the largest VmRSS seen (for a server started before us, whose VmHWM predates the test)."""
    while True:
        peak[0] = max(peak[0], memory_kb(pid).get("VmRSS", 0))
        await asyncio.sleep(period)


# --- one simulated student ----------------------------------------------------------------------------------------------


def png_bytes(seed: int, side: int = 128) -> bytes:
    """A PNG of a few tens of kB: gradients, a bright square and noise, different for every seed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side]
    pixels = np.stack([x * 255 // side, y * 255 // side, np.full_like(x, 128)], axis=2).astype(np.int16)
    r0, c0 = rng.integers(0, side // 2, 2)
    pixels[r0 : r0 + side // 3, c0 : c0 + side // 3] = 230
    pixels += rng.integers(-40, 41, pixels.shape, dtype=np.int16)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


class StepFailed(Exception):
    """A step cannot go on (disconnect, timeout, missing widget, failed upload); kind names which."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind, self.detail = kind, detail


@dataclass
class Rerun:
    step: str
    latency: float
    bytes: int
    status: str


def pixelmap_header(data: bytes) -> dict | None:
    """The JSON header of a ui.pixelmap payload: 4 bytes of length, then the header; None for other data, such as the
    frames' JSON list (ui.pixelmap.payload_header; this client does not import the app)."""
    if data[:1] != b"\0":
        return None
    size = int.from_bytes(data[:4], "big")
    return json.loads(data[4 : 4 + size])


@dataclass
class Student:
    """A browser tab, as far as the server can tell: a websocket, widget states, a message cache and a page."""

    index: int
    base_url: str
    lang: str = "es"
    ws: ClientConnection | None = None
    cookie: str = ""
    cookies: dict[str, str] = field(default_factory=dict)         # every cookie the server set (nginx's route too)
    served_by: str = ""                                           # the process behind nginx (its X-Served-By header)
    session_id: str = ""
    query_string: str = ""
    pages: list[tuple[str, str, str]] = field(default_factory=list)  # (url path, title, page_script_hash) in the menu
    page_hash: str = ""                                           # the page the last run drew
    step: str = "-"                                               # the step under way, for error records
    widgets: dict[str, tuple[str, object]] = field(default_factory=dict)  # user key → (element type, proto), last run
    fragments: dict[str, str] = field(default_factory=dict)       # user key → the st.fragment that drew the widget
    states: dict[str, WidgetState] = field(default_factory=dict)  # widget id → the value this tab holds
    cache: dict[str, ForwardMsg] = field(default_factory=dict)    # hash → cacheable message, as the frontend keeps it
    reruns: list[Rerun] = field(default_factory=list)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (step, kind, detail)
    timings: dict[str, float] = field(default_factory=dict)
    steps_done: list[str] = field(default_factory=list)
    _changed: dict[str, str] = field(default_factory=dict)        # widget id → key, set since the last rerun
    auto_reruns: dict[str, float] = field(default_factory=dict)   # fragment id → seconds, as the server asked
    _file_urls: asyncio.Future | None = None
    _received: int = 0
    _fragment_run: bool = False                                   # a fragment's rerun redraws only that fragment

    # -- transport ---------------------------------------------------------------------------------------------------

    async def connect(self, timeout: float) -> None:
        """The XSRF cookie from /_stcore/health, then the websocket with the subprotocols the frontend sends."""
        start = time.perf_counter()
        self.cookie = await asyncio.to_thread(self._xsrf_cookie)
        ws_url = "ws" + self.base_url[len("http"):] + STREAM_PATH
        # Sec-WebSocket-Protocol: "streamlit", then the XSRF token (the frontend's order; a third entry would resume a
        # session by id). The server selects the first.
        protocols = ["streamlit"] + ([self.cookie] if self.cookie else [])
        headers = {"Origin": self.base_url, **({"Cookie": self.cookie_header()} if self.cookies else {})}
        self.ws = await connect(ws_url, subprotocols=protocols, additional_headers=headers, open_timeout=timeout,
                                max_size=64 * 2**20, user_agent_header="cnn-course-loadtest")
        self.served_by = self.ws.response.headers.get("X-Served-By", "")
        self._keep(self.ws.response.headers.get_all("Set-Cookie"))  # nginx names the process on the handshake
        self.timings["connect"] = time.perf_counter() - start

    def _xsrf_cookie(self) -> str:
        """GET /_stcore/health, keeping every cookie it sets (as a browser would); the XSRF token."""
        request = urllib.request.Request(self.base_url + HEALTH_PATH, headers={"Cookie": self.cookie_header()})
        with urllib.request.urlopen(request, timeout=30) as response:
            self._keep(response.headers.get_all("Set-Cookie") or [])
        return self.cookies.get(XSRF_COOKIE, "")

    def _keep(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def _send(self, msg: BackMsg) -> None:
        try:
            await self.ws.send(msg.SerializeToString())
        except ConnectionClosed as closed:
            raise StepFailed("disconnect", f"while sending: {closed}") from closed

    async def _receive(self, step: str) -> ForwardMsg:
        try:
            data = await self.ws.recv()
        except ConnectionClosed as closed:
            raise StepFailed("disconnect", str(closed)) from closed
        self._received += len(data)
        msg = ForwardMsg()
        msg.ParseFromString(data)
        if msg.WhichOneof("type") == "ref_hash":  # the server trusts that we still hold this one (we said so)
            if msg.ref_hash not in self.cache:
                raise StepFailed("protocol", f"ref_hash {msg.ref_hash} that this tab never cached")
            msg = self.cache[msg.ref_hash]
        elif msg.metadata.cacheable and msg.hash:
            self.cache[msg.hash] = msg
        self._inspect(step, msg)
        return msg

    def _inspect(self, step: str, msg: ForwardMsg) -> None:
        """Remember what a browser would (session id, pages, widgets, query string) and note every error."""
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.session_id = msg.new_session.initialize.session_id or self.session_id
            if not self._fragment_run:
                self.widgets, self.fragments = {}, {}
            if not msg.metadata.run.fragment_ids:  # a full run, even one a fragment's st.rerun() started
                self.auto_reruns = {}  # the frontend drops its timers; the run sends the ones still wanted
        elif kind == "navigation":  # st.navigation's page list replaces any other, as in the frontend
            self.pages = [(p.url_pathname, p.page_name, p.page_script_hash) for p in msg.navigation.app_pages]
            self.page_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "auto_rerun":
            self.auto_reruns[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        elif kind == "stop_auto_rerun":
            for fragment_id in msg.stop_auto_rerun.fragment_ids or list(self.auto_reruns):
                self.auto_reruns.pop(fragment_id, None)
        elif kind == "page_not_found":
            self.errors.append((step, "page_not_found", msg.page_not_found.page_name))
        elif kind == "file_urls_response" and self._file_urls is not None and not self._file_urls.done():
            self._file_urls.set_result(msg.file_urls_response)
        elif kind == "session_event" and msg.session_event.WhichOneof("type") == "script_compilation_exception":
            error = msg.session_event.script_compilation_exception
            self.errors.append((step, "compile_error", f"{error.type}: {error.message}"))
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            etype = element.WhichOneof("type")
            if etype == "exception":
                self.errors.append((step, "exception", f"{element.exception.type}: {element.exception.message}"[:300]))
            elif etype == "alert" and element.alert.format == Alert.ERROR:
                self.errors.append((step, "error_box", element.alert.body[:300]))
            elif etype is not None:
                widget = getattr(element, etype)
                widget_id = getattr(widget, "id", "") if hasattr(widget, "DESCRIPTOR") else ""
                # ui.pixelmap: a map has no key, its payload's header names it
                if etype == "bidi_component" and (head := pixelmap_header(widget.bytes)) is not None:
                    name = head.get("id", "")
                    if name not in self.widgets:
                        self.widgets[name], self.fragments[name] = (etype, widget), msg.delta.fragment_id
                if widget_id.startswith("$$ID-"):
                    user_key = widget_id.split("-", 2)[-1]  # streamlit's element ids end with the user key
                    self.widgets[user_key if user_key != "None" else widget_id] = (etype, widget)
                    self.fragments[user_key if user_key != "None" else widget_id] = msg.delta.fragment_id

    # -- what a browser sends ------------------------------------------------------------------------------------------

    def _client_state(self, page_script_hash: str, page_name: str, fragment_id: str = "", auto: bool = False) -> ClientState:
        path = page_name or next((p for p, _, h in self.pages if h == page_script_hash), "")
        return ClientState(
            query_string=self.query_string,
            widget_states=WidgetStates(widgets=list(self.states.values())),
            page_script_hash=page_script_hash,
            page_name=page_name,
            fragment_id=fragment_id,
            is_auto_rerun=auto,
            cached_message_hashes=list(self.cache),
            context_info=ContextInfo(timezone="Europe/Madrid", timezone_offset=-60, is_embedded=False,
                                     locale={"es": "es-ES", "en": "en-US"}.get(self.lang, self.lang),
                                     url=f"{self.base_url}/{path}?{self.query_string}", color_scheme="light"),
        )

    async def rerun(self, step: str, page_script_hash: str = "", page_name: str = "", fragment_id: str = "",
                    auto: bool = False) -> Rerun:
        """Ask for a run and read everything until its script_finished; the time between the two is the latency.

        With fragment_id (a widget drawn inside an st.fragment changed, as the frontend sends it) only that fragment runs.
        """
        msg = BackMsg()
        msg.rerun_script.CopyFrom(self._client_state(page_script_hash, page_name, fragment_id, auto))
        self._fragment_run = bool(fragment_id)
        received, errors = self._received, len(self.errors)
        changed, self._changed = self._changed, {}
        start = time.perf_counter()
        await self._send(msg)
        while True:
            reply = await self._receive(step)
            if reply.WhichOneof("type") == "script_finished" and reply.script_finished in FINAL_STATUSES:
                break
        latency = time.perf_counter() - start
        status = FINAL_STATUSES[reply.script_finished]
        if status != "ok":
            self.errors.append((step, "finished_" + status, ""))
        self._fragment_run = False
        # A value sent for a widget id that this run did not draw was dropped: the student's change did not happen.
        present = {w.id for _, w in self.widgets.values()}
        for widget_id in changed.keys() - present:
            self.errors.append((step, "widget_state_lost", f"{changed[widget_id]}: no widget {widget_id} in the run"))
        # Like the frontend, forget the values of widgets this run did not draw.
        self.states = {wid: s for wid, s in self.states.items() if wid in present}
        result = Rerun(step, latency, self._received - received, status if len(self.errors) == errors else "error")
        self.reruns.append(result)
        return result

    def expect(self, step: str, key: str, why: str) -> None:
        """The last run must have drawn the element with this key (its absence means the step did nothing)."""
        if key not in self.widgets:
            raise StepFailed("incomplete_page", f"{step}: no {key!r}, so {why}")

    def page(self, title_key: str, paths: tuple[str, ...]) -> str:
        """The page_script_hash of the menu entry titled t(title_key), else of the first of `paths` in the menu."""
        title = translate(title_key, self.lang)
        by_title = [h for _, name, h in self.pages if name == title]
        by_path = [h for path in paths for p, _, h in self.pages if p == path]
        if not by_title + by_path:
            raise StepFailed("missing_page", f"no {title!r} nor {'/'.join(paths)} in {[p for p, _, _ in self.pages]}")
        return (by_title + by_path)[0]

    def widget(self, key: str, etype: str):
        """The proto of the widget with this user key that the last run drew."""
        if key not in self.widgets or self.widgets[key][0] != etype:
            found = self.widgets.get(key, ("nothing",))[0]
            raise StepFailed("missing_widget", f"no {etype} with key {key!r} in the last run (found {found})")
        return self.widgets[key][1]

    def set_option(self, key: str, etype: str, choose) -> str:
        """Pick an option of a selectbox/radio by its label, as the frontend sends it (the formatted string)."""
        widget = self.widget(key, etype)
        options = list(widget.options)
        current = widget.raw_value if widget.set_value else (options[widget.default] if options else "")
        label = choose(options, current)
        self.states[widget.id] = WidgetState(id=widget.id, string_value=label)
        self._changed[widget.id] = key
        return label

    def press(self, key: str) -> str:
        """Click a button: its trigger is sent with the next rerun only (the caller forgets it after that rerun)."""
        widget = self.widget(key, "button")
        self.states[widget.id] = WidgetState(id=widget.id, trigger_value=True)
        self._changed[widget.id] = key
        return widget.id

    def click_map(self, key: str, fx: float, fy: float) -> str:
        """A click at (fx, fy) of the map `key` (ui.pixelmap), as its JavaScript reports it: a trigger {row, col} of the
        component's event aggregator; the id of the fragment to rerun ("" for the whole page)."""
        widget = self.widget(key, "bidi_component")
        rows, cols = self.map_shape(key)
        value = {"row": int(fy * rows), "col": int(fx * cols)}
        trigger = f"$$STREAMLIT_INTERNAL_KEY_{widget.id}__events"  # streamlit.components.v2.bidi_component.main
        # One run only, as the frontend clears a trigger: the states of widgets the run did not draw are forgotten.
        self.states[trigger] = WidgetState(id=trigger, json_trigger_value=json.dumps([{"event": "click", "value": value}]))
        self._changed[widget.id] = key
        return self.fragments.get(key, "")

    def map_shape(self, key: str) -> tuple[int, int]:
        """Rows and columns of the map `key` drawn in the last run (the header of its payload, see ui.pixelmap)."""
        head = pixelmap_header(self.widget(key, "bidi_component").bytes)
        return head["rows"], head["cols"]

    def number_value(self, key: str) -> float:
        """The value a number_input drawn in the last run shows."""
        widget = self.widget(key, "number_input")
        return widget.value if widget.HasField("value") else widget.default

    def set_number(self, key: str, value: float) -> None:
        widget = self.widget(key, "number_input")
        if widget.data_type == NumberInput.INT:
            self.states[widget.id] = WidgetState(id=widget.id, int_value=int(value))
        else:
            self.states[widget.id] = WidgetState(id=widget.id, double_value=float(value))
        self._changed[widget.id] = key

    async def upload(self, step: str, key: str, name: str, data: bytes, mime: str, timeout: float) -> float:
        """file_urls_request → file_urls_response → HTTP PUT (multipart) → the widget's FileUploaderState; seconds."""
        widget = self.widget(key, "file_uploader")
        start = time.perf_counter()
        msg = BackMsg()
        request_id = uuid.uuid4().hex
        msg.file_urls_request.request_id = request_id
        msg.file_urls_request.session_id = self.session_id
        msg.file_urls_request.file_names.append(name)
        self._file_urls = asyncio.get_running_loop().create_future()
        await self._send(msg)
        while not self._file_urls.done():
            await self._receive(step)
        response: FileURLsResponse = self._file_urls.result()
        if response.error_msg or response.response_id != request_id or len(response.file_urls) != 1:
            raise StepFailed("upload", f"file_urls_response: {response.error_msg or 'unexpected reply'}")
        urls = response.file_urls[0]
        status = await asyncio.to_thread(self._put, urls.upload_url, name, data, mime, timeout)
        if status not in (200, 204):
            raise StepFailed("upload", f"PUT {urls.upload_url} answered {status}")
        info = UploadedFileInfo(name=name, size=len(data), file_id=urls.file_id,
                                file_urls=FileURLs(file_id=urls.file_id, upload_url=urls.upload_url, delete_url=urls.delete_url))
        state = WidgetState(id=widget.id)
        state.file_uploader_state_value.uploaded_file_info.append(info)
        self.states[widget.id] = state
        self._changed[widget.id] = key
        self.timings["upload_put"] = time.perf_counter() - start
        return self.timings["upload_put"]

    def _put(self, url: str, name: str, data: bytes, mime: str, timeout: float) -> int:
        target = urllib.parse.urljoin(self.base_url + "/", url)
        check_loopback(urllib.parse.urlunsplit(urllib.parse.urlsplit(target)[:2] + ("", "", "")))
        boundary = "----cnnloadtest" + uuid.uuid4().hex
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                f"Content-Type: {mime}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Origin": self.base_url}
        if self.cookie:
            headers |= {"X-Xsrftoken": self.cookie}
        if self.cookies:
            headers |= {"Cookie": self.cookie_header()}
        request = urllib.request.Request(target, data=body, method="PUT", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


def _other_kernel(index: int):
    """A kernel different from the current one, spread over the class; never the last option (the custom editor)."""
    def choose(options: list[str], current: str) -> str:
        presets = [o for o in options[:-1] if o != current]
        return presets[index % len(presets)]
    return choose


async def student_script(student: Student, png: bytes, step_timeout: float, think: float, rng: random.Random) -> None:
    """The realistic visit; raises StepFailed at the first step that cannot go on."""

    async def step(name: str, action) -> None:
        student.step = name
        try:
            await asyncio.wait_for(action(), step_timeout)
        except TimeoutError as error:
            raise StepFailed("timeout", f"{name} took over {step_timeout:.0f} s") from error
        student.steps_done.append(name)
        if think > 0:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))

    async def open_playground() -> None:
        student.query_string = f"lang={student.lang}"
        await student.rerun("open_playground", page_name=PLAYGROUND_PATH)
        student.expect("open_playground", "pg_input", "the playground did not draw its image")

    async def kernel() -> None:
        student.set_option("pg_kernel", "selectbox", _other_kernel(student.index))
        await student.rerun("kernel", student.page_hash)

    async def stride() -> None:
        student.set_number("pg_stride", 2)
        await student.rerun("stride", student.page_hash)

    async def padding() -> None:
        student.set_number("pg_padding", 1)
        await student.rerun("padding", student.page_hash)

    async def pixel() -> None:  # a click on the feature map: only the inspector's fragment reruns
        before = student.number_value("pg_row")
        fragment = student.click_map("pg_fmap", 0.2, 0.2)
        await student.rerun("pixel", student.page_hash, fragment_id=fragment)
        if student.number_value("pg_row") == before:
            raise StepFailed("click_lost", f"the inspector's row stayed {before} after a click on the feature map")

    async def source_upload() -> None:
        student.set_option("pg_source", "radio", lambda options, current: options[1])  # sample, upload, camera
        await student.rerun("source_upload", student.page_hash)

    async def upload() -> None:
        await student.upload("upload", "pg_upload", f"student{student.index}.png", png, "image/png", step_timeout)
        await student.rerun("upload", student.page_hash)
        student.expect("upload", "pg_input", "the page did not draw the uploaded image")

    async def open_network() -> None:
        page = student.page(NETWORK_TITLE, NETWORK_PATHS)
        await student.rerun("open_network", page)
        if student.page_hash != page:
            raise StepFailed("wrong_page", f"asked for page {page}, the server ran {student.page_hash}")
        student.expect("open_network", "pr_bars", "the network page drew no prediction")

    start = time.perf_counter()
    student.step = "connect"
    try:
        await asyncio.wait_for(student.connect(step_timeout), step_timeout)
    except (OSError, TimeoutError) as error:
        raise StepFailed("connect", repr(error)) from error
    for name, action in zip(STEPS, (open_playground, kernel, stride, padding, pixel, source_upload, upload, open_network)):
        await step(name, action)
    student.timings["visit"] = time.perf_counter() - start


async def trainer_script(student: Student, step_timeout: float, train_seconds: float) -> None:
    """Open the training page, press Train, then rerun its fragment whenever the server's AutoRerun says, as a tab does."""
    await student.connect(step_timeout)
    student.step = "open_train"
    student.query_string = f"lang={student.lang}"
    await asyncio.wait_for(student.rerun("open_playground", page_name=PLAYGROUND_PATH), step_timeout)
    page = student.page(TRAIN_TITLE, TRAIN_PATHS)
    await asyncio.wait_for(student.rerun("open_train", page), step_timeout)
    student.expect("open_train", "lv_train", "the training page drew no Train button")
    student.steps_done.append("open_train")
    student.step = "press_train"
    button = student.press("lv_train")
    await asyncio.wait_for(student.rerun("press_train", page), step_timeout)
    student.states.pop(button, None)  # a button is True for one run only
    student.steps_done.append("press_train")
    student.step = "watch"
    end = time.monotonic() + train_seconds
    while student.auto_reruns and time.monotonic() < end:
        fragment_id, interval = next(iter(student.auto_reruns.items()))
        await asyncio.sleep(interval)
        try:
            await asyncio.wait_for(student.rerun("watch", page, fragment_id=fragment_id, auto=True), step_timeout)
        except TimeoutError as error:
            raise StepFailed("timeout", "a fragment rerun got no answer") from error
    student.timings["watched"] = train_seconds - max(end - time.monotonic(), 0)
    student.steps_done.append("watch")


async def _visit(student: Student, png: bytes | None, delay: float, step_timeout: float, think: float, seed: int,
                 train_seconds: float = 0.0, keep_open: bool = False) -> None:
    """One student's visit after `delay` (a trainer's when png is None); every failure becomes an error record. With
    `keep_open` the websocket stays open after a visit that went well (the caller closes it)."""
    await asyncio.sleep(delay)
    try:
        if png is None:
            await trainer_script(student, step_timeout, train_seconds)
        else:
            await student_script(student, png, step_timeout, think, random.Random(seed))
    except StepFailed as failed:
        student.errors.append((student.step, failed.kind, failed.detail[:300]))
    except asyncio.CancelledError:
        student.errors.append((student.step, "overall_timeout", f"stopped after {len(student.steps_done)} steps"))
        raise
    except Exception as error:  # a bug here or a protocol change: counted, never hidden
        student.errors.append((student.step, "client_error", repr(error)[:300]))
    finally:
        if not keep_open or student.errors:
            await _close(student)


async def _close(student: Student) -> None:
    try:
        await asyncio.wait_for(student.close(), 5)
    except (Exception, asyncio.CancelledError):
        pass


# --- the load: many students at once ------------------------------------------------------------------------------------


def python_loop_ms() -> float:
    """This machine's speed today, written beside every figure: one core's time for a fixed pure-Python loop.

    Machines of the same kind differ by 2× and more, even one machine within an hour; a latency means something only
    beside this (the best of three, so that the load test's own start does not count).
    """
    best = math.inf
    for _ in range(3):
        start, total = time.perf_counter(), 0
        for i in range(1_000_000):
            total += i * i
        best = min(best, time.perf_counter() - start)
    return best * 1000


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of the values; None if there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _stats(values: list[float]) -> dict[str, float | int | None]:
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "max": max(values) if values else None, "mean": sum(values) / len(values) if values else None}


async def run_load_async(sessions: int, base_url: str, *, pid: int | None = None, step_timeout: float = 60.0,
                         overall_timeout: float = 600.0, think: float = 0.0, ramp: float = 0.0, warmup: bool = True,
                         lang: str = "es", seed: int = 0, trainers: int = 0, train_seconds: float = 90.0) -> dict:
    """Run `sessions` students (and `trainers`) at once against a server on loopback; the results dict (see run_load)."""
    base_url = check_loopback(base_url)
    results: dict = {"sessions": sessions, "trainers": trainers, "base_url": base_url, "think_s": think, "ramp_s": ramp,
                     "step_timeout_s": step_timeout, "overall_timeout_s": overall_timeout, "cpu_count": os.cpu_count(),
                     "loadavg_start": os.getloadavg(), "python_loop_ms": python_loop_ms()}
    deadline = time.monotonic() + overall_timeout
    if warmup:  # the process's first run imports torch and loads the network: a teacher's first visit, not the class's
        # Behind nginx (deploy/serve.py) each process has its first run: visits until four in a row find no new one.
        # Each visit stays connected until the warm-up ends, so that nginx, which counts open websockets, sends the next
        # one to another process (one after the other and closed, they could all land on the same one).
        start, warmed, quiet, visits = time.perf_counter(), set(), 0, []
        while quiet < 4 and len(visits) < 16 and time.monotonic() < deadline:
            student = Student(-1 - len(visits), base_url, lang)
            try:
                await asyncio.wait_for(_visit(student, png_bytes(seed + 10_000), 0.0, max(step_timeout, 120.0), 0.0, seed,
                                              keep_open=True), max(1.0, deadline - time.monotonic()))
            except TimeoutError:
                pass  # _visit recorded it as overall_timeout
            visits.append(student)
            if not student.served_by:  # one process: one visit warms it
                break
            quiet = 0 if student.served_by not in warmed else quiet + 1
            warmed.add(student.served_by)
        await asyncio.gather(*(_close(student) for student in visits))
        results["warmup"] = {"seconds": time.perf_counter() - start, "visits": len(visits), "processes": sorted(warmed),
                             "errors": [list(e) for s in visits for e in s.errors],
                             "latencies": {r.step: round(r.latency, 3) for r in visits[0].reruns}}
    peak = [0]
    sampler = asyncio.create_task(sample_rss(pid, peak)) if pid else None
    if pid:
        results["server_rss_start_mb"] = memory_kb(pid).get("VmRSS", 0) / 1024
        cpu_start = cpu_seconds(pid)
    students = [Student(i, base_url, lang) for i in range(sessions)]
    images = [png_bytes(seed + i) for i in range(sessions)]
    coaches = [Student(sessions + i, base_url, lang) for i in range(trainers)]
    start, client_cpu = time.perf_counter(), time.process_time()
    tasks = [asyncio.create_task(_visit(s, None, ramp * i / max(trainers, 1) / 2, step_timeout, 0.0, seed, train_seconds))
             for i, s in enumerate(coaches)]  # the trainers press Train first, so the others meet the runs under way
    tasks += [asyncio.create_task(_visit(s, images[i], ramp * i / max(sessions, 1), step_timeout, think, seed + i))
              for i, s in enumerate(students)]
    done, pending = await asyncio.wait(tasks, timeout=max(1.0, deadline - time.monotonic()))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    results["wall_s"] = time.perf_counter() - start
    # The students' side (decoding every message, here on the same cores as the server; in a class, their laptops).
    results["client_cpu_s"] = time.process_time() - client_cpu
    results["loadavg_end"] = os.getloadavg()
    if pid:
        sampler.cancel()
        memory = memory_kb(pid)
        peak[0] = max(peak[0], memory.get("VmRSS", 0))
        results["server_rss_end_mb"] = memory.get("VmRSS", 0) / 1024
        results["server_sampled_peak_rss_mb"] = peak[0] / 1024
        results["server_peak_rss_mb"] = memory.get("VmHWM", 0) / 1024  # the kernel's high-water mark: no sample missed
        cpu_end = cpu_seconds(pid)
        results["server_cpu_s"] = cpu_end - cpu_start if cpu_start is not None and cpu_end is not None else None

    reruns = [r for s in students for r in s.reruns]
    errors = [(s.index, *e) for s in students for e in s.errors]
    results["reruns"] = len(reruns)
    results["latency_s"] = _stats([r.latency for r in reruns])
    results["per_step"] = {name: {**_stats([r.latency for r in reruns if r.step == name]),
                                  "mean_kb": (sum(r.bytes for r in reruns if r.step == name) / 1024
                                              / max(1, sum(r.step == name for r in reruns))),
                                  "max_bytes": max((r.bytes for r in reruns if r.step == name), default=0)}
                           for name in STEPS}
    results["upload_put_s"] = _stats([s.timings["upload_put"] for s in students if "upload_put" in s.timings])
    results["connect_s"] = _stats([s.timings["connect"] for s in students if "connect" in s.timings])
    results["completed_sessions"] = sum(len(s.steps_done) == len(STEPS) for s in students)
    results["steps_expected"] = sessions * len(STEPS)
    results["steps_finished"] = sum(len(s.steps_done) for s in students)
    results["errors"] = len(errors)
    results["error_kinds"] = dict(Counter(kind for _, _, kind, _ in errors))
    results["error_samples"] = [list(e) for e in errors[:10]]
    results["received_mb"] = sum(s._received for s in students) / 2**20
    results["served_by"] = dict(Counter(s.served_by for s in students if s.served_by))  # behind nginx: sessions a process
    if trainers:
        watch = [r for s in coaches for r in s.reruns if r.step == "watch"]
        trainer_errors = [(s.index, *e) for s in coaches for e in s.errors]
        results["trainer_latency_s"] = _stats([r.latency for s in coaches for r in s.reruns])
        results["trainer_watch_s"] = _stats([r.latency for r in watch])
        results["trainer_watch_kb"] = sum(r.bytes for r in watch) / 1024 / max(len(watch), 1)
        results["trainers_completed"] = sum(len(s.steps_done) == len(TRAINER_STEPS) for s in coaches)
        results["trainer_errors"] = len(trainer_errors)
        results["trainer_error_samples"] = [list(e) for e in trainer_errors[:10]]
    if results.get("server_cpu_s") is not None and reruns:
        results["server_cpu_ms_per_rerun"] = 1000 * results["server_cpu_s"] / len(reruns)
    return results


def _run_async(coroutine):
    """asyncio.run, in a thread of its own when this thread already runs an event loop (Playwright's sync API does)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def run_load(sessions: int, base_url: str | None = None, port: int | None = None, *, pid: int | None = None,
             step_timeout: float = 60.0, overall_timeout: float = 600.0, think: float = 0.0, ramp: float = 0.0,
             warmup: bool = True, lang: str = "es", seed: int = 0, startup_timeout: float = 90.0,
             server_env: dict[str, str] | None = None, trainers: int = 0, train_seconds: float = 90.0) -> dict:
    """Drive `sessions` concurrent students through the playground → upload → network visit and measure the server.

    With neither base_url nor port, starts `streamlit run app.py` on 127.0.0.1 at a free port and always stops it;
    otherwise targets that server (loopback only) and finds its pid via /proc for memory, if it is ours.
    server_env: extra environment for the server started here (e.g. {"OMP_NUM_THREADS": "1"}).
    step_timeout bounds each step of each student; overall_timeout the warm-up visit and the class together.
    think: mean seconds between a student's steps (uniform in ±50 %); ramp: seconds over which the students arrive.
    trainers: extra sessions that press Train on the live-training page and watch their run for up to train_seconds;
    latency_s and errors are the ordinary students' only, trainer_* the trainers'.
    Returns a dict: sessions, reruns, latency_s {n, p50, p95, max, mean}, per_step, errors, error_kinds,
    error_samples, completed_sessions, steps_finished/expected, server_peak_rss_mb, server_cpu_s, loadavg_*, ...
    """
    if base_url is None and port is not None:
        base_url = f"http://127.0.0.1:{port}"
    args = dict(step_timeout=step_timeout, overall_timeout=overall_timeout, think=think, ramp=ramp, warmup=warmup,
                lang=lang, seed=seed, trainers=trainers, train_seconds=train_seconds)
    if base_url is not None:
        base_url = check_loopback(base_url)
        pid = pid or find_listener_pid(urllib.parse.urlsplit(base_url).port)
        if pid and Path(f"/proc/{pid}/comm").read_text().strip() == "nginx":
            pid = None  # a front (deploy/serve.py): its memory is not the app's; the processes behind it are counted apart
        wait_healthy(base_url, startup_timeout)
        return _run_async(run_load_async(sessions, base_url, pid=pid, **args))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = start_server(port, log, server_env)
        try:
            wait_healthy(base_url, startup_timeout, process)
            results = _run_async(run_load_async(sessions, base_url, pid=process.pid, **args))
        finally:
            stop_server(process)
            log.seek(0)
            lines = log.read().decode(errors="replace").splitlines()
    results["server_env"] = server_env or {}
    results["server_log_tracebacks"] = sum("Traceback" in line for line in lines)
    results["server_log_tail"] = lines[-30:]
    return results


# --- the command line ---------------------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"


def report(results: dict) -> str:
    """The results as the few lines a person reads."""
    lat = results["latency_s"]
    lines = [
        f"trainers            {results['trainers']} watching their run on the training page"
        + (f" ({results['trainers_completed']} to the end; fragment rerun p50 {_ms(results['trainer_watch_s']['p50'])}, "
           f"p95 {_ms(results['trainer_watch_s']['p95'])}, {results['trainer_watch_kb']:.0f} kB each; "
           f"{results['trainer_errors']} errors)" if results.get("trainers") else ""),
        f"sessions            {results['sessions']} ({results['completed_sessions']} completed every step; "
        f"{results['steps_finished']}/{results['steps_expected']} steps)",
        f"reruns              {results['reruns']}",
        f"rerun latency       p50 {_ms(lat['p50'])}   p95 {_ms(lat['p95'])}   max {_ms(lat['max'])}",
        f"errors              {results['errors']} {results['error_kinds'] or ''}",
    ]
    if "server_peak_rss_mb" in results:
        lines.append(f"server peak memory  {results['server_peak_rss_mb']:.0f} MB (VmHWM; RSS "
                     f"{results['server_rss_start_mb']:.0f} MB before the class, {results['server_rss_end_mb']:.0f} MB after)")
    else:
        lines.append("server peak memory  unknown (server pid not found)")
    if results.get("server_cpu_s") is not None:
        lines.append(f"server CPU          {results['server_cpu_s']:.1f} s, "
                     f"{results.get('server_cpu_ms_per_rerun', 0):.0f} ms per rerun")
    if results.get("client_cpu_s") is not None:
        lines.append(f"client CPU          {results['client_cpu_s']:.1f} s (this script's students, on the same cores)")
    lines += [
        f"wall time           {results['wall_s']:.1f} s (think {results['think_s']} s, ramp {results['ramp_s']} s); "
        f"received {results['received_mb']:.1f} MB",
        f"machine             {results['cpu_count']} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in results['loadavg_start'])} at start, "
        f"{' '.join(f'{x:.2f}' for x in results['loadavg_end'])} at end; a 1,000,000-step Python loop took "
        f"{results['python_loop_ms']:.0f} ms",
    ]
    lines += ["per step"] + [f"  {name:<17} p50 {_ms(v['p50']):>8}   p95 {_ms(v['p95']):>8}   max {_ms(v['max']):>8}   "
              f"{v['mean_kb']:6.0f} kB received per rerun (max {v['max_bytes'] / 1024:.0f} kB"
              + (f", budget {loadtest_budget(name)})" if name in BUDGETS else ")") for name, v in results["per_step"].items()]
    if results.get("served_by"):
        lines.append("behind nginx        sessions per process: " + ", ".join(f"{k} {v}" for k, v in sorted(results["served_by"].items())))
    if results["error_samples"]:
        lines.append("first errors        " + "\n                    ".join(map(str, results["error_samples"])))
    return "\n".join(lines)


def loadtest_budget(step: str) -> str:
    return f"{BUDGETS[step]:,} bytes"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=40, help="concurrent students (default 40)")
    parser.add_argument("--url", help="a running server on loopback, e.g. http://127.0.0.1:8501 (default: start one)")
    parser.add_argument("--pid", type=int, help="the running server's pid, for memory (default: found via /proc)")
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds a student waits between steps (default 2)")
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds over which the students arrive (default 10)")
    parser.add_argument("--step-timeout", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=600.0, help="overall limit in seconds (default 600)")
    parser.add_argument("--no-warmup", action="store_true", help="measure the very first visit too")
    parser.add_argument("--lang", default="es")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="environment for the server started here, e.g. OMP_NUM_THREADS=1 (repeatable)")
    parser.add_argument("--trainers", type=int, default=0,
                        help="extra sessions that each start the default live-training run and watch it (default 0)")
    parser.add_argument("--train-seconds", type=float, default=90.0, help="how long a trainer watches at most (default 90)")
    parser.add_argument("--compare", action="store_true",
                        help="with --trainers: run the class twice, without and with the trainers, and print both")
    parser.add_argument("--json", help="also write the full results to this file")
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= 500 or not 0 <= args.trainers <= 100:
        parser.error("--sessions must be between 1 and 500, --trainers between 0 and 100")
    if args.compare and not args.trainers:
        parser.error("--compare needs --trainers")
    if args.url:
        try:
            check_loopback(args.url)
        except ValueError as error:
            parser.error(str(error))
    if args.url and args.server_env:
        parser.error("--server-env applies only to a server this script starts (no --url)")
    if not all("=" in item for item in args.server_env):
        parser.error("--server-env takes NAME=VALUE")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds through run_load's finally: the server stops
    runs = []
    for trainers in ((0, args.trainers) if args.compare else (args.trainers,)):
        runs.append(run_load(args.sessions, args.url, pid=args.pid, step_timeout=args.step_timeout,
                             overall_timeout=args.timeout, think=args.think, ramp=args.ramp, warmup=not args.no_warmup,
                             lang=args.lang, seed=args.seed, trainers=trainers, train_seconds=args.train_seconds,
                             server_env=dict(item.split("=", 1) for item in args.server_env) or None))
        print(report(runs[-1]), end="\n\n", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(runs if args.compare else runs[0], indent=2, default=str))
    if args.compare:
        for results in runs:
            print(f"ordinary students' rerun p95 with {results['trainers']} trainers: {_ms(results['latency_s']['p95'])}"
                  f" (p50 {_ms(results['latency_s']['p50'])}, {results['errors']} errors)")
    results = runs[-1]
    p95 = results["latency_s"]["p95"]
    return 0 if results["errors"] == 0 and results["completed_sessions"] == args.sessions and p95 is not None and p95 < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
