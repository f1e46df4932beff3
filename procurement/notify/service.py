"""`NotificationService`: who is told what, sending what is queued, and the administrator's view.

    queue_case_notice(uow, registry, case, "case_submitted")  # in the workflow's unit of work
    svc.deliver_notifications() -> DeliveryReport        # any process; the app's worker, cron
    svc.queue_due_review_reminders() -> int              # `procurement notify run`
    svc.send_test_notification("someone@example.go.jp")  # `procurement notify test`
    svc.notification_overview(admin) -> NotificationOverview
    svc.retry_notifications(admin) -> int

Recipients are read when the change is made: a submission goes to the active reviewers of the
case's organisation who have an e-mail address (not the one submitting, not the case's owner); a
return or an approval goes to the case's owner; a review falling due goes to the owner and the
reviewers. Nothing is queued while notifications are off (no `PROCUREMENT_SMTP_HOST`), so
switching them on later does not send a backlog of stale news. A bad setting never blocks a
change: it is logged, and the change goes through without its message.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from procurement import fiscal
from procurement.caio.portfolio import OperationRow, next_review_due
from procurement.db.models import (
    Case,
    Decision,
    Notification,
    Operation,
    Organisation,
    User,
)
from procurement.errors import InputError
from procurement.notify import messages, outbox, sender
from procurement.notify.settings import SmtpSettings, case_link, smtp_settings
from procurement.records import policy
from procurement.records.core import ServiceCore, UnitOfWork
from procurement.records.views import Actor, case_pack

log = logging.getLogger(__name__)

#: Days before a periodic review falls due that its reminder is sent.
REMINDER_LEAD_DAYS = 7
#: Messages claimed per round by one sender.
BATCH = 50


@dataclass(frozen=True)
class DeliveryReport:
    """What one `deliver_notifications` call did (`off`: notifications are not configured;
    `problem`: the settings are wrong, in words safe to show)."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    off: bool = False
    problem: str = ""


@dataclass(frozen=True)
class NotificationRow:
    """A message as the administrator sees it (no body: it may hold case details)."""

    id: int
    kind: str
    recipient: str
    case_id: int | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class NotificationOverview:
    """The outbox for the administration page: the settings (never the password), how many
    messages are in each status, and the messages that failed or are being retried."""

    settings: dict[str, str] | None
    problem: str
    counts: dict[str, int] = field(default_factory=dict)
    troubled: tuple[NotificationRow, ...] = ()


def current_settings() -> tuple[SmtpSettings | None, str]:
    """(settings or None, problem text): a bad setting is reported, not raised."""
    try:
        return smtp_settings(), ""
    except InputError as exc:
        return None, exc.message


def _recipients(s: Session, org_id: int, *, roles: str | None = None,
                user_ids: set[int] | None = None, exclude: set[int | None]) -> list[User]:
    """Active users of the organisation with an e-mail address: holding `roles`, or among
    `user_ids`; never those in `exclude`."""
    stmt = select(User).where(User.org_id == org_id, User.is_active.is_(True),
                              User.email.is_not(None))
    if user_ids is not None:
        stmt = stmt.where(User.id.in_(user_ids))
    users = [u for u in s.scalars(stmt.order_by(User.id)) if u.id not in exclude and u.email]
    if roles is not None:
        users = [u for u in users if roles in u.roles.split(",")]
    return users


def _facts(registry, case: Case, base: str | None) -> messages.CaseFacts:
    pack = case_pack(registry, case)
    level = case.level or ""
    if pack is not None and case.level:
        label = next((lv.label for lv in pack.levels if lv.id == case.level), None)
        level = (label or {}).get("ja") or case.level
    return messages.CaseFacts(case.id, case.title, case.department, level or "-",
                              case_link(case.id, base))


def queue_case_notice(uow: UnitOfWork, registry, case: Case, kind: str) -> int:
    """Queue the messages a workflow step sends (`case_submitted`, `case_returned`,
    `case_approved`) in the step's own transaction; returns how many."""
    settings, problem = current_settings()
    if settings is None:
        if problem:
            log.warning("notifications not queued: %s", problem)
        return 0
    s = uow.session
    actor_id = uow.actor.user_id
    facts = _facts(registry, case, settings.base_url)
    by = uow.actor.display_name
    if kind == "case_submitted":
        resubmitted = (s.scalar(select(func.count()).select_from(Decision).where(
            Decision.case_id == case.id, Decision.kind == "submission")) or 0) > 1
        message = messages.submitted(facts, by, resubmitted)
        people = [(u, message) for u in _recipients(
            s, case.org_id, roles="reviewer", exclude={actor_id, case.owner_id})]
    elif kind in ("case_returned", "case_approved"):
        build = messages.returned if kind == "case_returned" else messages.approved
        people = [(u, build(facts, by, u.display_name)) for u in _recipients(
            s, case.org_id, user_ids={case.owner_id}, exclude={actor_id})]
    else:
        raise ValueError(f"not a workflow notice: {kind!r}")
    for user, message in people:
        outbox.queue(s, kind=kind, recipient=user.email or "", message=message, now=uow.now,
                     user_id=user.id, org_code=uow.actor.org_code, case_id=case.id)
    return len(people)


