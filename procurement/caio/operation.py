"""Operation of approved systems and their incident register (リスク事案).

An approved case goes into operation (status `in_operation`, 運用中) with its start date, vendor,
model and version, ISMAP listing and periodic-review interval; reviews are recorded as they
happen; ending operation (status `retired`) records the evidence that the data was returned or
deleted. Each case keeps a register of incidents: when it happened, how serious, what happened,
what was done, and when it was reported to the CAIO and onward.

Every write goes through `Services.unit_of_work`: the actor's role and organisation are checked,
the change and its audit event are written in one transaction (so incidents and operation
milestones appear in the case history and the audit log), and optimistic versions stop a stale
copy from overwriting a newer one. Operation writes carry the case's version (they change the
case's status or its standing); incident writes carry the incident's own version, so reporting an
incident never conflicts with someone editing the case.

Who may do what: planners and reviewers (the CAIO or a delegate) of the case's organisation run
operations and record incidents; only a reviewer closes an incident (the CAIO confirms it was
handled); auditors read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from procurement import fiscal
from procurement.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    WorkflowError,
)
from procurement.db.models import Case, Incident, Operation, User

#: Roles that write operation records and incidents.
WRITER_ROLES = frozenset({"planner", "reviewer"})
#: Roles that close an incident.
CLOSER_ROLES = frozenset({"reviewer"})
#: Roles that read operation records and incidents (besides writers).
READER_ROLES = frozenset({"planner", "reviewer", "auditor", "admin"})

#: ISMAP listing codes. Stored as `code` or `code:reference` (e.g. a registration number).
ISMAP_LISTINGS = ("ismap", "ismap_liu", "not_listed", "not_applicable")
SEVERITIES = ("low", "medium", "high", "critical")
INCIDENT_STATUSES = ("open", "closed")
#: Statuses of a case that may have incidents: approved (e.g. a pilot), running or retired
#: (a leak can surface after the end).
INCIDENT_CASE_STATUSES = frozenset({"approved", "in_operation", "retired"})
MAX_REVIEW_INTERVAL_MONTHS = 36

# Column limits of `operations` (text beyond them is refused, never cut silently).
_LIMITS = {"vendor": 200, "model_name": 200, "model_version": 100, "ismap_listing": 200}


@dataclass(frozen=True)
class OperationView:
    case_id: int
    case_status: str
    case_version: int
    started_on: date | None
    vendor: str
    model_name: str
    model_version: str
    ismap_listing: str
    review_interval_months: int | None
    last_reviewed_on: date | None
    ended_on: date | None
    end_evidence: str
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class IncidentView:
    id: int
    case_id: int
    occurred_on: date
    severity: str
    description: str
    actions_taken: str
    reported_to_caio_at: datetime | None
    reported_onward_at: datetime | None
    status: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


# --------------------------------------------------------------------------- validation


def _today(now: datetime) -> date:
    return fiscal.to_jst(now).date()


def _text(value: Any, name: str, *, required: bool = True, limit: int | None = None) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{name} must be text, got {type(value).__name__}", field=name, value=value)
    value = value.strip()
    if required and not value:
        raise InputError(f"{name} is required (non-empty text)", field=name, value=value)
    if limit is not None and len(value) > limit:
        raise InputError(f"{name} is {len(value)} characters long; at most {limit} are allowed",
                         field=name, value=value[:40] + "…", limit=limit)
    return value


def _day(value: Any, name: str, today: date, *, not_before: date | None = None,
         not_before_name: str = "") -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise InputError(f"{name} {value!r} is not a date (YYYY-MM-DD)", field=name,
                             value=value) from None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InputError(f"{name} must be a date, got {value!r}", field=name, value=value)
    if value > today:
        raise InputError(f"{name} {value.isoformat()} is in the future (today is "
                         f"{today.isoformat()} JST)", field=name, value=value.isoformat())
    if not_before is not None and value < not_before:
        raise InputError(
            f"{name} {value.isoformat()} is before {not_before_name} {not_before.isoformat()}",
            field=name, value=value.isoformat(), limit=not_before.isoformat(),
        )
    return value


def _moment(value: Any, name: str, now: datetime, not_before: date) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InputError(f"{name} {value!r} is not a timestamp (ISO 8601 with offset)",
                             field=name, value=value) from None
    if not isinstance(value, datetime):
        raise InputError(f"{name} must be a timestamp, got {value!r}", field=name, value=value)
    if value.tzinfo is None:
        raise InputError(f"{name} {value.isoformat()} has no time zone (give +09:00 for JST)",
                         field=name, value=value.isoformat())
    value = value.astimezone(timezone.utc)
    if value > now:
        raise InputError(f"{name} {value.isoformat()} is in the future", field=name,
                         value=value.isoformat())
    if fiscal.to_jst(value).date() < not_before:
        raise InputError(
            f"{name} {fiscal.to_jst(value):%Y-%m-%d %H:%M} JST is before the incident occurred "
            f"({not_before.isoformat()})", field=name, value=value.isoformat(),
            limit=not_before.isoformat(),
        )
    return value


def _ismap(value: Any) -> str:
    text = _text(value, "ismap_listing", limit=_LIMITS["ismap_listing"])
    code, sep, reference = text.partition(":")
    code = code.strip()
    if code not in ISMAP_LISTINGS:
        raise InputError(
            f"ismap_listing {text!r}: {code!r} is not one of {', '.join(ISMAP_LISTINGS)} "
            "(optionally followed by ':' and a registration reference)",
            field="ismap_listing", value=text,
        )
    return f"{code}:{reference.strip()}" if sep and reference.strip() else code


def _interval(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"review_interval_months must be a whole number, got {value!r}",
                         field="review_interval_months", value=value)
    if not 1 <= value <= MAX_REVIEW_INTERVAL_MONTHS:
        raise InputError(
            f"review_interval_months {value} is outside 1..{MAX_REVIEW_INTERVAL_MONTHS}",
            field="review_interval_months", value=value, limit=MAX_REVIEW_INTERVAL_MONTHS,
        )
    return value


def _severity(value: Any) -> str:
    if value not in SEVERITIES:
        raise InputError(f"severity {value!r} is not one of {', '.join(SEVERITIES)}",
                         field="severity", value=value)
    return value


def _named_user(actor) -> int:
    if actor.user_id is None:
        raise PermissionDeniedError(
            "the command-line operator cannot record operations or incidents; act as a named user",
            username=actor.username,
        )
    return actor.user_id


def _status_required(case: Case, allowed: frozenset[str] | set[str], doing: str) -> None:
    if case.status not in allowed:
        raise WorkflowError(
            f"case {case.id} is {case.status}: cannot {doing} (needs {', '.join(sorted(allowed))})",
            case_id=case.id, status=case.status, action=doing,
        )


def _approval_day(case: Case) -> date | None:
    return fiscal.to_jst(case.approved_at).date() if case.approved_at is not None else None


# --------------------------------------------------------------------------- views


def _user_names(s: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(s.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def _operation_view(s: Session, case: Case, op: Operation) -> OperationView:
    names = _user_names(s, {op.updated_by})
    return OperationView(
        case.id, case.status, case.version, op.started_on, op.vendor, op.model_name,
        op.model_version, op.ismap_listing, op.review_interval_months, op.last_reviewed_on,
        op.ended_on, op.end_evidence, names.get(op.updated_by, ""), op.updated_at,
    )


def _incident_view(inc: Incident, names: Mapping[int, str]) -> IncidentView:
    return IncidentView(
        inc.id, inc.case_id, inc.occurred_on, inc.severity, inc.description, inc.actions_taken,
        inc.reported_to_caio_at, inc.reported_onward_at, inc.status,
        names.get(inc.created_by, ""), inc.created_at, inc.updated_at, inc.version,
    )


def _incident_payload(inc: Incident) -> dict[str, Any]:
    return {
        "incident_id": inc.id,
        "occurred_on": inc.occurred_on.isoformat(),
        "severity": inc.severity,
        "description": inc.description,
        "actions_taken": inc.actions_taken,
        "reported_to_caio_at": inc.reported_to_caio_at.isoformat() if inc.reported_to_caio_at else None,
        "reported_onward_at": inc.reported_onward_at.isoformat() if inc.reported_onward_at else None,
        "status": inc.status,
        "version": inc.version,
    }


def _operation_payload(op: Operation) -> dict[str, Any]:
    return {
        "started_on": op.started_on.isoformat() if op.started_on else None,
        "vendor": op.vendor, "model_name": op.model_name, "model_version": op.model_version,
        "ismap_listing": op.ismap_listing, "review_interval_months": op.review_interval_months,
        "last_reviewed_on": op.last_reviewed_on.isoformat() if op.last_reviewed_on else None,
        "ended_on": op.ended_on.isoformat() if op.ended_on else None,
    }


def _readable_case(s: Session, actor, case_id: int) -> Case:
    if not actor.has_role(*READER_ROLES):
        raise PermissionDeniedError(
            f"{actor.username} needs one of the roles {', '.join(sorted(READER_ROLES))}",
            username=actor.username, needed=sorted(READER_ROLES), roles=sorted(actor.roles),
        )
    case = s.get(Case, case_id)
    if case is None or case.org_id != actor.org_id:
        raise NotFoundError(f"case {case_id} not found", kind="case", id=case_id)
    return case


# --------------------------------------------------------------------------- reading


def get_operation(svc, actor, case_id: int) -> OperationView | None:
    """The operation record of a case, or None if it never went into operation."""
    with Session(svc.engine) as s:
        case = _readable_case(s, actor, case_id)
        op = s.scalar(select(Operation).where(Operation.case_id == case_id))
        return _operation_view(s, case, op) if op is not None else None


def list_incidents(svc, actor, case_id: int | None = None) -> list[IncidentView]:
    """Incidents of one case, or of every case of the actor's organisation; newest first."""
    with Session(svc.engine) as s:
        stmt = select(Incident).join(Case, Incident.case_id == Case.id)
        if case_id is not None:
            _readable_case(s, actor, case_id)
            stmt = stmt.where(Incident.case_id == case_id)
        else:
            if not actor.has_role(*READER_ROLES):
                raise PermissionDeniedError(
                    f"{actor.username} needs one of the roles {', '.join(sorted(READER_ROLES))}",
                    username=actor.username, needed=sorted(READER_ROLES), roles=sorted(actor.roles),
                )
            stmt = stmt.where(Case.org_id == actor.org_id)
        incidents = list(s.scalars(stmt.order_by(Incident.occurred_on.desc(), Incident.id.desc())))
        names = _user_names(s, {i.created_by for i in incidents})
        return [_incident_view(i, names) for i in incidents]


