"""The purpose (利用目的) in the app: asked in the new-case form, shown and saved with the title
and department at the intake step, named in the history; an approved case keeps its approval
when only these details change; bad input is refused with the field named, nothing lost."""

from __future__ import annotations

from procurement.demo import HIGH, LOW
from tests.fixtures.services import approve_recorded, submit_filled
from tests.ui.helpers import assert_clean, go, open_step, texts

PURPOSE = "住民からの問い合わせに、公開情報を根拠とした回答案を示す。"


def open_intake(at, case_id: int):
    at.session_state["case_id"] = case_id
    go(at, "workspace")
    open_step(at, "intake")
    assert_clean(at)
    return at


def test_the_new_case_form_asks_for_the_purpose(ui_actors, ui_services, make_app):
    planner = ui_actors["a-planner"]
    at = go(make_app(planner), "cases")
    at.text_input(key="new_case_title").set_value("問い合わせ対応")
    at.text_input(key="new_case_department").set_value("広報室")
    at.text_area(key="new_case_purpose").set_value(PURPOSE)
    at.button(key="create_case").click().run()
    assert_clean(at)
    case = ui_services.get_case(planner, at.session_state["case_id"])
    assert (case.title, case.department, case.purpose) == ("問い合わせ対応", "広報室", PURPOSE)
    # The workspace's intake step shows it for editing.
    assert open_intake(at, case.id).text_area(key="intake_purpose").value == PURPOSE


def test_intake_details_are_saved_and_named_in_the_history(ui_actors, ui_services, make_app):
    svc, planner = ui_services, ui_actors["a-planner"]
    case = svc.create_case(planner, "議事録要約", "総務課", answers={"SC-1": "yes"})
    at = open_intake(make_app(planner), case.id)
    assert at.text_input(key="intake_title").value == "議事録要約"
    assert at.text_area(key="intake_purpose").value == ""
    at.text_area(key="intake_purpose").set_value(PURPOSE).run()
    assert_clean(at)
    at.text_input(key="intake_department").set_value("大臣官房 総務課").run()
    assert_clean(at)
    stored = svc.get_case(planner, case.id)
    assert (stored.department, stored.purpose) == ("大臣官房 総務課", PURPOSE)
    assert [e.event_type for e in svc.case_history(planner, case.id)][-2:] == [
        "case.details_saved", "case.details_saved"]
    at.session_state["workspace_tab"] = "履歴"
    at.run()
    assert_clean(at)
    history = at.dataframe[-1].value
    shown = list(history.iloc[:, 3])
    assert shown.count("案件情報を保存") == 2
    assert any(d.startswith("利用目的: - → 住民からの問い合わせ") for d in history.iloc[:, 4])


def test_an_empty_title_is_refused_under_the_field_and_the_input_is_kept(ui_actors, ui_services,
                                                                          make_app):
    svc, planner = ui_services, ui_actors["a-planner"]
    case = svc.create_case(planner, "議事録要約", "総務課", purpose=PURPOSE)
    at = open_intake(make_app(planner), case.id)
    at.text_input(key="intake_title").set_value("   ").run()
    assert_clean(at)
    assert at.error[0].value == "件名を入力してください。"
    # What the user typed stays, to be corrected; nothing was stored.
    assert at.text_input(key="intake_title").value == "   "
    stored = svc.get_case(planner, case.id)
    assert (stored.title, stored.purpose, stored.version) == ("議事録要約", PURPOSE, case.version)
    # The error stands under the title (the next element after its field) and goes when fixed.
    at.text_input(key="intake_title").set_value("議事録要約システム").run()
    assert_clean(at)
    assert not at.error and svc.get_case(planner, case.id).title == "議事録要約システム"


def test_changing_the_purpose_of_an_approved_case_keeps_the_approval(ui_actors, ui_services,
                                                                     make_app):
    svc, planner = ui_services, ui_actors["a-planner"]
    view = submit_filled(svc, planner, svc.create_case(planner, "FAQ", "広報室", answers=HIGH))
    approved = approve_recorded(svc, ui_actors["a-reviewer"], view)
    at = open_intake(make_app(planner, lang="en"), approved.id)
    assert "does not void the approval" in texts(at)
    at.text_area(key="intake_purpose").set_value("Answers from published information").run()
    assert_clean(at)
    stored = svc.get_case(planner, approved.id)
    assert stored.status == "approved" and stored.purpose == "Answers from published information"
    assert "approval.voided" not in [e.event_type for e in svc.case_history(planner, stored.id)]


def test_readers_see_the_details_but_cannot_edit_them(ui_actors, ui_services, make_app):
    case = ui_services.create_case(ui_actors["a-planner"], "議事録要約", "総務課", answers=LOW,
                                   purpose=PURPOSE)
    at = open_intake(make_app(ui_actors["a-auditor"], lang="en"), case.id)
    # Shown as text in full contrast, not as greyed-out fields.
    assert not [w for w in (*at.text_area, *at.text_input) if str(w.key).startswith("intake_")]
    shown = texts(at)
    assert f"**Purpose**  \n{PURPOSE}" in shown.replace("\\", "") and "議事録要約" in shown


def test_the_reviewer_sees_the_purpose_beside_the_case(ui_actors, ui_services, make_app):
    planner, reviewer = ui_actors["a-planner"], ui_actors["a-reviewer"]
    case = ui_services.create_case(planner, "問い合わせ対応", "広報室",
                                   answers={**HIGH}, purpose=PURPOSE)
    submit_filled(ui_services, planner, case)
    rv = go(make_app(reviewer), "review")
    assert_clean(rv)
    assert rv.selectbox(key="review_open_pick").value == case.id
    rv.button(key="review_open").click().run()
    assert_clean(rv)
    # The summary table (st.table: cells pass through `plain`, whose word joiners are invisible).
    cells = [str(v).replace("\u2060", "").replace("\\", "")
             for table in rv.table for v in table.value.to_numpy().ravel()]
    assert PURPOSE in cells
