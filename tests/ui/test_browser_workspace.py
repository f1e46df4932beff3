"""The planner's workspace in a real browser (Chromium, Japanese, 1366x900 then 1024 wide), as a
ministry 係長 uses it: a case opened from a link (`?case=N&step=...`), a reload (F5) in the middle
of typing, answers and a checklist bulk action that never move the page on by itself, the
documents menu, the print layout, and what must stay visible at 1024 px.

Screenshots go to `test-artifacts/workspace/` (or `PROCUREMENT_SHOTS_DIR` when set), to be looked
at.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from procurement.demo import HIGH
from procurement.packs.engine import classify
from tests.ui.browser import launch_chromium, wait_idle
from tests.ui.test_browser import ARTIFACTS, chromium_path  # noqa: F401 - fixture
from tests.ui.test_browser_sessions import _sign_in

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("PROCUREMENT_SHOTS_DIR") or ARTIFACTS / "workspace")
PURPOSE = "住民からの問い合わせに、公開情報を根拠とした回答案を示す。"
#: The high case before its risk questions are answered: scope settled, nothing else.
SCOPE_ONLY = {k: v for k, v in HIGH.items() if k.startswith("SC-")}


def where(page) -> dict[str, str]:
    """The workspace's query parameters, as the address bar shows them."""
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def settle(page, ms: int = 300) -> None:
    """Let the app finish its run and the browser draw it."""
    wait_idle(page)
    page.wait_for_timeout(ms)
    wait_idle(page)


