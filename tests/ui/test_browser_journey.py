"""The planner's whole journey through a high-risk case in a real browser (Chromium, Japanese,
1366x900), with mouse and keyboard only: sign in, create the case from the case list, walk every
step, answer so that the case is high risk, write the Advisory Board report (reloading the page
in the middle of typing), download the draft documents, settle the three checklists with one
bulk action each, and submit for review.

Nothing is set behind the page: after the users are seeded, the services are only read, at the
end, to check what the screens said. Every step is photographed (full page) under
`test-artifacts/journey/`, in order, with the classification step and a checklist grid also at
1024 px; when axe-core is installed (`PROCUREMENT_AXE_JS`, see tests/ui/test_browser_axe.py),
each step is checked for serious accessibility violations as well.

The second test pins down what made the journey fail once on a loaded machine: a draft that
reaches the server in the same run as leaving the field overwrites the whole text with the
older draft (expected to fail until the workspace is fixed).
"""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg

from procurement.db.models import BOARD_REPORT_FIELDS
from tests.fixtures.services import TEST_PASSWORD
from tests.ui.browser import ScriptRuns, launch_chromium, screenshot_whole, wait_idle
from tests.ui.test_browser import ARTIFACTS, chromium_path  # noqa: F401 - fixture
from tests.ui.test_browser_axe import STREAMLIT_OWN, axe_source, serious
from tests.ui.test_browser_sessions import _wait_for_session_cookie

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "journey"
PACK = "jp-national@2.0.0"  # org-a's pinned pack (tests/ui/conftest.py)
TITLE = "住民問い合わせ回答支援"
DEPARTMENT = "情報政策課"
PURPOSE = "住民からの問い合わせに、公開情報を根拠とした回答案を示す。"
#: In scope, built in-house, for the public, giving them information, with partial review: high
#: under jp-national 2.0.0 (procurement.demo's HIGH).
ANSWERS = {
    "scope": {"SC-1": "yes", "SC-2": "no", "SC-3": "fy2026_or_later", "SC-4": "in_house"},
    "classification": {"HR-1": "public", "HR-2": "public_info", "HR-3": "public_only",
                       "HR-4": "partial_review"},
}
#: The Advisory Board report as the planner types it.
REPORT = {
    "project_details": "市民課の窓口案内に、公開資料だけを根拠とする回答案作成機能を導入する。",
    "objectives": "問い合わせへの回答時間を半減し、案内の質をそろえる。",
    "risk_mitigation": "一般の人が受け手となるため、出典を必ず示し、誤りの報告窓口を設ける。",
    "qa_plan": "導入前に想定問答二百件で正答率を評価する。運用中は毎月抜き取りで確認する。",
    "schedule": "令和8年10月に調達、令和9年4月に運用開始。",
    "contact": "情報政策課 企画係 企画 花子（内線1234）",
}
#: The field reloaded in the middle of typing: what was typed before the pause (saved as a draft
#: about 1 s after typing stopped) and what was typed after it, right before the reload.
RELOADED_FIELD = "qa_plan"
BEFORE_PAUSE, AFTER_PAUSE = REPORT[RELOADED_FIELD][:21], REPORT[RELOADED_FIELD][21:]
EVIDENCE = {"procurement_checklist": "仕様書 第3章", "contract_checklist": "契約書案 第12条",
            "submission": "利用規程 案 第2版"}


def where(page) -> dict[str, str]:
    """The workspace's query parameters, as the address bar shows them."""
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


