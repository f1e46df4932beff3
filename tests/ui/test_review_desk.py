"""The reviewer's desk through the real app (AppTest from app.py, SQLite): the inbox as landing
page with its count, the planner's returned banner, the review view (diff since the return,
consistency findings, consultations driven by the pack, approval with confirmation), the
organisation registers, and the attacks on them (a planner at the review actions, another
organisation's case by `?case=`, unchecked e-mail addresses)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from procurement.demo import HIGH, LOW
from procurement.errors import InputError, PermissionDeniedError
from procurement.fiscal import JST
from procurement.ui import navigation
from tests.fixtures.services import approve_recorded, submit_filled
from tests.ui.helpers import PAGES, assert_clean, go, texts

REVIEW_SPEC = next(spec for spec in navigation.PAGES if spec.url_path == "review")


class Clock:
    """A clock that stays where it is put (submission times in the past)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _submitted(svc, planner, title: str, answers=HIGH, pack_ref=None, department="広報室"):
    return submit_filled(svc, planner, svc.create_case(planner, title, department, pack_ref,
                                                        dict(answers)))


def _open_case(at, case_id: int):
    at.query_params["case"] = str(case_id)
    go(at, "review")
    assert_clean(at)
    return at


def test_the_reviewer_lands_on_the_inbox_with_a_count(ui_actors, ui_services, make_app):
    from procurement.ui.state import t

    planner, reviewer = ui_actors["a-planner"], ui_actors["a-reviewer"]
    now = datetime.now(UTC)
    first = ui_services.create_case(planner, "先に作った案件", "広報室", None, dict(HIGH))
    second = ui_services.create_case(planner, "後に作った案件", "情報政策課", None, dict(LOW))
    real_clock = ui_services.clock
    # The case created second was submitted first: the inbox sorts by waiting, not by number.
    ui_services.clock = Clock(now - timedelta(days=10))
    submit_filled(ui_services, planner, second)
    ui_services.clock = Clock(now - timedelta(days=3))
    submit_filled(ui_services, planner, first)
    ui_services.clock = real_clock

    at = make_app(reviewer)
    assert_clean(at)
    assert at.title[0].value == "審査待ちの案件"  # the landing page, not the case list
    assert "審査待ち 2 件" in texts(at)
    assert navigation.menu_title(REVIEW_SPEC, reviewer, t, ui_services) == "審査待ち（2）"
    assert navigation.menu_title(REVIEW_SPEC, planner, t, ui_services) == "審査待ち"

    table = at.dataframe[0].value
    assert list(table.columns) == ["待ち日数", "リスク区分", "件名", "提出の回", "提出日",
                                   "提出者", "担当部署", "案件"]
    assert list(table["案件"]) == [second.id, first.id]
    assert list(table["待ち日数"]) == [10, 3]
    assert list(table["提出者"]) == ["企画 花子", "企画 花子"]  # display names, no usernames
    assert list(table["提出の回"]) == ["初回", "初回"]
    assert list(table["担当部署"]) == ["情報政策課", "広報室"]
    day = (now - timedelta(days=10)).astimezone(JST)
    assert table["提出日"][0] == f"{day.year}年{day.month}月{day.day}日"
    assert "a-planner" not in table.to_string()


def test_a_planner_sees_returned_cases_first_with_the_comment(ui_actors, ui_services,
                                                             make_app):
    planner, reviewer = ui_actors["a-planner"], ui_actors["a-reviewer"]
    case = _submitted(ui_services, planner, "窓口FAQ")
    comment = "HR-2とHR-4の回答を見直してください。**太字**にはなりません"
    ui_services.return_case(reviewer, case.id, comment, case.version)

    at = make_app(planner)
    assert at.title[0].value == "案件一覧"
    banner = shown(texts(at))
    assert "差し戻された案件が 1 件あります" in banner
    assert f"#{case.id} 窓口FAQ" in banner and "審査 一郎さん" in banner
    assert "HR-2とHR-4の回答を見直してください" in banner
    assert "\\*\\*太字\\*\\*" in "\n".join(m.value for m in at.markdown)  # text, not markup
    # The banner comes before the rest of the page (the new-case form, the case list).
    order = in_order(at.main)
    assert order.index("returned_banner") < order.index("new_case_title")
    at.button(key=f"returned_open_{case.id}").click().run()
    assert_clean(at)
    assert at.session_state["case_id"] == case.id