def get_incident(svc, actor, incident_id: int) -> IncidentView:
    """One incident (NotFoundError when it belongs to another organisation)."""
    with Session(svc.engine) as s:
        inc = s.get(Incident, incident_id)
        if inc is None:
            raise NotFoundError(f"incident {incident_id} not found", kind="incident", id=incident_id)
        try:
            _readable_case(s, actor, inc.case_id)
        except NotFoundError:
            raise NotFoundError(f"incident {incident_id} not found", kind="incident",
                                id=incident_id) from None
        return _incident_view(inc, _user_names(s, {inc.created_by}))


# --------------------------------------------------------------------------- operation


def start_operation(
    svc, actor, case_id: int, expected_version: int, *, started_on: date | str, vendor: str,
    model_name: str, model_version: str, ismap_listing: str, review_interval_months: int,
) -> OperationView:
    """Put an approved case into operation (status `in_operation`).

    The start date may not precede the approval (JST) nor lie in the future. A system whose
    approval was voided while it kept running (a change or a re-assessment sent the case back
    to draft) resumes: once approved again, this keeps its original start date and review
    history, updates what runs, and logs `operation.started` with `resumed: true`.
    """
    with svc.unit_of_work(actor, roles=WRITER_ROLES) as uow:
        user_id = _named_user(actor)
        case = uow.load_case(case_id, expected_version)
        if case.status == "in_operation":
            raise WorkflowError(f"case {case_id} is already in operation", case_id=case_id,
                                status=case.status, action="start operation")
        _status_required(case, {"approved"}, "start operation")
        op = uow.session.scalar(select(Operation).where(Operation.case_id == case_id))
        resumed = op is not None and op.started_on is not None and op.ended_on is None
        today = _today(uow.now)
        fields = {
            "vendor": _text(vendor, "vendor", limit=_LIMITS["vendor"]),
            "model_name": _text(model_name, "model_name", limit=_LIMITS["model_name"]),
            "model_version": _text(model_version, "model_version", limit=_LIMITS["model_version"]),
            "ismap_listing": _ismap(ismap_listing),
            "review_interval_months": _interval(review_interval_months),
        }
        if not resumed:
            fields["started_on"] = _day(started_on, "started_on", today,
                                        not_before=_approval_day(case),
                                        not_before_name="the approval on")
        if op is None:
            op = Operation(case_id=case_id, updated_by=user_id, updated_at=uow.now)
            uow.session.add(op)
        previous = _operation_payload(op) if resumed else None
        for name, value in fields.items():
            setattr(op, name, value)
        if not resumed:
            op.last_reviewed_on = None
            op.ended_on = None
            op.end_evidence = ""
        op.updated_by, op.updated_at = user_id, uow.now
        case.status = "in_operation"
        uow.touch(case)
        payload = {"old_status": "approved", "new_status": "in_operation", "resumed": resumed,
                   **_operation_payload(op)}
        if previous is not None:
            payload["previous"] = previous
        uow.audit("operation.started", case_id, payload)
        return _operation_view(uow.session, case, op)