class Journey:
    """The planner's browser tab: her clicks (each waited for the run it starts), and the
    pages photographed and checked by axe on the way."""

    def __init__(self, page, runs: ScriptRuns, axe: str | None):
        self.page, self.runs, self.axe = page, runs, axe
        self.violations: dict[str, list[dict]] = {}

    def shot(self, name: str, check: bool = True) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        wait_idle(self.page)
        screenshot_whole(self.page, SHOTS / f"{name}.png")
        if check and self.axe is not None:
            self.violations[name] = serious(self.page, self.axe)

    def narrow_shot(self, name: str) -> None:
        """The page at 1024 px, once the step list (one sideways line there) has scrolled the
        current step into view, as it promises."""
        self.page.set_viewport_size({"width": 1024, "height": 900})
        self.page.wait_for_function("""() => {
            const strip = document.querySelector(".st-key-ws_nav");
            const current = strip && Array.from(strip.querySelectorAll(
                '[data-testid="stBaseButton-primary"]')).find((b) => b.offsetParent !== null);
            if (!current) return false;
            const s = strip.getBoundingClientRect(), c = current.getBoundingClientRect();
            return s.left <= c.left && c.right <= s.right; }""")
        self.shot(name, check=False)
        self.page.set_viewport_size({"width": 1366, "height": 900})

    def click(self, locator) -> None:
        """A click that starts a script run, waited for."""
        self.runs.after(locator.click)

    def next_step(self, step: str) -> None:
        """次へ, and the address names the next step."""
        from playwright.sync_api import expect

        self.click(self.page.locator(".st-key-next_step button"))
        expect(self.page.locator(".st-key-ws_nav")).to_be_visible()
        assert where(self.page).get("step") == step, self.page.url

    def answer(self, pack, step: str) -> None:
        """Click each answer's option on the current step, waiting for the save of each."""
        for qid, value in ANSWERS[step].items():
            label = next(o.label["ja"] for o in pack.question(qid).options if o.value == value)
            option = self.page.locator(f".st-key-q_{qid}").get_by_text(label, exact=True)
            self.click(option)
            assert self.page.locator(f".st-key-q_{qid} input[type=radio]:checked").count() == 1

    def settle_checklist(self, checklist: str, evidence: str) -> None:
        """One bulk action: required items only, select all shown, 充足, a common evidence
        typed, apply (tests/ui/helpers.settle_with_bulk in the browser)."""
        from playwright.sync_api import expect

        page = self.page
        self.click(page.locator(f".st-key-bulk_{checklist}_required_only label"))
        self.click(page.locator(f".st-key-bulk_{checklist}_all button"))
        field = page.locator(f".st-key-bulk_{checklist}_evidence input")
        field.click()
        field.press_sequentially(evidence, delay=15)
        self.runs.after(lambda: field.press("Enter"))
        # 充足 is the first status, already chosen: choosing it again starts no run.
        page.locator(f".st-key-bulk_{checklist}_status").click()
        page.get_by_role("option", name="充足", exact=True).click()
        expect(page.locator(f".st-key-bulk_{checklist}_status").get_by_role("combobox")
               ).to_have_value("充足")
        apply = page.locator(f".st-key-bulk_{checklist}_apply button")
        expect(apply).to_be_enabled()
        count = int(re.search(r"選択した (\d+) 件に適用", apply.inner_text()).group(1))
        self.click(apply)
        expect(page.get_by_text(f"{count} 件を「充足」にしました。")).to_be_visible()


def sign_in_by_keyboard(page, runs: ScriptRuns, username: str) -> None:
    """Type the user name, Tab, the password, Enter; then wait until the browser holds the
    session cookie (a reload keeps the user signed in with it)."""
    page.get_by_label("ユーザー名").click()
    page.keyboard.type(username, delay=15)
    page.keyboard.press("Tab")
    page.keyboard.type(TEST_PASSWORD, delay=15)
    runs.after(lambda: page.keyboard.press("Enter"))
    assert _wait_for_session_cookie(page) is not None


def type_board_field(journey: Journey, name: str, text: str, previous: bool) -> None:
    """Click into a report field (leaving the previous one saves it) and type."""
    area = journey.page.locator(f".st-key-board_{name} textarea")
    if previous:
        journey.click(area)
    else:
        area.click()
    area.press_sequentially(text, delay=15)


def download(page, button: str, folder: Path) -> Path:
    """Click a download button of the open documents menu and keep the file."""
    with page.expect_download() as info:
        page.locator(f".st-key-{button} button").click()
    file = info.value
    assert file.failure() is None, file.failure()
    path = folder / file.suggested_filename
    file.save_as(path)
    return path


def workbook_texts(path: Path) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Every cell's text per sheet, and each sheet's page header (centre part)."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    cells = {ws.title: [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
             for ws in book.worksheets}
    headers = {ws.title: ws.oddHeader.center.text or "" for ws in book.worksheets}
    return cells, headers


