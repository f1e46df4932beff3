"""The reviewer's and the planner's desk: what waits for whom, and what changed since a return.

    svc.review_inbox(actor) -> [InboxEntry]            # submitted cases, longest waiting first
    svc.inbox_count(actor) -> int                      # for the menu
    svc.returned_cases(actor) -> [ReturnedCase]        # a planner's cases sent back to them
    svc.changes_since_last_return(actor, case_id) -> ChangesSince | None

Everything is read, never written. The changes since a return are read from the audit trail,
which holds every change of answers, checklist items, the report and the case details with its
author: what the reviewer returned is compared with what was resubmitted, one line per thing
that differs (a value changed and changed back is no change).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from procurement import fiscal
from procurement.db.models import BOARD_REPORT_FIELDS, AuditEvent, Case, Decision, User
from procurement.errors import NotFoundError
from procurement.records import policy
from procurement.records.cases import CASE_DETAIL_FIELDS
from procurement.records.core import ServiceCore
from procurement.records.views import Actor, case_pack
from procurement.records.workflow import four_eyes_conflicts

#: Kinds of change listed by `changes_since_last_return`, in the order they are shown.
CHANGE_KINDS = ("answer", "item", "board", "detail")


@dataclass(frozen=True)
class InboxEntry:
    """One case waiting for review."""

    case_id: int
    title: str
    department: str
    level: str | None
    pack_id: str
    pack_version: str
    owner_name: str
    submitted_by: str  # display name of who submitted it last
    submitted_at: datetime
    days_waiting: int  # JST calendar days since it was submitted
    resubmission: bool  # submitted before (returned, or approved and changed since)
    conflict: str | None  # why this reviewer may not approve it (four eyes), else None
    version: int


@dataclass(frozen=True)
class ReturnedCase:
    """A case returned to its planner, with the reviewer's comment."""

    case_id: int
    title: str
    department: str
    returned_at: datetime
    returned_by: str  # display name
    comment: str
    version: int


@dataclass(frozen=True)
class Change:
    """One thing that differs between the returned and the resubmitted case.

    `kind`: `answer` (key = question id, values as stored), `item` (key = checklist item id,
    values {status, evidence} or None), `board` (key = report field), `detail` (key = title,
    department or purpose). `changed_by` are display names, in the order they changed it."""

    kind: str
    key: str
    old: Any
    new: Any
    changed_by: tuple[str, ...]
    changed_at: datetime


@dataclass(frozen=True)
class ChangesSince:
    """What changed since the case was last returned (or last approved, when a change voided
    that approval): the reference decision, its author and comment, and the changes."""

    since: str  # 'returned' | 'approved'
    since_at: datetime
    since_by: str  # display name
    comment: str
    changes: tuple[Change, ...]

    def of_kind(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]


