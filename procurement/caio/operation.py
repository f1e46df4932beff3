"""Operation of approved systems: start, changes, periodic reviews, end.

An approved case goes into operation (status `in_operation`, 運用中) with its start date, vendor,
model and version, ISMAP listing and periodic-review interval; reviews are recorded as they
happen; ending operation (status `retired`) records the evidence that the data was returned or
deleted. The incident register is `procurement.caio.incidents`.

Every write is one unit of work (`procurement.records.core`): the actor's role and organisation
are checked, the change and its audit event are written in one transaction (so operation
milestones appear in the case history and the audit log), and the case's version stops a stale
copy from overwriting a newer one. Planners and reviewers (the CAIO or a delegate) of the case's
organisation run operations; auditors and administrators read (`procurement.records.policy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from procurement import fiscal
from procurement.caio.fields import (
    NAMED_USER_NEEDED,
    field_text,
    jst_today,
    parse_day,
    readable_case,
    status_required,
    user_names,
)
from procurement.db.models import Case, Operation
from procurement.errors import InputError, WorkflowError
from procurement.records.core import ServiceCore, UnitOfWork
from procurement.records.views import Actor

#: ISMAP listing codes. Stored as `code` or `code:reference` (e.g. a registration number).
ISMAP_LISTINGS = ("ismap", "ismap_liu", "not_listed", "not_applicable")
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


class OperationService(ServiceCore):
    """Running approved systems."""

    def get_operation(self, actor: Actor, case_id: int) -> OperationView | None:
        """The operation record of a case, or None if it never went into operation."""
        with self.read() as s:
            case = readable_case(s, actor, case_id)
            op = s.scalar(select(Operation).where(Operation.case_id == case_id))
            return _operation_view(s, case, op) if op is not None else None

    def start_operation(
        self, actor: Actor, case_id: int, expected_version: int, *, started_on: date | str, vendor: str,
        model_name: str, model_version: str, ismap_listing: str, review_interval_months: int,
    ) -> OperationView:
        """Put an approved case into operation (status `in_operation`).

        The start date may not precede the approval (JST) nor lie in the future. A system whose
        approval was voided while it kept running (a change or a re-assessment sent the case back
        to draft) resumes: once approved again, this keeps its original start date and review
        history, updates what runs, and logs `operation.started` with `resumed: true`.
        """
        with self.unit_of_work(actor, "operation.write") as uow:
            user_id = uow.user_id(NAMED_USER_NEEDED)
            case = uow.load_case(case_id, expected_version)
            if case.status == "in_operation":
                raise WorkflowError(f"case {case_id} is already in operation", case_id=case_id,
                                    status=case.status, action="start operation")
            status_required(case, {"approved"}, "start operation")
            op = uow.session.scalar(select(Operation).where(Operation.case_id == case_id))
            resumed = op is not None and op.started_on is not None and op.ended_on is None
            today = jst_today(uow.now)
            fields = {
                "vendor": field_text(vendor, "vendor", limit=_LIMITS["vendor"]),
                "model_name": field_text(model_name, "model_name", limit=_LIMITS["model_name"]),
                "model_version": field_text(model_version, "model_version", limit=_LIMITS["model_version"]),
                "ismap_listing": _ismap(ismap_listing),
                "review_interval_months": _interval(review_interval_months),
            }
            if not resumed:
                fields["started_on"] = parse_day(started_on, "started_on", today,
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

    def update_operation(
        self, actor: Actor, case_id: int, expected_version: int, *, vendor: str | None = None,
        model_name: str | None = None, model_version: str | None = None,
        ismap_listing: str | None = None, review_interval_months: int | None = None,
        note: str = "",
    ) -> OperationView:
        """Change what runs (e.g. a new model version, PC-P3) or the review interval. Only the given
        fields change; the audit event records old and new values and the note."""
        with self.unit_of_work(actor, "operation.write") as uow:
            user_id = uow.user_id(NAMED_USER_NEEDED)
            case, op = _running(uow, case_id, expected_version, "update operation")
            new: dict[str, Any] = {}
            for name, value in (("vendor", vendor), ("model_name", model_name),
                                ("model_version", model_version)):
                if value is not None:
                    new[name] = field_text(value, name, limit=_LIMITS[name])
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
                "old": old, "new": changed, "note": field_text(note, "note", required=False),
            })
            return _operation_view(uow.session, case, op)

    def record_review(
        self, actor: Actor, case_id: int, expected_version: int, *, reviewed_on: date | str, note: str = "",
    ) -> OperationView:
        """Record a periodic review held on `reviewed_on` (not before the start or the last review,
        not in the future); the next one falls due an interval later."""
        with self.unit_of_work(actor, "operation.write") as uow:
            user_id = uow.user_id(NAMED_USER_NEEDED)
            case, op = _running(uow, case_id, expected_version, "record a review")
            floor, floor_name = op.started_on, "the start of operation on"
            if op.last_reviewed_on is not None:
                floor, floor_name = op.last_reviewed_on, "the last review on"
            day = parse_day(reviewed_on, "reviewed_on", jst_today(uow.now), not_before=floor,
                       not_before_name=floor_name)
            previous = op.last_reviewed_on
            op.last_reviewed_on = day
            op.updated_by, op.updated_at = user_id, uow.now
            uow.touch(case)
            uow.audit("operation.reviewed", case_id, {
                "reviewed_on": day.isoformat(),
                "previous_review": previous.isoformat() if previous else None,
                "note": field_text(note, "note", required=False),
            })
            return _operation_view(uow.session, case, op)

    def end_operation(
        self, actor: Actor, case_id: int, expected_version: int, *, ended_on: date | str, end_evidence: str,
    ) -> OperationView:
        """End operation (status `retired`) with the evidence that the vendor returned or deleted
        the data (e.g. the deletion certificate's number and date, CC-11)."""
        with self.unit_of_work(actor, "operation.write") as uow:
            user_id = uow.user_id(NAMED_USER_NEEDED)
            case, op = _running(uow, case_id, expected_version, "end operation")
            op.ended_on = parse_day(ended_on, "ended_on", jst_today(uow.now), not_before=op.started_on,
                               not_before_name="the start of operation on")
            op.end_evidence = field_text(end_evidence, "end_evidence")
            op.updated_by, op.updated_at = user_id, uow.now
            case.status = "retired"
            uow.touch(case)
            uow.audit("operation.ended", case_id, {
                "old_status": "in_operation", "new_status": "retired",
                "ended_on": op.ended_on.isoformat(), "end_evidence": op.end_evidence,
            })
            return _operation_view(uow.session, case, op)


# --------------------------------------------------------------------------- helpers


def _running(uow: UnitOfWork, case_id: int, expected_version: int, doing: str) -> tuple[Case, Operation]:
    case = uow.load_case(case_id, expected_version)
    status_required(case, {"in_operation"}, doing)
    op = uow.session.scalar(select(Operation).where(Operation.case_id == case_id))
    if op is None:  # a status without its record: refuse rather than invent one
        raise WorkflowError(f"case {case_id} has no operation record", case_id=case_id,
                            status=case.status, action=doing)
    return case, op


def _ismap(value: Any) -> str:
    text = field_text(value, "ismap_listing", limit=_LIMITS["ismap_listing"])
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


def _approval_day(case: Case) -> date | None:
    return fiscal.to_jst(case.approved_at).date() if case.approved_at is not None else None


def _operation_view(s: Session, case: Case, op: Operation) -> OperationView:
    names = user_names(s, {op.updated_by})
    return OperationView(
        case.id, case.status, case.version, op.started_on, op.vendor, op.model_name,
        op.model_version, op.ismap_listing, op.review_interval_months, op.last_reviewed_on,
        op.ended_on, op.end_evidence, names.get(op.updated_by, ""), op.updated_at,
    )


def _operation_payload(op: Operation) -> dict[str, Any]:
    return {
        "started_on": op.started_on.isoformat() if op.started_on else None,
        "vendor": op.vendor, "model_name": op.model_name, "model_version": op.model_version,
        "ismap_listing": op.ismap_listing, "review_interval_months": op.review_interval_months,
        "last_reviewed_on": op.last_reviewed_on.isoformat() if op.last_reviewed_on else None,
        "ended_on": op.ended_on.isoformat() if op.ended_on else None,
    }
