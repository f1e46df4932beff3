"""The reviewer's journey in the system Chromium, in Japanese, at 1366x900 and 1024 wide: the
count in the menu, the inbox, the oldest case opened, the changes since the return, the Board
consultation recorded, the approval confirmed. Screenshots go to `test-artifacts/` (or the folder
named by PROCUREMENT_SCREENSHOT_DIR) for a person to look at.

Skipped (with the reason shown) when /usr/bin/chromium is missing locally; a failure in CI.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from procurement.demo import HIGH, LOW
from tests.fixtures.services import TEST_PASSWORD, submit_filled
from tests.ui.browser import CHROMIUM, ROOT, launch_chromium, wait_idle

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("PROCUREMENT_SCREENSHOT_DIR") or ROOT / "test-artifacts")


@pytest.fixture
def chromium_path() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is missing but CI=true: .ci/run must install Debian's chromium")
    pytest.skip(f"browser test skipped: {CHROMIUM} not installed")


def drawn(page) -> None:
    """The script run is over and every table has drawn its cells (they draw after the run,
    and again after the window changes size)."""
    wait_idle(page)
    page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stTable"]')]
        .every(t => t.querySelector('td, th'))""")
    page.wait_for_function("""() => !document.querySelector('[data-testid="stSkeleton"]')""")


def shoot(page, path: Path) -> None:
    """The screen as seen (`path`) and the whole page (`*-full.png`): the app scrolls inside its
    main block, so the window is made as tall as that block for the second picture."""
    drawn(page)
    page.screenshot(path=str(path))
    size = page.viewport_size
    height = page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]') || document.body;
        return Math.max(main.scrollHeight, document.body.scrollHeight);}""")
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 12000)})
    drawn(page)
    page.screenshot(path=str(path.with_name(path.stem + "-full.png")))
    page.set_viewport_size(size)


@pytest.mark.parametrize("width,height", [(1366, 900), (1024, 768)])
def test_the_reviewer_reads_and_approves_a_resubmission(chromium_path, server, ui_services,
                                                        ui_actors, width, height):
    from playwright.sync_api import expect, sync_playwright

    planner, reviewer = ui_actors["a-planner"], ui_actors["a-reviewer"]
    case = submit_filled(ui_services, planner, ui_services.create_case(
        planner, "住民問い合わせ回答支援チャットボット", "市民サービス課", None, dict(HIGH)))
    returned = ui_services.return_case(reviewer, case.id,
                                       "HR-2とHR-4の回答を見直してください。", case.version)
    changed = ui_services.save_answers(planner, case.id, {"HR-2": "policy_reference",
                                                          "HR-4": "always_reviewed"},
                                       returned.version)
    ui_services.submit(planner, case.id, changed.version)
    submit_filled(ui_services, planner, ui_services.create_case(
        planner, "議事録要約", "総務課", None, dict(LOW)))
    pack = ui_services.registry.resolve(case.pack_key)
    (step,) = pack.report_steps(ui_services.get_case(reviewer, case.id).classification)
    step_title = pack.text(step.title, "ja")

    expect.set_options(timeout=30_000)  # a busy machine: the first run after sign-in is slow
    SHOTS.mkdir(parents=True, exist_ok=True)
    prefix = f"review-{width}"
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": width, "height": height}, locale="ja-JP")
            page.set_default_timeout(30_000)
            page.goto(server.url)
            wait_idle(page)
            page.get_by_label("ユーザー名").fill("a-reviewer")
            page.get_by_label("パスワード").fill(TEST_PASSWORD)
            page.get_by_role("button", name="サインイン").click()
            expect(page.get_by_role("heading", name="審査待ちの案件")).to_be_visible()
            wait_idle(page)
            expect(page.get_by_text("審査待ち（2）")).to_be_visible()
            shoot(page, SHOTS / f"{prefix}-1-inbox.png")

            # The oldest case is the first offered; open it.
            page.get_by_role("button", name="開く", exact=True).click()
            expect(page.get_by_role("heading", name="前回の差戻し以降の変更")).to_be_visible()
            wait_idle(page)
            expect(page.get_by_text("変更は 2 件です。")).to_be_visible()
            shoot(page, SHOTS / f"{prefix}-2-case.png")

            page.get_by_text("助言あり", exact=True).click()
            page.get_by_label("メモ（助言の内容等）").fill("リスク低減策について助言を受けた")
            page.get_by_role("button", name="記録する").click()
            wait_idle(page)
            expect(page.get_by_text(f"「{step_title}」の結果を記録しました。")).to_be_visible()
            page.get_by_role("button", name="承認する").click()
            wait_idle(page)
            confirmation = page.locator(".st-key-review_confirmation")
            expect(confirmation).to_contain_text(pack.text(pack.level(case.level).label, "ja"))
            expect(confirmation).to_contain_text(pack.text(pack.title, "ja"))
            confirmation.scroll_into_view_if_needed()
            shoot(page, SHOTS / f"{prefix}-3-confirm.png")
            page.get_by_role("button", name="承認を確定する").click()
            wait_idle(page)
            expect(page.get_by_text(f"案件 #{case.id} を承認しました。")).to_be_visible()
            expect(page.get_by_text("審査待ち（1）")).to_be_visible()
            shoot(page, SHOTS / f"{prefix}-4-after.png")
        finally:
            browser.close()

    assert ui_services.get_case(reviewer, case.id).status == "approved"