def _running(uow, case_id: int, expected_version: int, doing: str) -> tuple[Case, Operation]:
    case = uow.load_case(case_id, expected_version)
    _status_required(case, {"in_operation"}, doing)
    op = uow.session.scalar(select(Operation).where(Operation.case_id == case_id))
    if op is None:  # a status without its record: refuse rather than invent one
        raise WorkflowError(f"case {case_id} has no operation record", case_id=case_id,
                            status=case.status, action=doing)
    return case, op


def update_operation(
    svc, actor, case_id: int, expected_version: int, *, vendor: str | None = None,
    model_name: str | None = None, model_version: str | None = None,
    ismap_listing: str | None = None, review_interval_months: int | None = None,
    note: str = "",
) -> OperationView:
    """Change what runs (e.g. a new model version, PC-P3) or the review interval. Only the given
    fields change; the audit event records old and new values and the note."""
    with svc.unit_of_work(actor, roles=WRITER_ROLES) as uow:
        user_id = _named_user(actor)
        case, op = _running(uow, case_id, expected_version, "update operation")
        new: dict[str, Any] = {}
        for name, value in (("vendor", vendor), ("model_name", model_name),
                            ("model_version", model_version)):
            if value is not None:
                new[name] = _text(value, name, limit=_LIMITS[name])
        if ismap_listing is not None:
            new["ismap_listing"] = _ismap(ismap_listing)
        if review_interval_months is not None:
            new["review_interval_months"] = _interval(review_interval_months)
        changed = {k: v for k, v in new.items() if getattr(op, k) != v}
        if not changed:
            raise InputError(f"case {case_id}: nothing to change in the operation record",
                             field="operation", value=None)
        old = {k: getattr(op, k) for k in changed}
        for name, value in changed.items():
            setattr(op, name, value)
        op.updated_by, op.updated_at = user_id, uow.now
        uow.touch(case)
        uow.audit("operation.updated", case_id, {
            "old": old, "new": changed, "note": _text(note, "note", required=False),
        })
        return _operation_view(uow.session, case, op)