def test_a_planner_takes_a_high_risk_case_from_creation_to_submission(
        chromium_path, server, ui_services, ui_actors, records_registry, tmp_path):  # noqa: F811 - the fixtures
    from playwright.sync_api import expect, sync_playwright

    pack = records_registry.resolve(PACK)
    checklists = {c.step: c.id for c in pack.checklists}
    axe = axe_source()
    if axe is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PROCUREMENT_AXE_JS does not name axe-core's axe.min.js but CI=true")
        warnings.warn("axe-core not installed (PROCUREMENT_AXE_JS): the journey's pages were "
                      "not checked for accessibility", stacklevel=1)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900},
                                          locale="ja-JP", timezone_id="Asia/Tokyo",
                                          accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(30_000)
            runs = ScriptRuns(page)
            journey = Journey(page, runs, axe)

            # Sign in; the case list.
            page.goto(server.url)
            wait_idle(page)
            sign_in_by_keyboard(page, runs, "a-planner")
            expect(page.get_by_role("heading", name="案件一覧")).to_be_visible()
            journey.shot("01-cases")

            # 新しい案件を作成: title, Tab, department, purpose; create and open.
            page.get_by_text("新しい案件を作成").click()
            title = page.locator(".st-key-new_case_title input")
            expect(title).to_be_visible()
            title.click()
            page.keyboard.type(TITLE, delay=15)
            page.keyboard.press("Tab")
            page.keyboard.type(DEPARTMENT, delay=15)
            page.locator(".st-key-new_case_purpose textarea").click()
            page.keyboard.type(PURPOSE, delay=10)
            journey.shot("02-new-case", check=False)
            journey.click(page.locator(".st-key-create_case button"))
            heading = page.get_by_role("heading", name=TITLE)
            expect(heading).to_be_visible()
            expect(page.get_by_text(f"案件「{TITLE}」を作成しました。")).to_be_visible()
            case_id = int(where(page)["case"])
            expect(page.get_by_role("heading", name=f"#{case_id} {TITLE}")).to_be_visible()
            header = page.locator(".st-key-case_header")
            expect(header).to_contain_text("下書き")
            expect(header).to_contain_text("未判定")

            # 1 案件の受付: what she typed in the form.
            journey.click(page.locator(".st-key-nav_intake button"))
            assert where(page) == {"case": str(case_id), "step": "intake"}
            expect(page.locator(".st-key-intake_title input")).to_have_value(TITLE)
            expect(page.locator(".st-key-intake_purpose textarea")).to_have_value(PURPOSE)
            journey.shot("03-intake")

            # 2 対象範囲の確認.
            journey.next_step("scope")
            journey.answer(pack, "scope")
            journey.shot("04-scope")

            # 3 リスクの判定: high once the four perspectives are answered.
            journey.next_step("classification")
            panel = page.locator(".st-key-result_panel")
            expect(panel).to_contain_text("リスク区分: 未判定")
            journey.answer(pack, "classification")
            expect(panel).to_contain_text("高リスク")
            expect(header).to_contain_text("高リスク")
            journey.shot("05-classification")
            journey.narrow_shot("05-classification-1024")

            # 4 アドバイザリーボードへの報告: the step a high case adds.
            journey.next_step("board_report")
            fields = list(BOARD_REPORT_FIELDS)
            reloaded_at = fields.index(RELOADED_FIELD)
            for i, name in enumerate(fields[:reloaded_at]):
                type_board_field(journey, name, REPORT[name], previous=i > 0)
            # The reloaded field: typed, a pause (the page saves a draft about 1 s after typing
            # stops), more typed, and F5 at once. The draft's save shows as the next version beside
            # the step (the earlier fields were saved when left: their drafts change nothing).
            type_board_field(journey, RELOADED_FIELD, BEFORE_PAUSE, previous=reloaded_at > 0)
            saved_line = page.locator('[data-testid="stCaptionContainer"]', has_text="更新回数:")
            version = int(re.search(r"更新回数: (\d+)", saved_line.inner_text()).group(1))
            page.wait_for_timeout(1600)  # the deliberate pause in typing (> 1 s)
            expect(saved_line).to_contain_text(re.compile(rf"更新回数: {version + 1}(\D|$)"),
                                               timeout=15_000)
            wait_idle(page)
            page.keyboard.type(AFTER_PAUSE, delay=15)
            page.reload()
            wait_idle(page)
            # Still signed in, on the same case and step.
            expect(page.get_by_role("heading", name=f"#{case_id} {TITLE}")).to_be_visible()
            assert where(page) == {"case": str(case_id), "step": "board_report"}
            # What was typed before the pause is there. What was typed in the last second before
            # the reload may be lost (the page says so under the report): the field holds the
            # text typed before the pause, and at most what followed it.
            area = page.locator(f".st-key-board_{RELOADED_FIELD} textarea")
            expect(area).to_have_value(re.compile("^" + re.escape(BEFORE_PAUSE)))
            kept = area.input_value()
            assert kept.startswith(BEFORE_PAUSE) and REPORT[RELOADED_FIELD].startswith(kept), kept
            expect(page.get_by_text("再読み込みの直前1秒以内に入力した文字は失われることがあります。"))\
                .to_be_visible()
            for name in fields[:reloaded_at]:
                expect(page.locator(f".st-key-board_{name} textarea")).to_have_value(REPORT[name])
            journey.shot("06-board-report-reloaded")
            # She goes on where the text ends, then fills the remaining fields.
            area.click()
            page.keyboard.press("Control+End")
            page.keyboard.type(REPORT[RELOADED_FIELD][len(kept):], delay=15)
            for name in fields[reloaded_at + 1:]:
                type_board_field(journey, name, REPORT[name], previous=True)
            runs.after(lambda: page.keyboard.press("Tab"))  # leaving the last field saves it
            for name in fields:
                expect(page.locator(f".st-key-board_{name} textarea")).to_have_value(REPORT[name])
            journey.shot("07-board-report")

            # The documents menu: her draft case workbook and the report, Excel and HTML.
            page.locator(".st-key-docs_menu button").first.click()
            expect(page.locator(".st-key-dl_case_workbook button")).to_be_visible()
            journey.shot("08-documents-menu", check=False)
            workbook = download(page, "dl_case_workbook", tmp_path)
            report_xlsx = download(page, "dl_report_xlsx", tmp_path)
            report_html = download(page, "dl_report_html", tmp_path)
            page.keyboard.press("Escape")
            expect(page.locator(".st-key-dl_case_workbook button")).to_be_hidden()

            # 5, 6 and 7: each checklist settled with one bulk action.
            for number, step in ((9, "procurement_checklist"), (11, "contract_checklist"),
                                 (13, "submission")):
                journey.next_step(step)
                slug = step.replace("_", "-")
                journey.shot(f"{number:02d}-{slug}")
                if step == "procurement_checklist":
                    journey.narrow_shot(f"{number:02d}-{slug}-1024")
                journey.settle_checklist(checklists[step], EVIDENCE[step])
                if step != "submission":
                    journey.shot(f"{number + 1:02d}-{slug}-met", check=False)

            # Submit for review.
            expect(page.get_by_text("提出に必要な内容はそろっています。")).to_be_visible()
            journey.shot("14-submission-ready", check=False)
            journey.click(page.locator(".st-key-submit_case button"))
            expect(page.get_by_text("提出しました。審査者の判断をお待ちください。")).to_be_visible()
            expect(header).to_contain_text("審査中")
            expect(page.get_by_text("審査中です。審査者の判断をお待ちください。")).to_be_visible()
            journey.shot("15-submitted")

            # 8 承認: what is left is the reviewer's.
            journey.next_step("approval")
            journey.shot("16-approval")

            # Back to the case list: her case is in review there.
            journey.click(page.get_by_role("link", name="案件一覧"))
            expect(page.get_by_role("heading", name="案件一覧")).to_be_visible()
            # (The table is drawn on a canvas; its keyboard twin names the case with its status.)
            expect(page.locator(".st-key-open_case_select").get_by_role("combobox")
                   ).to_have_value(f"#{case_id} {TITLE}（審査中）")
            journey.shot("17-cases")
        finally:
            browser.close()

    # The draft documents, as downloaded before submission.
    cells, headers = workbook_texts(workbook)
    assert any(TITLE in text for texts in cells.values() for text in texts), cells
    assert all("下書き" in h for h in headers.values()), headers  # every page says 下書き
    assert all("下書き" in texts for texts in cells.values()), cells  # beside each form's title
    report_cells, report_headers = workbook_texts(report_xlsx)
    texts = [t for sheet in report_cells.values() for t in sheet]
    assert all(any(REPORT[name] in t for t in texts) for name in fields), texts
    assert all("下書き" in h for h in report_headers.values()), report_headers
    html = report_html.read_text(encoding="utf-8")
    assert all(REPORT[name] in html for name in fields), html
    assert 'class="draft"' in html and "下書き" in html

    # What the screens said is what is stored.
    planner = ui_actors["a-planner"]
    case = ui_services.get_case(planner, case_id)
    assert (case.title, case.department, case.purpose) == (TITLE, DEPARTMENT, PURPOSE)
    assert f"{case.pack_id}@{case.pack_version}" == PACK
    assert case.status == "submitted" and case.level == "high"
    assert case.answers == {**ANSWERS["scope"], **ANSWERS["classification"]}
    assert case.board_report == REPORT
    required = set(case.classification.required_items)
    assert required and all(case.checklist[i].status == "met" for i in required)
    by_item = {i.id: c.step for c in pack.checklists for i in c.items}
    assert all(case.checklist[i].evidence == EVIDENCE[by_item[i]] for i in required)

    # Accessibility of each step as the planner saw it.
    (SHOTS / "axe.json").write_text(json.dumps(journey.violations, ensure_ascii=False, indent=1),
                                    encoding="utf-8")
    ours = {name: [v for v in found if v["id"] not in STREAMLIT_OWN]
            for name, found in journey.violations.items()}
    assert all(not found for found in ours.values()), json.dumps(ours, ensure_ascii=False,
                                                                 indent=1)


