"""The issue's journeys through the real app (AppTest from app.py), checking the database and the
audit log after each step: high risk with return and approval, low risk, incomplete, city pack,
and a concurrent edit that must not be overwritten."""

from __future__ import annotations

import pytest

from procurement.services import BOARD_REPORT_FIELDS
from procurement.ui.widgets import plain
from tests.ui.helpers import assert_clean, go, open_step, settle_with_bulk, step_buttons, texts

SCOPE_IN = {"SC-1": "yes", "SC-2": "no", "SC-3": "fy2026_or_later", "SC-4": "contracted_saas"}
LOW = {"HR-1": "staff_limited", "HR-2": "internal_support", "HR-3": "public_only",
       "HR-4": "always_reviewed"}


def events(svc, actor, case_id) -> list[str]:
    return [e.event_type for e in svc.case_history(actor, case_id)]


def has_board_step(at) -> bool:
    """Whether the step list offers the board report."""
    return "board_report" in step_buttons(at)


def answer(at, answers: dict[str, str]):
    """Give answers on the current step, one interaction (rerun) each, like a user."""
    for qid, value in answers.items():
        at.radio(key=f"answer_{qid}").set_value(value).run()
        assert_clean(at)
    return at


def create_case_in_ui(at, title: str, department: str = "情報政策課"):
    at.text_input(key="new_case_title").set_value(title)
    at.text_input(key="new_case_department").set_value(department)
    at.button(key="create_case").click().run()
    assert_clean(at)
    return at.session_state["case_id"]


def settle_required_items(at, svc, actor, case_id, step_id: str) -> int:
    """Mark every required item of a checklist step as met, with evidence, through the grid's
    bulk action (required items only, select all, 充足, common evidence); returns how many."""
    open_step(at, step_id)
    case = svc.get_case(actor, case_id)
    pack = svc.registry.resolve(f"{case.pack_id}@{case.pack_version}")
    from procurement.records.readiness import item_step

    ids = [i for i in case.classification.required_items if item_step(pack, i) == step_id]
    assert ids, f"no required item on {step_id}"
    (checklist,) = [c for c in pack.checklists if c.step == step_id]
    settle_with_bulk(at, checklist.id, f"仕様書 {step_id}")
    stored = svc.get_case(actor, case_id).checklist
    assert all(stored[i].status == "met" and stored[i].evidence == f"仕様書 {step_id}" for i in ids)
    return len(ids)


