"""Workflow: submission rules, return with a comment, approval pinned to the answers and pack,
voided by any later change; withdrawal."""

import pytest

from procurement.demo import BLOCKED, HIGH, INCOMPLETE, LOW
from procurement.errors import InputError, WorkflowError
from procurement.services import BOARD_REPORT_FIELDS
from tests.fixtures.services import approve_recorded, fill_for_submission, submit_filled


def _history(svc, actor, case_id):
    return [e.event_type for e in svc.case_history(actor, case_id)]


@pytest.fixture
def submitted(services, planner):
    view = services.create_case(planner, "国民向けFAQ", "広報室", answers=HIGH)
    return submit_filled(services, planner, view)


def test_submit_needs_a_complete_case(services, planner):
    view = fill_for_submission(services, planner,
                               services.create_case(planner, "t", "d", answers=INCOMPLETE))
    with pytest.raises(WorkflowError) as err:
        services.submit(planner, view.id, view.version)
    assert "HR-2" in err.value.params["unanswered"]
    assert {"kind": "question", "id": "HR-2", "step": "classification"} in err.value.params["gaps"]
    assert "question HR-2 is not answered (step classification)" in str(err.value)
    assert services.get_case(planner, view.id).status == "draft"


def test_submit_needs_no_blocking_finding(services, planner):
    view = fill_for_submission(services, planner,
                               services.create_case(planner, "t", "d", answers=BLOCKED))
    with pytest.raises(WorkflowError) as err:
        services.submit(planner, view.id, view.version)
    assert err.value.params["blocking"]
    assert [g["kind"] for g in err.value.params["gaps"]] == ["blocking"]


def test_submit_refuses_a_high_case_with_open_checklist_items_naming_them(services, planner,
                                                                          auditor):
    view = fill_for_submission(services, planner,
                               services.create_case(planner, "国民向けFAQ", "広報室", answers=HIGH))
    for item_id, status, evidence in (("PC-G1", "not_applicable", "  "), ("PC-Q3", "pending", ""),
                                      ("CC-4", "not_met", "交渉中")):
        view = services.set_checklist_item(planner, view.id, item_id, status, evidence, view.version)
    with pytest.raises(WorkflowError) as err:
        services.submit(planner, view.id, view.version)
    assert err.value.params["gaps"] == [
        {"kind": "item_reason", "id": "PC-G1", "step": "procurement_checklist"},
        {"kind": "item_pending", "id": "PC-Q3", "step": "procurement_checklist"},
        {"kind": "item_not_met", "id": "CC-4", "step": "contract_checklist"},
    ]
    assert err.value.params["gap_count"] == 3 and err.value.params["case_id"] == view.id
    message = str(err.value)
    assert message.startswith(f"case {view.id} cannot be submitted; 3 thing(s) missing: ")
    for text in ("checklist item PC-G1 is not applicable without a reason (step "
                 "procurement_checklist)", "checklist item PC-Q3 is pending",
                 "checklist item CC-4 is not met (step contract_checklist)"):
        assert text in message
    stored = services.get_case(planner, view.id)
    assert (stored.status, stored.version) == ("draft", view.version)
    assert "case.submitted" not in _history(services, auditor, view.id)


def test_submit_refuses_a_high_case_with_an_empty_board_report_field(services, planner):
    view = services.create_case(planner, "国民向けFAQ", "広報室", answers=HIGH)
    for item_id in view.classification.required_items:
        view = services.set_checklist_item(planner, view.id, item_id, "met", "仕様書", view.version)
    with pytest.raises(WorkflowError) as err:  # every item settled, no board report at all
        services.submit(planner, view.id, view.version)
    assert err.value.params["gaps"] == [
        {"kind": "board_field", "id": name, "step": "board_report"} for name in BOARD_REPORT_FIELDS]
    report = {name: f"{name} の記載" for name in BOARD_REPORT_FIELDS} | {"qa_plan": "   "}
    view = services.save_board_report(planner, view.id, report, view.version)
    with pytest.raises(WorkflowError) as err:
        services.submit(planner, view.id, view.version)
    assert err.value.params["gaps"] == [{"kind": "board_field", "id": "qa_plan",
                                         "step": "board_report"}]
    assert "board report field qa_plan is empty (step board_report)" in str(err.value)
    view = services.save_board_report(planner, view.id, {"qa_plan": "想定問答500件で評価"},
                                      view.version)
    assert services.submit(planner, view.id, view.version).status == "submitted"


