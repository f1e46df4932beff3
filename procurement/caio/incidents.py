"""The incident register (リスク事案) of approved, running and retired systems.

Each case keeps a register of incidents: when it happened, how serious, what happened, what was
done, and when it was reported to the CAIO and onward. Incident writes carry the incident's own
version, so reporting an incident never conflicts with someone editing the case. Planners and
reviewers record incidents; only a reviewer closes one (the CAIO confirms it was handled).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from procurement.caio.fields import (
    NAMED_USER_NEEDED,
    field_text,
    jst_today,
    parse_day,
    parse_moment,
    readable_case,
    status_required,
    user_names,
)
from procurement.db.models import Case, Incident
from procurement.errors import ConflictError, InputError, NotFoundError, WorkflowError
from procurement.records import policy
from procurement.records.core import ServiceCore, UnitOfWork
from procurement.records.views import Actor

SEVERITIES = ("low", "medium", "high", "critical")


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


_UNSET: Any = object()


class IncidentService(ServiceCore):
    """Recording and closing incidents."""

    def list_incidents(self, actor: Actor, case_id: int | None = None) -> list[IncidentView]:
        """Incidents of one case, or of every case of the actor's organisation; newest first."""
        with self.read() as s:
            stmt = select(Incident).join(Case, Incident.case_id == Case.id)
            if case_id is not None:
                readable_case(s, actor, case_id)
                stmt = stmt.where(Incident.case_id == case_id)
            else:
                policy.require(actor, "operation.read")
                stmt = stmt.where(Case.org_id == actor.org_id)
            incidents = list(s.scalars(stmt.order_by(Incident.occurred_on.desc(), Incident.id.desc())))
            names = user_names(s, {i.created_by for i in incidents})
            return [_incident_view(i, names) for i in incidents]

    def get_incident(self, actor: Actor, incident_id: int) -> IncidentView:
        """One incident (NotFoundError when it belongs to another organisation)."""
        with self.read() as s:
            inc = s.get(Incident, incident_id)
            if inc is None:
                raise NotFoundError(f"incident {incident_id} not found", kind="incident", id=incident_id)
            try:
                readable_case(s, actor, inc.case_id)
            except NotFoundError:
                raise NotFoundError(f"incident {incident_id} not found", kind="incident",
                                    id=incident_id) from None
            return _incident_view(inc, user_names(s, {inc.created_by}))

    def create_incident(
        self, actor: Actor, case_id: int, *, occurred_on: date | str, severity: str, description: str,
        actions_taken: str = "", reported_to_caio_at: datetime | str | None = None,
        reported_onward_at: datetime | str | None = None,
    ) -> IncidentView:
        """Record an incident of an approved, running or retired system (status `open`)."""
        with self.unit_of_work(actor, "incident.write") as uow:
            user_id = uow.user_id(NAMED_USER_NEEDED)
            case = uow.load_case(case_id)
            status_required(case, policy.INCIDENT_CASE_STATUSES, "record an incident")
            day = parse_day(occurred_on, "occurred_on", jst_today(uow.now))
            inc = Incident(
                case_id=case_id, occurred_on=day, severity=_severity(severity),
                description=field_text(description, "description"),
                actions_taken=field_text(actions_taken, "actions_taken", required=False),
                reported_to_caio_at=parse_moment(reported_to_caio_at, "reported_to_caio_at", uow.now, day),
                reported_onward_at=parse_moment(reported_onward_at, "reported_onward_at", uow.now, day),
                status="open", created_by=user_id, created_at=uow.now, updated_at=uow.now, version=1,
            )
            uow.session.add(inc)
            uow.session.flush()
            uow.audit("incident.created", case_id, _incident_payload(inc))
            return _incident_view(inc, {user_id: actor.username})

    def update_incident(
        self, actor: Actor, incident_id: int, expected_version: int, *, occurred_on: Any = _UNSET,
        severity: Any = _UNSET, description: Any = _UNSET, actions_taken: Any = _UNSET,
        reported_to_caio_at: Any = _UNSET, reported_onward_at: Any = _UNSET,
    ) -> IncidentView:
        """Change an open incident; only the given fields change (None clears a report time).
        The audit event records old and new values."""
        with self.unit_of_work(actor, "incident.write") as uow:
            uow.user_id(NAMED_USER_NEEDED)
            inc = _load_incident(uow, incident_id, expected_version)
            if inc.status != "open":
                raise WorkflowError(f"incident {incident_id} is {inc.status} and cannot be changed",
                                    incident_id=incident_id, status=inc.status)
            today = jst_today(uow.now)
            new: dict[str, Any] = {}
            if occurred_on is not _UNSET:
                new["occurred_on"] = parse_day(occurred_on, "occurred_on", today)
            day = new.get("occurred_on", inc.occurred_on)
            if severity is not _UNSET:
                new["severity"] = _severity(severity)
            if description is not _UNSET:
                new["description"] = field_text(description, "description")
            if actions_taken is not _UNSET:
                new["actions_taken"] = field_text(actions_taken, "actions_taken", required=False)
            for name, value in (("reported_to_caio_at", reported_to_caio_at),
                                ("reported_onward_at", reported_onward_at)):
                if value is not _UNSET:
                    new[name] = parse_moment(value, name, uow.now, day)
                elif "occurred_on" in new and getattr(inc, name) is not None:
                    parse_moment(getattr(inc, name), name, uow.now, day)  # still after the new date?
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
            return _incident_view(inc, user_names(uow.session, {inc.created_by}))

    def close_incident(
        self, actor: Actor, incident_id: int, expected_version: int, *, actions_taken: str | None = None,
        comment: str = "",
    ) -> IncidentView:
        """Close an open incident (reviewer). It needs the actions taken, given here or before."""
        with self.unit_of_work(actor, "incident.close") as uow:
            uow.user_id(NAMED_USER_NEEDED)
            inc = _load_incident(uow, incident_id, expected_version)
            if inc.status != "open":
                raise WorkflowError(f"incident {incident_id} is already {inc.status}",
                                    incident_id=incident_id, status=inc.status)
            if actions_taken is not None:
                inc.actions_taken = field_text(actions_taken, "actions_taken", required=False)
            if not inc.actions_taken.strip():
                raise InputError(
                    f"incident {incident_id}: record the actions taken before closing it",
                    field="actions_taken", value="", incident_id=incident_id,
                )
            inc.status = "closed"
            inc.updated_at = uow.now
            inc.version += 1
            uow.audit("incident.closed", inc.case_id, {
                **_incident_payload(inc), "comment": field_text(comment, "comment", required=False),
            })
            return _incident_view(inc, user_names(uow.session, {inc.created_by}))


# --------------------------------------------------------------------------- helpers


def _load_incident(uow: UnitOfWork, incident_id: int, expected_version: int) -> Incident:
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


def _severity(value: Any) -> str:
    if value not in SEVERITIES:
        raise InputError(f"severity {value!r} is not one of {', '.join(SEVERITIES)}",
                         field="severity", value=value)
    return value


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