class CoalescedDraft:
    """Routes the page's websocket: the page's first draft (the helper's trigger, sent after a
    pause in typing) is held and delivered together with the message that follows it, in one
    message; the drafts after that are not delivered.

    The first is what Streamlit itself does when both messages reach the server before the run
    in progress has picked up the first (`_coalesce_widget_states` keeps the older request's
    trigger beside the newer widget values): on a busy server it happens without any help. The
    second is a reload within the second after the last keystroke (the next draft would only
    go out then), made certain instead of raced."""

    def __init__(self) -> None:
        self.held: BackMsg | None = None
        self.merged = 0
        self.dropped = 0

    @staticmethod
    def _drafts(states) -> list:
        return [w for w in states if w.WhichOneof("value") == "json_trigger_value"
                and '"draft"' in w.json_trigger_value]

    def route(self, route) -> None:
        server = route.connect_to_server()

        def from_page(message: bytes | str) -> None:
            msg = BackMsg()
            if isinstance(message, bytes):
                msg.ParseFromString(message)
            if msg.WhichOneof("type") != "rerun_script":
                server.send(message)
                return
            states = msg.rerun_script.widget_states.widgets
            if self._drafts(states):
                if self.held is None and not self.merged:
                    self.held = msg
                else:
                    self.dropped += 1
                return
            if self.held is not None:
                # As _coalesce_widget_states: the held trigger, unless the newer message
                # carries an active trigger of its own for that widget.
                by_id = {w.id: w for w in states}
                for old in self._drafts(self.held.rerun_script.widget_states.widgets):
                    new = by_id.get(old.id)
                    if new is None or (new.WhichOneof("value") == "json_trigger_value"
                                       and not new.json_trigger_value):
                        by_id[old.id] = old
                del states[:]
                states.extend(by_id.values())
                self.held, self.merged = None, self.merged + 1
                server.send(msg.SerializeToString())
                return
            server.send(message)

        route.on_message(from_page)


