"""The CAIO's portfolio: figures over every case of an organisation, and fiscal-year scope.

Two halves. The pure half works on plain frozen rows (`CaseRow`, `OperationRow`, `IncidentRow`,
`DecisionRow`, `ChangeRow`) so every figure is tested without a database: counts by level, status
and department, the monthly trend, high-risk cases with their board-report state, the cases
waiting longest for review, approvals voided by changes or re-assessment, systems whose periodic
review is due, and which systems belong to the periodic report of a fiscal year (年度, April to
March in JST). The database half (`load_portfolio_rows`) reads those rows for one organisation,
checking the actor like every other service.

Levels come from each case's own pack, never from level ids known here: a `CaseRow` carries its
level as its pack describes it (`level_info`: rank, label, tone, `high_risk`, `out_of_scope`,
from `procurement.caio.levels.LevelCatalog`), the loader fills it in from the pack registry, and
tests build it from packs. Levels of different packs combine by scale (see
`procurement.caio.levels` and docs/rule-packs.md, "Levels across packs").

Timestamps are aware UTC datetimes; every calendar decision (month, fiscal year, "today") is taken
in JST, because that is the calendar the organisation reports in.
"""

from __future__ import annotations

import calendar
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from procurement import fiscal
from procurement.caio.levels import UNCLASSIFIED, LevelCatalog, LevelInfo
from procurement.db.models import (
    BOARD_REPORT_FIELDS,
    AuditEvent,
    BoardReport,
    Case,
    Decision,
    Incident,
    Operation,
    Organisation,
)
from procurement.errors import NotFoundError
from procurement.records import policy
from procurement.records.core import ServiceCore
from procurement.records.views import Actor
from procurement.vocabulary import word

#: Statuses in the order figures are shown (unknown values follow, sorted). Levels are ordered
#: by their packs (`level_groups`).
STATUS_ORDER = (
    "draft", "submitted", "returned", "approved", "in_operation", "retired", "withdrawn",
)
#: Decision kinds that are a change of the case's standing (a save alone is not).
CHANGE_DECISION_KINDS = frozenset(
    {"submission", "return", "approval", "withdrawal", "reassessment", "void"}
)


# --------------------------------------------------------------------------- plain rows


@dataclass(frozen=True)
class CaseRow:
    """What the portfolio needs of one case. `board_report` is one of `board_report_state()`."""

    id: int
    org_code: str
    title: str
    department: str
    status: str
    level: str | None
    is_complete: bool
    pack_id: str
    pack_version: str
    pack_fingerprint: str
    created_at: datetime
    submitted_at: datetime | None = None
    approved_at: datetime | None = None
    approval_voided_at: datetime | None = None
    approval_voided_reason: str | None = None
    board_report: str = "missing"
    purpose: str = ""
    #: the level as the case's own pack describes it (None: not yet classified, or the pack is
    #: not installed any more; such a case is neither high risk nor out of scope)
    level_info: LevelInfo | None = None

    @property
    def pack_ref(self) -> str:
        return f"{self.pack_id}@{self.pack_version}"

    @property
    def is_high_risk(self) -> bool:
        """Whether the case's own pack counts its level as high risk."""
        return self.level_info is not None and self.level_info.high_risk

    @property
    def is_out_of_scope(self) -> bool:
        """Whether the case's own pack puts its level outside the guideline."""
        return self.level_info is not None and self.level_info.out_of_scope

    def level_text(self, lang: str | None) -> str:
        """The level in words as the case's own pack names it ("not yet classified" without a
        level; the id when the pack is unknown)."""
        if not self.level:
            return word("concept", "unclassified", lang or "ja")
        return self.level_info.text(lang) if self.level_info is not None else self.level


@dataclass(frozen=True)
class OperationRow:
    """The operation record of a case (one per case)."""

    case_id: int
    started_on: date | None
    vendor: str = ""
    model_name: str = ""
    model_version: str = ""
    ismap_listing: str = ""
    review_interval_months: int | None = None
    last_reviewed_on: date | None = None
    ended_on: date | None = None
    end_evidence: str = ""


