"""Fields of operation and incident records, checked: dates, times, text, the case they belong to.

Shared by `procurement.caio.operation` and `procurement.caio.incidents`. Dates are JST calendar
dates; "future" means after today in JST.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from procurement import fiscal
from procurement.db.models import Case, User
from procurement.errors import InputError, NotFoundError, WorkflowError
from procurement.records import checks, policy
from procurement.records.views import Actor

#: Why the command-line operator cannot write here (no account to record as the author).
NAMED_USER_NEEDED = "record operations or incidents"


def jst_today(now: datetime) -> date:
    """The JST calendar date of `now`."""
    return fiscal.to_jst(now).date()


def field_text(value: Any, name: str, *, required: bool = True, limit: int | None = None) -> str:
    """A text field of an operation or incident record (see `procurement.records.checks`)."""
    return checks.text(value, name, required=required, max_length=limit, multiline=True)


def parse_day(value: Any, name: str, today: date, *, not_before: date | None = None,
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


def parse_moment(value: Any, name: str, now: datetime, not_before: date) -> datetime | None:
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
    value = value.astimezone(UTC)
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


def status_required(case: Case, allowed: Collection[str], doing: str) -> None:
    """WorkflowError unless the case is in one of the `allowed` statuses."""
    if case.status not in allowed:
        raise WorkflowError(
            f"case {case.id} is {case.status}: cannot {doing} (needs {', '.join(sorted(allowed))})",
            case_id=case.id, status=case.status, action=doing,
        )


def user_names(s: Session, ids: set[int]) -> dict[int, str]:
    """user id -> username, for the ids given."""
    if not ids:
        return {}
    return {uid: name for uid, name in
            s.execute(select(User.id, User.username).where(User.id.in_(ids)))}


def readable_case(s: Session, actor: Actor, case_id: int) -> Case:
    """The case, if the actor may read operations of its organisation (NotFoundError else)."""
    policy.require(actor, "operation.read")
    case = s.get(Case, case_id)
    if case is None or case.org_id != actor.org_id:
        raise NotFoundError(f"case {case_id} not found", kind="case", id=case_id)
    return case
