"""Starting the real app for the browser test and the start-up benchmark: `streamlit run app.py`
on a free 127.0.0.1 port, against a given database, until its health endpoint answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """`streamlit run app.py` in a child process; `url` once `start()` returned."""

    def __init__(self, database_url: str, log_path: Path):
        self.database_url = database_url
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> float:
        """Start and wait for `/_stcore/health`; returns the seconds it took."""
        env = {**os.environ, "PROCUREMENT_DATABASE_URL": self.database_url}
        self._log = open(self.log_path, "wb")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py",
             "--server.address", "127.0.0.1", "--server.port", str(self.port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"streamlit did not answer within {timeout} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()


def launch_chromium(playwright):
    """The system Chromium (never a downloaded browser), headless."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until the app has finished its script run (the recipe in TESTING.md)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                           timeout=timeout)


class ScriptRuns:
    """Counts the app's script runs that a page saw finish (the `script_finished` message on
    its websocket, also across reloads), so that a test waits for the very run its click or
    keystroke started rather than for a fixed time: `wait_idle` alone can look before that run
    has begun. Attach before the first `goto`; an action that changes nothing starts no run
    (choosing the option already chosen), and waiting for one then times out."""

    def __init__(self, page) -> None:
        self.page = page
        self.finished = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload: bytes | str) -> None:
        if isinstance(payload, str):
            return
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = ForwardMsg()
        try:
            msg.ParseFromString(payload)
        except Exception:  # noqa: BLE001 - not a message of ours to judge
            return
        # A run cut short for the next one is not counted: the next one is what was asked for.
        if msg.WhichOneof("type") == "script_finished" and \
                msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            self.finished += 1

    def wait_past(self, count: int, timeout: float = 30_000) -> None:
        """Wait until a run after the first `count` has finished, then until the app is idle."""
        deadline = time.monotonic() + timeout / 1000
        while self.finished <= count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no script run finished after run {count} within "
                                   f"{timeout / 1000:.0f} s")
            self.page.wait_for_timeout(50)
        wait_idle(self.page, timeout)

    def after(self, action: Callable[[], object], timeout: float = 30_000) -> None:
        """Do `action` (a click, a key) and wait for the run it starts to finish."""
        count = self.finished
        action()
        self.wait_past(count, timeout)


def next_frames(page, frames: int = 2) -> None:
    """Wait until the browser has drawn `frames` more frames (after a resize, say)."""
    page.evaluate("""(n) => new Promise((done) => {
        const step = (left) => left ? requestAnimationFrame(() => step(left - 1)) : done();
        step(n); })""", frames)


def screenshot_whole(page, path: Path) -> None:
    """The whole page, as a screen tall enough to show it all would: Streamlit scrolls its main
    area inside the window, so Playwright's `full_page` alone stops at the window's height.
    The window is made as tall as the main area's content for the picture, then restored."""
    size = page.viewport_size
    height = size["height"]
    for _ in range(3):  # a taller window can reflow the content once more
        needed = page.evaluate("""() => {
            const main = document.querySelector('[data-testid="stMain"]');
            return Math.ceil(main ? main.scrollHeight : document.documentElement.scrollHeight);
        }""")
        if needed <= height:
            break
        height = needed
        page.set_viewport_size({"width": size["width"], "height": height})
        next_frames(page)
    page.screenshot(path=str(path), full_page=True)
    if height != size["height"]:
        page.set_viewport_size(size)
        next_frames(page)