@dataclass(frozen=True)
class IncidentRow:
    """One entry of a case's incident register (リスク事案)."""

    id: int
    case_id: int
    occurred_on: date
    severity: str
    description: str
    actions_taken: str
    reported_to_caio_at: datetime | None
    reported_onward_at: datetime | None
    status: str
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 1


@dataclass(frozen=True)
class DecisionRow:
    """One decision on a case (submission, approval, void, ...). The comment of a `void` is its
    reason as stored: show it with `procurement.vocabulary.decision_note`."""

    case_id: int
    kind: str
    level: str | None
    comment: str
    created_at: datetime
    pack_id: str = ""
    pack_version: str = ""


@dataclass(frozen=True)
class ChangeRow:
    """One audit event of a case, the finest-grained record of a change. Its payload is put in
    words by `procurement.events.describe_event`."""

    case_id: int
    seq: int
    occurred_at: datetime
    actor: str
    event_type: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PortfolioRows:
    """Everything the portfolio and the periodic report are computed from, for one organisation."""

    org_code: str
    org_name: str
    cases: tuple[CaseRow, ...]
    operations: tuple[OperationRow, ...] = ()
    incidents: tuple[IncidentRow, ...] = ()
    decisions: tuple[DecisionRow, ...] = ()
    changes: tuple[ChangeRow, ...] = ()
    #: the levels of the packs of the cases and decisions (for naming a decision's level by its
    #: pack: `levels.label(pack_id, version, level, lang)`)
    levels: LevelCatalog = field(default_factory=LevelCatalog)


def with_levels(cases: Iterable[CaseRow], catalog: LevelCatalog) -> tuple[CaseRow, ...]:
    """The cases with `level_info` filled in from `catalog` (each from its own exact pack)."""
    return tuple(
        replace(c, level_info=catalog.level(c.pack_id, c.pack_version, c.level)) for c in cases
    )


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class LevelGroup:
    """One row of the figures by level: a level of one scale, or the cases not yet classified
    (`level` None). Named, coloured and ranked as the newest pack among its cases describes it
    (`info`); see `procurement.caio.levels` for the rule."""

    #: `scale:level id`, or `unclassified`
    key: str
    scale: str
    level: str | None
    count: int
    #: the level as the newest pack among the group's cases describes it (None: not yet
    #: classified, or no pack of the group is known)
    info: LevelInfo | None
    #: `id@version` of the packs of the cases counted, sorted
    packs: tuple[str, ...] = ()

    @property
    def tone(self) -> str:
        return self.info.tone if self.info is not None else "neutral"

    def text(self, lang: str | None) -> str:
        """The level's label in `lang` ("not yet classified" for that group)."""
        if self.level is None:
            return word("concept", "unclassified", lang or "ja")
        return self.info.text(lang) if self.info is not None else self.level


@dataclass(frozen=True)
class MonthFigures:
    """Activity in one JST calendar month (`month` is 'YYYY-MM')."""

    month: str
    created: int
    submitted: int
    approved: int


@dataclass(frozen=True)
class WaitingCase:
    case: CaseRow
    days_waiting: int


@dataclass(frozen=True)
class VoidedApproval:
    """An approval voided by a later change of answers or checklist, or by a re-assessment."""

    case: CaseRow
    voided_at: datetime
    #: The stored reason (a `procurement.vocabulary.VoidReason` as JSON, or older English prose):
    #: show it with `procurement.vocabulary.describe_void_reason`.
    reason: str
    is_reapproved: bool


@dataclass(frozen=True)
class ReviewState:
    """Periodic-review standing of a system in operation."""

    case: CaseRow
    operation: OperationRow
    next_due: date | None
    is_due: bool
    days_overdue: int


