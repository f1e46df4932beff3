"""The organisation's registers: systems in operation (運用台帳) and incidents (リスク事案台帳).

One definition of each register's columns serves the app's tables (`procurement/ui/pages/
operation.py`) and the organisation workbook (`procurement.exports.organisation`), so a register
reads the same on screen and on paper. Rows are read with plain SQL selects that work on an ORM
session and on the workbook's snapshot connection alike; cells are typed values (dates, aware
datetimes, numbers, words in the reader's language).

    svc.operation_register(actor, case_status=None | "in_operation" | ...,
                           due_only=False) -> [OperationRegisterRow]
    svc.incident_register(actor, status=None | "open" | "closed",
                          severities=()) -> [IncidentRegisterRow]
    operation_cells(row, lang) / incident_cells(row, lang)   # in column order
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from procurement import fiscal
from procurement.caio.incidents import SEVERITIES
from procurement.caio.portfolio import OperationRow, next_review_due
from procurement.db.models import Case, Incident, Operation, User
from procurement.errors import InputError
from procurement.records import policy
from procurement.records.core import ServiceCore
from procurement.records.views import Actor
from procurement.vocabulary import Term, ismap_text, word

#: Which cases the operation register lists: approved at some point (and not withdrawn), or
#: with an operation record (a running system whose approval a change voided stays listed).
_REGISTER_CASE_STATUSES = tuple(policy.EVER_APPROVED_STATUSES)


@dataclass(frozen=True)
class RegisterColumn:
    """One column of a register: a stable key (the workbook's English header), its heading in
    each language, and how the workbook writes it (`procurement.exports.sheets.KINDS`)."""

    key: str
    ja: str
    en: str
    kind: str = "text"
    width: float = 14

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.ja


def _field(name: str) -> tuple[str, str]:
    return word("record_field", name, "ja"), word("record_field", name, "en")


OPERATION_COLUMNS: tuple[RegisterColumn, ...] = (
    RegisterColumn("case_id", "案件ID", "Case", "int", 8),
    RegisterColumn("title", *_field("title"), "wrap", 30),
    RegisterColumn("department", *_field("department"), "text", 16),
    RegisterColumn("level", word("concept", "level", "ja"), word("concept", "level", "en"),
                   "text", 14),
    RegisterColumn("status", "案件の状態", "Case status", "text", 10),
    RegisterColumn("started_on", *_field("started_on"), "date", 12),
    RegisterColumn("vendor", *_field("vendor"), "wrap", 20),
    RegisterColumn("model", *_field("model_name"), "wrap", 20),
    RegisterColumn("ismap", *_field("ismap_listing"), "text", 16),
    RegisterColumn("interval", *_field("review_interval_months"), "int", 10),
    RegisterColumn("last_review", "前回の定期確認", "Last review", "date", 12),
    RegisterColumn("next_review", "次回の定期確認の期限", "Next review due", "date", 12),
    RegisterColumn("review_state", "定期確認の状況", "Review standing", "text", 16),
    RegisterColumn("open_incidents", "対応中の" + word("concept", "incident", "ja"),
                   "Open incidents", "int", 10),
    RegisterColumn("ended_on", *_field("ended_on"), "date", 12),
)

INCIDENT_COLUMNS: tuple[RegisterColumn, ...] = (
    RegisterColumn("incident_id", "事案ID", "Incident", "int", 8),
    RegisterColumn("case_id", "案件ID", "Case", "int", 8),
    RegisterColumn("title", *_field("title"), "wrap", 28),
    RegisterColumn("department", *_field("department"), "text", 16),
    RegisterColumn("occurred_on", *_field("occurred_on"), "date", 12),
    RegisterColumn("severity", *_field("severity"), "text", 10),
    RegisterColumn("status", "事案の状態", "Incident status", "text", 10),
    RegisterColumn("description", *_field("description"), "wrap", 40),
    RegisterColumn("actions_taken", *_field("actions_taken"), "wrap", 36),
    RegisterColumn("reported_to_caio_at", *_field("reported_to_caio_at"), "datetime", 18),
    RegisterColumn("reported_onward_at", *_field("reported_onward_at"), "datetime", 18),
    RegisterColumn("created_by", "記録者", "Recorded by", "text", 14),
    RegisterColumn("updated_at", "更新日時", "Updated", "datetime", 18),
)


@dataclass(frozen=True)
class OperationRegisterRow:
    """One system of the operation register. `level_label` is the level's label in each
    language from the case's own pack ({} when the pack is not installed)."""

    case_id: int
    title: str
    department: str
    level: str | None
    level_label: dict[str, str]
    case_status: str
    started_on: date | None
    vendor: str
    model_name: str
    model_version: str
    ismap_listing: str
    review_interval_months: int | None
    last_reviewed_on: date | None
    next_review_due: date | None
    days_overdue: int | None  # >= 0 when the review is due (0: due today), else None
    open_incidents: int
    ended_on: date | None

    @property
    def state(self) -> str:
        """`running`, `ended` or `not_started` (approved, not yet in operation)."""
        if self.ended_on is not None:
            return "ended"
        return "running" if self.started_on is not None else "not_started"

    @property
    def review_is_due(self) -> bool:
        return self.days_overdue is not None


@dataclass(frozen=True)
class IncidentRegisterRow:
    """One incident of the incident register."""

    incident_id: int
    case_id: int
    title: str
    department: str
    occurred_on: date
    severity: str
    status: str
    description: str
    actions_taken: str
    reported_to_caio_at: datetime | None
    reported_onward_at: datetime | None
    created_by: str  # display name
    updated_at: datetime


PackOf = Callable[[str, str], Any]




def load_operation_register(conn: Any, org_ids: Collection[int], today: date,
                            pack_of: PackOf, *, statuses: Sequence[str] = (),
                            pack_id: str | None = None) -> list[OperationRegisterRow]:
    """The operation register of the organisations `org_ids` as of `today` (JST), read through
    `conn` (an ORM session or a Core connection); `statuses` and `pack_id` narrow the cases (the
    workbook's filters). Ordered by case id."""
    ids = list(org_ids)
    if not ids:
        return []
    open_counts = (select(Incident.case_id, func.count().label("n"))
                   .where(Incident.status == "open").group_by(Incident.case_id).subquery())
    stmt = (
        select(Case.id, Case.title, Case.department, Case.level, Case.status, Case.pack_id,
               Case.pack_version, Operation.started_on, Operation.vendor, Operation.model_name,
               Operation.model_version, Operation.ismap_listing,
               Operation.review_interval_months, Operation.last_reviewed_on,
               Operation.ended_on, func.coalesce(open_counts.c.n, 0).label("open_incidents"))
        .outerjoin(Operation, Operation.case_id == Case.id)
        .outerjoin(open_counts, open_counts.c.case_id == Case.id)
        .where(Case.org_id.in_(ids),
               Case.status.in_(_REGISTER_CASE_STATUSES) | Operation.id.is_not(None))
        .order_by(Case.id)
    )
    if statuses:
        stmt = stmt.where(Case.status.in_(list(statuses)))
    if pack_id:
        stmt = stmt.where(Case.pack_id == pack_id)
    rows = []
    for r in conn.execute(stmt):
        due = next_review_due(OperationRow(
            case_id=r.id, started_on=r.started_on,
            review_interval_months=r.review_interval_months,
            last_reviewed_on=r.last_reviewed_on, ended_on=r.ended_on))
        pack = pack_of(r.pack_id, r.pack_version)
        label = next((dict(lv.label) for lv in getattr(pack, "levels", ()) if lv.id == r.level),
                     {})
        rows.append(OperationRegisterRow(
            case_id=r.id, title=r.title, department=r.department, level=r.level,
            level_label=label, case_status=r.status, started_on=r.started_on,
            vendor=r.vendor or "", model_name=r.model_name or "",
            model_version=r.model_version or "", ismap_listing=r.ismap_listing or "",
            review_interval_months=r.review_interval_months,
            last_reviewed_on=r.last_reviewed_on, next_review_due=due,
            days_overdue=(today - due).days if due is not None and due <= today else None,
            open_incidents=int(r.open_incidents or 0), ended_on=r.ended_on))
    return rows


def load_incident_register(conn: Any, org_ids: Collection[int], *, statuses: Sequence[str] = (),
                           pack_id: str | None = None, date_from: date | None = None,
                           date_to: date | None = None) -> list[IncidentRegisterRow]:
    """The incident register of the organisations `org_ids`, newest occurrence first; the
    workbook narrows it by the case filters and by occurrence date."""
    ids = list(org_ids)
    if not ids:
        return []
    stmt = (
        select(Incident.id, Incident.case_id, Case.title, Case.department, Incident.occurred_on,
               Incident.severity, Incident.status, Incident.description,
               Incident.actions_taken, Incident.reported_to_caio_at,
               Incident.reported_onward_at, User.display_name, Incident.updated_at)
        .join(Case, Incident.case_id == Case.id)
        .join(User, Incident.created_by == User.id)
        .where(Case.org_id.in_(ids))
        .order_by(Incident.occurred_on.desc(), Incident.id.desc())
    )
    if statuses:
        stmt = stmt.where(Case.status.in_(list(statuses)))
    if pack_id:
        stmt = stmt.where(Case.pack_id == pack_id)
    if date_from is not None:
        stmt = stmt.where(Incident.occurred_on >= date_from)
    if date_to is not None:
        stmt = stmt.where(Incident.occurred_on <= date_to)
    return [IncidentRegisterRow(
        incident_id=r[0], case_id=r[1], title=r[2], department=r[3], occurred_on=r[4],
        severity=r[5], status=r[6], description=r[7], actions_taken=r[8] or "",
        reported_to_caio_at=fiscal.as_utc(r[9]), reported_onward_at=fiscal.as_utc(r[10]), created_by=r[11],
        updated_at=fiscal.as_utc(r[12])) for r in conn.execute(stmt)]


# --------------------------------------------------------------------------- cells


#: The review standing of a running system, in words.
REVIEW_PHRASES: dict[str, Term] = {
    "on_schedule": Term("予定どおり", "On schedule"),
    "due_today": Term("本日が期限", "Due today"),
    "overdue": Term("期限超過（{days}日）", "Overdue by {days} day(s)"),
}


def review_state_text(row: OperationRegisterRow, lang: str) -> str:
    """The review standing in words: overdue by N days, due today, on schedule, or none."""
    if row.state != "running" or row.next_review_due is None:
        return "-"
    if row.days_overdue is None:
        return REVIEW_PHRASES["on_schedule"].in_(lang)
    if row.days_overdue == 0:
        return REVIEW_PHRASES["due_today"].in_(lang)
    return REVIEW_PHRASES["overdue"].in_(lang).format(days=row.days_overdue)


def operation_cells(row: OperationRegisterRow, lang: str = "ja") -> tuple[Any, ...]:
    """The row's cells in `OPERATION_COLUMNS` order, in `lang`."""
    level = (row.level_label.get(lang) or row.level_label.get("ja")
             or (row.level or word("concept", "unclassified", lang)))
    model = " ".join(p for p in (row.model_name, row.model_version) if p)
    return (
        row.case_id, row.title, row.department, level, word("case_status", row.case_status, lang),
        row.started_on, row.vendor, model, ismap_text(row.ismap_listing, lang),
        row.review_interval_months, row.last_reviewed_on, row.next_review_due,
        review_state_text(row, lang), row.open_incidents, row.ended_on,
    )


def incident_cells(row: IncidentRegisterRow, lang: str = "ja") -> tuple[Any, ...]:
    """The row's cells in `INCIDENT_COLUMNS` order, in `lang`."""
    return (
        row.incident_id, row.case_id, row.title, row.department, row.occurred_on,
        word("severity", row.severity, lang), word("incident_status", row.status, lang),
        row.description, row.actions_taken, row.reported_to_caio_at, row.reported_onward_at,
        row.created_by, row.updated_at,
    )


# --------------------------------------------------------------------------- the service


class RegisterService(ServiceCore):
    """The registers of the actor's organisation (whoever may read operations)."""

    def _pack_of(self, pack_id: str, version: str) -> Any:
        try:
            return self.registry.resolve(f"{pack_id}@{version}")
        except Exception:  # noqa: BLE001 - a pack no longer installed: the level id is shown
            return None

    def operation_register(self, actor: Actor, *, case_status: str | None = None,
                           due_only: bool = False) -> list[OperationRegisterRow]:
        """Every system of the organisation (approved, running or retired, or running while its
        approval is voided), by case id; `case_status` keeps the cases in that status,
        `due_only` the systems whose periodic review is due today or overdue."""
        policy.require(actor, "operation.read")
        if case_status is not None and case_status not in policy.CASE_STATUSES:
            raise InputError(f"status {case_status!r} is not one of "
                             f"{', '.join(policy.CASE_STATUSES)}", field="status",
                             value=case_status)
        with self.read() as s:
            today = fiscal.to_jst(self.now()).date()
            rows = load_operation_register(s, [actor.org_id], today, self._pack_of)
        return [r for r in rows
                if (case_status is None or r.case_status == case_status)
                and (not due_only or r.review_is_due)]

    def incident_register(self, actor: Actor, *, status: str | None = None,
                          severities: Collection[str] = ()) -> list[IncidentRegisterRow]:
        """Every incident of the organisation's systems, newest first; `status` keeps open or
        closed ones, `severities` the given severities."""
        policy.require(actor, "operation.read")
        if status is not None and status not in policy.INCIDENT_STATUSES:
            raise InputError(f"status {status!r} is not one of "
                             f"{', '.join(policy.INCIDENT_STATUSES)}", field="status",
                             value=status)
        unknown = sorted(set(severities) - set(SEVERITIES))
        if unknown:
            raise InputError(f"unknown severity {unknown[0]!r}", field="severity",
                             value=unknown[0])
        with self.read() as s:
            rows = load_incident_register(s, [actor.org_id])
        return [r for r in rows
                if (status is None or r.status == status)
                and (not severities or r.severity in severities)]