def test_the_reviewer_sees_the_diff_records_the_consultation_and_confirms(ui_actors, ui_services,
                                                                        make_app):
    planner, reviewer = ui_actors["a-planner"], ui_actors["a-reviewer"]
    case = _submitted(ui_services, planner, "住民向けチャット")
    pack = ui_services.registry.resolve(case.pack_key)
    assert pack.level(case.level).high_risk
    returned = ui_services.return_case(reviewer, case.id, "HR-2とHR-4を見直してください",
                                       case.version)
    changed = ui_services.save_answers(planner, case.id, {"HR-2": "policy_reference",
                                                          "HR-4": "always_reviewed"},
                                       returned.version)
    resubmitted = ui_services.submit(planner, case.id, changed.version)
    assert resubmitted.level == case.level  # still high: still a consultation

    at = make_app(reviewer)
    assert "再提出" in list(at.dataframe[0].value["提出の回"])
    _open_case(at, case.id)
    page = texts(at)
    # The diff since the return, on top: exactly the two answers, in words.
    assert "前回の差戻し以降の変更" in page and "変更は 2 件です。" in page
    diff = next(t for t in at.table if "変更前" in t.value.columns)
    rows = diff.value
    assert len(rows) == 2
    hr4 = pack.question("HR-4")
    assert any(pick_ja(hr4.text) in shown(v) for v in rows["対象"]), rows.to_dict()
    assert "企画 花子" in " ".join(map(str, rows["変更者"]))
    # Full question texts, not cut.
    questions = [shown(v) for t in at.table if "質問" in t.value.columns
                 for v in t.value["質問"]]
    assert f"HR-4 {pick_ja(hr4.text)}" in questions
    assert "HR-2" in " ".join(questions) and len(questions) >= 8

    # The pack's report/consultation steps decide what must be recorded first: no step id here.
    steps = [s.id for s in pack.report_steps(case.classification)]
    assert steps and set(steps) <= {s.id for s in pack.steps_of_kind("report")
                                    + pack.steps_of_kind("consultation")}
    assert "承認する前に、次の結果を記録してください" in texts(at)
    assert at.button(key="approve_case").disabled
    for step_id in steps:
        at.date_input(key=f"consult_date_{step_id}").set_value(date.today())
        at.radio(key=f"consult_advice_{step_id}").set_value("received")
        at.text_area(key=f"consult_note_{step_id}").set_value("リスク低減策について助言を受けた")
        at.button(key=f"consult_save_{step_id}").click().run()
        assert_clean(at)
    assert "結果を記録しました" in texts(at)
    assert ui_services.get_case(reviewer, case.id).status == "submitted"
    assert not at.button(key="approve_case").disabled

    # Approve asks first, naming the level and the pack.
    at.button(key="approve_case").click().run()
    assert_clean(at)
    assert ui_services.get_case(reviewer, case.id).status == "submitted"
    confirm = shown("\n".join(m.value for m in at.markdown))
    assert "承認の確認" in confirm
    assert pack.text(pack.level(case.level).label, "ja") in confirm
    assert pack.text(pack.title, "ja") in confirm and pack.version in confirm
    assert "助言あり" in confirm
    at.button(key="cancel_approve").click().run()
    assert ui_services.get_case(reviewer, case.id).status == "submitted"
    at.button(key="approve_case").click().run()
    at.button(key="confirm_approve").click().run()
    assert_clean(at)
    assert ui_services.get_case(reviewer, case.id).status == "approved"
    assert f"案件 #{case.id} を承認しました。" in texts(at)


def in_order(node) -> list[str]:
    """The keys of the elements and keyed containers under `node`, top to bottom."""
    keys = []
    key = getattr(node, "key", None) or getattr(getattr(node, "proto", None), "id", "")
    if isinstance(key, str) and key:
        keys.append(key.removeprefix("st-key-"))
    for child in getattr(node, "children", {}).values():
        keys += in_order(child)
    return keys


def pick_ja(text) -> str:
    return text["ja"] if isinstance(text, dict) else str(text)


def shown(value) -> str:
    """A cell or markdown as the reader sees it: without `plain()`'s escapes and joiners."""
    return str(value).replace("\\", "").replace("\u2060", "")


def test_consistency_findings_are_shown_to_the_reviewer(ui_actors, ui_services, make_app):
    planner, reviewer = ui_actors["a-planner"], ui_actors["a-reviewer"]
    # The 2.1 edition declares consistency rules; outputs used unchecked while UR-4 is met.
    case = _submitted(ui_services, planner, "確認せずに使う案件",
                      {**LOW, "HR-4": "no_review"}, pack_ref="jp-national@2.1.0")
    assert case.checklist["UR-4"].status == "met"
    at = make_app(reviewer)
    _open_case(at, case.id)
    assert "確認が必要な食い違い（1 件）" in texts(at)
    warning = next(shown(w.value) for w in at.warning if "出力結果" in w.value)
    assert "出力結果を確認せずにそのまま利用する（HR-4）" in warning and "UR-4" in warning


