"""A normal (non-editable) install works from any folder.

`pip install <repo>` into a fresh virtual environment, then, from an unrelated folder and with
nothing pointing back at the repository: `procurement --version`, `packs list`, `classify`,
`serve` (the first start creates the default database in the user's data folder and says so,
prints the setup token, serves the first-run page with the project's Streamlit settings, and the
sign-in page once users exist), `demo seed` and `doctor`.

The virtual environment reuses the installed dependencies (`--system-site-packages`) and builds
without an index (`--no-index --no-build-isolation`), so the test needs no network and takes
seconds; what it checks is the package itself: that it carries the rule packs, the Streamlit
settings and the app entry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from procurement import __version__
from tests.operate.streamlit_client import StreamlitTab
from tests.ui.browser import free_port

ROOT = Path(__file__).resolve().parents[2]
#: What a checkout has besides the source: never part of the build.
NOT_SOURCE = shutil.ignore_patterns(".git", "data", "build", "dist", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".ruff_cache", "test-artifacts", ".venv",
                                    "venv", "node_modules", "secrets.toml")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, object]:
    """A virtual environment with the package installed from a copy of this checkout."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-index",
                    "--no-build-isolation", "--disable-pip-version-check", str(source)],
                   check=True, cwd=base, env=_clean_env(base))
    shutil.rmtree(source)  # nothing may read the copy once installed
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return {"bin": venv / "bin", "cwd": elsewhere, "env": _clean_env(base)}


def _clean_env(base: Path) -> dict[str, str]:
    """The environment without anything that points at the checkout or a database; HOME in
    the test's folder, so the per-user data folder is there too."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PROCUREMENT_", "PYTHON", "STREAMLIT_", "XDG_"))}
    env["HOME"] = str(base / "home")
    return env


def _run(installed, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(installed["bin"] / "procurement"), *args], cwd=installed["cwd"],
                          env=installed["env"], input=stdin, capture_output=True, text=True,
                          timeout=300, check=False)


def test_the_installed_package_runs_from_any_folder(installed):
    where = subprocess.run([str(installed["bin"] / "python"), "-c",
                            ("import procurement, procurement.config as c; "
                            "print(procurement.__file__); print(c.app_script()); "
                            "print(c.default_database_url())")],
                           cwd=installed["cwd"], env=installed["env"], capture_output=True,
                           text=True, check=True).stdout.split()
    package, script, database = where
    assert str(installed["bin"].parent) in package and str(ROOT) not in package
    assert script.endswith("procurement/_shipped/app.py")
    data_dir = Path(installed["env"]["HOME"]) / ".local" / "share" / "procurement"
    assert database == f"sqlite:///{data_dir / 'procurement.sqlite'}"

    assert _run(installed, "--version").stdout == f"procurement {__version__}\n"

    listed = _run(installed, "packs", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert {"jp-national", "jp-municipal", "city-strict"} <= {p["id"] for p in
                                                               json.loads(listed.stdout)}

    classified = _run(installed, "classify", "--pack", "jp-national@2", "--answers", "-",
                      stdin=json.dumps({"SC-1": "yes"}))
    assert classified.returncode == 0, classified.stderr
    assert json.loads(classified.stdout)["pack"]["id"] == "jp-national"

    port = free_port()
    log = Path(installed["cwd"]) / "serve.log"
    with open(log, "w") as out:
        server = subprocess.Popen([str(installed["bin"] / "procurement"), "serve", "--port",
                                   str(port)], cwd=installed["cwd"], env=installed["env"],
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(port, server, log)
        printed = log.read_text()
        assert f"created the database {data_dir / 'procurement.sqlite'}" in printed
        assert "one-time setup token" in printed
        # The project's settings (the config file the package carries), whatever the folder:
        # this machine only, no usage statistics, the minimal toolbar.
        listening = {c.laddr.ip for c in psutil.Process(server.pid).net_connections("tcp")
                     if c.status == psutil.CONN_LISTEN and c.laddr.port == port}
        assert listening == {"127.0.0.1"}
        with StreamlitTab(f"http://127.0.0.1:{port}") as tab:
            first = tab.open()
        config = first.new_session.config
        assert not config.gather_usage_stats and config.toolbar_mode == config.MINIMAL
        assert first.headings()[0].startswith("初期設定")  # the first-run page: no users yet

        seeded = _run(installed, "demo", "seed")
        assert seeded.returncode == 0 and "seeded demo-ministry" in seeded.stdout
        with StreamlitTab(f"http://127.0.0.1:{port}") as tab:
            assert tab.open().headings() == ["サインイン"]
    finally:
        server.terminate()
        server.wait(timeout=20)

    doctor = _run(installed, "doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "(installed package)" in doctor.stdout and "OK audit chain: demo-ministry" in doctor.stdout


def _wait_healthy(port: int, server: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"procurement serve exited:\n{log.read_text()}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).ok:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"procurement serve did not answer:\n{log.read_text()}")
