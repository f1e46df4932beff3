"""Use-cases: every change to organisations, users and cases, each with its audit event.

Every public function takes the acting user (`Actor`) first, checks role and organisation, writes
the change and appends its audit event in one transaction (`unit_of_work`), and returns plain
frozen dataclass views, never live ORM objects. Errors are `procurement.errors` classes whose
`params` say what was wrong and where. The signatures are listed in docs/architecture.md
("Records"); other modules write through `unit_of_work` so their changes are audited the same way.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from procurement import audit, readiness
from procurement.db import READ_ONLY
from procurement.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    ProcurementError,
    WorkflowError,
)
from procurement.models import (
    BOARD_REPORT_FIELDS,
    CASE_STATUSES,
    CHECKLIST_STATUSES,
    ORG_KINDS,
    ROLES,
    Answer,
    AuditEvent,
    BoardReport,
    Case,
    ChecklistResult,
    Decision,
    Organisation,
    User,
)
from procurement.security import MIN_PASSWORD_LENGTH, dummy_verify, hash_password, verify_password

#: Failed sign-ins in a row that lock an account, and for how long.
MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)
#: The zone whose calendar decides which national edition is in force for a case.
JST = ZoneInfo("Asia/Tokyo")
#: The national pack chosen by date when neither the case nor its organisation names one.
NATIONAL_PACK_ID = "jp-national"
#: Statuses in which answers, checklist and board report may be edited.
EDITABLE_STATUSES = frozenset({"draft", "returned", "approved", "in_operation"})
#: Statuses holding an approval that a later change voids (a running system keeps running; the
#: CAIO's portfolio flags it until it is approved again and resumed, see procurement.operation).
VOIDABLE_STATUSES = frozenset({"approved", "in_operation"})
#: Statuses from which a case may be withdrawn.
WITHDRAWABLE_STATUSES = frozenset({"draft", "returned", "submitted", "approved"})
_CODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
#: A case's intake details (what it is, not how it is assessed), edited by `save_case_details`.
CASE_DETAIL_FIELDS = ("title", "department", "purpose")
#: The longest purpose (利用目的) accepted, in characters: a paragraph or two, as in the reports.
PURPOSE_MAX_LENGTH = 2000
#: The longest text each intake detail accepts (title and department: their column sizes).
CASE_DETAIL_MAX_LENGTHS = {
    "title": Case.__table__.c.title.type.length,
    "department": Case.__table__.c.department.type.length,
    "purpose": PURPOSE_MAX_LENGTH,
}


def utc_now() -> datetime:
    """The default clock: now, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def answers_hash(answers: Mapping[str, Any]) -> str:
    """sha256 hex of the canonical JSON of `answers` (sorted keys, UTF-8, no spaces)."""
    canonical = json.dumps(dict(answers), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# Views


@dataclass(frozen=True)
class Actor:
    """The signed-in user, safe to keep in a Streamlit session (no ORM state)."""

    user_id: int | None
    username: str
    display_name: str
    org_id: int
    org_code: str
    roles: frozenset[str]

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
    #: the next approval. Lists show it so a lost approval is never missed.
    approval_voided_at: datetime | None = None
    approval_voided_reason: str | None = None
    #: 利用目的: what the system is used for (free text, '' when not given yet).
    purpose: str = ""


@dataclass(frozen=True)
class CaseView(CaseSummary):
    pack_ref: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    checklist: dict[str, ChecklistEntry] = field(default_factory=dict)
    board_report: dict[str, str] | None = None
    classification: Any = None  # procurement.packs.Classification, None if the pack is gone
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


# --------------------------------------------------------------------------------------------
# Unit of work


class UnitOfWork:
    """One transaction on behalf of an actor: load, change, `audit(...)`; committed on exit.

    Obtained from `Services.unit_of_work`; documented in docs/architecture.md for the modules
    that own operations, incidents, installed packs and re-assessment.
    """

    def __init__(self, services: "Services", session: Session, actor: Actor, now: datetime):
        self.services = services
        self.session = session
        self.actor = actor
        self.now = now

    def load_case(self, case_id: int, expected_version: int | None = None) -> Case:
        """The case, if it belongs to the actor's organisation (NotFoundError otherwise)."""
        case = self.session.get(Case, case_id)
        if case is None or case.org_id != self.actor.org_id:
            raise NotFoundError(f"case {case_id} not found", kind="case", id=case_id)
        if expected_version is not None and case.version != expected_version:
            raise ConflictError(
                f"case {case_id} was changed by someone else (you have version "
                f"{expected_version}, stored is {case.version}); reload it",
                case_id=case_id, expected_version=expected_version, stored_version=case.version,
            )
        return case

    def touch(self, case: Case) -> None:
        """Mark the case changed: next version, updated now."""
        case.version = case.version + 1
        case.updated_at = self.now

    def audit(self, event_type: str, case_id: int | None, payload: Mapping[str, Any]) -> None:
        """Append an event to the actor's organisation chain, inside this transaction."""
        self.session.flush()  # the change precedes its event (and ids exist)
        audit.append_event(
            self.session,
            chain=self.actor.org_code,
            actor=self.actor.username,
            event_type=event_type,
            case_id=case_id,
            payload=dict(payload),
            occurred_at=self.now,
        )


# --------------------------------------------------------------------------------------------
# Services


class Services:
    """Every use-case of the app; see the module docstring."""

    def __init__(self, engine: Engine, registry: Any, clock: Callable[[], datetime] | None = None):
        self.engine = engine
        self.registry = registry
        self.clock = clock or utc_now
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # Reads begin deferred on SQLite, so they never queue behind a writer.
        self._read_sessions = sessionmaker(engine.execution_options(**READ_ONLY))

    # -- transactions -------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError(f"the clock returned a naive datetime {now!r}")
        return now.astimezone(timezone.utc)

    @contextmanager
    def unit_of_work(self, actor: Actor, roles: Iterable[str] | None = None) -> Iterator[UnitOfWork]:
        """A write transaction for `actor` (PermissionDeniedError unless it holds one of `roles`).

        An actor holding only the auditor role never writes. A stale write (someone saved the case
        in between) becomes ConflictError; the transaction is rolled back on any error.
        """
        self._check_writer(actor, roles)
        try:
            with self._sessions() as session, session.begin():
                self._check_account(session, actor, roles)
                yield UnitOfWork(self, session, actor, self._now())
        except StaleDataError as exc:
            raise ConflictError(
                "the record was changed by someone else while you were saving; reload it",
                detail=str(exc),
            ) from exc
        except IntegrityError as exc:
            # A unique key taken by a concurrent writer between our read and our write (e.g. two
            # people answering the same question of a case at once): nothing was written.
            raise ConflictError(
                "the record was changed by someone else while you were saving; reload it",
                detail=str(exc.orig),
            ) from exc

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._read_sessions() as session:
            yield session

    @classmethod
    def _check_account(cls, session: Session, actor: Actor, roles: Iterable[str] | None) -> None:
        """The actor's account as stored now, not as it was at sign-in: a deactivated account, or
        one that lost the role, writes nothing, even from a browser session opened before."""
        if actor.user_id is None:  # the command-line operator: no account to check
            return
        user = session.get(User, actor.user_id)
        if user is None or not user.is_active:
            raise PermissionDeniedError(f"{actor.username}'s account is deactivated",
                                        username=actor.username, account="inactive")
        current = frozenset(r for r in user.roles.split(",") if r)
        if current != actor.roles:
            cls._check_writer(replace(actor, roles=current), roles)

    @staticmethod
    def _check_writer(actor: Actor, roles: Iterable[str] | None) -> None:
        if not actor.roles - {"auditor"}:
            raise PermissionDeniedError(
                f"{actor.username} is an auditor and may only read", username=actor.username,
                roles=sorted(actor.roles),
            )
        if roles is not None:
            needed = sorted(set(roles))
            if not actor.has_role(*needed):
                raise PermissionDeniedError(
                    f"{actor.username} needs one of the roles {', '.join(needed)}",
                    username=actor.username, needed=needed, roles=sorted(actor.roles),
                )

    # -- accounts and organisations -----------------------------------------------------------

    def has_users(self) -> bool:
        """Whether any user exists (the app offers first-admin setup otherwise)."""
        with self._read() as s:
            return s.scalar(select(func.count()).select_from(User)) > 0

    def authenticate(self, username: str, password: str) -> Actor:
        """The actor for valid credentials; AuthenticationError otherwise (locks after failures)."""
        now = self._now()
        with self._sessions() as s, s.begin():
            # FOR UPDATE (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises): two failed
            # attempts at once must both count.
            user = s.scalar(select(User).where(User.username == username).with_for_update())
            if user is None or not user.is_active:
                dummy_verify(password)
                raise AuthenticationError("wrong username or password", username=username)
            org = s.get(Organisation, user.org_id)
            if user.locked_until is not None and user.locked_until > now:
                raise AuthenticationError(
                    f"account {username} is locked until {user.locked_until.isoformat()}",
                    username=username, locked_until=user.locked_until,
                )
            actor = _actor(user, org)
            if not verify_password(password, user.password_hash):
                user.failed_logins += 1
                payload: dict[str, Any] = {"username": username, "failed_logins": user.failed_logins}
                if user.failed_logins >= MAX_FAILED_LOGINS:
                    user.locked_until = now + LOCK_DURATION
                    user.failed_logins = 0
                    payload["locked_until"] = user.locked_until.isoformat()
                    _append(s, actor, now, "auth.locked", None, payload)
                    locked_until = user.locked_until
                else:
                    _append(s, actor, now, "auth.failed", None, payload)
                    locked_until = None
            else:
                user.failed_logins = 0
                user.locked_until = None
                user.last_login_at = now
                _append(s, actor, now, "auth.signed_in", None, {"username": username})
                return actor
        # The failure is committed (counted and logged) before the error surfaces.
        if locked_until is not None:
            raise AuthenticationError(
                f"too many failed sign-ins: account {username} is locked until "
                f"{locked_until.isoformat()}", username=username, locked_until=locked_until,
            )
        raise AuthenticationError("wrong username or password", username=username)

    def actor_for(self, username: str) -> Actor:
        """The actor of an existing active user, without a password: for the CLI, the demo and
        tests (trusted code with database access). The UI signs in with `authenticate`."""
        with self._read() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None or not user.is_active:
                raise NotFoundError(f"no active user {username!r}", kind="user", id=username)
            return _actor(user, s.get(Organisation, user.org_id))

    def system_actor(self, org_code: str) -> Actor:
        """The operator at the command line, acting as an administrator of `org_code`."""
        with self._read() as s:
            org = _org_by_code(s, org_code)
            return Actor(None, "system", "system", org.id, org.code, frozenset({"admin"}))

    def create_first_admin(
        self, org_code: str, org_name: str, org_kind: str, username: str, display_name: str,
        password: str, pack_ref: str | None = None,
    ) -> Actor:
        """Set up an empty installation: its first organisation and administrator."""
        now = self._now()
        with self._sessions() as s, s.begin():
            if s.scalar(select(func.count()).select_from(User)) > 0:
                raise WorkflowError("users already exist: sign in as an administrator")
            org = _new_org(s, org_code, org_name, org_kind, pack_ref, now, self.registry)
            user = _new_user(s, org, username, display_name, password, ["admin"], now)
            actor = _actor(user, org)
            _append(s, actor, now, "org.created", None, _org_payload(org))
            _append(s, actor, now, "user.created", None, _user_payload(user))
            return actor

    def create_org(
        self, actor: Actor, code: str, name: str, kind: str, pack_ref: str | None = None,
    ) -> OrgView:
        """A new organisation (admin). Its events start a chain named `code`."""
        with self.unit_of_work(actor, roles={"admin"}) as uow:
            org = _new_org(uow.session, code, name, kind, pack_ref, uow.now, self.registry)
            # The new organisation's own chain records its creation; the creator's chain too.
            _append(uow.session, _org_actor(actor, org), uow.now, "org.created", None,
                    _org_payload(org))
            if actor.org_code != org.code:
                uow.audit("org.created", None, _org_payload(org))
            return _org_view(org)

    def set_org_pack(self, actor: Actor, org_code: str, pack_ref: str | None) -> OrgView:
        """Change the pack an organisation's new cases use (admin); None = national by date."""
        with self.unit_of_work(actor, roles={"admin"}) as uow:
            org = _org_by_code(uow.session, org_code)
            if pack_ref is not None:
                _resolve_ref(self.registry, pack_ref, where="pack_ref")
            old = org.pack_ref
            org.pack_ref = pack_ref
            _append(uow.session, _org_actor(actor, org), uow.now, "org.pack_set", None,
                    {"code": org.code, "old": old, "new": pack_ref})
            return _org_view(org)

    def create_user(
        self, actor: Actor, org_code: str, username: str, display_name: str, password: str,
        roles: Iterable[str],
    ) -> UserView:
        """A new user of `org_code` (admin of the installation)."""
        with self.unit_of_work(actor, roles={"admin"}) as uow:
            org = _org_by_code(uow.session, org_code)
            user = _new_user(uow.session, org, username, display_name, password, roles, uow.now)
            _append(uow.session, _org_actor(actor, org), uow.now, "user.created", None,
                    _user_payload(user))
            return _user_view(user, org)

    def set_user_active(self, actor: Actor, username: str, is_active: bool) -> UserView:
        """Deactivate (or reactivate) an account (admin); records are kept.

        An administrator cannot deactivate their own account, nor the last active administrator:
        either would leave nobody able to manage the installation.
        """
        with self.unit_of_work(actor, roles={"admin"}) as uow:
            user = _user_by_name(uow.session, username)
            if not is_active and user.is_active:
                if user.username == actor.username:
                    raise WorkflowError("an administrator cannot deactivate their own account",
                                        self_account=username)
                if "admin" in user.roles.split(",") and not _other_active_admins(uow.session, user):
                    raise WorkflowError(f"{username} is the last active administrator",
                                        last_admin=username)
            org = uow.session.get(Organisation, user.org_id)
            user.is_active = bool(is_active)
            if is_active:
                user.failed_logins = 0
                user.locked_until = None
            _append(uow.session, _org_actor(actor, org), uow.now,
                    "user.activated" if is_active else "user.deactivated", None,
                    {"username": username})
            return _user_view(user, org)

    def set_user_password(self, actor: Actor, username: str, password: str) -> UserView:
        """Give an account a new password (admin of the installation), e.g. when it was forgotten.

        The failure count and any lock are cleared too: the holder of the new password must be
        able to sign in at once. The event names the account, never the password.
        """
        with self.unit_of_work(actor, roles={"admin"}) as uow:
            user = _user_by_name(uow.session, username)
            _check_password(password)
            org = uow.session.get(Organisation, user.org_id)
            user.password_hash = hash_password(password)
            user.failed_logins = 0
            user.locked_until = None
            _append(uow.session, _org_actor(actor, org), uow.now, "user.password_reset", None,
                    {"username": user.username})
            return _user_view(user, org)

    def unlock_user(self, actor: Actor, username: str) -> UserView:
        """Lift a sign-in lock before it expires (admin); the failure count starts again at 0."""
        with self.unit_of_work(actor, roles={"admin"}) as uow:
            user = _user_by_name(uow.session, username)
            org = uow.session.get(Organisation, user.org_id)
            was_locked_until = user.locked_until
            user.failed_logins = 0
            user.locked_until = None
            _append(uow.session, _org_actor(actor, org), uow.now, "user.unlocked", None,
                    {"username": user.username,
                     "locked_until": was_locked_until.isoformat() if was_locked_until else None})
            return _user_view(user, org)

    def list_orgs(self, actor: Actor) -> list[OrgView]:
        """All organisations for an admin; the actor's own otherwise."""
        with self._read() as s:
            stmt = select(Organisation).order_by(Organisation.code)
            if not actor.has_role("admin"):
                stmt = stmt.where(Organisation.id == actor.org_id)
            return [_org_view(o) for o in s.scalars(stmt)]

    def get_org(self, actor: Actor, code: str) -> OrgView:
        """One organisation (admins: any; others: their own)."""
        with self._read() as s:
            org = _org_by_code(s, code)
            if org.id != actor.org_id and not actor.has_role("admin"):
                raise NotFoundError(f"organisation {code!r} not found", kind="organisation", id=code)
            return _org_view(org)

    def list_users(self, actor: Actor, org_code: str | None = None) -> list[UserView]:
        """Users of one organisation (or all, for an admin); non-admins see their own org only."""
        with self._read() as s:
            stmt = select(User, Organisation).join(Organisation, User.org_id == Organisation.id)
            if not actor.has_role("admin"):
                if org_code not in (None, actor.org_code):
                    raise NotFoundError(f"organisation {org_code!r} not found",
                                        kind="organisation", id=org_code)
                stmt = stmt.where(User.org_id == actor.org_id)
            elif org_code is not None:
                _org_by_code(s, org_code)
                stmt = stmt.where(Organisation.code == org_code)
            stmt = stmt.order_by(Organisation.code, User.username)
            return [_user_view(u, o) for u, o in s.execute(stmt)]

    # -- packs --------------------------------------------------------------------------------

    def resolve_pack(self, org_code: str, pack_ref: str | None = None, on: date | None = None):
        """The pack a new case uses: `pack_ref`, else the organisation's, else the national
        edition in force on `on` (the JST date of the service clock by default)."""
        with self._read() as s:
            org = _org_by_code(s, org_code)
        return self._pack_for(org, pack_ref, on or self._now().astimezone(JST).date())

    def _pack_for(self, org: Organisation, pack_ref: str | None, on: date):
        if pack_ref:
            return _resolve_ref(self.registry, pack_ref, where="pack")
        if org.pack_ref:
            return _resolve_ref(self.registry, org.pack_ref, where=f"organisation {org.code}")
        return national_edition_on(self.registry, on)

    def _case_pack(self, case: Case):
        """The exact pack version a case is assessed under, or None if no longer available."""
        try:
            return self.registry.resolve(f"{case.pack_id}@{case.pack_version}")
        except ProcurementError:
            return None

    # -- cases: reading -----------------------------------------------------------------------

    def get_case(self, actor: Actor, case_id: int) -> CaseView:
        """The case with answers, checklist, board report, live classification and decisions."""
        with self._read() as s:
            case = s.get(Case, case_id)
            if case is None or case.org_id != actor.org_id:
                raise NotFoundError(f"case {case_id} not found", kind="case", id=case_id)
            return self._case_view(s, case)

    def case_version(self, actor: Actor, case_id: int) -> int:
        """The stored version of a case: one cheap read, so that a caller holding a `CaseView`
        of that version (the app, on every rerun) can skip reading the whole case again."""
        with self._read() as s:
            row = s.execute(select(Case.version, Case.org_id).where(Case.id == case_id)).first()
            if row is None or row.org_id != actor.org_id:
                raise NotFoundError(f"case {case_id} not found", kind="case", id=case_id)
            return row.version

    def list_cases(
        self, actor: Actor, mine: bool = False, status: str | None = None,
        level: str | None = None, search: str | None = None,
    ) -> list[CaseSummary]:
        """The actor's organisation's cases, newest change first, filtered."""
        with self._read() as s:
            stmt = (
                select(Case, User.display_name, Organisation.code)
                .join(User, Case.owner_id == User.id)
                .join(Organisation, Case.org_id == Organisation.id)
                .where(Case.org_id == actor.org_id)
            )
            if mine:
                stmt = stmt.where(Case.owner_id == actor.user_id)
            if status:
                if status not in CASE_STATUSES:
                    raise InputError(f"unknown case status {status!r}; one of "
                                     f"{', '.join(CASE_STATUSES)}", field="status", value=status)
                stmt = stmt.where(Case.status == status)
            if level:
                stmt = stmt.where(Case.level == level)
            if search:
                like = f"%{search.strip()}%"
                stmt = stmt.where(or_(Case.title.ilike(like), Case.department.ilike(like),
                                      Case.purpose.ilike(like)))
            stmt = stmt.order_by(Case.updated_at.desc(), Case.id.desc())
            return [_summary(c, owner, code) for c, owner, code in s.execute(stmt)]

    def case_history(self, actor: Actor, case_id: int) -> list[EventView]:
        """The audit events of one case, oldest first."""
        with self._read() as s:
            case = s.get(Case, case_id)
            if case is None or case.org_id != actor.org_id:
                raise NotFoundError(f"case {case_id} not found", kind="case", id=case_id)
            rows = s.scalars(
                select(AuditEvent)
                .where(AuditEvent.chain == actor.org_code, AuditEvent.case_id == case_id)
                .order_by(AuditEvent.seq)
            )
            return [_event_view(e) for e in rows]

    def _case_view(self, s: Session, case: Case) -> CaseView:
        owner = s.get(User, case.owner_id)
        org = s.get(Organisation, case.org_id)
        answers = _load_answers(s, case.id)
        results = list(s.scalars(select(ChecklistResult).where(ChecklistResult.case_id == case.id)
                                 .order_by(ChecklistResult.item_id)))
        rows = list(s.scalars(select(Decision).where(Decision.case_id == case.id)
                              .order_by(Decision.id)))
        user_ids = {r.updated_by for r in results} | {d.actor_id for d in rows}
        names = dict(s.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all()) \
            if user_ids else {}
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
        pack = self._case_pack(case)
        classification = None
        if pack is not None:
            from procurement.packs import classify

            classification = classify(pack, answers)
        summary = _summary(case, owner.display_name, org.code)
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

    # -- cases: writing -----------------------------------------------------------------------

    def create_case(
        self, actor: Actor, title: str, department: str, pack_ref: str | None = None,
        answers: Mapping[str, Any] | None = None, purpose: str = "",
    ) -> CaseView:
        """A new draft case, classified from `answers` (planner); `purpose` (利用目的) is optional
        here and may be written later with `save_case_details`."""
        with self.unit_of_work(actor, roles={"planner"}) as uow:
            case = self._create_case(uow, title, department, pack_ref, answers, where="",
                                     purpose=purpose)
            return self._case_view(uow.session, case)

    def save_case_details(
        self, actor: Actor, case_id: int, fields: Mapping[str, Any], expected_version: int,
    ) -> CaseView:
        """Save some or all intake details of a case (CASE_DETAIL_FIELDS: title, department,
        purpose), with the same role, organisation and status checks as `save_answers`.

        These details say what the case is; they are not assessed (no rule reads them, and an
        approval is pinned to the answers hash and the pack fingerprint, which they do not
        change). So editing them does NOT void an approval and does not re-classify: renaming a
        department or clarifying the purpose of an approved (or running) system must not send
        it back through review. The event `case.details_saved` records every old and new value,
        so the change stays visible in the case history and the audit log.
        """
        if not isinstance(fields, Mapping):
            raise InputError("fields must be a mapping of field name -> text", value=fields)
        unknown = sorted(set(fields) - set(CASE_DETAIL_FIELDS))
        if unknown:
            raise InputError(
                f"unknown case detail field(s) {', '.join(map(str, unknown))}; allowed: "
                f"{', '.join(CASE_DETAIL_FIELDS)}", field=str(unknown[0]), fields=unknown,
                allowed=list(CASE_DETAIL_FIELDS),
            )
        values = {name: _case_detail(name, value, where="") for name, value in fields.items()}
        with self.unit_of_work(actor, roles={"planner"}) as uow:
            case = uow.load_case(case_id, expected_version)
            _check_editable(case)
            changes = {
                name: {"old": getattr(case, name), "new": value}
                for name, value in values.items() if getattr(case, name) != value
            }
            if not changes:
                return self._case_view(uow.session, case)
            for name, change in changes.items():
                setattr(case, name, change["new"])
            uow.touch(case)
            uow.audit("case.details_saved", case.id, {"changes": changes})
            return self._case_view(uow.session, case)

    def _create_case(self, uow: UnitOfWork, title: Any, department: Any, pack_ref: Any,
                     answers: Any, where: str, purpose: Any = "") -> Case:
        title = _case_detail("title", title, where)
        department = _case_detail("department", department, where)
        purpose = _case_detail("purpose", purpose, where)
        if pack_ref is not None and not isinstance(pack_ref, str):
            raise InputError(f"{where}pack must be a pack reference such as 'jp-national@2'",
                             field=f"{where}pack", value=pack_ref)
        if answers is None:
            answers = {}
        if not isinstance(answers, Mapping):
            raise InputError(f"{where}answers must be an object of question id -> value",
                             field=f"{where}answers", value=answers)
        answers = {k: v for k, v in answers.items() if v is not None}
        org = uow.session.get(Organisation, uow.actor.org_id)
        pack = self._pack_for(org, pack_ref, uow.now.astimezone(JST).date())
        result = _classify(pack, answers)
        case = Case(
            org_id=org.id, title=title, department=department, purpose=purpose,
            owner_id=_user_id(uow.actor),
            status="draft", pack_id=pack.id, pack_version=str(pack.version),
            pack_fingerprint=pack.fingerprint, level=result.level,
            is_complete=bool(result.complete), has_blocking=bool(result.blocking),
            answers_hash=answers_hash(answers), version=1, created_at=uow.now,
            updated_at=uow.now,
        )
        uow.session.add(case)
        uow.session.flush()
        for qid, value in answers.items():
            uow.session.add(Answer(case_id=case.id, question_id=qid, value=_dump(value),
                                   answered_by=_user_id(uow.actor), answered_at=uow.now))
        self._add_decision(uow, case, "classification", "")
        uow.audit("case.created", case.id, {
            "title": title, "department": department, "purpose": purpose, "pack": pack.ref,
            "answers": answers,
            "answers_hash": case.answers_hash, "level": case.level,
            "complete": case.is_complete, "blocking": [f.id for f in result.blocking],
        })
        return case

    def save_answers(
        self, actor: Actor, case_id: int, answers: Mapping[str, Any], expected_version: int,
    ) -> CaseView:
        """Merge `answers` into the case (a None value clears that answer) and re-classify."""
        if not isinstance(answers, Mapping):
            raise InputError("answers must be a mapping of question id -> value", value=answers)
        with self.unit_of_work(actor, roles={"planner"}) as uow:
            case = uow.load_case(case_id, expected_version)
            _check_editable(case)
            s = uow.session
            rows = {a.question_id: a for a in s.scalars(select(Answer).where(Answer.case_id == case.id))}
            current = {q: json.loads(a.value) for q, a in rows.items()}
            merged = dict(current)
            for qid, value in answers.items():
                if value is None:
                    merged.pop(qid, None)
                else:
                    merged[qid] = value
            changes = {
                q: {"old": current.get(q), "new": merged.get(q)}
                for q in sorted(set(current) | set(merged)) if current.get(q) != merged.get(q)
            }
            if not changes:
                return self._case_view(s, case)
            pack = self._require_case_pack(case)
            result = _classify(pack, merged)
            for qid, change in changes.items():
                row = rows.get(qid)
                if change["new"] is None:
                    s.delete(row)
                elif row is None:
                    s.add(Answer(case_id=case.id, question_id=qid, value=_dump(change["new"]),
                                 answered_by=_user_id(actor), answered_at=uow.now))
                else:
                    row.value = _dump(change["new"])
                    row.answered_by = _user_id(actor)
                    row.answered_at = uow.now
            old_level = case.level
            case.answers_hash = answers_hash(merged)
            case.level = result.level
            case.is_complete = bool(result.complete)
            case.has_blocking = bool(result.blocking)
            uow.touch(case)
            uow.audit("case.answers_saved", case.id, {
                "changes": changes, "answers_hash": case.answers_hash, "level": case.level,
                "complete": case.is_complete, "blocking": [f.id for f in result.blocking],
            })
            if old_level != case.level:
                self._add_decision(uow, case, "classification", "")
                uow.audit("case.classified", case.id, {"old": old_level, "new": case.level})
            self._void_approval(uow, case, void_reason("answers"))
            return self._case_view(s, case)

    def set_checklist_item(
        self, actor: Actor, case_id: int, item_id: str, status: str, evidence: str,
        expected_version: int,
    ) -> CaseView:
        """Record the status and evidence of one checklist item."""
        with self.unit_of_work(actor, roles={"planner"}) as uow:
            case = uow.load_case(case_id, expected_version)
            _check_editable(case)
            pack = self._require_case_pack(case)
            status, evidence = _checklist_value(pack, item_id, status, evidence, where="")
            s = uow.session
            row = s.scalar(select(ChecklistResult).where(
                ChecklistResult.case_id == case.id, ChecklistResult.item_id == item_id))
            old = None if row is None else {"status": row.status, "evidence": row.evidence}
            new = {"status": status, "evidence": evidence}
            if old == new:
                return self._case_view(s, case)
            if row is None:
                s.add(ChecklistResult(case_id=case.id, item_id=item_id, status=status,
                                      evidence=evidence, updated_by=_user_id(actor),
                                      updated_at=uow.now))
            else:
                row.status, row.evidence = status, evidence
                row.updated_by, row.updated_at = _user_id(actor), uow.now
            uow.touch(case)
            uow.audit("case.checklist_set", case.id, {"item_id": item_id, "old": old, "new": new})
            self._void_approval(uow, case, void_reason("checklist", item=item_id))
            return self._case_view(s, case)

    def save_board_report(
        self, actor: Actor, case_id: int, fields: Mapping[str, Any], expected_version: int,
    ) -> CaseView:
        """Save some or all fields of the board report (BOARD_REPORT_FIELDS)."""
        unknown = sorted(set(fields) - set(BOARD_REPORT_FIELDS))
        if unknown:
            raise InputError(
                f"unknown board report field(s) {', '.join(unknown)}; allowed: "
                f"{', '.join(BOARD_REPORT_FIELDS)}", fields=unknown, allowed=list(BOARD_REPORT_FIELDS),
            )
        for name, value in fields.items():
            if not isinstance(value, str):
                raise InputError(f"board report field {name} must be text", field=name, value=value)
        with self.unit_of_work(actor, roles={"planner"}) as uow:
            case = uow.load_case(case_id, expected_version)
            _check_editable(case)
            s = uow.session
            report = s.scalar(select(BoardReport).where(BoardReport.case_id == case.id))
            if report is None:
                report = BoardReport(case_id=case.id, updated_by=_user_id(actor), updated_at=uow.now,
                                     **{f: "" for f in BOARD_REPORT_FIELDS})
                s.add(report)
            changes = {
                name: {"old": getattr(report, name), "new": value}
                for name, value in fields.items() if getattr(report, name) != value
            }
            if not changes:
                return self._case_view(s, case)
            for name, change in changes.items():
                setattr(report, name, change["new"])
            report.updated_by, report.updated_at = _user_id(actor), uow.now
            uow.touch(case)
            uow.audit("case.board_report_saved", case.id, {"changes": changes})
            self._void_approval(uow, case, void_reason("board_report"))
            return self._case_view(s, case)

    def submit(self, actor: Actor, case_id: int, expected_version: int, comment: str = "") -> CaseView:
        """Send a draft (or returned) case for approval (planner), refused unless nothing is
        missing by `procurement.readiness.submission_gaps`: every applicable question answered,
        no blocking finding, every required checklist item settled, the board report filled in
        when that step applies.

        A refusal is a WorkflowError whose params carry `gaps` (`[{"kind", "id", "step"}]`, in
        the order the app lists them), `gap_count`, and the `unanswered` questions and
        `blocking` findings among them; its message lists every gap.
        """
        with self.unit_of_work(actor, roles={"planner"}) as uow:
            case = uow.load_case(case_id, expected_version)
            if case.status not in ("draft", "returned"):
                raise WorkflowError(f"case {case.id} is {case.status}; only a draft or returned "
                                    "case can be submitted", case_id=case.id, status=case.status)
            pack = self._require_same_pack(case)
            # The stored case as the app shows it: the same facts, the same rules.
            gaps = readiness.submission_gaps(pack, self._case_view(uow.session, case))
            if gaps:
                raise WorkflowError(
                    f"case {case.id} cannot be submitted; {len(gaps)} thing(s) missing: "
                    f"{readiness.describe_gaps(gaps)}",
                    case_id=case.id, gaps=[g.to_dict() for g in gaps], gap_count=len(gaps),
                    unanswered=[g.id for g in gaps if g.kind == "question"],
                    blocking=[g.id for g in gaps if g.kind == "blocking"],
                )
            return self._transition(uow, case, "submitted", "submission", comment)

    def return_case(self, actor: Actor, case_id: int, comment: str, expected_version: int) -> CaseView:
        """Send a submitted case back to its planner with a comment (reviewer)."""
        if not isinstance(comment, str) or not comment.strip():
            raise InputError("returning a case requires a comment saying what to change",
                             field="comment", case_id=case_id)
        with self.unit_of_work(actor, roles={"reviewer"}) as uow:
            case = uow.load_case(case_id, expected_version)
            if case.status != "submitted":
                raise WorkflowError(f"case {case.id} is {case.status}; only a submitted case can "
                                    "be returned", case_id=case.id, status=case.status)
            return self._transition(uow, case, "returned", "return", comment.strip())

    def approve(self, actor: Actor, case_id: int, expected_version: int, comment: str = "") -> CaseView:
        """Approve a submitted case (reviewer other than its owner); pinned to its answers hash
        and pack fingerprint."""
        with self.unit_of_work(actor, roles={"reviewer"}) as uow:
            case = uow.load_case(case_id, expected_version)
            if case.status != "submitted":
                raise WorkflowError(f"case {case.id} is {case.status}; only a submitted case can "
                                    "be approved", case_id=case.id, status=case.status)
            if case.owner_id == actor.user_id:
                raise WorkflowError(f"case {case.id}: the owner cannot approve their own case",
                                    case_id=case.id, username=actor.username)
            self._require_same_pack(case)
            case.approved_at = uow.now
            case.approval_voided_at = None
            case.approval_voided_reason = None
            return self._transition(uow, case, "approved", "approval", comment)

    def withdraw(self, actor: Actor, case_id: int, expected_version: int, comment: str = "") -> CaseView:
        """Abandon a case (planner); it stays on record, read-only."""
        with self.unit_of_work(actor, roles={"planner"}) as uow:
            case = uow.load_case(case_id, expected_version)
            if case.status not in WITHDRAWABLE_STATUSES:
                raise WorkflowError(f"case {case.id} is {case.status} and cannot be withdrawn",
                                    case_id=case.id, status=case.status)
            return self._transition(uow, case, "withdrawn", "withdrawal", comment)

    def import_cases(self, actor: Actor, entries: Any) -> list[CaseView]:
        """Create draft cases from `entries` (the `cases import` JSON array), all or nothing.

        Every entry is checked first; InputError lists each bad entry by index
        (`params["errors"] = [{"index", "reason"}]`) and nothing is written.
        """
        if not isinstance(entries, list):
            raise InputError("the import must be a JSON array of cases", value=type(entries).__name__)
        errors: list[dict[str, Any]] = []
        with self.unit_of_work(actor, roles={"planner"}) as uow:
            org = uow.session.get(Organisation, actor.org_id)
            on = uow.now.astimezone(JST).date()
            for i, entry in enumerate(entries):
                try:
                    self._check_import_entry(org, entry, on)
                except ProcurementError as exc:
                    errors.append({"index": i, "reason": exc.message})
            if errors:
                raise InputError(
                    f"{len(errors)} of {len(entries)} entries are invalid; nothing was imported: "
                    + "; ".join(f"[{e['index']}] {e['reason']}" for e in errors),
                    errors=errors,
                )
            ids = []
            for i, entry in enumerate(entries):
                case = self._create_case(uow, entry["title"], entry["department"], entry.get("pack"),
                                         entry.get("answers"), where=f"[{i}] ",
                                         purpose=entry.get("purpose", ""))
                pack = self._require_case_pack(case)
                for item_id, item in (entry.get("checklist") or {}).items():
                    status, evidence = _checklist_value(pack, item_id, item.get("status"),
                                                        item.get("evidence", ""), where="")
                    uow.session.add(ChecklistResult(
                        case_id=case.id, item_id=item_id, status=status, evidence=evidence,
                        updated_by=_user_id(actor), updated_at=uow.now))
                    uow.audit("case.checklist_set", case.id,
                              {"item_id": item_id, "old": None,
                               "new": {"status": status, "evidence": evidence}})
                ids.append(case.id)
        return [self.get_case(actor, i) for i in ids]

    def _check_import_entry(self, org: Organisation, entry: Any, on: date) -> None:
        if not isinstance(entry, dict):
            raise InputError("an entry must be an object with title, department and answers")
        allowed = {"title", "department", "purpose", "pack", "answers", "checklist"}
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise InputError(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
        for name in CASE_DETAIL_FIELDS:
            _case_detail(name, entry.get(name, ""), where="")
        if "answers" not in entry or not isinstance(entry["answers"], dict):
            raise InputError("answers must be an object of question id -> value")
        pack_ref = entry.get("pack")
        if pack_ref is not None and not isinstance(pack_ref, str):
            raise InputError(f"pack must be a pack reference such as 'jp-national@2', not {pack_ref!r}")
        pack = self._pack_for(org, pack_ref, on)
        _classify(pack, {k: v for k, v in entry["answers"].items() if v is not None})
        checklist = entry.get("checklist")
        if checklist is None:
            return
        if not isinstance(checklist, dict):
            raise InputError("checklist must be an object of item id -> {status, evidence}")
        for item_id, item in checklist.items():
            if not isinstance(item, dict):
                raise InputError(f"checklist item {item_id} must be an object with status and evidence")
            extra = sorted(set(item) - {"status", "evidence"})
            if extra:
                raise InputError(f"checklist item {item_id}: unknown key(s) {', '.join(extra)}")
            _checklist_value(pack, item_id, item.get("status"), item.get("evidence", ""), where="")

    # -- helpers ------------------------------------------------------------------------------

    def _require_case_pack(self, case: Case):
        pack = self._case_pack(case)
        if pack is None:
            raise WorkflowError(
                f"case {case.id} is assessed under {case.pack_id}@{case.pack_version}, which is no "
                "longer installed", case_id=case.id, pack=f"{case.pack_id}@{case.pack_version}",
            )
        return pack

    def _require_same_pack(self, case: Case):
        """The case's pack, refusing a decision if its content changed under the same version:
        a submission or approval must be pinned to the rules that were actually shown."""
        pack = self._require_case_pack(case)
        if pack.fingerprint != case.pack_fingerprint:
            raise WorkflowError(
                f"case {case.id}: pack {case.pack_id}@{case.pack_version} changed since the case was "
                f"assessed (fingerprint {case.pack_fingerprint[:12]} -> {pack.fingerprint[:12]}); "
                "re-assess the case first", case_id=case.id,
                stored=case.pack_fingerprint, current=pack.fingerprint,
            )
        return pack

    def _add_decision(self, uow: UnitOfWork, case: Case, kind: str, comment: str) -> None:
        uow.session.add(Decision(
            case_id=case.id, kind=kind, actor_id=_user_id(uow.actor), comment=comment,
            level=case.level, pack_id=case.pack_id, pack_version=case.pack_version,
            pack_fingerprint=case.pack_fingerprint, answers_hash=case.answers_hash,
            created_at=uow.now,
        ))

    def _transition(self, uow: UnitOfWork, case: Case, status: str, kind: str,
                    comment: str) -> CaseView:
        old = case.status
        case.status = status
        if status == "submitted":
            case.submitted_at = uow.now
        uow.touch(case)
        self._add_decision(uow, case, kind, comment or "")
        uow.audit(f"case.{status}", case.id, {
            "old_status": old, "new_status": status, "comment": comment or "",
            "level": case.level, "pack": f"{case.pack_id}@{case.pack_version}",
            "pack_fingerprint": case.pack_fingerprint, "answers_hash": case.answers_hash,
        })
        return self._case_view(uow.session, case)

    def _void_approval(self, uow: UnitOfWork, case: Case, reason: str) -> None:
        """An approval holds only for what was approved: any later change voids it."""
        if case.status not in VOIDABLE_STATUSES:
            return
        case.status = "draft"
        case.approval_voided_at = uow.now
        case.approval_voided_reason = reason
        self._add_decision(uow, case, "void", reason)
        uow.audit("approval.voided", case.id, {
            "reason": reason, "answers_hash": case.answers_hash,
            "pack_fingerprint": case.pack_fingerprint,
        })


# --------------------------------------------------------------------------------------------
# Module helpers


#: Why an approval was voided, as stored in `cases.approval_voided_reason` and the `void`
#: decision. Written by `void_reason` and read back by `parse_void_reason` only, so a reader (the
#: case list translates the cause) never depends on the wording.
VOID_REASONS = {
    "answers": "answers changed",
    "board_report": "board report changed",
    "checklist": "checklist item {item} changed",
    "reassessment": "re-assessment under {pack}: obligations grew ({growth}); the case needs "
                    "approval again",
}
_VOID_PATTERNS = {
    kind: re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+?)", re.escape(template)))
    for kind, template in VOID_REASONS.items()
}


def void_reason(kind: str, **params: str) -> str:
    """The stored text saying why an approval was voided (`kind` is a key of VOID_REASONS)."""
    return VOID_REASONS[kind].format(**params)


def parse_void_reason(text: str | None) -> tuple[str, dict[str, str]] | None:
    """The kind and parameters of a stored void reason, or None for text of another form."""
    for kind, pattern in _VOID_PATTERNS.items():
        if match := pattern.fullmatch((text or "").strip()):
            return kind, match.groupdict()
    return None


def national_edition_on(registry: Any, on: date):
    """The newest `jp-national` edition whose `effective_from` is on or before `on`. Among
    versions of the same edition (equal `effective_from`, e.g. 2.0.0 and its corrected
    reconstruction 2.1.0) the highest version wins."""
    candidates = [p for p in registry.versions(NATIONAL_PACK_ID)
                  if p.effective_from is not None and p.effective_from <= on]
    if not candidates:
        raise NotFoundError(f"no {NATIONAL_PACK_ID} edition is in force on {on.isoformat()}",
                            kind="pack", id=NATIONAL_PACK_ID, on=on.isoformat())
    return max(candidates, key=lambda p: (p.effective_from, p.version_tuple))


def _resolve_ref(registry: Any, ref: str, where: str):
    try:
        return registry.resolve(ref)
    except ProcurementError as exc:
        raise InputError(f"{where}: unknown rule pack {ref!r} ({exc.message})",
                         field=where, value=ref) from exc


def _classify(pack: Any, answers: Mapping[str, Any]):
    from procurement.packs import classify

    return classify(pack, dict(answers))


def _checklist_value(pack: Any, item_id: Any, status: Any, evidence: Any, where: str) -> tuple[str, str]:
    try:
        pack.item(item_id)
    except (KeyError, ProcurementError) as exc:
        raise InputError(f"{where}unknown checklist item {item_id!r} in {pack.id}@{pack.version}",
                         field="item_id", value=item_id) from exc
    if status not in CHECKLIST_STATUSES:
        raise InputError(
            f"{where}checklist item {item_id}: status {status!r} is not one of "
            f"{', '.join(CHECKLIST_STATUSES)}", field="status", value=status, item_id=item_id)
    if evidence is None:
        evidence = ""
    if not isinstance(evidence, str):
        raise InputError(f"{where}checklist item {item_id}: evidence must be text",
                         field="evidence", value=evidence, item_id=item_id)
    return status, evidence


def _check_editable(case: Case) -> None:
    if case.status not in EDITABLE_STATUSES:
        raise WorkflowError(
            f"case {case.id} is {case.status} and cannot be edited"
            + (" until a reviewer returns it" if case.status == "submitted" else ""),
            case_id=case.id, status=case.status,
        )


def _required_text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{name} is required (non-empty text)", field=name, value=value)
    return value.strip()


def _case_detail(name: str, value: Any, where: str) -> str:
    """One intake detail of a case, checked and trimmed: title and department are required
    and fit their columns; purpose is optional text of at most PURPOSE_MAX_LENGTH characters,
    its line ends made LF, without control characters (PostgreSQL cannot store NUL, and the
    reports must print what is stored)."""
    field_name = f"{where}{name}"
    if name != "purpose":
        text = _required_text(value, field_name)
        limit = CASE_DETAIL_MAX_LENGTHS[name]
        if len(text) > limit:
            raise InputError(f"{field_name} has {len(text)} characters; at most {limit} are allowed",
                             field=field_name, max_length=limit, length=len(text))
        return text
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InputError(f"{field_name} must be text, not {type(value).__name__}",
                         field=field_name, value=value, max_length=PURPOSE_MAX_LENGTH)
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) > PURPOSE_MAX_LENGTH:
        raise InputError(
            f"{field_name} has {len(text)} characters; at most {PURPOSE_MAX_LENGTH} are allowed",
            field=field_name, max_length=PURPOSE_MAX_LENGTH, length=len(text))
    bad = next((c for c in text if c not in "\n\t" and unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise InputError(
            f"{field_name} contains the control character U+{ord(bad):04X} at position "
            f"{text.index(bad) + 1}; use plain text", field=field_name,
            max_length=PURPOSE_MAX_LENGTH, position=text.index(bad) + 1)
    return text


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _load_answers(s: Session, case_id: int) -> dict[str, Any]:
    rows = s.execute(select(Answer.question_id, Answer.value).where(Answer.case_id == case_id))
    return {q: json.loads(v) for q, v in rows}


def _user_id(actor: Actor) -> int:
    if actor.user_id is None:
        raise PermissionDeniedError(
            "the command-line operator cannot own or decide cases; act as a named user",
            username=actor.username,
        )
    return actor.user_id


def _append(s: Session, actor: Actor, now: datetime, event_type: str, case_id: int | None,
            payload: Mapping[str, Any]) -> None:
    s.flush()
    audit.append_event(s, chain=actor.org_code, actor=actor.username, event_type=event_type,
                       case_id=case_id, payload=dict(payload), occurred_at=now)


def _org_actor(actor: Actor, org: Organisation) -> Actor:
    """The same person, writing to `org`'s chain (an administrator acting on another org)."""
    return Actor(actor.user_id, actor.username, actor.display_name, org.id, org.code, actor.roles)


def _org_by_code(s: Session, code: str) -> Organisation:
    org = s.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise NotFoundError(f"organisation {code!r} not found", kind="organisation", id=code)
    return org


def _new_org(s: Session, code: Any, name: Any, kind: Any, pack_ref: Any, now: datetime,
             registry: Any) -> Organisation:
    if not isinstance(code, str) or not code or not set(code) <= _CODE_CHARS or len(code) > 64:
        raise InputError(f"organisation code {code!r} must be 1-64 characters of a-z, 0-9, - and _",
                         field="code", value=code)
    name = _required_text(name, "name")
    if kind not in ORG_KINDS:
        raise InputError(f"organisation kind {kind!r} is not one of {', '.join(ORG_KINDS)}",
                         field="kind", value=kind)
    if pack_ref is not None:
        _resolve_ref(registry, pack_ref, where="pack_ref")
    if s.scalar(select(Organisation.id).where(Organisation.code == code)) is not None:
        raise InputError(f"organisation code {code!r} is already taken", field="code", value=code)
    org = Organisation(code=code, name=name, kind=kind, pack_ref=pack_ref, created_at=now)
    s.add(org)
    try:
        s.flush()
    except IntegrityError as exc:
        raise ConflictError(f"organisation code {code!r} was just taken", code_value=code) from exc
    return org


def _new_user(s: Session, org: Organisation, username: Any, display_name: Any, password: Any,
              roles: Iterable[str], now: datetime) -> User:
    if not isinstance(username, str) or not username.strip() or len(username) > 100 \
            or any(c.isspace() for c in username):
        raise InputError(f"username {username!r} must be 1-100 characters without spaces",
                         field="username", value=username)
    display_name = _required_text(display_name, "display_name")
    roles = sorted(set(roles or ()))
    bad = [r for r in roles if r not in ROLES]
    if not roles or bad:
        raise InputError(f"roles {roles!r}: give one or more of {', '.join(ROLES)}",
                         field="roles", value=roles)
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
                         field="password", min_length=MIN_PASSWORD_LENGTH)
    if s.scalar(select(User.id).where(User.username == username)) is not None:
        raise InputError(f"username {username!r} is already taken", field="username", value=username)
    user = User(org_id=org.id, username=username, display_name=display_name,
                password_hash=hash_password(password), roles=",".join(roles), is_active=True,
                failed_logins=0, created_at=now)
    s.add(user)
    try:
        s.flush()
    except IntegrityError as exc:
        raise ConflictError(f"username {username!r} was just taken", value=username) from exc
    return user


def _other_active_admins(s: Session, user: User) -> int:
    """How many active administrators there are besides `user`."""
    others = s.scalars(select(User.roles).where(User.is_active.is_(True), User.id != user.id))
    return sum(1 for roles in others if "admin" in roles.split(","))


def _user_by_name(s: Session, username: str) -> User:
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"user {username!r} not found", kind="user", id=username)
    return user


