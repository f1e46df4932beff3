"""Several app processes on one PostgreSQL work together, as behind a load balancer.

Two `procurement serve` processes share one database. A planner signed in on process A submits a
case; a reviewer on process B sees it in the review queue at once and approves it; the planner's
session (signed in on A) is valid on B too, since sessions live in the database and only a
websocket belongs to one process; and the organisation's audit chain verifies.
"""

from __future__ import annotations

import pytest

from procurement.demo import LOW
from tests.fixtures.services import TEST_PASSWORD, fill_for_submission
from tests.operate.serving import ServeProcess
from tests.ui.browser import launch_chromium, wait_idle
from tests.ui.test_browser import chromium_path  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def _sign_in(page, username: str) -> None:
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(TEST_PASSWORD)
    page.get_by_role("button", name="サインイン").click()
    wait_idle(page)


@pytest.mark.parametrize("ui_db_url", ["postgresql"], indirect=True)
def test_a_planner_on_one_process_and_a_reviewer_on_another_work_on_one_case(
        chromium_path, ui_db_url, ui_actors, ui_services, tmp_path):  # noqa: F811 - the imported fixture
    from playwright.sync_api import expect, sync_playwright

    from procurement import audit

    planner = ui_actors["a-planner"]
    case = fill_for_submission(ui_services, planner,
                               ui_services.create_case(planner, "二つのプロセス", "総務課",
                                                       answers=LOW))
    a = ServeProcess(ui_db_url, tmp_path / "a.log")
    b = ServeProcess(ui_db_url, tmp_path / "b.log")
    try:
        a.wait()
        b.wait()
        with sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                on_a = browser.new_context(locale="ja-JP", viewport={"width": 1366, "height": 900})
                page = on_a.new_page()
                page.set_default_timeout(30_000)
                page.goto(a.url)
                wait_idle(page)
                _sign_in(page, "a-planner")
                page.get_by_role("button", name="開く").click()
                wait_idle(page)
                expect(page.get_by_role("heading", name=f"#{case.id} 二つのプロセス")).to_be_visible()
                submit = page.get_by_role("button", name="審査に提出する")
                if not submit.is_visible():
                    page.get_by_text("提出", exact=True).click()
                    wait_idle(page)
                submit.click()
                wait_idle(page)
                expect(page.get_by_text("提出しました。審査者の判断をお待ちください。")).to_be_visible()

                # The same browser session on process B: sessions live in the database.
                elsewhere = on_a.new_page()
                elsewhere.goto(f"{b.url}/cases")
                wait_idle(elsewhere)
                expect(elsewhere.get_by_text("企画 花子（テスト省）でサインイン中")).to_be_visible()

                on_b = browser.new_context(locale="ja-JP", viewport={"width": 1366, "height": 900})
                review = on_b.new_page()
                review.set_default_timeout(30_000)
                review.goto(f"{b.url}/review")
                wait_idle(review)
                _sign_in(review, "a-reviewer")
                expect(review.get_by_role("heading", name="審査待ちの案件")).to_be_visible()
                review.get_by_role("button", name="開く").click()   # the inbox's oldest case
                wait_idle(review)
                expect(review.get_by_role("heading", name=f"#{case.id} 二つのプロセス")).to_be_visible()
                review.get_by_role("button", name="承認する").click()
                wait_idle(review)
                review.get_by_role("button", name="承認を確定する").click()
                wait_idle(review)
                expect(review.get_by_text(f"案件 #{case.id} を承認しました。")).to_be_visible()
            finally:
                browser.close()
    finally:
        a.stop()
        b.stop()

    assert ui_services.get_case(planner, case.id).status == "approved"
    reports = audit.verify_database(ui_services.engine)
    assert reports and all(r.ok for r in reports), [r.describe() for r in reports]
    events = [e.event_type for e in ui_services.case_history(planner, case.id)]
    assert events[-2:] == ["case.submitted", "case.approved"]