class NotificationService(ServiceCore):
    """Queueing, sending and looking after e-mail notifications."""

    # -- queueing ----------------------------------------------------------------------------

    def queue_due_review_reminders(self, *, lead_days: int = REMINDER_LEAD_DAYS) -> int:
        """Queue one reminder per person for every system whose periodic review falls due
        within `lead_days` (or is overdue), once per due date; returns how many were queued."""
        settings, problem = current_settings()
        if settings is None:
            if problem:
                log.warning("review reminders not queued: %s", problem)
            return 0
        with self._transaction() as s:
            now = self.now()
            horizon = fiscal.to_jst(now).date() + timedelta(days=lead_days)
            rows = s.execute(
                select(Operation, Case, Organisation.code)
                .join(Case, Operation.case_id == Case.id)
                .join(Organisation, Case.org_id == Organisation.id)
                .where(Case.status == "in_operation", Operation.ended_on.is_(None))
                .order_by(Case.id)).all()
            queued = 0
            for op, case, org_code in rows:
                due = next_review_due(OperationRow(
                    case_id=case.id, started_on=op.started_on,
                    review_interval_months=op.review_interval_months,
                    last_reviewed_on=op.last_reviewed_on, ended_on=op.ended_on))
                if due is None or due > horizon:
                    continue
                facts = _facts(self.registry, case, settings.base_url)
                people = {u.id: u for u in _recipients(s, case.org_id, user_ids={case.owner_id},
                                                        exclude=set())}
                for u in _recipients(s, case.org_id, roles="reviewer", exclude=set()):
                    people.setdefault(u.id, u)
                keys = {uid: f"review_due:{case.id}:{due.isoformat()}:{uid}" for uid in people}
                known = set(s.scalars(select(Notification.dedupe_key).where(
                    Notification.dedupe_key.in_(list(keys.values())))))
                for uid, user in people.items():
                    if keys[uid] in known:
                        continue
                    outbox.queue(s, kind="review_due", recipient=user.email or "",
                                 message=messages.review_due(facts, due, user.display_name),
                                 now=now, user_id=uid, org_code=org_code, case_id=case.id,
                                 dedupe_key=keys[uid])
                    queued += 1
            return queued

    # -- sending -----------------------------------------------------------------------------

    def deliver_notifications(self, *, limit: int | None = None) -> DeliveryReport:
        """Send what is due, batch by batch, until nothing due is left (or `limit` messages
        were tried). Safe to run in several processes at once (see `procurement.notify.outbox`)."""
        settings, problem = current_settings()
        if settings is None:
            return DeliveryReport(off=not problem, problem=problem)
        token = secrets.token_hex(16)
        # Due as of the start: a message that fails now is rescheduled after this moment, so
        # one call tries each message once.
        started = self.now()
        sent = retrying = failed = tried = 0
        while limit is None or tried < limit:
            batch = BATCH if limit is None else min(BATCH, limit - tried)
            with self._transaction() as s:
                claimed = outbox.claim(s, now=started, token=token, limit=batch)
            if not claimed:
                break
            for message in claimed:
                tried += 1
                error, permanent = None, False
                try:
                    sender.send(settings, message.recipient, message.subject, message.body)
                except sender.SendError as exc:
                    error, permanent = str(exc), exc.permanent
                with self._transaction() as s:
                    status = outbox.settle(s, message, token=token, now=self.now(), error=error,
                                           permanent=permanent)
                if status == "sent":
                    sent += 1
                    log.info("notification %d sent", message.id)
                elif status == "queued":
                    retrying += 1
                    log.warning("notification %d not sent (attempt %d), will retry: %s",
                                message.id, message.attempts, error)
                elif status == "failed":
                    failed += 1
                    log.warning("notification %d not sent, given up after %d attempt(s): %s",
                                message.id, message.attempts, error)
        return DeliveryReport(sent=sent, retrying=retrying, failed=failed)

    def send_test_notification(self, to: str) -> SmtpSettings:
        """Send one test message to `to` now (not through the outbox: the operator wants the
        answer at once). Returns the settings used; InputError when notifications are off or
        misconfigured, `sender.SendError` when the server refuses."""
        from procurement.records import checks

        address = checks.email(to, "to")
        if address is None:
            raise InputError("give the address to send the test message to", field="to")
        settings = smtp_settings()
        if settings is None:
            raise InputError("notifications are off: set PROCUREMENT_SMTP_HOST (and "
                             "PROCUREMENT_SMTP_FROM)", field="PROCUREMENT_SMTP_HOST")
        message = messages.trial_message(address)
        sender.send(settings, address, message.subject, message.body)
        return settings

    # -- the administrator's view -----------------------------------------------------------

    def notification_overview(self, actor: Actor, *, limit: int = 50) -> NotificationOverview:
        """The outbox at a glance (administrators)."""
        policy.require(actor, "notify.manage")
        settings, problem = current_settings()
        with self.read() as s:
            counts = {status: n for status, n in s.execute(
                select(Notification.status, func.count()).group_by(Notification.status))}
            rows = s.scalars(
                select(Notification)
                .where((Notification.status == "failed")
                       | ((Notification.status.in_(("queued", "sending")))
                          & (Notification.attempts > 0)))
                .order_by(Notification.id.desc()).limit(limit))
            troubled = tuple(NotificationRow(
                r.id, r.kind, r.recipient, r.case_id, r.status, r.attempts, r.next_attempt_at,
                r.last_error, r.created_at, r.sent_at) for r in rows)
        return NotificationOverview(
            settings=settings.describe() if settings is not None else None, problem=problem,
            counts={status: counts.get(status, 0) for status in outbox.STATUSES},
            troubled=troubled)

    def retry_notifications(self, actor: Actor) -> int:
        """Give every failed message a fresh start (administrators); returns how many."""
        policy.require(actor, "notify.manage")
        with self.unit_of_work(actor, "notify.manage") as uow:
            return outbox.retry_failed(uow.session, uow.now)
