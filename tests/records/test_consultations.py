"""Consultations before approval: driven by the case's pack (report and consultation steps that
apply), recorded by a reviewer for the current submission, never a change of the case
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from procurement import audit, events
from procurement.db.models import Consultation
from procurement.demo import HIGH, LOW, REVIEW
from procurement.errors import InputError, PermissionDeniedError, WorkflowError
from tests.fixtures.services import submit_filled

TODAY = date(2026, 7, 1)  # the service clock's JST day (it starts at 2026-07-01 00:00 UTC)


def _high(services, planner, pack_ref=None, answers=HIGH):
    return submit_filled(services, planner,
                         services.create_case(planner, "国民向けFAQ", "広報室", pack_ref,
                                              dict(answers)))


def test_approval_waits_for_the_consultation_the_pack_asks_for(services, planner, reviewer):
    case = _high(services, planner)
    (step,) = services.consultation_steps(reviewer, case.id)
    pack = services.registry.resolve(case.pack_key)
    assert [s.id for s in pack.report_steps(case.classification)] == [step.step_id]
    assert step.kind == "report" and step.recorded is None and step.previous is None
    assert step.body["ja"] == "先進的AI利活用アドバイザリーボード"  # the national body

    with pytest.raises(WorkflowError) as refused:
        services.approve(reviewer, case.id, case.version)
    assert refused.value.params["reason"] == "consultation_missing"
    assert refused.value.params["step"] == step.step_id
    assert step.step_id in str(refused.value)
    assert services.get_case(reviewer, case.id).status == "submitted"

    recorded = services.record_consultation(reviewer, case.id, step.step_id,
                                            reported_on=TODAY, advice="received",
                                            note="リスク低減策について助言を受けた")
    assert (recorded.advice, recorded.recorded_by, recorded.recorded_by_name) == (
        "received", "a-reviewer", "a-reviewer")
    approved = services.approve(reviewer, case.id, case.version, "承認します")
    assert approved.status == "approved"


def test_recording_is_not_a_change_of_the_case(services, planner, reviewer, auditor):
    case = _high(services, planner)
    step = services.consultation_steps(reviewer, case.id)[0].step_id
    before = services.get_case(reviewer, case.id)
    services.record_consultation(reviewer, case.id, step, reported_on="2026-06-30",
                                 advice="none")
    after = services.get_case(reviewer, case.id)
    assert (after.version, after.updated_at, after.status) == (
        before.version, before.updated_at, "submitted")
    # Not a change for the four-eyes rule, and the version the reviewer read still approves.
    assert services.approval_conflicts(reviewer, [case.id]) == {}
    assert services.approve(reviewer, case.id, before.version).status == "approved"
    history = services.case_history(auditor, case.id)
    event = next(e for e in history if e.event_type == "case.consultation_recorded")
    assert event.payload["step"] == step and event.payload["advice"] == "none"
    assert event.payload["reported_on"] == "2026-06-30"
    pack = services.registry.resolve(case.pack_key)
    text = events.describe_event(event.event_type, event.payload, "ja", pack=pack)
    assert text.startswith(pack.step(step).title["ja"] + "／") and "助言なし" in text
    assert all(r.ok for r in audit.verify_database(services.engine))


def test_recording_again_corrects_the_record_for_this_submission(services, planner, reviewer,
                                                                 auditor):
    case = _high(services, planner)
    step = services.consultation_steps(reviewer, case.id)[0].step_id
    services.record_consultation(reviewer, case.id, step, reported_on=TODAY, advice="none")
    services.record_consultation(reviewer, case.id, step, reported_on=TODAY, advice="received",
                                 note="追記")
    with services.read() as s:
        assert s.scalar(select(func.count()).select_from(Consultation)) == 1
    (state,) = services.consultation_steps(reviewer, case.id)
    assert (state.recorded.advice, state.recorded.note) == ("received", "追記")
    last = [e for e in services.case_history(auditor, case.id)
            if e.event_type == "case.consultation_recorded"][-1]
    assert last.payload["old"]["advice"] == "none"


def test_a_resubmission_needs_its_own_record(services, planner, reviewer):
    case = _high(services, planner)
    step = services.consultation_steps(reviewer, case.id)[0].step_id
    services.record_consultation(reviewer, case.id, step, reported_on=TODAY, advice="received")
    returned = services.return_case(reviewer, case.id, "スケジュールを具体的に", case.version)
    again = services.submit(planner, returned.id, returned.version)
    (state,) = services.consultation_steps(reviewer, case.id)
    assert state.recorded is None and state.previous.advice == "received"
    with pytest.raises(WorkflowError):
        services.approve(reviewer, again.id, again.version)
    services.record_consultation(reviewer, case.id, step, reported_on=TODAY, advice="received")
    assert services.approve(reviewer, again.id, again.version).status == "approved"


def test_a_case_whose_pack_asks_for_nothing_is_approved_directly(services, planner, reviewer):
    case = submit_filled(services, planner, services.create_case(planner, "要約", "総務課",
                                                                 answers=dict(LOW)))
    assert services.consultation_steps(reviewer, case.id) == []
    assert services.approve(reviewer, case.id, case.version).status == "approved"


def test_the_step_comes_from_the_pack_national_review_and_municipal(services, planner, reviewer,
                                                                    admin):
    # jp-national 2.1.0: a case marked for review is discussed with the CAIO first.
    review = _high(services, planner, "jp-national@2.1.0", REVIEW)
    (step,) = services.consultation_steps(reviewer, review.id)
    assert step.kind == "consultation" and "CAIO" in step.body["ja"]
    # jp-municipal: a high case goes to the municipality's own CAIO and committee.
    services.create_org(admin, "city-m", "テスト市", "municipality", pack_ref="jp-municipal@1")
    services.create_user(admin, "city-m", "m-planner", "市 企画", "correct horse battery",
                         ["planner"])
    services.create_user(admin, "city-m", "m-reviewer", "市 審査", "correct horse battery",
                         ["reviewer"])
    m_planner, m_reviewer = services.actor_for("m-planner"), services.actor_for("m-reviewer")
    city = submit_filled(services, m_planner, services.create_case(
        m_planner, "窓口案内", "市民課", answers={**HIGH, "MQ-1": "lgwan"}))
    pack = services.registry.resolve(city.pack_key)
    steps = services.consultation_steps(m_reviewer, city.id)
    assert [s.step_id for s in steps] == [s.id for s in pack.report_steps(city.classification)]
    assert steps and all("アドバイザリーボード" not in (s.body or {}).get("ja", "")
                         for s in steps)
    assert any("情報セキュリティ委員会" in (s.body or {}).get("ja", "") for s in steps)


def test_what_may_be_recorded(services, planner, reviewer, planner2, other_reviewer):
    case = _high(services, planner)
    step = services.consultation_steps(reviewer, case.id)[0].step_id
    for kwargs, field in (
        ({"reported_on": TODAY + timedelta(days=1), "advice": "received"}, "reported_on"),
        ({"reported_on": "not a day", "advice": "received"}, "reported_on"),
        ({"reported_on": TODAY, "advice": "maybe"}, "advice"),
        ({"reported_on": TODAY, "advice": "none", "note": "a\x00b"}, "note"),
    ):
        with pytest.raises(InputError) as bad:
            services.record_consultation(reviewer, case.id, step, **kwargs)
        assert bad.value.params["field"] == field
    with pytest.raises(InputError) as not_a_step:
        services.record_consultation(reviewer, case.id, "procurement_checklist",
                                     reported_on=TODAY, advice="none")
    assert not_a_step.value.params["field"] == "step"
    with pytest.raises(PermissionDeniedError):
        services.record_consultation(planner2, case.id, step, reported_on=TODAY, advice="none")
    with pytest.raises(Exception) as elsewhere:
        services.record_consultation(other_reviewer, case.id, step, reported_on=TODAY,
                                     advice="none")
    assert type(elsewhere.value).__name__ == "NotFoundError"
    returned = services.return_case(reviewer, case.id, "修正を", case.version)
    with pytest.raises(WorkflowError):
        services.record_consultation(reviewer, returned.id, step, reported_on=TODAY,
                                     advice="none")
    with services.read() as s:
        assert s.scalar(select(func.count()).select_from(Consultation)) == 0


def test_the_demo_records_its_consultations(demo_services):
    reviewer = demo_services.actor_for("ministry-reviewer")
    approved_high = [c for c in demo_services.list_cases(reviewer)
                     if c.level == "high" and c.status in ("approved", "in_operation")]
    assert approved_high
    with demo_services.read() as s:
        recorded = set(s.scalars(select(Consultation.case_id)))
    assert {c.id for c in approved_high} <= recorded


def test_times_are_stored_as_utc(services, planner, reviewer):
    case = _high(services, planner)
    step = services.consultation_steps(reviewer, case.id)[0].step_id
    view = services.record_consultation(reviewer, case.id, step, reported_on=TODAY,
                                        advice="none")
    assert view.recorded_at.tzinfo is not None
    assert view.recorded_at.astimezone(UTC) > datetime(2026, 7, 1, tzinfo=UTC)
