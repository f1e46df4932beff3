"""Sessions and uploads in a real browser and against the real server (`streamlit run app.py`).

* A reload (F5) and a link opened in a new tab keep the user signed in: the session cookie is
  HttpOnly and SameSite=Strict, invisible to the page's scripts, and sign-out removes it.
* A link to a page opened while signed out shows the sign-in form at that address, and after
  signing in the page itself, with its parameters.
* The attack on uploads: a client without an account opens its own Streamlit session and pushes
  files into server memory through the upload endpoint. The upload guard refuses every one.
"""

from __future__ import annotations

import time

import pytest
import requests
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

from tests.fixtures.services import TEST_PASSWORD
from tests.ui.browser import launch_chromium, wait_idle
from tests.ui.test_browser import ARTIFACTS, chromium_path  # noqa: F401 - fixture

pytestmark = pytest.mark.browser


def _sign_in(page, username: str) -> None:
    """Sign in through the form and wait until the browser holds the session cookie (fetched by
    the page right after sign-in), as a user who then opens another link would."""
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(TEST_PASSWORD)
    page.get_by_role("button", name="サインイン").click()
    wait_idle(page)
    _wait_for_session_cookie(page)


def _wait_for_session_cookie(page, timeout: float = 15.0):
    """The session cookie, once the page has fetched it after signing in (None if it never
    came)."""
    deadline = time.monotonic() + timeout
    while _session_cookie(page.context) is None and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return _session_cookie(page.context)


def _session_cookie(context):
    return next((c for c in context.cookies() if c["name"] == "procurement_session"), None)


def test_reload_and_a_new_tab_keep_the_user_signed_in_until_sign_out(chromium_path, server):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900},
                                          locale="ja-JP")
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(server.url)
            wait_idle(page)
            _sign_in(page, "a-planner")
            expect(page.get_by_role("heading", name="案件一覧")).to_be_visible()
            cookie = _session_cookie(context)
            assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
            assert "procurement_session" not in page.evaluate("document.cookie")

            page.reload()
            wait_idle(page)
            expect(page.get_by_role("heading", name="案件一覧")).to_be_visible()

            second = context.new_page()
            second.goto(f"{server.url}/cases?from=mail")
            wait_idle(second)
            expect(second.get_by_role("heading", name="案件一覧")).to_be_visible()
            assert "from=mail" in second.url
            second.screenshot(path=str(ARTIFACTS / "session-new-tab.png"))

            page.get_by_role("button", name="サインアウト").click()
            wait_idle(page)
            expect(page.get_by_role("heading", name="サインイン")).to_be_visible()
            deadline = time.monotonic() + 10
            while _session_cookie(context) is not None and time.monotonic() < deadline:
                page.wait_for_timeout(100)
            assert _session_cookie(context) is None
            # The other tab's session was the same one: it is signed out on its next run.
            second.reload()
            wait_idle(second)
            expect(second.get_by_role("heading", name="サインイン")).to_be_visible()
        finally:
            browser.close()


def test_a_link_opened_while_signed_out_leads_to_its_page_after_sign_in(chromium_path, server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="ja-JP")
            page.set_default_timeout(30_000)
            page.goto(f"{server.url}/portfolio?fy=2026")
            wait_idle(page)
            expect(page.get_by_role("heading", name="サインイン")).to_be_visible()
            assert "/portfolio?fy=2026" in page.url
            _sign_in(page, "a-reviewer")
            expect(page.get_by_role("heading", name="案件一覧")).not_to_be_visible()
            assert "/portfolio" in page.url and "fy=2026" in page.url
        finally:
            browser.close()


def _anonymous_streamlit_session(base: str) -> tuple[requests.Session, str, object, str]:
    """What an attacker without an account gets: an XSRF pair and their own Streamlit session."""
    http = requests.Session()
    http.get(f"{base}/_stcore/health", timeout=10)
    xsrf = http.cookies.get("_streamlit_xsrf")
    ws = connect(base.replace("http", "ws") + "/_stcore/stream", subprotocols=["streamlit", xsrf],
                 additional_headers={"Cookie": f"_streamlit_xsrf={xsrf}"})
    message = BackMsg()
    message.rerun_script.query_string = ""
    message.rerun_script.page_script_hash = ""
    ws.send(message.SerializeToString())
    session_id = None
    deadline = time.monotonic() + 15
    while session_id is None and time.monotonic() < deadline:
        forward = ForwardMsg()
        forward.ParseFromString(ws.recv(timeout=15))
        if forward.WhichOneof("type") == "new_session":
            session_id = forward.new_session.initialize.session_id
    assert session_id, "no Streamlit session"
    return http, xsrf, ws, session_id


def test_a_client_without_an_account_cannot_push_files_into_server_memory(server):
    http, xsrf, ws, session_id = _anonymous_streamlit_session(server.url)
    try:
        codes = [
            http.put(f"{server.url}/_stcore/upload_file/{session_id}/file-{i}",
                     files={"file": ("x.zip", b"\0" * 200_000, "application/zip")},
                     headers={"X-Xsrftoken": xsrf}, timeout=10).status_code
            for i in range(10)
        ]
    finally:
        ws.close()
    assert codes == [403] * 10


def test_a_signed_in_pack_admin_still_uploads_a_bundle(chromium_path, server, tmp_path):
    """The guard lets the legitimate upload through: the browser's upload request carries the
    session cookie of the signed-in tab."""
    from playwright.sync_api import expect, sync_playwright

    from procurement.config import rules_dir
    from procurement.sharing.bundles import build_bundle, collect_pack_files

    files = collect_pack_files(rules_dir() / "examples" / "impact")
    bundle = tmp_path / "example-impact.zip"
    bundle.write_bytes(build_bundle(files, pack_id="example-impact", version="1.0.0",
                                    fingerprint=""))
    statuses: list[int] = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="ja-JP")
            page.set_default_timeout(30_000)
            page.goto(server.url)
            wait_idle(page)
            _sign_in(page, "a-packadmin")
            page.goto(f"{server.url}/packs")
            wait_idle(page)
            page.get_by_role("tab", name='パックの取込み').click()
            with page.expect_response(lambda r: "/_stcore/upload_file/" in r.url) as upload:
                page.locator('input[type="file"]').first.set_input_files(str(bundle))
            statuses.append(upload.value.status)
            wait_idle(page)
            expect(page.get_by_text("example-impact.zip")).to_be_visible()
        finally:
            browser.close()
    assert statuses and all(code in (200, 204) for code in statuses), statuses