def record_review(
    svc, actor, case_id: int, expected_version: int, *, reviewed_on: date | str, note: str = "",
) -> OperationView:
    """Record a periodic review held on `reviewed_on` (not before the start or the last review,
    not in the future); the next one falls due an interval later."""
    with svc.unit_of_work(actor, roles=WRITER_ROLES) as uow:
        user_id = _named_user(actor)
        case, op = _running(uow, case_id, expected_version, "record a review")
        floor, floor_name = op.started_on, "the start of operation on"
        if op.last_reviewed_on is not None:
            floor, floor_name = op.last_reviewed_on, "the last review on"
        day = _day(reviewed_on, "reviewed_on", _today(uow.now), not_before=floor,
                   not_before_name=floor_name)
        previous = op.last_reviewed_on
        op.last_reviewed_on = day
        op.updated_by, op.updated_at = user_id, uow.now
        uow.touch(case)
        uow.audit("operation.reviewed", case_id, {
            "reviewed_on": day.isoformat(),
            "previous_review": previous.isoformat() if previous else None,
            "note": _text(note, "note", required=False),
        })
        return _operation_view(uow.session, case, op)


def end_operation(
    svc, actor, case_id: int, expected_version: int, *, ended_on: date | str, end_evidence: str,
) -> OperationView:
    """End operation (status `retired`) with the evidence that the vendor returned or deleted
    the data (e.g. the deletion certificate's number and date, CC-11)."""
    with svc.unit_of_work(actor, roles=WRITER_ROLES) as uow:
        user_id = _named_user(actor)
        case, op = _running(uow, case_id, expected_version, "end operation")
        op.ended_on = _day(ended_on, "ended_on", _today(uow.now), not_before=op.started_on,
                           not_before_name="the start of operation on")
        op.end_evidence = _text(end_evidence, "end_evidence")
        op.updated_by, op.updated_at = user_id, uow.now
        case.status = "retired"
        uow.touch(case)
        uow.audit("operation.ended", case_id, {
            "old_status": "in_operation", "new_status": "retired",
            "ended_on": op.ended_on.isoformat(), "end_evidence": op.end_evidence,
        })
        return _operation_view(uow.session, case, op)


