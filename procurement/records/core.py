"""The core every service shares: the clock, the one read path and the one write kit.

    with svc.read() as s: ...                                  # procurement.db.read_session
    with svc.unit_of_work(actor, "case.edit") as uow:          # one audited write transaction
        case = uow.load_case(case_id, expected_version)
        ...                                                     # change ORM objects
        uow.touch(case)                                         # version += 1, updated_at
        uow.audit("case.answers_saved", case.id, {...})         # appended in this transaction
        uow.void_approval(case, VoidReason("answers_changed"))  # decision + event, if approved

The unit of work checks the actor (the action's roles, the account as stored now), carries the
time of the change, writes decisions and voids approvals the one way the audit trail expects,
and appends events to the right organisation's chain. Every module that writes (records,
operation, incidents, installed packs, re-assessment) uses it; nothing else writes audit rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from procurement import audit
from procurement.db.errors import database_errors
from procurement.db.models import Case, Decision, Organisation, User
from procurement.db.reading import read_session
from procurement.errors import ConflictError, NotFoundError, PermissionDeniedError
from procurement.packs import PackRegistry
from procurement.records import policy
from procurement.records.views import Actor
from procurement.vocabulary import VoidReason


def utc_now() -> datetime:
    """The default clock: now, timezone-aware UTC."""
    return datetime.now(UTC)


class UnitOfWork:
    """One write transaction on behalf of an actor: load, change, audit; committed on exit."""

    def __init__(self, session: Session, actor: Actor, now: datetime) -> None:
        self.session = session
        self.actor = actor
        self.now = now

    # -- loading --------------------------------------------------------------------------------

    def load_case(self, case_id: int, expected_version: int | None = None) -> Case:
        """The case, if it belongs to the actor's organisation (NotFoundError otherwise);
        ConflictError when `expected_version` is given and differs from the stored one."""
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

    def user_id(self, doing: str = "do this") -> int:
        """The acting user's id; the command-line operator (no account) cannot own records."""
        if self.actor.user_id is None:
            raise PermissionDeniedError(
                f"the command-line operator cannot {doing}; act as a named user",
                username=self.actor.username,
            )
        return self.actor.user_id

    # -- changing -------------------------------------------------------------------------------

    def touch(self, case: Case) -> None:
        """Mark the case changed: next version, updated now. Every change to a case calls it, so
        the next stale copy is detected (`cases.version` is the ORM's version counter)."""
        case.version = case.version + 1
        case.updated_at = self.now

    def audit(self, event_type: str, case_id: int | None, payload: Mapping[str, Any], *,
              org: Organisation | None = None) -> None:
        """Append an event, inside this transaction, to the chain of `org` (default: the actor's
        organisation; an administrator acting on another organisation records it there)."""
        self.session.flush()  # the change precedes its event (and ids exist)
        body = dict(payload)
        if self.actor.via != "app":
            body["via"] = self.actor.via
        audit.append_event(
            self.session,
            chain=org.code if org is not None else self.actor.org_code,
            actor=self.actor.username,
            event_type=event_type,
            case_id=case_id,
            payload=body,
            occurred_at=self.now,
        )

    def audit_many(self, events: Iterable[tuple[str, int | None, Mapping[str, Any]]]) -> None:
        """Append several events (type, case id, payload) to the actor's chain in one statement,
        in order (a large import)."""
        self.session.flush()
        extra = {"via": self.actor.via} if self.actor.via != "app" else {}
        audit.append_events(self.session, self.actor.org_code, [
            audit.NewEvent(occurred_at=self.now, actor=self.actor.username,
                           event_type=event_type, case_id=case_id,
                           payload={**payload, **extra})
            for event_type, case_id, payload in events])

    def decide(self, case: Case, kind: str, comment: str = "") -> None:
        """Record a decision on `case`, pinned to its level, answers hash and exact pack."""
        self.session.add(Decision(
            case_id=case.id, kind=kind, actor_id=self.user_id("decide cases"), comment=comment,
            level=case.level, pack_id=case.pack_id, pack_version=case.pack_version,
            pack_fingerprint=case.pack_fingerprint, answers_hash=case.answers_hash,
            created_at=self.now,
        ))

    def transition(self, case: Case, status: str, kind: str, comment: str = "") -> None:
        """Move `case` to `status` with its decision and its `case.<status>` event."""
        old = case.status
        case.status = status
        if status == "submitted":
            case.submitted_at = self.now
        self.touch(case)
        self.decide(case, kind, comment or "")
        self.audit(f"case.{status}", case.id, {
            "old_status": old, "new_status": status, "comment": comment or "",
            "level": case.level, "pack": f"{case.pack_id}@{case.pack_version}",
            "pack_fingerprint": case.pack_fingerprint, "answers_hash": case.answers_hash,
        })

    def void_approval(self, case: Case, reason: VoidReason) -> bool:
        """An approval holds only for what was approved: a later change voids it (the case goes
        back to draft, with a `void` decision and an `approval.voided` event). Returns whether
        the case held an approval."""
        if case.status not in policy.HOLDS_APPROVAL_STATUSES:
            return False
        old_status = case.status
        case.status = "draft"
        case.approval_voided_at = self.now
        case.approval_voided_reason = reason.to_text()
        self.decide(case, "void", reason.to_text())
        self.audit("approval.voided", case.id, {
            "reason": reason.to_payload(), "old_status": old_status, "new_status": "draft",
            "answers_hash": case.answers_hash, "pack_fingerprint": case.pack_fingerprint,
        })
        return True


