"""The layout at 1366 and 1024 px in the system Chromium, in Japanese: a guessed or bookmarked
page address (`/cases`) opens that page without Streamlit's English "Page not found" dialog;
the portfolio's headline figures read in full; the tables give the columns that matter first
the room the code fits them into (`style.TABLE_WIDTH_AT_1024`, tests/ui/test_table_columns.py).

Screenshots go to `test-artifacts/layout/` (or `PROCUREMENT_SHOTS_DIR` when set), to be looked
at. Skipped (with the reason shown) when /usr/bin/chromium is missing locally; a failure in CI.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from procurement.demo import BLOCKED, HIGH, LOW
from procurement.demo.seed import REVIEW
from procurement.ui import style
from procurement.ui.widgets import text_width
from tests.fixtures.services import submit_filled
from tests.ui.browser import launch_chromium, wait_idle
from tests.ui.test_browser import ARTIFACTS, chromium_path  # noqa: F401 - fixture
from tests.ui.test_browser_sessions import _sign_in

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("PROCUREMENT_SHOTS_DIR") or ARTIFACTS / "layout")
WIDTHS = (1366, 1024)


@pytest.fixture
def cases(ui_actors, ui_services):
    """Cases at every level of jp-national 2.0.0, one blocked, one waiting for review."""
    planner = ui_actors["a-planner"]
    made = [ui_services.create_case(planner, title, "市民サービス課", answers=dict(answers))
            for title, answers in (("住民問い合わせ回答支援チャットボットの試行導入", REVIEW),
                                   ("国民向けFAQチャットボット", HIGH), ("翻訳支援", BLOCKED),
                                   ("議事録要約", LOW))]
    submit_filled(ui_services, planner, made[0])
    return made


def settle(page, ms: int = 500) -> None:
    """Let the app finish its run and the browser draw it (tables draw after the run)."""
    wait_idle(page)
    page.wait_for_timeout(ms)
    wait_idle(page)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def open_page(page, url: str) -> None:
    page.goto(url)
    settle(page)


def no_english_dialog(page) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_text("Page not found")).to_have_count(0)
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_a_guessed_page_address_opens_that_page(chromium_path, server, ui_actors):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            for username, landing, heading in (("a-planner", "cases", "案件一覧"),
                                               ("a-reviewer", "review", "審査待ちの案件")):
                context = browser.new_context(viewport={"width": 1366, "height": 900},
                                              locale="ja-JP")
                page = context.new_page()
                page.set_default_timeout(30_000)
                open_page(page, f"{server.url}/cases")  # signed out: the sign-in form there
                _sign_in(page, username)
                settle(page)
                expect(page.get_by_role("heading", name="案件一覧")).to_be_visible()
                assert page.url == f"{server.url}/cases"
                no_english_dialog(page)
                # The root goes on to the user's landing page, at its own address.
                open_page(page, f"{server.url}/")
                expect(page.get_by_role("heading", name=heading)).to_be_visible()
                assert page.url == f"{server.url}/{landing}"
                no_english_dialog(page)
                # The landing page's own address (a bookmark), with its parameters.
                open_page(page, f"{server.url}/{landing}?from=bookmark")
                expect(page.get_by_role("heading", name=heading)).to_be_visible()
                assert page.url == f"{server.url}/{landing}?from=bookmark"
                no_english_dialog(page)
                # The menu marks the page shown.
                current = page.locator('[data-testid="stSidebarNavLink"][aria-current="page"]')
                expect(current).to_have_count(1)
                expect(current).to_contain_text(heading if landing == "cases" else "審査待ち")
                shot(page, f"address-{landing}-1366")
                context.close()
        finally:
            browser.close()


def test_figures_and_tables_read_at_1366_and_1024(chromium_path, server, ui_actors, cases):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900},
                                          locale="ja-JP")
            page = context.new_page()
            page.set_default_timeout(30_000)
            open_page(page, server.url)
            _sign_in(page, "a-reviewer")
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})

                # The portfolio's figures: every label in full, none ending in "…".
                open_page(page, f"{server.url}/portfolio")
                labels = page.locator('[data-testid="stMetricLabel"]')
                expect(labels).to_have_count(5)
                assert labels.first.inner_text() == "案件数"
                cut = page.evaluate("""() => [...document.querySelectorAll(
                        '[data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"]')]
                    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)""")
                assert cut == [], cut
                shot(page, f"portfolio-{width}")

                # The tables are at least as wide as the room the code fits the first columns
                # into, and the width estimate is never short of what Chromium draws.
                for path, words in (("cases", ["是正が必要な事項", "要確認（本アプリ独自の区分）"]),
                                    ("review", ["承認できない理由", "待ち日数"])):
                    open_page(page, f"{server.url}/{path}")
                    grid = page.locator('[data-testid="stDataFrame"] .dvn-scroller').first
                    expect(grid).to_be_visible()
                    settle(page)
                    room = grid.evaluate("e => e.clientWidth")
                    assert room >= style.TABLE_WIDTH_AT_1024, (path, width, room)
                    drawn = page.evaluate("""words => words.map(w => {
                        const c = document.createElement('canvas').getContext('2d');
                        c.font = '14px "Noto Sans JP"';
                        return c.measureText(w).width; })""", words)
                    for word, pixels in zip(words, drawn, strict=True):
                        assert text_width(word) >= pixels + 16, (word, pixels)
                    no_english_dialog(page)
                    shot(page, f"{path}-{width}")
            context.close()
        finally:
            browser.close()