@dataclass(frozen=True)
class Portfolio:
    """Every figure of the portfolio page, computed for one organisation on one day."""

    org_code: str
    today: date
    total: int
    #: level group key -> count, in order (`level_groups`; the groups themselves: `levels`)
    by_level: dict[str, int]
    by_status: dict[str, int]
    by_department: dict[str, int]
    level_by_department: dict[str, dict[str, int]]
    trend: list[MonthFigures]
    high_risk: list[CaseRow]
    waiting: list[WaitingCase]
    voided: list[VoidedApproval]
    reviews: list[ReviewState]
    running_unapproved: list[CaseRow]
    open_incidents: int
    incidents_by_severity: dict[str, int] = field(default_factory=dict)
    #: the level groups of `by_level`, with their labels, tones and packs
    levels: list[LevelGroup] = field(default_factory=list)
    #: how many scales the cases' levels are on (more than one: figures name each scale)
    scales: tuple[str, ...] = ()

    @property
    def reviews_due(self) -> list[ReviewState]:
        return [r for r in self.reviews if r.is_due]


def board_report_state(fields: dict[str, str] | None) -> str:
    """`missing` (no report), `incomplete` (some field empty) or `complete`."""
    if fields is None:
        return "missing"
    filled = [bool((fields.get(name) or "").strip()) for name in BOARD_REPORT_FIELDS]
    return "complete" if all(filled) else "incomplete"


def _ordered(counter: Counter, order: Sequence[str]) -> dict[str, int]:
    known = {key: counter[key] for key in order if counter.get(key)}
    rest = {key: counter[key] for key in sorted(k for k in counter if k not in order)}
    return {**known, **rest}


def level_key(case: CaseRow) -> str:
    """The key of the case's group in the figures by level: `scale:level id` (the scale of a
    case whose pack is unknown is its pack id), or `unclassified`."""
    if not case.level:
        return UNCLASSIFIED
    if case.level_info is not None:
        return case.level_info.key
    return f"{case.pack_id}:{case.level}"


def level_groups(cases: Iterable[CaseRow]) -> list[LevelGroup]:
    """The cases per level, combined across packs by scale: scales with the most cases first
    (ties by base pack id), each low to high as its newest pack ranks the levels (ties by id),
    then the cases not yet classified."""
    members: dict[str, list[CaseRow]] = {}
    for case in cases:
        members.setdefault(level_key(case), []).append(case)
    groups: list[LevelGroup] = []
    for key, rows in members.items():
        infos = [c.level_info for c in rows if c.level_info is not None]
        info = max(infos, key=lambda i: i.pack_order) if infos else None
        first = rows[0]
        if not first.level:
            scale, level = "", None
        else:
            scale = info.scale if info is not None else first.pack_id
            level = first.level
        groups.append(LevelGroup(key, scale, level, len(rows), info,
                                 tuple(sorted({c.pack_ref for c in rows}))))
    per_scale: Counter[str] = Counter()
    for g in groups:
        per_scale[g.scale] += g.count

    def order(g: LevelGroup) -> tuple:
        if g.level is None:
            return (1, 0, "", 0, "")
        rank = g.info.rank if g.info is not None else 0
        return (0, -per_scale[g.scale], g.scale, rank, g.level)

    return sorted(groups, key=order)


def count_by_level(cases: Iterable[CaseRow]) -> dict[str, int]:
    """Cases per level group (`level_groups`: key -> count), in the groups' order; a case not
    yet classified counts under `unclassified`."""
    return {g.key: g.count for g in level_groups(cases)}


def count_by_status(cases: Iterable[CaseRow]) -> dict[str, int]:
    """Cases per status, in workflow order."""
    return _ordered(Counter(c.status for c in cases), STATUS_ORDER)


