"""Signed-in browser sessions, kept on the server and referenced by an HttpOnly cookie.

    session_id, ticket = svc.start_session(actor, via="password", client="203.0.113.5")
    token = svc.exchange_ticket(ticket)       # the cookie route: one use, within TICKET_TTL
    actor = svc.resume_session(session_id=session_id)   # or token=<cookie value>
    svc.end_session(session_id)               # sign-out

A session is created at sign-in (password or single sign-on). The browser first receives a
one-time ticket and exchanges it, through a same-origin request, for the cookie token; only
SHA-256 hashes of both are stored. Every page run and every write resumes the session: a revoked
session (signed out, deactivated account, changed roles, new password) or an idle one (no
activity for `config.session_timeout_minutes()`) ends with `SessionEndedError` and is never
revived. The actor a session resumes is read from the account as stored now, and carries the
session id, so that the unit of work refuses any write of an ended session, whatever the page
did before (widget callbacks run before the page body).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from procurement import config
from procurement.db.models import Organisation, User, WebSession
from procurement.errors import AuthenticationError
from procurement.records.core import ServiceCore, UnitOfWork
from procurement.records.views import Actor, actor_of

#: How long a sign-in ticket can be exchanged for the cookie.
TICKET_TTL = timedelta(minutes=2)
#: `last_seen_at` is written at most this often (a session's activity, not every click).
TOUCH_INTERVAL = timedelta(seconds=15)
#: Why a session ended, as stored in `web_sessions.revoked_reason`.
END_REASONS = ("signed_out", "idle", "deactivated", "roles_changed", "password_reset", "revoked")


class SessionEndedError(AuthenticationError):
    """The session is no longer valid; `params["reason"]` is one of END_REASONS (or `unknown`)."""

    code = "session_ended"


def token_hash(token: str) -> str:
    """The stored form of a cookie token or ticket."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SessionService(ServiceCore):
    """Browser sessions."""

    def start_session(self, actor: Actor, *, via: str = "password",
                      client: str = "") -> tuple[int, str]:
        """A new session for the signed-in `actor`: (session id, one-time ticket)."""
        if actor.user_id is None:
            raise AuthenticationError("the command-line operator has no browser session",
                                      reason="no_account")
        ticket = secrets.token_urlsafe(32)
        with self._transaction() as s:
            now = self.now()
            row = WebSession(user_id=actor.user_id, ticket_hash=token_hash(ticket),
                             ticket_expires_at=now + TICKET_TTL, via=via, client=client[:100],
                             created_at=now, last_seen_at=now)
            s.add(row)
            s.flush()
            return row.id, ticket

    def exchange_ticket(self, ticket: str) -> str | None:
        """The cookie token for a live, unused ticket (None otherwise). One statement: two
        requests with the same ticket cannot both succeed."""
        if not isinstance(ticket, str) or not ticket or len(ticket) > 200:
            return None
        token = secrets.token_urlsafe(32)
        with self._transaction() as s:
            now = self.now()
            done = s.execute(
                update(WebSession)
                .where(WebSession.ticket_hash == token_hash(ticket),
                       WebSession.ticket_expires_at > now, WebSession.token_hash.is_(None),
                       WebSession.revoked_at.is_(None))
                .values(token_hash=token_hash(token), ticket_hash=None, ticket_expires_at=None)
            )
            return token if done.rowcount == 1 else None  # type: ignore[attr-defined]

    def resume_session(self, *, session_id: int | None = None,
                       token: str | None = None) -> Actor:
        """The actor of a live session, found by id (the tab that signed in) or by cookie token
        (a reload, a new tab). Ends an idle session; SessionEndedError when it has ended.

        Every page run calls this, so the common case is one read: a live session whose activity
        was recorded less than TOUCH_INTERVAL ago. Only recording activity or ending a session
        takes a write transaction."""
        now = self.now()
        with self.read() as s:
            row = _find(s, session_id, token, lock=False)
            if (row is not None and row.revoked_at is None
                    and now - row.last_seen_at < TOUCH_INTERVAL):
                user = s.get(User, row.user_id)
                if user is not None and user.is_active:
                    org = s.get(Organisation, user.org_id)
                    assert org is not None
                    return replace(actor_of(user, org), session_id=row.id)
        ended: SessionEndedError
        with self._transaction() as s:
            try:
                return _check_and_touch(s, _find(s, session_id, token), self.now())
            except _Ended as exc:
                ended = exc  # leave the block normally, so that the end is committed
        raise ended

    def end_session(self, session_id: int, reason: str = "signed_out") -> None:
        """End a session (sign-out); ending an ended session changes nothing."""
        with self._transaction() as s:
            s.execute(update(WebSession)
                      .where(WebSession.id == session_id, WebSession.revoked_at.is_(None))
                      .values(revoked_at=self.now(), revoked_reason=reason))



def check_session(s: Session, actor: Actor, now: datetime) -> None:
    """Inside a write: refuse an actor whose session has ended, and record its activity. The
    unit of work calls it for every actor that carries a session id; a write of an ended session
    is rolled back whole (the session is marked ended by the next page run)."""
    if actor.session_id is not None:
        _check_and_touch(s, s.get(WebSession, actor.session_id, with_for_update=True), now)


def revoke_user_sessions(uow: UnitOfWork, user: User, reason: str) -> None:
    """End every live session of `user` (deactivation, role change, new password)."""
    uow.session.execute(update(WebSession)
                        .where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
                        .values(revoked_at=uow.now, revoked_reason=reason))


def _find(s: Session, session_id: int | None, token: str | None, *,
          lock: bool = True) -> WebSession | None:
    if session_id is not None:
        return s.get(WebSession, session_id, with_for_update=lock)
    if token:
        stmt = select(WebSession).where(WebSession.token_hash == token_hash(token))
        return s.scalar(stmt.with_for_update() if lock else stmt)
    return None


def _check_and_touch(s: Session, row: WebSession | None, now: datetime) -> Actor:
    if row is None:
        raise SessionEndedError("no such session", reason="unknown")
    if row.revoked_at is not None:
        raise SessionEndedError(f"the session ended ({row.revoked_reason})",
                                reason=row.revoked_reason or "revoked")
    idle = timedelta(minutes=config.session_timeout_minutes())
    if now - row.last_seen_at > idle:
        row.revoked_at, row.revoked_reason = now, "idle"
        s.flush()
        raise _Ended(row, "idle")
    user = s.get(User, row.user_id)
    if user is None or not user.is_active:
        row.revoked_at, row.revoked_reason = now, "deactivated"
        s.flush()
        raise _Ended(row, "deactivated")
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
    org = s.get(Organisation, user.org_id)
    assert org is not None
    return replace(actor_of(user, org), session_id=row.id)


class _Ended(SessionEndedError):
    """A session that this very call ended: the end is committed before the error surfaces."""

    def __init__(self, row: WebSession, reason: str) -> None:
        super().__init__(f"the session ended ({reason})", reason=reason)
        self.session_id = row.id
