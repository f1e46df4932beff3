"""Single sign-on through a real OpenID Provider, in Chromium.

The provider is the npm package `oidc-provider` (a certified implementation) started on
127.0.0.1; `.ci/run` installs it and names its node_modules folder in
PROCUREMENT_TEST_OIDC_MODULES. The app gets its `[auth]` settings from the PROCUREMENT_OIDC_*
variables (`st.App(secrets=...)`, no secrets.toml). A link to a page opened while signed out
leads through the provider's sign-in back to that page, signed in as the matching local account
with a server-side session; sign-out ends the session, the provider's session and both cookies.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time

import pytest
import requests
from sqlalchemy import select

from procurement.db.models import WebSession
from tests.ui.browser import (
    ROOT,
    StreamlitServer,
    free_port,
    launch_chromium,
    wait_idle,
)
from tests.ui.test_browser import ARTIFACTS, chromium_path  # noqa: F401 - fixture

pytestmark = pytest.mark.browser

MODULES_ENV = "PROCUREMENT_TEST_OIDC_MODULES"


@pytest.fixture
def oidc_modules() -> str:
    folder = os.environ.get(MODULES_ENV)
    if folder and os.path.isdir(os.path.join(folder, "oidc-provider")):
        return folder
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{MODULES_ENV} is not set, but CI=true: .ci/run installs oidc-provider")
    pytest.skip(f"OpenID Provider test skipped: set {MODULES_ENV} to a node_modules folder "
                "holding oidc-provider@9 (npm install --prefix DIR oidc-provider@9)")


@pytest.fixture
def sso_server(ui_actors, ui_db_url, oidc_modules, tmp_path, monkeypatch):
    """The provider and the app (`streamlit run app.py`) configured for each other."""
    app = StreamlitServer(ui_db_url, tmp_path / "streamlit.log")
    op_port = free_port()
    op_dir = tmp_path / "op"
    op_dir.mkdir()
    shutil.copy(ROOT / "tests" / "ui" / "oidc_provider.mjs", op_dir / "provider.mjs")
    (op_dir / "node_modules").symlink_to(oidc_modules)
    op_log = open(tmp_path / "op.log", "w")  # noqa: SIM115 - the provider writes to it
    op = subprocess.Popen(["node", "provider.mjs", str(op_port), str(app.port)], cwd=op_dir,
                          stdout=op_log, stderr=subprocess.STDOUT)
    metadata = f"http://127.0.0.1:{op_port}/.well-known/openid-configuration"
    for name, value in {
        "PROCUREMENT_OIDC_METADATA_URL": metadata,
        "PROCUREMENT_OIDC_CLIENT_ID": "procurement-app",
        "PROCUREMENT_OIDC_CLIENT_SECRET": "procurement-secret-for-tests-only",
        "PROCUREMENT_OIDC_REDIRECT_URI": f"{app.url}/oauth2callback",
        "PROCUREMENT_OIDC_COOKIE_SECRET": secrets.token_hex(32),
    }.items():
        monkeypatch.setenv(name, value)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(metadata, timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert op.poll() is None and time.monotonic() < deadline, (tmp_path / "op.log").read_text()
            time.sleep(0.2)
        app.start()
        yield app, f"http://127.0.0.1:{op_port}"
    finally:
        app.stop()
        op.terminate()
        op.wait(timeout=10)
        op_log.close()


def _cookies(context) -> set[str]:
    return {c["name"] for c in context.cookies() if c["domain"] == "127.0.0.1"}


def test_single_sign_on_through_a_real_provider_returns_to_the_page_and_signs_out_everywhere(
        chromium_path, sso_server, ui_services, ui_actors):  # noqa: F811 - the imported fixture
    from playwright.sync_api import expect, sync_playwright

    app, op = sso_server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ja-JP")
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{app.url}/workspace?from=mail")
            wait_idle(page)
            expect(page.get_by_role("heading", name="サインイン")).to_be_visible()
            page.get_by_role("button", name="組織のアカウントでサインイン").click()
            page.wait_for_url(f"{op}/**")
            page.fill("input[name=login]", "a-planner")
            page.fill("input[name=password]", "any password: the provider's test form")
            page.click("button[type=submit]")
            # Back on the page the link named, with its parameters, signed in.
            page.wait_for_url(f"{app.url}/workspace?from=mail")
            wait_idle(page)
            expect(page.get_by_role("heading", name="案件の作業")).to_be_visible()
            expect(page.get_by_text("企画 花子（テスト省）でサインイン中")).to_be_visible()
            deadline = time.monotonic() + 15
            while "procurement_session" not in _cookies(context) and time.monotonic() < deadline:
                page.wait_for_timeout(100)
            assert {"procurement_session", "_streamlit_user"} <= _cookies(context)
            with ui_services.read() as s:
                assert s.execute(select(WebSession.user_id, WebSession.via,
                                        WebSession.revoked_at)).all() == [
                    (ui_actors["a-planner"].user_id, "sso", None)]
            page.screenshot(path=str(ARTIFACTS / "sso-signed-in.png"))

            page.reload()
            wait_idle(page)
            expect(page.get_by_text("企画 花子（テスト省）でサインイン中")).to_be_visible()

            page.get_by_role("button", name="サインアウト").click()
            page.wait_for_url(f"{op}/**")  # the provider asks before ending its session
            page.get_by_role("button", name="Yes, sign me out").click()
            page.wait_for_url(f"{app.url}/**")
            wait_idle(page)
            expect(page.get_by_role("heading", name="サインイン")).to_be_visible()
            assert not {"procurement_session", "_streamlit_user"} & _cookies(context)
            with ui_services.read() as s:
                assert s.scalar(select(WebSession.revoked_reason)) == "signed_out"
        finally:
            browser.close()
