"""`procurement serve` in a child process on a free port, for tests and benchmarks that need the
real server (several at once, on one database)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.ui.browser import ROOT, free_port


class ServeProcess:
    """`python -m procurement serve --port PORT` on `database_url`; `url` once `wait()`
    returned."""

    def __init__(self, database_url: str, log: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.path = log
        self._log = open(log, "wb")  # noqa: SIM115 - the child writes to it until stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "procurement", "serve", "--port", str(self.port)],
            cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {}), "PROCUREMENT_DATABASE_URL": database_url})

    def wait(self, timeout: float = 90) -> ServeProcess:
        """Until `/_stcore/health` answers (AssertionError with the log otherwise)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"procurement serve exited:\n{self.path.read_text()}")
            try:
                if requests.get(f"{self.url}/_stcore/health", timeout=2).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError(f"no answer from {self.url}:\n{self.path.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