def sideways(page) -> int:
    """How far the first table on the page can scroll sideways, in px (-1: no table)."""
    return page.evaluate("""() => {
        const s = document.querySelector('[data-testid="stDataFrame"] .dvn-scroller');
        return s ? s.scrollWidth - s.clientWidth : -1; }""")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_planner_works_on_a_linked_case_through_a_reload(chromium_path, server, ui_services,  # noqa: F811 - the fixture
                                                           ui_actors):
    from playwright.sync_api import expect, sync_playwright

    planner = ui_actors["a-planner"]
    case = ui_services.create_case(planner, "窓口案内チャットボット", "市民課",
                                   answers=SCOPE_ONLY)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900},
                                          locale="ja-JP", timezone_id="Asia/Tokyo")
            page = context.new_page()
            page.set_default_timeout(30_000)
            # A link sent by a colleague: the sign-in form at that address, then the case.
            page.goto(f"{server.url}/workspace?case={case.id}&step=intake")
            wait_idle(page)
            _sign_in(page, "a-planner")
            heading = page.get_by_role("heading", name=f"#{case.id} 窓口案内チャットボット")
            expect(heading).to_be_visible()
            settle(page)
            assert where(page) == {"case": str(case.id), "step": "intake"}
            header = page.locator(".st-key-case_header")
            expect(header).to_contain_text("未判定")
            expect(header).not_to_contain_text("低リスク")
            shot(page, "01-intake-1366")

            # Typing the purpose, then F5 before leaving the field: saved while typing.
            purpose = page.locator(".st-key-intake_purpose textarea")
            purpose.click()
            purpose.press_sequentially(PURPOSE[:12], delay=20)
            purpose.fill(PURPOSE)
            page.wait_for_timeout(2500)  # the pause after which the page saves a draft
            wait_idle(page)
            page.reload()
            wait_idle(page)
            expect(heading).to_be_visible()  # still signed in, same case
            settle(page)
            assert where(page) == {"case": str(case.id), "step": "intake"}
            expect(page.locator(".st-key-intake_purpose textarea")).to_have_value(PURPOSE)
            assert ui_services.get_case(planner, case.id).purpose == PURPOSE

            # The classification: each answer is saved and the page stays on its step.
            page.locator(".st-key-nav_classification button").click()
            settle(page)
            assert where(page)["step"] == "classification"
            panel = page.locator(".st-key-result_panel")
            expect(panel).to_contain_text("リスク区分: 未判定")
            shot(page, "02-classification-unanswered-1366")
            for qid in ("HR-1", "HR-2", "HR-3", "HR-4"):
                question = ui_services.registry.resolve(
                    f"{case.pack_id}@{case.pack_version}").question(qid)
                label = next(o.label["ja"] for o in question.options if o.value == HIGH[qid])
                page.locator(f".st-key-q_{qid}").get_by_text(label, exact=True).click()
                settle(page)
                assert where(page)["step"] == "classification", qid
            expect(panel).to_contain_text("高リスク")
            # The work area runs alone after each answer; a change that reaches the header
            # (the level) draws the whole page again.
            expect(header).to_contain_text("高リスク")
            expect(header).not_to_contain_text("未判定")
            expect(panel).to_contain_text("この区分の意味")  # the level's help from the pack
            # The review rule that also fired stands apart, not under 判定の理由.
            expect(panel).to_contain_text("ほかに当たった観点")
            shot(page, "03-classification-high-1366")
            # The result stays in view while the planner scrolls through the questions.
            page.evaluate("document.querySelector('[data-testid=stMain]').scrollTop = 900")
            page.wait_for_timeout(300)
            top = panel.bounding_box()["y"]
            assert 0 <= top <= 40, top
            shot(page, "03b-classification-scrolled-1366")
            page.evaluate("document.querySelector('[data-testid=stMain]').scrollTop = 0")
            stored = ui_services.get_case(planner, case.id)
            assert stored.level == "high" and all(stored.answers[q] == HIGH[q] for q in HIGH)

            # An answer that leaves the header as it is: only the work area runs, and the
            # change count beside the step moves on.
            changes = page.get_by_text("更新回数:")
            before = stored.version
            expect(changes).to_contain_text(f"更新回数: {before}")
            pack = ui_services.registry.resolve(f"{case.pack_id}@{case.pack_version}")
            # Another answer to HR-3 under which the case stays high (the header unchanged).
            other = next(o for o in pack.question("HR-3").options if o.value != HIGH["HR-3"]
                         and classify(pack, {**stored.answers, "HR-3": o.value}).level == "high")
            page.locator(".st-key-q_HR-3").get_by_text(other.label["ja"], exact=True).click()
            settle(page)
            expect(changes).to_contain_text(f"更新回数: {before + 1}")
            expect(header).to_contain_text("高リスク")

            # 次へ moves to the next step: the address and the step list follow.
            page.locator(".st-key-next_step button").click()
            settle(page)
            following = where(page)["step"]
            assert following != "classification", following
            expect(page.locator(f".st-key-nav_{following} button").first).to_have_attribute(
                "data-testid", "stBaseButton-primary")
            expect(page.get_by_role("heading", name=pack.step(following).title["ja"])
                   ).to_be_visible()

            # A checklist step: the grid with its bulk action; settling every required item
            # does not move the page on.
            page.locator(".st-key-nav_procurement_checklist button").click()
            settle(page)
            shot(page, "04-checklist-1366")
            (cl,) = [c.id for c in pack.checklists if c.step == "procurement_checklist"]
            page.locator(f".st-key-bulk_{cl}_required_only label").click()
            settle(page)
            page.locator(f".st-key-bulk_{cl}_all button").click()
            settle(page)
            page.locator(f".st-key-bulk_{cl}_evidence input").fill("仕様書 第3章")
            page.locator(f".st-key-bulk_{cl}_status").click()
            page.get_by_role("option", name="充足", exact=True).click()
            settle(page)
            shot(page, "05-checklist-bulk-ready-1366")
            page.locator(f".st-key-bulk_{cl}_apply button").click()
            settle(page, 600)
            assert where(page)["step"] == "procurement_checklist"
            shot(page, "06-checklist-after-bulk-1366")
            stored = ui_services.get_case(planner, case.id)
            (checklist,) = [c for c in pack.checklists if c.id == cl]
            required = {i.id for i in checklist.items} & set(stored.classification.required_items)
            met = {i: e for i, e in stored.checklist.items() if e.status == "met"}
            assert set(met) == required  # the required items shown, all selected, all met
            assert all(e.evidence == "仕様書 第3章" for e in met.values())
            expect(page.get_by_text("対応が済んだ項目")).to_be_visible()

            # The documents menu offers her own draft documents at this status.
            page.locator(".st-key-docs_menu button").first.click()
            expect(page.get_by_text("印刷用の表示")).to_be_visible()
            shot(page, "07-documents-menu-1366")
            page.keyboard.press("Escape")

            # 1024 wide: the step list is one line that scrolls sideways, never wrapping.
            page.set_viewport_size({"width": 1024, "height": 768})
            settle(page, 600)
            nav = page.locator(".st-key-ws_nav")
            buttons = nav.locator("button:visible")
            heights = [buttons.nth(i).bounding_box()["height"] for i in range(buttons.count())]
            assert max(heights) < 60, heights  # one line of text each
            tops = {round(buttons.nth(i).bounding_box()["y"]) for i in range(buttons.count())}
            assert len(tops) == 1, tops  # all on one row
            # ... scrolled so that the current step is in view.
            current = nav.locator('[data-testid="stBaseButton-primary"]:visible').bounding_box()
            strip = nav.bounding_box()
            assert strip["x"] <= current["x"] and \
                current["x"] + current["width"] <= strip["x"] + strip["width"], (current, strip)
            shot(page, "07-checklist-1024")

            # The case list at 1024: the columns that matter (open, number, title, status,
            # level, blocking) are in view; only 所属・担当・最終更新 (340 px) may scroll sideways.
            page.goto(f"{server.url}/")  # the case list is the home page
            settle(page, 800)
            grid = page.locator('[data-testid="stDataFrame"]').first
            expect(grid).to_be_visible()
            box = grid.bounding_box()
            assert box["x"] + box["width"] <= 1024, box
            assert 0 <= sideways(page) <= 340, sideways(page)
            shot(page, "08-cases-1024")
            page.set_viewport_size({"width": 1366, "height": 900})
            settle(page, 800)
            assert sideways(page) <= 1  # at 1366 every column is in view
            shot(page, "09-cases-1366")

            # Print: no sidebar, no step list, the case on A4.
            page.goto(f"{server.url}/workspace?case={case.id}&view=print")
            settle(page, 600)
            page.emulate_media(media="print")
            assert page.locator('[data-testid="stSidebar"]').evaluate(
                "el => getComputedStyle(el).display") == "none"
            shot(page, "10-print")
            pdf = page.pdf(format="A4", print_background=True)
            assert pdf.startswith(b"%PDF")
            (SHOTS / "10-print.pdf").write_bytes(pdf)
        finally:
            browser.close()


def test_another_organisations_link_shows_nothing_of_the_case(chromium_path, server,  # noqa: F811 - the fixture
                                                               ui_services, ui_actors):
    from playwright.sync_api import expect, sync_playwright

    case = ui_services.create_case(ui_actors["a-planner"], "省内限定の要約", "総務課",
                                   answers=SCOPE_ONLY)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="ja-JP")
            page.set_default_timeout(30_000)
            page.goto(f"{server.url}/workspace?case={case.id}&step=classification")
            wait_idle(page)
            _sign_in(page, "x-planner")
            settle(page)
            expect(page.locator('[data-testid="stAlert"]').first).to_be_visible()
            assert "省内限定の要約" not in page.locator('[data-testid="stMain"]').inner_text()
            shot(page, "11-other-org-link")
        finally:
            browser.close()