def test_a_low_case_needs_its_items_but_no_board_report(services, planner):
    view = services.create_case(planner, "議事録要約", "総務課", answers=LOW)
    with pytest.raises(WorkflowError) as err:
        services.submit(planner, view.id, view.version)
    kinds = {g["kind"] for g in err.value.params["gaps"]}
    assert kinds == {"item_pending"}
    assert {g["id"] for g in err.value.params["gaps"]} == set(view.classification.required_items)
    view = fill_for_submission(services, planner, view)
    assert view.board_report is None
    assert services.submit(planner, view.id, view.version).status == "submitted"


def test_submitted_case_is_frozen_until_returned(services, planner, reviewer, submitted):
    assert submitted.status == "submitted" and submitted.submitted_at is not None
    for call in (
        lambda: services.save_answers(planner, submitted.id, {"HR-4": "no_review"}, submitted.version),
        lambda: services.set_checklist_item(planner, submitted.id, "PC-G1", "met", "", submitted.version),
        lambda: services.save_board_report(planner, submitted.id, {"objectives": "x"}, submitted.version),
        lambda: services.submit(planner, submitted.id, submitted.version),
    ):
        with pytest.raises(WorkflowError):
            call()
    with pytest.raises(InputError):
        services.return_case(reviewer, submitted.id, "   ", submitted.version)
    returned = services.return_case(reviewer, submitted.id, "根拠資料を添付してください", submitted.version)
    assert returned.status == "returned"
    assert returned.decisions[-1].kind == "return"
    assert returned.decisions[-1].comment == "根拠資料を添付してください"
    edited = services.save_answers(planner, returned.id, {"HR-4": "no_review"}, returned.version)
    assert edited.status == "returned"
    again = services.submit(planner, edited.id, edited.version)
    assert again.status == "submitted"


def test_approval_is_pinned_to_answers_and_pack(services, reviewer, submitted):
    approved = approve_recorded(services, reviewer, submitted, "承認")
    assert approved.status == "approved" and approved.approved_at is not None
    decision = approved.decisions[-1]
    assert (decision.kind, decision.actor, decision.comment) == ("approval", "a-reviewer", "承認")
    assert decision.answers_hash == approved.answers_hash
    assert decision.pack_fingerprint == approved.pack_fingerprint
    assert decision.level == "high"


def test_owner_cannot_approve_own_case(services, admin, planner):
    services.create_user(admin, "org-a", "both", "B", "correct horse battery", ["planner", "reviewer"])
    both = services.actor_for("both")
    view = submit_filled(services, both, services.create_case(both, "t", "d", answers=LOW))
    with pytest.raises(WorkflowError):
        services.approve(both, view.id, view.version)


@pytest.mark.parametrize("change", ["answers", "checklist", "board_report"])
def test_any_later_change_voids_the_approval(services, planner, reviewer, auditor, submitted, change):
    approved = approve_recorded(services, reviewer, submitted)
    if change == "answers":
        after = services.save_answers(planner, approved.id, {"HR-4": "no_review"}, approved.version)
    elif change == "checklist":
        after = services.set_checklist_item(planner, approved.id, "PC-G1", "not_met", "", approved.version)
    else:
        after = services.save_board_report(planner, approved.id, {"schedule": "延期"}, approved.version)
    assert after.status == "draft"
    assert after.approval_voided_at is not None and after.approval_voided_reason
    assert after.decisions[-1].kind == "void"
    assert _history(services, auditor, after.id)[-1] == "approval.voided"
    # Resubmitting (once the change is settled again) and approving again clears the void.
    again = approve_recorded(services, reviewer, submit_filled(services, planner, after))
    assert again.status == "approved" and again.approval_voided_at is None


def test_wrong_state_transitions_are_refused(services, planner, reviewer, submitted):
    draft = services.create_case(planner, "t", "d", answers=LOW)
    with pytest.raises(WorkflowError):
        services.approve(reviewer, draft.id, draft.version)
    with pytest.raises(WorkflowError):
        services.return_case(reviewer, draft.id, "x", draft.version)
    gone = services.withdraw(planner, draft.id, draft.version, "不要になった")
    assert gone.status == "withdrawn" and gone.decisions[-1].kind == "withdrawal"
    for call in (
        lambda: services.withdraw(planner, gone.id, gone.version),
        lambda: services.submit(planner, gone.id, gone.version),
        lambda: services.save_answers(planner, gone.id, {"HR-1": "public"}, gone.version),
    ):
        with pytest.raises(WorkflowError):
            call()
    assert services.withdraw(planner, submitted.id, submitted.version).status == "withdrawn"


