"""What the services return: the acting user and frozen views of stored records.

Views are plain frozen dataclasses, safe to keep in a Streamlit session and to pass between
threads; never live ORM objects. The builders here turn ORM rows into views; `case_view` also
classifies the case under its exact pack, so every caller sees the same result.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from procurement.db.models import (
    BOARD_REPORT_FIELDS,
    Answer,
    AuditEvent,
    BoardReport,
    Case,
    ChecklistResult,
    Decision,
    Organisation,
    User,
)
from procurement.errors import ProcurementError
from procurement.packs import Classification, PackRegistry, ResolvedPack, classify
from procurement.vocabulary import VoidReason, read_void_reason


@dataclass(frozen=True)
class Actor:
    """The signed-in user, safe to keep in a Streamlit session (no ORM state).

    `via` says where the actor acts from: `app` (a browser session) or `cli` (an operator's
    command with full database access); events written by the CLI record it.
    """

    user_id: int | None
    username: str
    display_name: str
    org_id: int
    org_code: str
    roles: frozenset[str]
    via: str = "app"
    #: The browser session the actor acts in (`procurement.records.sessions`); every write
    #: checks that it has not ended. None for the command line, scripts and tests.
    session_id: int | None = None

    def has_role(self, *roles: str) -> bool:
        """Whether the actor holds at least one of `roles`."""
        return bool(self.roles.intersection(roles))


@dataclass(frozen=True)
class OrgView:
    id: int
    code: str
    name: str
    kind: str
    pack_ref: str | None
    created_at: datetime


@dataclass(frozen=True)
class UserView:
    id: int
    org_code: str
    username: str
    display_name: str
    roles: tuple[str, ...]
    is_active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime
    email: str | None = None


@dataclass(frozen=True)
class ChecklistEntry:
    status: str
    evidence: str
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class DecisionView:
    id: int
    kind: str
    actor: str
    comment: str
    level: str | None
    pack_id: str
    pack_version: str
    pack_fingerprint: str
    answers_hash: str
    created_at: datetime


@dataclass(frozen=True)
class CaseSummary:
    id: int
    org_code: str
    title: str
    department: str
    owner_id: int
    owner_name: str
    status: str
    pack_id: str
    pack_version: str
    pack_fingerprint: str
    level: str | None
    is_complete: bool
    has_blocking: bool
    version: int
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    approved_at: datetime | None
    #: When and why a later change (or a re-assessment) voided the case's approval; cleared by
    #: the next approval. Lists show it so a lost approval is never missed. The reason is stored
    #: as a code (`void_reason`); older rows hold English prose, still understood.
    approval_voided_at: datetime | None = None
    approval_voided_reason: str | None = None
    #: 利用目的: what the system is used for (free text, '' when not given yet).
    purpose: str = ""

    @property
    def void_reason(self) -> VoidReason | None:
        """Why the approval was voided, as a code with parameters (None if not voided)."""
        return read_void_reason(self.approval_voided_reason)

    @property
    def pack_key(self) -> str:
        """`id@x.y.z` of the exact pack the case is assessed under."""
        return f"{self.pack_id}@{self.pack_version}"


@dataclass(frozen=True)
class CaseView(CaseSummary):
    pack_ref: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    checklist: dict[str, ChecklistEntry] = field(default_factory=dict)
    board_report: dict[str, str] | None = None
    classification: Classification | None = None  # None if the pack is no longer available
    pack_matches: bool = True
    answers_hash: str = ""
    decisions: tuple[DecisionView, ...] = ()


@dataclass(frozen=True)
class EventView:
    id: int
    chain: str
    seq: int
    occurred_at: datetime
    actor: str
    event_type: str
    case_id: int | None
    payload: dict[str, Any]
    hash: str


def answers_hash(answers: Mapping[str, Any]) -> str:
    """sha256 hex of the canonical JSON of `answers` (sorted keys, UTF-8, no spaces)."""
    canonical = json.dumps(dict(answers), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def dump_answer(value: Any) -> str:
    """The stored JSON text of one answer value."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def load_answers(s: Session, case_id: int) -> dict[str, Any]:
    """The current answers of a case, decoded."""
    rows = s.execute(select(Answer.question_id, Answer.value).where(Answer.case_id == case_id))
    return {q: json.loads(v) for q, v in rows}