def test_a_draft_delivered_with_leaving_the_field_keeps_the_whole_text(
        chromium_path, server, ui_services, ui_actors):  # noqa: F811 - the fixtures
    """Typed, a pause (a draft is sent), more typed, the field left with Tab, the page reloaded:
    the whole text is stored (leaving a field saves it), also when the draft and the leaving
    reach the server in one run. The journey above met this once in about fifteen runs on a
    loaded machine: a report field came back cut after the reload."""
    from playwright.sync_api import expect, sync_playwright

    from procurement.demo import HIGH

    planner = ui_actors["a-planner"]
    case = ui_services.create_case(planner, TITLE, DEPARTMENT, answers=HIGH)
    first, rest = "問い合わせへの回答時間を", "半減し、案内の質をそろえる。"
    coalesce = CoalescedDraft()
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="ja-JP")
            page.set_default_timeout(30_000)
            page.route_web_socket("**/_stcore/stream", coalesce.route)
            runs = ScriptRuns(page)
            page.goto(f"{server.url}/workspace?case={case.id}&step=board_report")
            wait_idle(page)
            sign_in_by_keyboard(page, runs, "a-planner")
            area = page.locator(".st-key-board_objectives textarea")
            area.click()
            area.press_sequentially(first, delay=15)
            page.wait_for_timeout(1600)  # the pause after which the page sends a draft
            area.press_sequentially(rest, delay=15)
            runs.after(lambda: page.keyboard.press("Tab"))
            if coalesce.merged != 1:  # the set-up itself, not the finding
                raise RuntimeError(f"expected one draft delivered with the leaving, got "
                                   f"{coalesce.merged}")
            if area.input_value() != first + rest:
                raise RuntimeError(f"the field shows {area.input_value()!r}")
            page.reload()
            wait_idle(page)
            # What the screen showed when the field was left is what was stored.
            expect(page.locator(".st-key-board_objectives textarea")).to_have_value(first + rest)
        finally:
            browser.close()
    assert ui_services.get_case(planner, case.id).board_report["objectives"] == first + rest