@pytest.mark.parametrize(
    "ui_db_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_high_risk_journey_with_return_resubmit_and_approval(ui_actors, ui_services, make_app):
    svc, planner, reviewer = ui_services, ui_actors["a-planner"], ui_actors["a-reviewer"]

    # The planner creates a case from the case list and lands in its workspace.
    at = make_app(planner)
    case_id = create_case_in_ui(at, "住民問い合わせ回答支援")
    assert at.title[0].value.endswith("住民問い合わせ回答支援")
    case = svc.get_case(planner, case_id)
    assert (case.status, case.owner_name) == ("draft", "企画 花子")
    assert events(svc, planner, case_id) == ["case.created"]
    assert not has_board_step(at)

    # Scope, then classification: each answer is stored when given; the panel follows.
    open_step(at, "scope")
    answer(at, SCOPE_IN)
    assert svc.get_case(planner, case_id).answers == SCOPE_IN
    open_step(at, "classification")
    answer(at, {"HR-2": "internal_support", "HR-3": "public_only", "HR-4": "always_reviewed"})
    panel = texts(at).replace("\\", "")  # markdown escapes ("HR\\-1") are not seen
    assert "暫定の結果" in panel and "HR-1" in panel
    answer(at, {"HR-1": "public"})
    case = svc.get_case(planner, case_id)
    assert (case.level, case.is_complete) == ("high", True)
    panel = texts(at)
    assert "高リスクの可能性あり" in panel and "一般の人が利用者" in panel  # the rule that fired
    assert "独自の再構成（推定）" in panel  # its provenance badge
    assert has_board_step(at)
    assert events(svc, planner, case_id).count("case.answers_saved") == 8
    assert "case.classified" in events(svc, planner, case_id)

    # Board report: each field saved as it is left.
    open_step(at, "board_report")
    for name in BOARD_REPORT_FIELDS:
        at.text_area(key=f"board_{name}").set_value(f"{name} の内容").run()
        assert_clean(at)
    assert svc.get_case(planner, case_id).board_report == {
        name: f"{name} の内容" for name in BOARD_REPORT_FIELDS}
    assert "case.board_report_saved" in events(svc, planner, case_id)

    # Submitting too early is refused with the list of what is missing.
    open_step(at, "submission")
    at.button(key="submit_case").click().run()
    assert_clean(at)
    assert "まだ提出できません" in at.error[0].value
    assert "必須項目が未確認" in texts(at)
    assert svc.get_case(planner, case_id).status == "draft"

    # Both checklists and the usage rules, then submit.
    for step_id in ("procurement_checklist", "contract_checklist", "submission"):
        settle_required_items(at, svc, planner, case_id, step_id)
    open_step(at, "submission")
    assert "提出に必要な内容はそろっています" in texts(at)
    at.button(key="submit_case").click().run()
    assert_clean(at)
    case = svc.get_case(planner, case_id)
    assert case.status == "submitted"
    assert events(svc, planner, case_id)[-1] == "case.submitted"
    assert "提出しました" in texts(at)
    assert "他の人によって更新されました" not in texts(at)  # it was the planner's own change

    # The reviewer cannot return without a comment, then returns with one.
    rv = make_app(reviewer)
    go(rv, "review")
    assert_clean(rv)
    assert rv.dataframe[0].value["案件"][0] == case_id  # the inbox, oldest first
    rv.button(key="review_open").click().run()
    assert_clean(rv)
    assert "住民問い合わせ回答支援" in rv.title[0].value
    rv.button(key="return_case").click().run()
    assert "コメントが必要" in rv.error[0].value
    assert svc.get_case(reviewer, case_id).status == "submitted"
    comment = "HR-4 の運用を再確認してください。"
    rv.text_area(key="review_comment").set_value(comment)
    rv.button(key="return_case").click().run()
    assert_clean(rv)
    case = svc.get_case(reviewer, case_id)
    assert case.status == "returned"
    assert case.decisions[-1].kind == "return" and case.decisions[-1].comment == comment
    assert events(svc, planner, case_id)[-1] == "case.returned"
    assert "審査待ちの案件はありません" in texts(rv)

    # The planner sees the comment, changes an answer and resubmits.
    go(at, "cases")
    go(at, "workspace")
    assert plain(comment).replace("\u2060", "") in texts(at) and "差し戻しました" in texts(at)  # shown as text, escaped
    open_step(at, "classification")
    answer(at, {"HR-4": "partial_review"})
    case = svc.get_case(planner, case_id)
    assert case.answers["HR-4"] == "partial_review" and case.status == "returned"
    open_step(at, "submission")
    at.button(key="submit_case").click().run()
    assert_clean(at)
    assert svc.get_case(planner, case_id).status == "submitted"

    # The reviewer approves; the history tells the whole story in Japanese.
    # The reviewer records the consultations the pack asks for, then approves and confirms.
    go(rv, "review")
    rv.button(key="review_open").click().run()
    assert rv.button(key="approve_case").disabled
    for step in svc.consultation_steps(reviewer, case_id):
        rv.button(key=f"consult_save_{step.step_id}").click().run()
        assert_clean(rv)
    rv.button(key="approve_case").click().run()
    assert svc.get_case(reviewer, case_id).status == "submitted"  # asked first
    rv.button(key="confirm_approve").click().run()
    assert_clean(rv)
    case = svc.get_case(reviewer, case_id)
    assert case.status == "approved" and case.approved_at is not None
    history = events(svc, planner, case_id)
    assert history[-1] == "case.approved"
    assert [e for e in history if e.startswith("case.") and e.split(".")[1] in
            ("submitted", "returned", "approved")] == [
        "case.submitted", "case.returned", "case.submitted", "case.approved"]
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from procurement.audit import verify_rows  # the chain holds together after the journey
    from procurement.db.models import AuditEvent

    with Session(svc.engine) as s:
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        reports = verify_rows(rows, chain="org-a")
    assert [(r.chain, r.ok) for r in reports] == [("org-a", True)], reports
    assert reports[0].count == len([r for r in rows if r.chain == "org-a"]) > 60

    go(at, "workspace")
    at.session_state["workspace_tab"] = "履歴"  # open the history tab (only the open tab runs)
    at.run()
    assert_clean(at)
    history_table = at.dataframe[-1].value
    shown = " ".join(history_table.astype(str).agg(" ".join, axis=1))
    assert "承認" in shown and "差戻し" in shown and comment in shown and "年" in shown
    assert "a-planner" not in shown and "企画 花子" in shown  # people by name


def test_low_risk_journey_never_shows_the_board_report(ui_actors, ui_services, make_app):
    svc, planner = ui_services, ui_actors["a-planner"]
    at = make_app(planner)
    case_id = create_case_in_ui(at, "庁内文書の下書き支援")
    open_step(at, "scope")
    for qid, value in SCOPE_IN.items():
        answer(at, {qid: value})
        assert not has_board_step(at)
    open_step(at, "classification")
    for qid, value in LOW.items():
        answer(at, {qid: value})
        assert not has_board_step(at)
        assert not [w for w in at.text_area if str(w.key).startswith("board_")]
    case = svc.get_case(planner, case_id)
    assert (case.level, case.is_complete) == ("low", True)
    assert "低リスク" in texts(at)
    for step_id in ("procurement_checklist", "contract_checklist", "submission"):
        settle_required_items(at, svc, planner, case_id, step_id)
        assert not has_board_step(at)
    open_step(at, "submission")
    at.button(key="submit_case").click().run()
    assert_clean(at)
    case = svc.get_case(planner, case_id)
    assert case.status == "submitted" and case.board_report is None


def test_incomplete_case_cannot_be_submitted(ui_actors, ui_services, make_app):
    svc, planner = ui_services, ui_actors["a-planner"]
    case = svc.create_case(planner, "未完了の案件", "総務課", answers={"SC-1": "yes", "HR-1": "staff_wide"})
    at = make_app(planner)
    at.session_state["case_id"] = case.id
    go(at, "workspace")
    open_step(at, "submission")
    assert "提出の前に対応が必要な項目" in texts(at)
    at.button(key="submit_case").click().run()
    assert_clean(at)
    assert "まだ提出できません" in at.error[0].value
    missing = texts(at)
    assert all(plain(f"未回答: {qid}").replace("\u2060", "") in missing.replace("\u2060", "")
               for qid in ("SC-2", "HR-4"))
    assert svc.get_case(planner, case.id).status == "draft"
    assert "case.submitted" not in events(svc, planner, case.id)


def test_city_strict_user_sees_the_city_question(ui_actors, ui_services, make_app):
    svc = ui_services
    city, national = ui_actors["x-planner"], ui_actors["a-planner"]
    at = make_app(city)
    case_id = create_case_in_ui(at, "市民向けチャットボット")
    assert svc.get_case(city, case_id).pack_id == "city-strict"
    open_step(at, "classification")
    lq1 = at.radio(key="answer_LQ-1")
    assert list(lq1.options) == ["はい", "いいえ"]
    assert "出力を市の名義で公表しますか" in texts(at)  # its text comes from the city pack
    answer(at, {"LQ-1": "yes"})
    assert svc.get_case(city, case_id).answers == {"LQ-1": "yes"}

    # A national user's case never asks it.
    nat = make_app(national)
    create_case_in_ui(nat, "国の案件")
    open_step(nat, "classification")
    with pytest.raises(KeyError):
        nat.radio(key="answer_LQ-1")


def test_concurrent_edit_is_shown_not_overwritten(ui_actors, ui_services, make_app):
    svc, planner = ui_services, ui_actors["a-planner"]
    case = svc.create_case(planner, "同時編集の案件", "総務課", answers={"SC-1": "yes"})
    at = make_app(planner)
    at.session_state["case_id"] = case.id
    go(at, "workspace")
    open_step(at, "scope")
    # Someone else (another tab, or a colleague) saves in between.
    other = svc.save_answers(ui_actors["a-planner2"], case.id, {"SC-2": "no"}, case.version)
    at.radio(key="answer_SC-2").set_value("yes").run()
    assert_clean(at)
    assert "他の人が先にこの案件を保存しました" in at.error[0].value
    stored = svc.get_case(planner, case.id)
    assert stored.answers["SC-2"] == "no" and stored.version == other.version
    assert at.radio(key="answer_SC-2").value == "no"  # the page now shows what is stored
    assert at.query_params["step"] == "scope"  # and the user stays where they were
    # And the next change, made on the fresh page, is saved.
    at.radio(key="answer_SC-2").set_value("yes").run()
    assert svc.get_case(planner, case.id).answers["SC-2"] == "yes"


def test_a_case_without_a_title_is_refused_with_a_clear_message(ui_actors, ui_services, make_app):
    at = make_app(ui_actors["a-planner"])
    at.text_input(key="new_case_department").set_value("総務課")
    at.button(key="create_case").click().run()
    assert_clean(at)
    assert at.error[0].value == "件名を入力してください。"
    assert ui_services.list_cases(ui_actors["a-planner"]) == []
    # What was typed is still there to correct.
    assert at.text_input(key="new_case_department").value == "総務課"