def actor_of(user: User, org: Organisation, via: str = "app") -> Actor:
    return Actor(user.id, user.username, user.display_name, org.id, org.code,
                 frozenset(r for r in user.roles.split(",") if r), via)


def org_view(o: Organisation) -> OrgView:
    return OrgView(o.id, o.code, o.name, o.kind, o.pack_ref, o.created_at)


def user_view(u: User, o: Organisation) -> UserView:
    return UserView(u.id, o.code, u.username, u.display_name,
                    tuple(r for r in u.roles.split(",") if r), u.is_active, u.locked_until,
                    u.last_login_at, u.created_at, u.email)


def summary_of(c: Case, owner_name: str, org_code: str) -> CaseSummary:
    return CaseSummary(
        c.id, org_code, c.title, c.department, c.owner_id, owner_name, c.status, c.pack_id,
        c.pack_version, c.pack_fingerprint, c.level, c.is_complete, c.has_blocking, c.version,
        c.created_at, c.updated_at, c.submitted_at, c.approved_at, c.approval_voided_at,
        c.approval_voided_reason, c.purpose,
    )


def event_view(e: AuditEvent) -> EventView:
    return EventView(e.id, e.chain, e.seq, e.occurred_at, e.actor, e.event_type, e.case_id,
                     json.loads(e.payload), e.hash)


def case_pack(registry: PackRegistry, case: Case) -> ResolvedPack | None:
    """The exact pack version a case is assessed under, or None if no longer available."""
    try:
        return registry.resolve(f"{case.pack_id}@{case.pack_version}")
    except ProcurementError:
        return None


def case_view(s: Session, registry: PackRegistry, case: Case) -> CaseView:
    """The case with answers, checklist, board report, live classification and decisions."""
    owner = s.get(User, case.owner_id)
    org = s.get(Organisation, case.org_id)
    assert owner is not None and org is not None  # foreign keys
    answers = load_answers(s, case.id)
    results = list(s.scalars(select(ChecklistResult).where(ChecklistResult.case_id == case.id)
                             .order_by(ChecklistResult.item_id)))
    rows = list(s.scalars(select(Decision).where(Decision.case_id == case.id)
                          .order_by(Decision.id)))
    user_ids = {r.updated_by for r in results} | {d.actor_id for d in rows}
    names: dict[int, str] = (
        {uid: name for uid, name in s.execute(
            select(User.id, User.username).where(User.id.in_(user_ids)))}
        if user_ids else {}
    )
    checklist = {
        r.item_id: ChecklistEntry(r.status, r.evidence, names.get(r.updated_by, ""), r.updated_at)
        for r in results
    }
    report = s.scalar(select(BoardReport).where(BoardReport.case_id == case.id))
    decisions = tuple(
        DecisionView(d.id, d.kind, names.get(d.actor_id, ""), d.comment, d.level, d.pack_id,
                     d.pack_version, d.pack_fingerprint, d.answers_hash, d.created_at)
        for d in rows
    )
    pack = case_pack(registry, case)
    classification = classify(pack, answers) if pack is not None else None
    summary = summary_of(case, owner.display_name, org.code)
    return CaseView(
        **{f: getattr(summary, f) for f in CaseSummary.__dataclass_fields__},
        pack_ref=pack.ref if pack is not None else f"{case.pack_id}@{case.pack_version}",
        answers=answers,
        checklist=checklist,
        board_report=(
            {f: getattr(report, f) for f in BOARD_REPORT_FIELDS} if report is not None else None
        ),
        classification=classification,
        pack_matches=pack is not None and pack.fingerprint == case.pack_fingerprint,
        answers_hash=case.answers_hash,
        decisions=decisions,
    )
