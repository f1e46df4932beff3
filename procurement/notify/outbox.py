"""The outbox table: queueing a message, claiming messages to send, recording the outcome.

Queueing happens inside the caller's transaction (the one that writes the change and its audit
event), so a message exists exactly when its change was committed. Sending happens outside any
transaction, in three steps:

1. `claim` (one short transaction) picks due messages and marks them `sending` with this
   sender's token. On PostgreSQL the rows are read `FOR UPDATE SKIP LOCKED`, so two processes
   claiming at once get different messages; on SQLite the transaction starts with
   `BEGIN IMMEDIATE` (`procurement.db.engine`), so it holds the database's write lock and claims
   run one after the other. A claim that was never settled (its process died) is taken over after
   `CLAIM_LEASE`, far longer than one send may take (`sender.TIMEOUT_S`).
2. The caller sends each message.
3. `settle` records `sent`, or schedules the next attempt with back-off, or gives up (`failed`)
   after MAX_ATTEMPTS or on a permanent refusal. It only touches a row still holding the
   caller's token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from procurement.db.models import Notification
from procurement.notify.messages import Message

#: What a message is about (words: vocabulary kind `notification_kind`).
KINDS = ("case_submitted", "case_returned", "case_approved", "review_due")
#: Where a message is (words: vocabulary kind `notification_status`).
STATUSES = ("queued", "sending", "sent", "failed")
#: Attempts before a message is given up (`failed`; an administrator may retry it).
MAX_ATTEMPTS = 8
#: Minutes to wait before the next attempt, after the 1st, 2nd, ... failure (then the last).
BACKOFF_MINUTES = (1, 5, 15, 60, 180, 360, 720)
#: How long a claim holds before another process may take the message over.
CLAIM_LEASE = timedelta(minutes=10)
#: The longest error text kept.
ERROR_MAX_LENGTH = 500


@dataclass(frozen=True)
class Claimed:
    """A message claimed for sending."""

    id: int
    recipient: str
    subject: str
    body: str
    attempts: int


def queue(s: Session, *, kind: str, recipient: str, message: Message, now: datetime,
          user_id: int | None = None, org_code: str | None = None, case_id: int | None = None,
          dedupe_key: str | None = None) -> Notification:
    """Add a message to the outbox in the caller's transaction; due at once."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    row = Notification(kind=kind, org_code=org_code, case_id=case_id, recipient=recipient,
                       recipient_user_id=user_id, subject=message.subject, body=message.body,
                       dedupe_key=dedupe_key, status="queued", attempts=0, next_attempt_at=now,
                       last_error="", created_at=now)
    s.add(row)
    return row


def claim(s: Session, *, now: datetime, token: str, limit: int) -> list[Claimed]:
    """Mark up to `limit` due messages as being sent by `token` and return them (oldest due
    first). Call in a transaction of its own, committed before sending."""
    due = or_(
        and_(Notification.status == "queued", Notification.next_attempt_at <= now),
        and_(Notification.status == "sending", Notification.claimed_at < now - CLAIM_LEASE),
    )
    rows = list(s.scalars(
        select(Notification).where(due)
        .order_by(Notification.next_attempt_at, Notification.id).limit(limit)
        .with_for_update(skip_locked=True)))
    claimed = []
    for row in rows:
        row.status = "sending"
        row.claimed_at = now
        row.claim_token = token
        row.attempts += 1
        claimed.append(Claimed(row.id, row.recipient, row.subject, row.body, row.attempts))
    return claimed


def next_attempt(now: datetime, attempts: int) -> datetime:
    """When to try again after `attempts` failed attempts."""
    minutes = BACKOFF_MINUTES[min(max(attempts, 1), len(BACKOFF_MINUTES)) - 1]
    return now + timedelta(minutes=minutes)


def settle(s: Session, claimed: Claimed, *, token: str, now: datetime, error: str | None = None,
           permanent: bool = False) -> str | None:
    """Record the outcome of sending a claimed message; returns its new status (None when the
    claim was lost: another process took the message over after the lease)."""
    row = s.get(Notification, claimed.id, with_for_update=True)
    if row is None or row.status != "sending" or row.claim_token != token:
        return None
    row.claim_token = None
    if error is None:
        row.status, row.sent_at, row.last_error = "sent", now, ""
    else:
        row.last_error = error[:ERROR_MAX_LENGTH]
        if permanent or row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
        else:
            row.status, row.next_attempt_at = "queued", next_attempt(now, row.attempts)
    return row.status


def retry_failed(s: Session, now: datetime, ids: Sequence[int] | None = None) -> int:
    """Give failed messages (all, or those of `ids`) a fresh start now; returns how many."""
    stmt = select(Notification).where(Notification.status == "failed")
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(list(ids)))
    rows = list(s.scalars(stmt))
    for row in rows:
        row.status, row.attempts, row.next_attempt_at = "queued", 0, now
    return len(rows)