def test_registers_are_tables(ui_actors, ui_services, make_app):
    planner, reviewer = ui_actors["a-planner"], ui_actors["a-reviewer"]
    running = approve_recorded(ui_services, reviewer, _submitted(ui_services, planner, "稼働中の案件",
                                                                 LOW))
    approved = approve_recorded(ui_services, reviewer, _submitted(ui_services, planner,
                                                                  "承認のみの案件", LOW))
    today = datetime.now(UTC).astimezone(JST).date()
    ui_services.start_operation(planner, running.id, running.version, started_on=today,
                                vendor="ベンダー株式会社", model_name="モデル", model_version="1",
                                ismap_listing="ismap", review_interval_months=6)
    ui_services.create_incident(planner, running.id, occurred_on=today, severity="high",
                                description="誤った回答が表示された")
    at = make_app(reviewer)
    at.switch_page("procurement/ui/pages/operation.py").run()
    assert_clean(at)
    operations = at.dataframe(key="operation_register").value
    titles = " ".join(map(str, operations.to_numpy().ravel()))
    assert "稼働中の案件" in titles and "承認のみの案件" in titles
    incidents = at.dataframe(key="incident_register").value
    assert len(incidents) == 1 and "誤った回答が表示された" in incidents.to_string()
    assert approved.id not in list(incidents.iloc[:, 0])


# --------------------------------------------------------------------------- attacks


def test_a_planner_cannot_reach_review_actions_or_record_a_consultation(ui_actors, ui_services,
                                                                       make_app):
    planner, reviewer = ui_actors["a-planner"], ui_actors["a-reviewer"]
    case = _submitted(ui_services, planner, "計画者の案件")
    at = make_app(planner)
    # The desk is not among the planner's pages: not in the menu, not reachable by its address.
    assert "review" not in [spec.url_path for spec in navigation.pages_for(planner.roles)]
    at.query_params["case"] = str(case.id)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGES["review"])
    at.run()
    assert_clean(at)
    assert not [b for b in at.button if b.key in ("approve_case", "return_case",
                                                  "confirm_approve")]
    step_id = ui_services.consultation_steps(reviewer, case.id)[0].step_id
    with pytest.raises(PermissionDeniedError):
        ui_services.record_consultation(planner, case.id, step_id, reported_on=date.today(),
                                        advice="none")
    with pytest.raises(PermissionDeniedError):
        ui_services.review_inbox(planner)
    assert ui_services.get_case(reviewer, case.id).status == "submitted"


def test_another_organisations_case_is_not_reachable_by_query(ui_actors, ui_services, make_app):
    city = ui_actors["x-planner"]
    case = ui_services.create_case(city, "他組織の秘密案件", "企画課")
    at = make_app(ui_actors["a-reviewer"])
    _open_case(at, case.id)
    assert "他組織の秘密案件" not in texts(at)
    assert not [b for b in at.button if b.key in ("approve_case", "return_case")]
    assert "対象が見つかりません" in texts(at)
    assert ui_services.get_case(city, case.id).title == "他組織の秘密案件"


@pytest.mark.parametrize("address", ["a@example.go.jp\r\nBcc: victim@example.com",
                                     "a@example.go.jp\nX-Injected: 1", "not-an-address",
                                     "a@example.go.jp\u0000"])
def test_a_header_injection_address_is_refused(ui_actors, ui_services, make_app, address):
    admin = ui_actors["a-admin"]
    with pytest.raises(InputError):
        ui_services.set_user_email(admin, "a-planner", address)
    at = make_app(admin)
    at.switch_page("procurement/ui/pages/admin.py").run()
    assert_clean(at)
    at.selectbox(key="admin_manage_user").set_value("a-planner").run()
    at.text_input(key="admin_user_new_email").set_value(address)
    at.button(key="admin_email_submit").click().run()
    assert_clean(at)
    assert at.error, "the refusal is shown"
    users = {u.username: u for u in ui_services.list_users(admin)}
    assert users["a-planner"].email is None


def test_text_fields_of_the_desk_go_through_the_checks(ui_actors, ui_services, make_app):
    """The consultation note and the return comment refuse what checks.text refuses."""
    planner, reviewer = ui_actors["a-planner"], ui_actors["a-reviewer"]
    case = _submitted(ui_services, planner, "検査の案件")
    step_id = ui_services.consultation_steps(reviewer, case.id)[0].step_id
    for bad in ("注記\u0007", "注記\uffff"):
        with pytest.raises(InputError):
            ui_services.record_consultation(reviewer, case.id, step_id,
                                            reported_on=date.today(), advice="none", note=bad)
    at = make_app(reviewer)
    _open_case(at, case.id)
    at.text_area(key=f"consult_note_{step_id}").set_value("注記\u0007")
    at.button(key=f"consult_save_{step_id}").click().run()
    assert_clean(at)
    assert at.error, "the refusal is shown"
    assert ui_services.consultation_steps(reviewer, case.id)[0].recorded is None
    with pytest.raises(InputError):
        ui_services.return_case(reviewer, case.id, "戻す\ufffe", case.version)
    assert ui_services.get_case(reviewer, case.id).status == "submitted"
