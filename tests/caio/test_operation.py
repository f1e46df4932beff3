"""Operation and the incident register through the real services: workflow, validation,
roles and organisations, optimistic versions, and the audit events each change leaves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from procurement.audit import verify_rows
from procurement.db.models import AuditEvent
from procurement.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    WorkflowError,
)
from procurement.vocabulary import VoidReason
from tests.fixtures.services import approve_recorded, submit_filled

JST = timezone(timedelta(hours=9))


def events(svc, case_id, prefix=""):
    return [e.event_type for e in _history(svc, case_id) if e.event_type.startswith(prefix)]


def _history(svc, case_id):
    with Session(svc.engine) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                              .order_by(AuditEvent.seq)))


def start(svc, actor, case, **over):
    fields = dict(started_on=date(2026, 7, 1), vendor="ベンダー", model_name="m",
                  model_version="1", ismap_listing="ismap", review_interval_months=6)
    fields.update(over)
    return svc.start_operation(actor, case.id, case.version, **fields)


# --------------------------------------------------------------------- operation


def test_start_review_end_moves_status_and_logs_each_step(services, planner, reviewer,
                                                          approved_case):
    svc = services
    op = start(svc, planner, approved_case, ismap_listing=" ismap : C25-0001 ")
    assert (op.case_status, op.ismap_listing, op.started_on) == (
        "in_operation", "ismap:C25-0001", date(2026, 7, 1))
    assert svc.get_case(planner, approved_case.id).status == "in_operation"
    op = svc.record_review(reviewer, op.case_id, op.case_version,
                                 reviewed_on="2026-07-01", note="初回確認")
    assert op.last_reviewed_on == date(2026, 7, 1)
    op = svc.update_operation(planner, op.case_id, op.case_version,
                                    model_version="2", note="モデル更新の事前通知あり")
    assert op.model_version == "2"
    op = svc.end_operation(planner, op.case_id, op.case_version, ended_on="2026-07-01",
                                 end_evidence="削除証明書 No.123")
    assert (op.case_status, op.ended_on, op.end_evidence) == (
        "retired", date(2026, 7, 1), "削除証明書 No.123")
    assert events(svc, approved_case.id, "operation.") == [
        "operation.started", "operation.reviewed", "operation.updated", "operation.ended"]
    history = svc.case_history(reviewer, approved_case.id)
    assert history[-1].event_type == "operation.ended"
    assert history[-1].payload["end_evidence"] == "削除証明書 No.123"


def test_only_an_approved_case_goes_into_operation(services, planner):
    draft = services.create_case(planner, "草案", "総務課", answers={"SC-1": "yes"})
    with pytest.raises(WorkflowError) as err:
        start(services, planner, draft)
    assert err.value.params["status"] == "draft"


def test_start_twice_is_refused(services, planner, approved_case, running_case):
    case = services.get_case(planner, approved_case.id)
    with pytest.raises(WorkflowError, match="already in operation"):
        start(services, planner, case)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("started_on", date(2026, 6, 30), "before the approval"),
        ("started_on", date(2026, 7, 2), "in the future"),
        ("started_on", "2026-13-01", "not a date"),
        ("vendor", "  ", "vendor is required"),
        ("model_version", "x" * 101, "at most 100"),
        ("ismap_listing", "iso27001", "not one of"),
        ("review_interval_months", 0, "outside 1..36"),
        ("review_interval_months", "6", "whole number"),
    ],
)
def test_bad_operation_input_names_the_field_and_saves_nothing(services, planner, approved_case,
                                                               field, value, message):
    before = len(_history(services, approved_case.id))
    with pytest.raises(InputError, match=message) as err:
        start(services, planner, approved_case, **{field: value})
    assert err.value.params["field"] == field
    assert services.get_case(planner, approved_case.id).status == "approved"
    assert services.get_operation(planner, approved_case.id) is None
    assert len(_history(services, approved_case.id)) == before


def test_stale_case_version_is_a_conflict(services, planner, reviewer, running_case):
    services.record_review(planner, running_case.case_id, running_case.case_version,
                            reviewed_on=date(2026, 7, 1))
    with pytest.raises(ConflictError):
        services.end_operation(reviewer, running_case.case_id,
                                running_case.case_version, ended_on=date(2026, 7, 1),
                                end_evidence="x")
    assert services.get_case(planner, running_case.case_id).status == "in_operation"


def test_review_cannot_go_back_before_the_last_one(services, planner, service_clock,
                                                   running_case):
    service_clock.now = datetime(2026, 9, 1, tzinfo=UTC)
    op = services.record_review(planner, running_case.case_id,
                                 running_case.case_version, reviewed_on=date(2026, 8, 20))
    with pytest.raises(InputError, match="before the last review"):
        services.record_review(planner, op.case_id, op.case_version,
                                reviewed_on=date(2026, 8, 19))


def test_ending_needs_evidence(services, planner, running_case):
    with pytest.raises(InputError) as err:
        services.end_operation(planner, running_case.case_id,
                                running_case.case_version, ended_on=date(2026, 7, 1),
                                end_evidence="")
    assert err.value.params["field"] == "end_evidence"


def test_roles_and_organisations_for_operation(services, planner, auditor, pack_admin, admin,
                                               other_planner, other_reviewer, approved_case):
    for actor in (auditor, pack_admin, admin):
        with pytest.raises(PermissionDeniedError):
            start(services, actor, approved_case)
    with pytest.raises(NotFoundError):
        start(services, other_planner, approved_case)
    with pytest.raises(NotFoundError):
        services.get_operation(other_reviewer, approved_case.id)
    with pytest.raises(PermissionDeniedError):
        services.get_operation(pack_admin, approved_case.id)
    start(services, planner, approved_case)
    assert services.get_operation(auditor, approved_case.id).vendor == "ベンダー"


def test_command_line_operator_cannot_write(services, approved_case):
    system = services.system_actor("org-a")
    with pytest.raises(PermissionDeniedError):
        start(services, system, approved_case)


# --------------------------------------------------------------------- incidents


def test_incident_lifecycle_with_audit_events(services, planner, reviewer, auditor,
                                              service_clock, running_case):
    svc = services
    case_id = running_case.case_id
    service_clock.now = datetime(2026, 7, 10, 3, 0, tzinfo=UTC)
    inc = svc.create_incident(planner, case_id, occurred_on=date(2026, 7, 9), severity="medium",
        description="誤った手続案内を回答", reported_to_caio_at=datetime(2026, 7, 9, 18, 0, tzinfo=JST),
    )
    assert (inc.status, inc.version, inc.created_by) == ("open", 1, planner.username)
    inc = svc.update_incident(planner, inc.id, inc.version, severity="high",
                                    actions_taken="回答テンプレートを修正",
                                    reported_onward_at="2026-07-10T11:00:00+09:00")
    assert (inc.severity, inc.version) == ("high", 2)
    assert inc.reported_onward_at == datetime(2026, 7, 10, 2, 0, tzinfo=UTC)
    with pytest.raises(PermissionDeniedError):
        svc.close_incident(planner, inc.id, inc.version)
    with pytest.raises(ConflictError):
        svc.close_incident(reviewer, inc.id, 1)
    inc = svc.close_incident(reviewer, inc.id, inc.version, comment="再発防止策を確認")
    assert (inc.status, inc.version) == ("closed", 3)
    with pytest.raises(WorkflowError):
        svc.update_incident(planner, inc.id, inc.version, severity="low")
    with pytest.raises(WorkflowError):
        svc.close_incident(reviewer, inc.id, inc.version)

    history = svc.case_history(auditor, case_id)
    incident_events = [e for e in history if e.event_type.startswith("incident.")]
    assert [e.event_type for e in incident_events] == [
        "incident.created", "incident.updated", "incident.closed"]
    assert incident_events[0].payload["description"] == "誤った手続案内を回答"
    assert incident_events[1].payload["old"] == {
        "severity": "medium", "actions_taken": "", "reported_onward_at": None}
    assert incident_events[1].payload["new"]["severity"] == "high"
    assert incident_events[2].payload["comment"] == "再発防止策を確認"
    assert [i.id for i in svc.list_incidents(auditor, case_id)] == [inc.id]
    assert svc.get_incident(auditor, inc.id).status == "closed"
    with Session(svc.engine) as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.chain == "org-a")
                              .order_by(AuditEvent.seq)))
    (report,) = verify_rows(rows)
    assert report.problem is None and report.count == len(rows)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("occurred_on", date(2026, 7, 2), "in the future"),
        ("severity", "urgent", "not one of"),
        ("description", "", "description is required"),
        ("reported_to_caio_at", datetime(2026, 6, 30, 23, 0, tzinfo=JST), "before the incident"),
        ("reported_to_caio_at", datetime(2026, 7, 1, 12, 0), "no time zone"),
    ],
)
def test_bad_incident_input_is_refused(services, planner, running_case, field, value, message):
    fields = dict(occurred_on=date(2026, 7, 1), severity="low", description="d")
    fields[field] = value
    with pytest.raises(InputError, match=message) as err:
        services.create_incident(planner, running_case.case_id, **fields)
    assert err.value.params["field"] == field
    assert services.list_incidents(planner, running_case.case_id) == []


def test_incidents_need_an_approved_case_and_the_right_organisation(
        services, planner, auditor, other_planner, other_reviewer, running_case):
    draft = services.create_case(planner, "草案", "総務課", answers={"SC-1": "yes"})
    with pytest.raises(WorkflowError):
        services.create_incident(planner, draft.id, occurred_on=date(2026, 7, 1),
                                  severity="low", description="d")
    with pytest.raises(PermissionDeniedError):
        services.create_incident(auditor, running_case.case_id,
                                  occurred_on=date(2026, 7, 1), severity="low", description="d")
    with pytest.raises(NotFoundError):
        services.create_incident(other_planner, running_case.case_id,
                                  occurred_on=date(2026, 7, 1), severity="low", description="d")
    inc = services.create_incident(planner, running_case.case_id,
                                    occurred_on=date(2026, 7, 1), severity="low", description="d")
    with pytest.raises(NotFoundError):
        services.get_incident(other_reviewer, inc.id)
    with pytest.raises(NotFoundError):
        services.close_incident(other_reviewer, inc.id, inc.version,
                                 actions_taken="x")
    assert services.list_incidents(other_reviewer) == []
    assert [i.id for i in services.list_incidents(auditor)] == [inc.id]


def test_closing_needs_actions_taken(services, planner, reviewer, running_case):
    inc = services.create_incident(planner, running_case.case_id,
                                    occurred_on=date(2026, 7, 1), severity="low", description="d")
    with pytest.raises(InputError) as err:
        services.close_incident(reviewer, inc.id, inc.version)
    assert err.value.params["field"] == "actions_taken"
    closed = services.close_incident(reviewer, inc.id, inc.version,
                                      actions_taken="設定を修正")
    assert closed.actions_taken == "設定を修正"


def test_a_system_that_kept_running_resumes_after_reapproval(services, planner, reviewer,
                                                             service_clock, running_case):
    """Changing the answers of a running system voids its approval (so does a re-assessment);
    it keeps running and the portfolio flags it; once approved again it resumes, keeping its
    start date and review history."""
    from procurement.caio.portfolio import compute_portfolio

    svc, case_id = services, running_case.case_id
    service_clock.now = datetime(2026, 8, 1, tzinfo=UTC)
    op = svc.record_review(planner, case_id, running_case.case_version,
                                 reviewed_on=date(2026, 7, 20))
    view = svc.save_answers(planner, case_id, {"HR-4": "partial_review"}, op.case_version)
    assert (view.status, view.void_reason) == ("draft", VoidReason("answers_changed"))
    portfolio = compute_portfolio(svc.load_portfolio_rows(reviewer), now=svc.clock())
    assert [c.id for c in portfolio.running_unapproved] == [case_id]

    view = submit_filled(svc, planner, view)
    view = approve_recorded(svc, reviewer, view)
    resumed = start(svc, planner, view, started_on=date(2026, 8, 1), model_version="2")
    assert (resumed.started_on, resumed.last_reviewed_on, resumed.model_version) == (
        date(2026, 7, 1), date(2026, 7, 20), "2")
    payload = svc.case_history(reviewer, case_id)[-1].payload
    assert payload["resumed"] is True and payload["previous"]["model_version"] == "2026-06"
    portfolio = compute_portfolio(svc.load_portfolio_rows(reviewer), now=svc.clock())
    assert portfolio.running_unapproved == []