# --------------------------------------------------------------------------- incidents


def create_incident(
    svc, actor, case_id: int, *, occurred_on: date | str, severity: str, description: str,
    actions_taken: str = "", reported_to_caio_at: datetime | str | None = None,
    reported_onward_at: datetime | str | None = None,
) -> IncidentView:
    """Record an incident of an approved, running or retired system (status `open`)."""
    with svc.unit_of_work(actor, roles=WRITER_ROLES) as uow:
        user_id = _named_user(actor)
        case = uow.load_case(case_id)
        _status_required(case, INCIDENT_CASE_STATUSES, "record an incident")
        day = _day(occurred_on, "occurred_on", _today(uow.now))
        inc = Incident(
            case_id=case_id, occurred_on=day, severity=_severity(severity),
            description=_text(description, "description"),
            actions_taken=_text(actions_taken, "actions_taken", required=False),
            reported_to_caio_at=_moment(reported_to_caio_at, "reported_to_caio_at", uow.now, day),
            reported_onward_at=_moment(reported_onward_at, "reported_onward_at", uow.now, day),
            status="open", created_by=user_id, created_at=uow.now, updated_at=uow.now, version=1,
        )
        uow.session.add(inc)
        uow.session.flush()
        uow.audit("incident.created", case_id, _incident_payload(inc))
        return _incident_view(inc, {user_id: actor.username})


_UNSET: Any = object()