def test_history_records_the_whole_workflow(services, planner, reviewer, auditor, submitted):
    returned = services.return_case(reviewer, submitted.id, "修正を", submitted.version)
    resubmitted = services.submit(planner, returned.id, returned.version)
    approve_recorded(services, reviewer, resubmitted)
    history = services.case_history(auditor, submitted.id)
    filled = ("case.checklist_set", "case.board_report_saved")  # before the first submission
    first_submission = [e.event_type for e in history].index("case.submitted")
    assert {e.event_type for e in history[1:first_submission]} == set(filled)
    events = [e for e in history if e.event_type not in filled]
    assert [e.event_type for e in events] == [
        "case.created", "case.submitted", "case.returned", "case.submitted",
        "case.consultation_recorded", "case.approved"]
    assert [e.seq for e in history] == sorted(e.seq for e in history)
    assert events[2].payload["comment"] == "修正を" and events[2].actor == "a-reviewer"
    assert events[-1].payload["answers_hash"] == resubmitted.answers_hash


def test_no_decision_under_a_pack_whose_content_changed_under_the_same_version(
        services, planner, reviewer, submitted, tmp_path):
    import shutil

    from procurement.config import rules_dir
    from procurement.packs import PackRegistry
    from procurement.services import Services

    copy = tmp_path / "rules"
    shutil.copytree(rules_dir(), copy)
    pack_file = copy / "jp-national" / "v2" / "pack.yaml"
    text = pack_file.read_text(encoding="utf-8")
    edited = text.replace("(national, edition 2.0)", "(national, edition 2.0, edited)", 1)
    assert edited != text
    pack_file.write_text(edited, encoding="utf-8")
    # city-strict 1.0.0 is locked to the published jp-national 2.0.0 (pack.lock): it no longer
    # loads on the edited copy, and says so.
    registry = PackRegistry.discover(copy, strict=False)
    assert "city-strict@1.0.0" not in registry
    assert len(registry.errors) == 1
    assert "locked parent jp-national@2.0.0#0b9c46035847 differs" in registry.errors[0].message
    changed = Services(services.engine, registry, clock=services.clock)
    assert not changed.get_case(planner, submitted.id).pack_matches
    with pytest.raises(WorkflowError) as err:
        changed.approve(reviewer, submitted.id, submitted.version)
    assert err.value.params["stored"] == submitted.pack_fingerprint
    assert services.get_case(planner, submitted.id).status == "submitted"
    assert approve_recorded(services, reviewer, submitted).status == "approved"


@pytest.mark.parametrize("code, params", [
    ("answers_changed", {}), ("board_report_changed", {}), ("checklist_changed", {"item": "PC-G1"}),
    ("reassessed", {"pack": "jp-national@2.0.0", "items": ["PC-T2"]}),
])
def test_every_void_reason_reads_back_as_its_code_and_parameters(code, params):
    from procurement.vocabulary import VoidReason, read_void_reason

    reason = VoidReason(code, params)
    assert read_void_reason(reason.to_text()) == reason
    assert read_void_reason(reason.to_payload()) == reason


@pytest.mark.parametrize("stored, code, params", [
    ("answers changed", "answers_changed", {}),
    ("board report changed", "board_report_changed", {}),
    ("checklist item PC-G1 changed", "checklist_changed", {"item": "PC-G1"}),
    ("re-assessment under jp-national@2.0.0: obligations grew (new items PC-T2); the case needs "
     "approval again", "reassessed", {"pack": "jp-national@2.0.0", "growth": "new items PC-T2"}),
])
def test_void_reasons_stored_as_english_prose_before_codes_are_still_understood(stored, code,
                                                                                params):
    from procurement.vocabulary import VoidReason, describe_void_reason, read_void_reason

    assert read_void_reason(stored) == VoidReason(code, params)
    assert "changed" not in describe_void_reason(stored, "ja")


def test_a_reason_of_another_form_is_not_parsed():
    from procurement.vocabulary import read_void_reason

    assert read_void_reason("voided by hand") is None
    assert read_void_reason(None) is None
