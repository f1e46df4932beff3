"""Accessibility of the planner's pages (JIS X 8341-3 / WCAG 2.x AA) checked with axe-core in
Chromium: the case list and the workspace's steps, in Japanese at 1366x900.

axe-core is not a Python package: install it with npm outside the repository and point
`PROCUREMENT_AXE_JS` at its `axe.min.js`, e.g.
`npm install --prefix /opt/axe axe-core@4` and
`PROCUREMENT_AXE_JS=/opt/axe/node_modules/axe-core/axe.min.js`. Without it the test is skipped
and says so.

Serious and critical violations fail the test, except those listed in STREAMLIT_OWN: caused by
Streamlit's own markup, which the app cannot change (each with the reason).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from procurement.demo import HIGH
from tests.ui.browser import launch_chromium, wait_idle
from tests.ui.test_browser import chromium_path  # noqa: F401 - fixture
from tests.ui.test_browser_sessions import _sign_in
from tests.ui.test_browser_workspace import SHOTS

pytestmark = pytest.mark.browser

#: rule id -> why it is allowed (Streamlit's markup, not the app's).
STREAMLIT_OWN: dict[str, str] = {}


def axe_source() -> str | None:
    """axe-core's script as `PROCUREMENT_AXE_JS` names it, or None when it is not installed."""
    path = os.environ.get("PROCUREMENT_AXE_JS", "")
    if path and Path(path).is_file():
        return Path(path).read_text(encoding="utf-8")
    return None


@pytest.fixture
def axe_js() -> str:
    source = axe_source()
    if source is not None:
        return source
    pytest.skip("accessibility test skipped: axe-core not installed (npm install --prefix DIR "
                "axe-core@4, then PROCUREMENT_AXE_JS=DIR/node_modules/axe-core/axe.min.js)")


def serious(page, axe: str) -> list[dict]:
    """Serious and critical WCAG 2 A/AA violations on the page as drawn now."""
    page.add_script_tag(content=axe)
    result = page.evaluate("""async () => await axe.run(document, {
        runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        resultTypes: ["violations"]})""")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [{"target": n["target"], "html": n["html"][:160],
                        "why": (n.get("failureSummary") or "")[:300]} for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_the_planners_pages_have_no_serious_accessibility_violation(chromium_path, axe_js,  # noqa: F811 - the fixture
                                                                    server, ui_services,
                                                                    ui_actors):
    from playwright.sync_api import sync_playwright

    case = ui_services.create_case(ui_actors["a-planner"], "窓口案内チャットボット", "市民課",
                                   answers=HIGH)
    found: dict[str, list[dict]] = {}
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="ja-JP")
            page.set_default_timeout(30_000)
            page.goto(server.url)
            wait_idle(page)
            _sign_in(page, "a-planner")
            page.wait_for_timeout(500)
            wait_idle(page)
            found["cases"] = serious(page, axe_js)
            for step in ("intake", "classification", "board_report", "procurement_checklist",
                         "submission"):
                page.goto(f"{server.url}/workspace?case={case.id}&step={step}")
                wait_idle(page)
                page.wait_for_timeout(500)
                wait_idle(page)
                found[step] = serious(page, axe_js)
        finally:
            browser.close()
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "axe.json").write_text(json.dumps(found, ensure_ascii=False, indent=1),
                                    encoding="utf-8")
    ours = {page: [v for v in vs if v["id"] not in STREAMLIT_OWN] for page, vs in found.items()}
    assert all(not vs for vs in ours.values()), json.dumps(ours, ensure_ascii=False, indent=1)