def _display_names(s: Session, usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    return {u: d for u, d in s.execute(select(User.username, User.display_name)
                                       .where(User.username.in_(usernames)))}


def _case(s: Session, actor: Actor, case_id: int) -> Case:
    case = s.get(Case, case_id)
    if case is None or case.org_id != actor.org_id:
        raise NotFoundError(f"case {case_id} not found", kind="case", id=case_id)
    return case


class _Net:
    """The net change of one key: the first old value, the last new one, who and when."""

    def __init__(self, old: Any) -> None:
        self.old = old
        self.new = old
        self.by: list[str] = []
        self.at: datetime | None = None

    def add(self, new: Any, by: str, at: datetime) -> None:
        self.new = new
        if by not in self.by:
            self.by.append(by)
        self.at = at


class ReviewDeskService(ServiceCore):
    """What waits for reviewers and planners, and what changed since a return."""

    def review_inbox(self, actor: Actor) -> list[InboxEntry]:
        """The organisation's submitted cases, longest waiting first, each with who submitted
        it, how long it waits, whether it comes back, and whether `actor` may approve it."""
        policy.require(actor, "case.approve")
        with self.read() as s:
            rows = s.execute(
                select(Case, User.display_name).join(User, Case.owner_id == User.id)
                .where(Case.org_id == actor.org_id, Case.status == "submitted")
                .order_by(Case.submitted_at, Case.id)).all()
            if not rows:
                return []
            ids = [case.id for case, _ in rows]
            submissions: dict[int, list[tuple[int, str]]] = {}
            for case_id, decision_id, name in s.execute(
                    select(Decision.case_id, Decision.id, User.display_name)
                    .join(User, Decision.actor_id == User.id)
                    .where(Decision.case_id.in_(ids), Decision.kind == "submission")
                    .order_by(Decision.id)):
                submissions.setdefault(case_id, []).append((decision_id, name))
            conflicts = {cid: "owner" for cid in ids
                         if any(c.id == cid and c.owner_id == actor.user_id for c, _ in rows)}
            for cid, reason in four_eyes_conflicts(s, actor, ids).items():
                conflicts.setdefault(cid, reason)
            today = fiscal.to_jst(self.now()).date()
            entries = []
            for case, owner_name in rows:
                submitted_at = case.submitted_at or case.updated_at
                mine = submissions.get(case.id, [])
                entries.append(InboxEntry(
                    case_id=case.id, title=case.title, department=case.department,
                    level=case.level, pack_id=case.pack_id, pack_version=case.pack_version,
                    owner_name=owner_name,
                    submitted_by=mine[-1][1] if mine else owner_name,
                    submitted_at=submitted_at,
                    days_waiting=max(0, (today - fiscal.to_jst(submitted_at).date()).days),
                    resubmission=len(mine) > 1, conflict=conflicts.get(case.id),
                    version=case.version))
            entries.sort(key=lambda e: (e.submitted_at, e.case_id))
            return entries

    def inbox_count(self, actor: Actor) -> int:
        """How many cases of the actor's organisation wait for review (0 for non-reviewers)."""
        if not policy.may(actor, "case.approve"):
            return 0
        with self.read() as s:
            return int(s.scalar(select(func.count()).select_from(Case).where(
                Case.org_id == actor.org_id, Case.status == "submitted")) or 0)

    def returned_cases(self, actor: Actor) -> list[ReturnedCase]:
        """The actor's own cases that a reviewer returned and that wait for them, newest return
        first, each with the reviewer's comment."""
        if actor.user_id is None:
            return []
        with self.read() as s:
            cases = list(s.scalars(select(Case).where(
                Case.org_id == actor.org_id, Case.owner_id == actor.user_id,
                Case.status == "returned")))
            if not cases:
                return []
            latest: dict[int, tuple[Decision, str]] = {}
            for decision, name in s.execute(
                    select(Decision, User.display_name).join(User, Decision.actor_id == User.id)
                    .where(Decision.case_id.in_([c.id for c in cases]),
                           Decision.kind == "return").order_by(Decision.id)):
                latest[decision.case_id] = (decision, name)
            out = []
            for case in cases:
                last: Decision | None
                last, name = latest.get(case.id, (None, ""))
                out.append(ReturnedCase(
                    case.id, case.title, case.department,
                    last.created_at if last is not None else case.updated_at, name,
                    last.comment if last is not None else "", case.version))
            out.sort(key=lambda r: (r.returned_at, r.case_id), reverse=True)
            return out

    def changes_since_last_return(self, actor: Actor, case_id: int) -> ChangesSince | None:
        """What changed in the case since it was last returned (answers, checklist items, the
        report's fields, the case details), read from the audit trail; None when the case was
        never returned nor approved (a first submission). When the case was approved later than
        it was returned (a change then voided the approval), the approval is the reference."""
        with self.read() as s:
            case = _case(s, actor, case_id)
            events = s.execute(
                select(AuditEvent.seq, AuditEvent.event_type, AuditEvent.actor,
                       AuditEvent.occurred_at, AuditEvent.payload)
                .where(AuditEvent.chain == actor.org_code, AuditEvent.case_id == case.id)
                .order_by(AuditEvent.seq)).all()
            start = next((i for i in range(len(events) - 1, -1, -1)
                          if events[i].event_type in ("case.returned", "case.approved")), None)
            if start is None:
                return None
            ref = events[start]
            nets: dict[tuple[str, str], _Net] = {}

            def note(kind: str, key: str, old: Any, new: Any, by: str, at: datetime) -> None:
                net = nets.get((kind, key))
                if net is None:
                    net = nets[(kind, key)] = _Net(old)
                net.add(new, by, at)

            for e in events[start + 1:]:
                payload = _payload(e.payload)
                if e.event_type == "case.answers_saved":
                    for qid, ch in (payload.get("changes") or {}).items():
                        if isinstance(ch, Mapping):
                            note("answer", qid, ch.get("old"), ch.get("new"), e.actor,
                                 e.occurred_at)
                elif e.event_type == "case.checklist_set" and payload.get("item_id"):
                    note("item", str(payload["item_id"]), payload.get("old"), payload.get("new"),
                         e.actor, e.occurred_at)
                elif e.event_type in ("case.board_report_saved", "case.details_saved"):
                    kind = "board" if e.event_type == "case.board_report_saved" else "detail"
                    for name, ch in (payload.get("changes") or {}).items():
                        if isinstance(ch, Mapping):
                            note(kind, name, ch.get("old"), ch.get("new"), e.actor,
                                 e.occurred_at)
            names = _display_names(s, {ref.actor} | {b for n in nets.values() for b in n.by})
            pack = case_pack(self.registry, case)
            comment = (_payload(ref.payload).get("comment") or "") if ref else ""
            changes = [
                Change(kind, key, net.old, net.new, tuple(names.get(b, b) for b in net.by),
                       net.at or ref.occurred_at)
                for (kind, key), net in nets.items() if not _same(kind, net.old, net.new)
            ]
            changes.sort(key=lambda c: _order(pack, c))
            return ChangesSince(
                since="returned" if ref.event_type == "case.returned" else "approved",
                since_at=ref.occurred_at, since_by=names.get(ref.actor, ref.actor),
                comment=str(comment), changes=tuple(changes))


def _payload(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _same(kind: str, old: Any, new: Any) -> bool:
    if kind == "item":
        # No record and a pending record without evidence say the same thing.
        def norm(v: Any) -> tuple[str, str]:
            if not isinstance(v, Mapping):
                return ("pending", "")
            return (str(v.get("status") or "pending"), str(v.get("evidence") or ""))
        return norm(old) == norm(new)
    if kind in ("board", "detail"):
        return (old or "") == (new or "")
    same: bool = old == new
    return same


def _order(pack: Any, change: Change) -> tuple[int, int, str]:
    """Answers in the pack's question order, items in checklist order, report fields and
    details in their form order; anything unknown after, by id."""
    kind_rank = CHANGE_KINDS.index(change.kind)
    if change.kind == "answer" and pack is not None:
        ids = [q.id for q in pack.questions]
    elif change.kind == "item" and pack is not None:
        ids = [i.id for i in pack.items]
    elif change.kind == "board":
        ids = list(BOARD_REPORT_FIELDS)
    elif change.kind == "detail":
        ids = list(CASE_DETAIL_FIELDS)
    else:
        ids = []
    return (kind_rank, ids.index(change.key) if change.key in ids else len(ids), change.key)