def _check_password(password: Any) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
                         field="password", min_length=MIN_PASSWORD_LENGTH)


def _actor(user: User, org: Organisation) -> Actor:
    return Actor(user.id, user.username, user.display_name, org.id, org.code,
                 frozenset(r for r in user.roles.split(",") if r))


def _org_payload(org: Organisation) -> dict[str, Any]:
    return {"code": org.code, "name": org.name, "kind": org.kind, "pack_ref": org.pack_ref}


def _user_payload(user: User) -> dict[str, Any]:
    # Never the password or its hash.
    return {"username": user.username, "display_name": user.display_name,
            "roles": user.roles.split(",")}


def _org_view(o: Organisation) -> OrgView:
    return OrgView(o.id, o.code, o.name, o.kind, o.pack_ref, o.created_at)


def _user_view(u: User, o: Organisation) -> UserView:
    return UserView(u.id, o.code, u.username, u.display_name,
                    tuple(r for r in u.roles.split(",") if r), u.is_active, u.locked_until,
                    u.last_login_at, u.created_at)


def _summary(c: Case, owner_name: str, org_code: str) -> CaseSummary:
    return CaseSummary(
        c.id, org_code, c.title, c.department, c.owner_id, owner_name, c.status, c.pack_id,
        c.pack_version, c.pack_fingerprint, c.level, c.is_complete, c.has_blocking, c.version,
        c.created_at, c.updated_at, c.submitted_at, c.approved_at, c.approval_voided_at,
        c.approval_voided_reason, c.purpose,
    )


def _event_view(e: AuditEvent) -> EventView:
    return EventView(e.id, e.chain, e.seq, e.occurred_at, e.actor, e.event_type, e.case_id,
                     json.loads(e.payload), e.hash)