def _load_incident(uow, incident_id: int, expected_version: int) -> Incident:
    inc = uow.session.get(Incident, incident_id)
    if inc is None:
        raise NotFoundError(f"incident {incident_id} not found", kind="incident", id=incident_id)
    try:
        uow.load_case(inc.case_id)  # organisation check
    except NotFoundError:
        raise NotFoundError(f"incident {incident_id} not found", kind="incident",
                            id=incident_id) from None
    if inc.version != expected_version:
        raise ConflictError(
            f"incident {incident_id} was changed by someone else (you have version "
            f"{expected_version}, stored is {inc.version}); reload it",
            incident_id=incident_id, expected_version=expected_version,
            stored_version=inc.version,
        )
    return inc


def update_incident(
    svc, actor, incident_id: int, expected_version: int, *, occurred_on: Any = _UNSET,
    severity: Any = _UNSET, description: Any = _UNSET, actions_taken: Any = _UNSET,
    reported_to_caio_at: Any = _UNSET, reported_onward_at: Any = _UNSET,
) -> IncidentView:
    """Change an open incident; only the given fields change (None clears a report time).
    The audit event records old and new values."""
    with svc.unit_of_work(actor, roles=WRITER_ROLES) as uow:
        user_id = _named_user(actor)
        inc = _load_incident(uow, incident_id, expected_version)
        if inc.status != "open":
            raise WorkflowError(f"incident {incident_id} is {inc.status} and cannot be changed",
                                incident_id=incident_id, status=inc.status)
        today = _today(uow.now)
        new: dict[str, Any] = {}
        if occurred_on is not _UNSET:
            new["occurred_on"] = _day(occurred_on, "occurred_on", today)
        day = new.get("occurred_on", inc.occurred_on)
        if severity is not _UNSET:
            new["severity"] = _severity(severity)
        if description is not _UNSET:
            new["description"] = _text(description, "description")
        if actions_taken is not _UNSET:
            new["actions_taken"] = _text(actions_taken, "actions_taken", required=False)
        for name, value in (("reported_to_caio_at", reported_to_caio_at),
                            ("reported_onward_at", reported_onward_at)):
            if value is not _UNSET:
                new[name] = _moment(value, name, uow.now, day)
            elif "occurred_on" in new and getattr(inc, name) is not None:
                _moment(getattr(inc, name), name, uow.now, day)  # still after the new date?
        changed = {k: v for k, v in new.items() if getattr(inc, k) != v}
        if not changed:
            raise InputError(f"incident {incident_id}: nothing to change", field="incident",
                             value=incident_id)
        before = _incident_payload(inc)
        for name, value in changed.items():
            setattr(inc, name, value)
        inc.updated_at = uow.now
        inc.version += 1
        after = _incident_payload(inc)
        uow.audit("incident.updated", inc.case_id, {
            "incident_id": inc.id,
            "old": {k: before[k] for k in changed}, "new": {k: after[k] for k in changed},
            "version": inc.version,
        })
        return _incident_view(inc, _user_names(uow.session, {inc.created_by}))


def close_incident(
    svc, actor, incident_id: int, expected_version: int, *, actions_taken: str | None = None,
    comment: str = "",
) -> IncidentView:
    """Close an open incident (reviewer). It needs the actions taken, given here or before."""
    with svc.unit_of_work(actor, roles=CLOSER_ROLES) as uow:
        _named_user(actor)
        inc = _load_incident(uow, incident_id, expected_version)
        if inc.status != "open":
            raise WorkflowError(f"incident {incident_id} is already {inc.status}",
                                incident_id=incident_id, status=inc.status)
        if actions_taken is not None:
            inc.actions_taken = _text(actions_taken, "actions_taken", required=False)
        if not inc.actions_taken.strip():
            raise InputError(
                f"incident {incident_id}: record the actions taken before closing it",
                field="actions_taken", value="", incident_id=incident_id,
            )
        inc.status = "closed"
        inc.updated_at = uow.now
        inc.version += 1
        uow.audit("incident.closed", inc.case_id, {
            **_incident_payload(inc), "comment": _text(comment, "comment", required=False),
        })
        return _incident_view(inc, _user_names(uow.session, {inc.created_by}))