def count_by_department(cases: Iterable[CaseRow]) -> dict[str, int]:
    """Cases per department, most cases first (ties by name, so the order is stable)."""
    counts = Counter(c.department for c in cases)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def count_level_by_department(cases: Iterable[CaseRow]) -> dict[str, dict[str, int]]:
    """For each department (by name), its cases per level group, in the order of the groups
    of all the cases (`level_groups`)."""
    cases = list(cases)
    order = [g.key for g in level_groups(cases)]
    table: dict[str, Counter] = {}
    for case in cases:
        table.setdefault(case.department, Counter())[level_key(case)] += 1
    return {dept: _ordered(table[dept], order) for dept in sorted(table)}


def month_key(moment: datetime) -> str:
    """'YYYY-MM' of the JST calendar month an aware timestamp falls in."""
    local = fiscal.to_jst(moment)
    return f"{local.year:04d}-{local.month:02d}"


def last_months(today: date, count: int) -> list[str]:
    """The `count` calendar months ending with today's, oldest first, as 'YYYY-MM'."""
    year, month = today.year, today.month
    keys = []
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return keys[::-1]


def monthly_trend(
    cases: Iterable[CaseRow], decisions: Iterable[DecisionRow], today: date, months: int = 12
) -> list[MonthFigures]:
    """Cases created, submissions and approvals per JST month over the last `months` months.

    Submissions and approvals come from decisions, not from the case's own timestamps: a case
    submitted twice (returned in between) was submitted twice.
    """
    keys = last_months(today, months)
    created = Counter(month_key(c.created_at) for c in cases)
    submitted = Counter(month_key(d.created_at) for d in decisions if d.kind == "submission")
    approved = Counter(month_key(d.created_at) for d in decisions if d.kind == "approval")
    return [MonthFigures(k, created[k], submitted[k], approved[k]) for k in keys]


def high_risk_cases(cases: Iterable[CaseRow]) -> list[CaseRow]:
    """Live cases at a level their own pack counts as high risk (withdrawn and retired ones are
    history), oldest first."""
    live = [c for c in cases if c.is_high_risk and c.status not in ("withdrawn", "retired")]
    return sorted(live, key=lambda c: (c.created_at, c.id))


def waiting_longest(cases: Iterable[CaseRow], now: datetime, limit: int = 10) -> list[WaitingCase]:
    """Submitted cases, longest wait first; the wait counts JST calendar days since submission."""
    today = fiscal.to_jst(now).date()
    waiting = [
        WaitingCase(c, (today - fiscal.to_jst(c.submitted_at).date()).days)
        for c in cases
        if c.status == "submitted" and c.submitted_at is not None
    ]
    waiting.sort(key=lambda w: (-w.days_waiting, w.case.submitted_at, w.case.id))
    return waiting[:limit]


def voided_approvals(
    cases: Iterable[CaseRow], decisions: Iterable[DecisionRow]
) -> list[VoidedApproval]:
    """Every voided approval, newest first, with whether the case was approved again since.

    A `void` decision is the record of record; its comment says why (answers or checklist
    changed, re-assessment under another pack).
    """
    by_id = {c.id: c for c in cases}
    decisions = list(decisions)
    latest_approval: dict[int, datetime] = {}
    for d in decisions:
        if d.kind == "approval":
            latest = latest_approval.get(d.case_id)
            if latest is None or d.created_at > latest:
                latest_approval[d.case_id] = d.created_at
    result = [
        VoidedApproval(by_id[d.case_id], d.created_at, d.comment,
                       d.created_at < latest_approval.get(d.case_id, d.created_at))
        for d in decisions if d.kind == "void" and d.case_id in by_id
    ]
    result.sort(key=lambda v: (v.voided_at, v.case.id), reverse=True)
    return result


# --------------------------------------------------------------------------- periodic review


