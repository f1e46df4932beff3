"""A real browser: the system Chromium drives `streamlit run app.py` on a temporary database.

Skipped (with the reason shown) when /usr/bin/chromium is missing locally; a failure in CI
(`CI=true`), where `.ci/run` installs it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.fixtures.services import TEST_PASSWORD
from tests.ui.browser import CHROMIUM, ROOT, launch_chromium, wait_idle

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def chromium_path() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is missing but CI=true: .ci/run must install Debian's chromium")
    pytest.skip(f"browser test skipped: {CHROMIUM} not installed (apt-get install chromium fonts-noto-cjk)")


def test_sign_in_answer_and_see_the_result_change(chromium_path, server, ui_services, ui_actors):
    from playwright.sync_api import expect, sync_playwright

    planner = ui_actors["a-planner"]
    case = ui_services.create_case(planner, "窓口案内チャットボット", "市民課",
                                   answers={"SC-1": "yes", "SC-2": "no"})
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="ja-JP")
            page.set_default_timeout(30_000)
            page.goto(server.url)
            wait_idle(page)
            expect(page.get_by_role("heading", name="サインイン")).to_be_visible()

            page.get_by_label("ユーザー名").fill("a-planner")
            page.get_by_label("パスワード").fill(TEST_PASSWORD)
            page.get_by_role("button", name="サインイン").click()
            expect(page.get_by_role("heading", name="案件一覧")).to_be_visible()
            wait_idle(page)
            expect(page.get_by_text("ようこそ、企画 花子 さん。")).to_be_visible()

            page.get_by_role("button", name="開く").click()
            expect(page.get_by_role("heading", name=f"#{case.id} 窓口案内チャットボット")).to_be_visible()
            wait_idle(page)
            # The step list: one button per step; the address names the case and the step.
            page.locator(".st-key-nav_classification button").click()
            expect(page).to_have_url(re.compile(rf"/workspace\?case={case.id}&step=classification$"))
            wait_idle(page)
            panel = page.locator(".st-key-result_panel")
            # Nothing answered on this step yet: not classified, never a green 低リスク.
            expect(panel).to_contain_text("リスク区分: 未判定")
            expect(panel).not_to_contain_text("低リスク")
            expect(panel).to_contain_text("暫定の結果")

            page.get_by_text("国民・住民・事業者（一般の人）").click()
            wait_idle(page)
            expect(panel).to_contain_text("少なくとも「高リスクの可能性あり」")
            expect(panel).to_contain_text("一般の人が利用者または出力の受け手になるため")
            expect(panel).to_contain_text("独自の再構成（推定）")
            page.screenshot(path=str(ARTIFACTS / "ui-workspace-high.png"), full_page=True)
        finally:
            browser.close()

    stored = ui_services.get_case(planner, case.id)
    assert stored.answers["HR-1"] == "public" and stored.level == "high"