class ServiceCore:
    """The engine, the pack registry and the clock, with the read path and the write kit."""

    def __init__(self, engine: Engine, registry: PackRegistry,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.registry = registry
        self.clock = clock or utc_now
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def now(self) -> datetime:
        """The service clock's time, aware UTC."""
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError(f"the clock returned a naive datetime {now!r}")
        return now.astimezone(UTC)

    @contextmanager
    def read(self, *, snapshot: bool = False) -> Iterator[Session]:
        """A read transaction (`procurement.db.read_session`): never takes SQLite's write lock;
        `snapshot=True` for one consistent view across a report's queries."""
        with database_errors(self.engine.url), read_session(self.engine, snapshot=snapshot) as s:
            yield s

    @contextmanager
    def unit_of_work(self, actor: Actor, action: str | None = None) -> Iterator[UnitOfWork]:
        """A write transaction for `actor`, who must be allowed `action` (`policy.ACTIONS`).

        An actor holding only the auditor role never writes. The actor's browser session, if it
        has one, must not have ended (signed out, idle, revoked), and the account is checked as
        stored now (deactivated, or a role removed since sign-in: nothing is written). A stale write
        (someone saved the record in between) becomes ConflictError; any error rolls back.
        """
        from procurement.records.sessions import check_session

        _check_writer(actor, action)
        with self._transaction() as session:
            now = self.now()
            check_session(session, actor, now)
            _check_account(session, actor, action)
            yield UnitOfWork(session, actor, now)

    @contextmanager
    def _system_work(self, actor: Actor) -> Iterator[UnitOfWork]:
        """A write transaction without the actor checks: signing in (the actor is who is being
        authenticated) and the first-run setup (no account exists yet)."""
        with self._transaction() as session:
            yield UnitOfWork(session, actor, self.now())

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        try:
            with database_errors(self.engine.url), self._sessions() as session, session.begin():
                yield session
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


def _check_writer(actor: Actor, action: str | None) -> None:
    if policy.is_read_only(actor):
        raise PermissionDeniedError(
            f"{actor.username} is an auditor and may only read", username=actor.username,
            roles=sorted(actor.roles),
        )
    if action is not None:
        policy.require(actor, action)


def _check_account(session: Session, actor: Actor, action: str | None) -> None:
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
        _check_writer(replace(actor, roles=current), action)