def add_months(day: date, months: int) -> date:
    """`day` plus whole months; the 31st becomes the last day of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_review_due(operation: OperationRow) -> date | None:
    """When the next periodic review falls due: interval after the last review (or the start).

    None when the system is not running (not started or ended) or has no interval set.
    """
    if operation.started_on is None or operation.ended_on is not None:
        return None
    if not operation.review_interval_months:
        return None
    base = operation.last_reviewed_on or operation.started_on
    return add_months(base, operation.review_interval_months)


def review_states(
    cases: Iterable[CaseRow], operations: Iterable[OperationRow], today: date
) -> list[ReviewState]:
    """The review standing of every running system, most overdue first.

    A review is due on its due date itself (the review must have happened by then).
    """
    by_id = {c.id: c for c in cases}
    states = []
    for op in operations:
        case = by_id.get(op.case_id)
        due = next_review_due(op)
        if case is None or due is None:
            continue
        overdue = (today - due).days
        states.append(ReviewState(case, op, due, overdue >= 0, max(overdue, 0)))
    states.sort(key=lambda s: (s.next_due, s.case.id))
    return states


def running_without_approval(
    cases: Iterable[CaseRow], operations: Iterable[OperationRow]
) -> list[CaseRow]:
    """Systems still running (started, not ended) whose case lost its approval: a change or a
    re-assessment voided it and it has not been approved and resumed since."""
    running = {op.case_id for op in operations
               if op.started_on is not None and op.ended_on is None}
    return [c for c in sorted(cases, key=lambda c: c.id)
            if c.id in running and c.status != "in_operation"]


# --------------------------------------------------------------------------- the whole page


def compute_portfolio(rows: PortfolioRows, now: datetime, months: int = 12) -> Portfolio:
    """Every figure of the portfolio page from plain rows; `now` is an aware timestamp."""
    today = fiscal.to_jst(now).date()
    cases = list(rows.cases)
    open_incidents = [i for i in rows.incidents if i.status != "closed"]
    groups = level_groups(cases)
    return Portfolio(
        org_code=rows.org_code,
        today=today,
        total=len(cases),
        by_level={g.key: g.count for g in groups},
        by_status=count_by_status(cases),
        by_department=count_by_department(cases),
        level_by_department=count_level_by_department(cases),
        trend=monthly_trend(cases, rows.decisions, today, months),
        high_risk=high_risk_cases(cases),
        waiting=waiting_longest(cases, now),
        voided=voided_approvals(cases, rows.decisions),
        reviews=review_states(cases, rows.operations, today),
        running_unapproved=running_without_approval(cases, rows.operations),
        open_incidents=len(open_incidents),
        incidents_by_severity=dict(sorted(Counter(i.severity for i in open_incidents).items())),
        levels=groups,
        scales=tuple(dict.fromkeys(g.scale for g in groups if g.level is not None)),
    )


# --------------------------------------------------------------------------- fiscal-year scope


def _within(moment: datetime | None, start: date, end: date) -> bool:
    return moment is not None and start <= fiscal.to_jst(moment).date() <= end


def is_in_fiscal_year(
    case: CaseRow,
    fy: int,
    operation: OperationRow | None = None,
    decisions: Iterable[DecisionRow] = (),
    incidents: Iterable[IncidentRow] = (),
) -> bool:
    """Whether a case belongs to the periodic report of fiscal year `fy`.

    Cases at a level their own pack puts outside the guideline (`out_of_scope`) never do. Any
    other case does when, during the
    year (JST dates), it was in operation for at least one day, had a change of standing (a
    submission, return, approval, withdrawal, re-assessment or voided approval), or had an
    incident; or when it holds an approval given on or before the year's last day and has not
    started operation (an approved system waiting to go live is part of the portfolio).
    """
    if case.is_out_of_scope:
        return False
    start, end = fiscal.fiscal_year_dates(fy)
    if operation is not None and operation.started_on is not None:
        if operation.started_on <= end and (operation.ended_on is None or operation.ended_on >= start):
            return True
    if any(d.kind in CHANGE_DECISION_KINDS and _within(d.created_at, start, end) for d in decisions):
        return True
    if any(start <= i.occurred_on <= end for i in incidents):
        return True
    if case.status == "approved" and case.approved_at is not None:
        return fiscal.to_jst(case.approved_at).date() <= end
    return False


@dataclass(frozen=True)
class FiscalYearSystem:
    """One system of the periodic report, with what happened to it during the year."""

    case: CaseRow
    operation: OperationRow | None
    incidents: list[IncidentRow]
    decisions: list[DecisionRow]
    changes: list[ChangeRow]


def select_fiscal_year(rows: PortfolioRows, fy: int) -> list[FiscalYearSystem]:
    """The systems of the periodic report of `fy`, by case id, each with the year's incidents,
    decisions and audited changes (dates on the JST calendar)."""
    start, end = fiscal.fiscal_year_dates(fy)
    ops = {op.case_id: op for op in rows.operations}
    incidents: dict[int, list[IncidentRow]] = {}
    for inc in rows.incidents:
        incidents.setdefault(inc.case_id, []).append(inc)
    decisions: dict[int, list[DecisionRow]] = {}
    for dec in rows.decisions:
        decisions.setdefault(dec.case_id, []).append(dec)
    changes: dict[int, list[ChangeRow]] = {}
    for change in rows.changes:
        if _within(change.occurred_at, start, end):
            changes.setdefault(change.case_id, []).append(change)
    systems = []
    for case in sorted(rows.cases, key=lambda c: c.id):
        case_decisions = decisions.get(case.id, [])
        case_incidents = incidents.get(case.id, [])
        if not is_in_fiscal_year(case, fy, ops.get(case.id), case_decisions, case_incidents):
            continue
        systems.append(
            FiscalYearSystem(
                case=case,
                operation=ops.get(case.id),
                incidents=sorted(
                    (i for i in case_incidents if start <= i.occurred_on <= end),
                    key=lambda i: (i.occurred_on, i.id),
                ),
                decisions=sorted(
                    (
                        d for d in case_decisions
                        if d.kind in CHANGE_DECISION_KINDS and _within(d.created_at, start, end)
                    ),
                    key=lambda d: d.created_at,
                ),
                changes=sorted(changes.get(case.id, []), key=lambda c: c.seq),
            )
        )
    return systems


# --------------------------------------------------------------------------- from the database

def check_portfolio_access(actor: Actor, org_code: str | None = None) -> str:
    """The organisation code the actor may see figures of (its own); raises otherwise. Who sees
    the portfolio and the periodic report: the CAIO's office, auditors, and the installation's
    administrator (the CLI acts as one): `policy.ACTIONS["portfolio.read"]`."""
    policy.require(actor, "portfolio.read")
    if org_code is not None and org_code != actor.org_code:
        raise NotFoundError(f"organisation {org_code!r} not found", kind="organisation",
                            id=org_code)
    return actor.org_code


def _payload(text: str | None) -> dict[str, Any]:
    """A stored payload as a mapping (the application writes JSON objects; anything else is
    read as empty rather than failing the report)."""
    try:
        payload = json.loads(text or "{}")
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


class PortfolioService(ServiceCore):
    """Reading what the CAIO's figures and reports are computed from."""

    def load_portfolio_rows(
        self, actor: Actor, org_code: str | None = None, *,
        changes_period: tuple[date, date] | None = None,
    ) -> PortfolioRows:
        """Every row the portfolio needs for the actor's organisation, read in one snapshot.

        `changes_period` (first and last JST day) also reads that period's audited changes of cases
        (the periodic report's list); without it no audit events are read.
        """
        code = check_portfolio_access(actor, org_code)
        with self.read(snapshot=True) as s:
            org = s.scalar(select(Organisation).where(Organisation.code == code))
            if org is None:
                raise NotFoundError(f"organisation {code!r} not found", kind="organisation", id=code)
            reports = {
                r.case_id: r for r in s.scalars(
                    select(BoardReport).join(Case, BoardReport.case_id == Case.id)
                    .where(Case.org_id == org.id))
            }
            cases = []
            for c in s.scalars(select(Case).where(Case.org_id == org.id).order_by(Case.id)):
                report = reports.get(c.id)
                fields: dict[str, Any] | None = (
                    {name: getattr(report, name) for name in BOARD_REPORT_FIELDS} if report else None
                )
                # The case's own purpose (利用目的); a case written before it was asked for falls
                # back to its board report's objectives.
                purpose = (c.purpose or "").strip()
                if not purpose and fields:
                    purpose = (fields["objectives"] or fields["project_details"] or "").strip()
                cases.append(CaseRow(
                    id=c.id, org_code=code, title=c.title, department=c.department, status=c.status,
                    level=c.level, is_complete=bool(c.is_complete), pack_id=c.pack_id,
                    pack_version=c.pack_version, pack_fingerprint=c.pack_fingerprint,
                    created_at=c.created_at, submitted_at=c.submitted_at, approved_at=c.approved_at,
                    approval_voided_at=c.approval_voided_at,
                    approval_voided_reason=c.approval_voided_reason,
                    board_report=board_report_state(fields), purpose=purpose,
                ))
            operations = tuple(
                OperationRow(
                    case_id=o.case_id, started_on=o.started_on, vendor=o.vendor,
                    model_name=o.model_name, model_version=o.model_version,
                    ismap_listing=o.ismap_listing, review_interval_months=o.review_interval_months,
                    last_reviewed_on=o.last_reviewed_on, ended_on=o.ended_on,
                    end_evidence=o.end_evidence,
                )
                for o in s.scalars(select(Operation).join(Case, Operation.case_id == Case.id)
                                   .where(Case.org_id == org.id).order_by(Operation.case_id))
            )
            incidents = tuple(
                IncidentRow(
                    id=i.id, case_id=i.case_id, occurred_on=i.occurred_on, severity=i.severity,
                    description=i.description, actions_taken=i.actions_taken,
                    reported_to_caio_at=i.reported_to_caio_at, reported_onward_at=i.reported_onward_at,
                    status=i.status, created_at=i.created_at, updated_at=i.updated_at,
                    version=i.version,
                )
                for i in s.scalars(select(Incident).join(Case, Incident.case_id == Case.id)
                                   .where(Case.org_id == org.id).order_by(Incident.id))
            )
            decisions = tuple(
                DecisionRow(case_id=d.case_id, kind=d.kind, level=d.level, comment=d.comment,
                            created_at=d.created_at, pack_id=d.pack_id,
                            pack_version=d.pack_version)
                for d in s.scalars(select(Decision).join(Case, Decision.case_id == Case.id)
                                   .where(Case.org_id == org.id).order_by(Decision.id))
            )
            changes: tuple[ChangeRow, ...] = ()
            if changes_period is not None:
                start, end = fiscal.jst_period_utc(*changes_period)
                stmt = (
                    select(AuditEvent.case_id, AuditEvent.seq, AuditEvent.occurred_at,
                           AuditEvent.actor, AuditEvent.event_type, AuditEvent.payload)
                    .where(AuditEvent.chain == code, AuditEvent.case_id.is_not(None),
                           AuditEvent.occurred_at >= start, AuditEvent.occurred_at < end)
                    .order_by(AuditEvent.seq)
                )
                changes = tuple(
                    ChangeRow(case_id=row.case_id, seq=row.seq,
                              occurred_at=fiscal.as_utc(row.occurred_at), actor=row.actor,
                              event_type=row.event_type, payload=_payload(row.payload))
                    for row in s.execute(stmt)
                )
        # Each case's level as its own pack describes it (read outside the snapshot: the packs
        # are files, not rows).
        keys = {(c.pack_id, c.pack_version) for c in cases}
        keys.update((d.pack_id, d.pack_version) for d in decisions if d.pack_id and d.pack_version)
        catalog = LevelCatalog.from_registry(self.registry, keys)
        return PortfolioRows(org_code=code, org_name=org.name, cases=with_levels(cases, catalog),
                             operations=operations, incidents=incidents, decisions=decisions,
                             changes=changes, levels=catalog)


