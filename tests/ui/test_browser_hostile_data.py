"""Text from data is shown as text in a real browser: Markdown images, links, raw HTML and bare
addresses typed into case fields, board reports, evidence, operation and incident records and a
display name never make the browser fetch anything from another origin (on an isolated network a
fetched image would tell an outsider who is looking at which case), and never become links.

The journey visits every page that shows these fields, as a planner, a reviewer and an auditor,
while the browser records every request it makes. The recorder is checked too: a deliberate
off-origin request at the end must be seen, so the test cannot pass by recording nothing.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from procurement.demo import LOW
from procurement.fiscal import to_jst
from tests.fixtures.services import TEST_PASSWORD, submit_filled
from tests.ui.browser import StreamlitServer, launch_chromium, wait_idle
from tests.ui.test_browser import ARTIFACTS, chromium_path  # noqa: F401 - fixture
from tests.ui.test_browser_sessions import _sign_in

pytestmark = pytest.mark.browser

EVIL = "evil.example"


def hostile(label: str) -> str:
    """A field value that would fetch or link to another origin if rendered as Markdown/HTML."""
    return (f"{label} ![i](http://{EVIL}/i.png) [l](http://{EVIL}/l) "
            f'<img src="http://{EVIL}/h.png"> http://{EVIL}/b $\\href{{http://{EVIL}/t}}{{t}}$')


@pytest.fixture
def hostile_cases(ui_services, ui_actors):
    """An approved case in operation with an incident, and a draft, every text field hostile;
    approved by a reviewer whose display name is hostile too."""
    svc = ui_services
    admin, planner = ui_actors["a-admin"], ui_actors["a-planner"]
    svc.create_user(admin, "org-a", "a-reviewer-x", hostile("name"), TEST_PASSWORD, ["reviewer"])
    reviewer = svc.authenticate("a-reviewer-x", TEST_PASSWORD)
    case = svc.create_case(planner, hostile("title"), hostile("dept"), answers=dict(LOW),
                           purpose=hostile("purpose"))
    item = case.classification.required_items[0]
    case = svc.set_checklist_item(planner, case.id, item, "met", hostile("evidence"), case.version)
    case = submit_filled(svc, planner, case, comment=hostile("submit"))
    case = svc.approve(reviewer, case.id, case.version, hostile("approve"))
    today = to_jst(svc.clock()).date()
    svc.start_operation(planner, case.id, case.version, started_on=today,
                        vendor=hostile("vendor"), model_name=hostile("model"), model_version="1",
                        ismap_listing="ismap", review_interval_months=6)
    svc.create_incident(planner, case.id, occurred_on=today, severity="low",
                        description=hostile("incident"))
    draft = svc.create_case(planner, hostile("draft"), hostile("dept2"), answers={"SC-1": "yes"},
                            purpose=hostile("purpose2"))
    return case.id, draft.id


@pytest.fixture
def server(hostile_cases, ui_db_url, tmp_path):
    srv = StreamlitServer(ui_db_url, tmp_path / "streamlit.log")
    srv.start()
    yield srv
    srv.stop()


def test_hostile_text_in_every_field_is_never_fetched_or_linked(chromium_path, server,
                                                                hostile_cases):
    from playwright.sync_api import sync_playwright

    approved_id, draft_id = hostile_cases
    origin = urlsplit(server.url).netloc
    journeys = {
        "a-planner": ["", f"workspace?case={approved_id}", f"workspace?case={draft_id}",
                      "operation"],
        "a-reviewer": [f"review?case={approved_id}", "portfolio", "operation", ""],
        "a-auditor": ["exports", "portfolio"],
    }
    requests: list[str] = []
    shown: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            for username, paths in journeys.items():
                context = browser.new_context(viewport={"width": 1366, "height": 900},
                                              locale="ja-JP")
                context.on("request", lambda req: requests.append(req.url))
                page = context.new_page()
                page.set_default_timeout(30_000)
                page.goto(server.url)
                wait_idle(page)
                _sign_in(page, username)
                for path in paths:
                    page.goto(f"{server.url}/{path}")
                    wait_idle(page)
                    # Give lazy images and iframes a moment to ask for their sources.
                    page.wait_for_timeout(500)
                    html = page.content()
                    shown.append(page.inner_text("body").replace("\u2060", ""))
                    assert page.locator(f'a[href*="{EVIL}"]').count() == 0, (username, path)
                    assert page.locator(f'img[src*="{EVIL}"], iframe[src*="{EVIL}"]').count() == 0, \
                        (username, path)
                    assert f"<img src=\"http://{EVIL}" not in html
                    page.screenshot(path=str(ARTIFACTS / f"hostile-{username}-"
                                             f"{path.split('?')[0] or 'cases'}.png"), full_page=True)
                context.close()
            # The data was on screen, as the text that was typed.
            assert any(f"![i](http://{EVIL}/i.png)" in text for text in shown)
            off_origin = [u for u in requests
                          if urlsplit(u).scheme in ("http", "https", "ws", "wss")
                          and urlsplit(u).netloc != origin]
            assert off_origin == [], "\n".join(sorted(set(off_origin)))

            # The recorder sees an off-origin request when there is one.
            context = browser.new_context()
            context.on("request", lambda req: requests.append(req.url))
            page = context.new_page()
            page.goto(server.url)
            wait_idle(page)
            page.evaluate(f"() => {{ new Image().src = 'http://{EVIL}/probe.png'; }}")
            page.wait_for_timeout(500)
            assert f"http://{EVIL}/probe.png" in requests
            context.close()
        finally:
            browser.close()
