"""E-mail notifications against a real SMTP server on 127.0.0.1 (aiosmtpd), on SQLite and
PostgreSQL: who is told what, with which link; off without a host; a failure never blocks the
workflow and is retried with back-off, then given up and shown to the administrator; two senders
never send one message twice; due-review reminders once per due date; no secret in any row or
log line."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from procurement.db.models import Notification
from procurement.demo import HIGH, LOW
from procurement.errors import InputError, PermissionDeniedError
from procurement.notify import outbox, settings
from procurement.services import Services
from tests.fixtures.services import TEST_PASSWORD, approve_recorded, submit_filled
from tests.fixtures.smtp import BASE_URL, FROM, SmtpServer

pytestmark = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning")

PLANNER_MAIL = "hanako.kikaku@example.go.jp"
REVIEWER_MAIL = "ichiro.shinsa@example.go.jp"
REVIEWER2_MAIL = "jiro.shinsa@example.go.jp"


@pytest.fixture
def people(services, admin):
    """org-a: a planner and two reviewers with addresses, a reviewer without one, and org-b's
    reviewer with an address (who must never hear of org-a's cases)."""
    rows = (("org-a", "m-planner", "企画 花子", ["planner"], PLANNER_MAIL),
            ("org-a", "m-reviewer", "審査 一郎", ["reviewer"], REVIEWER_MAIL),
            ("org-a", "m-reviewer2", "審査 次郎", ["reviewer"], REVIEWER2_MAIL),
            ("org-a", "m-quiet", "審査 三郎", ["reviewer"], None),
            ("org-b", "m-other", "他省 審査", ["reviewer"], "other@example.go.jp"))
    for org, username, name, roles, address in rows:
        services.create_user(admin, org, username, name, TEST_PASSWORD, roles, email=address)
    return {r[1]: services.actor_for(r[1]) for r in rows}


def _submitted(svc, planner, answers=HIGH, title="国民向けFAQ"):
    return submit_filled(svc, planner, svc.create_case(planner, title, "広報室",
                                                       answers=dict(answers)))


def _rows(svc) -> list[Notification]:
    with svc.read() as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


# --------------------------------------------------------------------------- settings


def test_settings_are_read_from_the_environment():
    assert settings.smtp_settings({}) is None
    assert settings.smtp_settings({"PROCUREMENT_SMTP_HOST": "  "}) is None
    base = {"PROCUREMENT_SMTP_HOST": "smtp.example.go.jp", "PROCUREMENT_SMTP_FROM": FROM}
    plain = settings.smtp_settings(base)
    assert (plain.port, plain.starttls, plain.user, plain.base_url) == (25, False, None, None)
    tls = settings.smtp_settings({**base, "PROCUREMENT_SMTP_PORT": "587"})
    assert (tls.port, tls.starttls) == (587, True)
    explicit = settings.smtp_settings({**base, "PROCUREMENT_SMTP_STARTTLS": "yes",
                                       "PROCUREMENT_SMTP_USER": "relay",
                                       "PROCUREMENT_SMTP_PASSWORD": "s3cret-pw",
                                       "PROCUREMENT_BASE_URL": "https://ai.example.go.jp/"})
    assert (explicit.port, explicit.starttls, explicit.base_url) == (
        587, True, "https://ai.example.go.jp")
    assert "s3cret-pw" not in repr(explicit) and "s3cret-pw" not in str(explicit.describe())
    assert explicit.describe()["password"] == "set"
    assert settings.case_link(12, explicit.base_url) == "https://ai.example.go.jp/workspace?case=12"
    for bad, name in (({"PROCUREMENT_SMTP_PORT": "0"}, "PROCUREMENT_SMTP_PORT"),
                      ({"PROCUREMENT_SMTP_PORT": "smtp"}, "PROCUREMENT_SMTP_PORT"),
                      ({"PROCUREMENT_SMTP_STARTTLS": "perhaps"}, "PROCUREMENT_SMTP_STARTTLS"),
                      ({"PROCUREMENT_SMTP_FROM": ""}, "PROCUREMENT_SMTP_FROM"),
                      ({"PROCUREMENT_SMTP_FROM": "not an address"}, "PROCUREMENT_SMTP_FROM"),
                      ({"PROCUREMENT_BASE_URL": "ai.example.go.jp"}, "PROCUREMENT_BASE_URL")):
        with pytest.raises(InputError) as err:
            settings.smtp_settings({**base, **bad})
        assert err.value.params["field"] == name


# --------------------------------------------------------------------------- who hears what


def test_submit_return_and_approve_tell_the_right_people_with_the_case_link(
        services, people, smtp_env):
    planner, reviewer = people["m-planner"], people["m-reviewer"]
    case = _submitted(services, planner)
    assert [(r.kind, r.recipient) for r in _rows(services)] == [
        ("case_submitted", REVIEWER_MAIL), ("case_submitted", REVIEWER2_MAIL)]
    assert services.deliver_notifications().sent == 2
    link = f"{BASE_URL}/workspace?case={case.id}"
    for message in smtp_env.wait_for(2):
        assert message.mail_from == FROM
        assert message.subject == f"【生成AI調達】審査の依頼: #{case.id} 国民向けFAQ"
        assert link in message.body and "企画 花子 さんが次の案件を審査に提出しました。" in message.body
        assert message.message["Auto-Submitted"] == "auto-generated"
    assert sorted(r for m in smtp_env.received for r in m.rcpt_tos) == sorted(
        [REVIEWER_MAIL, REVIEWER2_MAIL])

    returned = services.return_case(reviewer, case.id, "根拠を添付してください", case.version)
    again = services.submit(planner, returned.id, returned.version)
    approve_recorded(services, reviewer, again)
    report = services.deliver_notifications()
    assert (report.sent, report.retrying, report.failed) == (4, 0, 0)
    messages = smtp_env.wait_for(6)[2:]
    to_planner = [m for m in messages if m.rcpt_tos == [PLANNER_MAIL]]
    assert [m.subject.split(":")[0] for m in to_planner] == ["【生成AI調達】差戻し",
                                                              "【生成AI調達】承認"]
    assert all(link in m.body and m.body.startswith("企画 花子 様") for m in to_planner)
    assert "審査 一郎 さんが次の案件を差し戻しました。" in to_planner[0].body
    resubmitted = [m for m in messages if m not in to_planner]
    assert {m.rcpt_tos[0] for m in resubmitted} == {REVIEWER_MAIL, REVIEWER2_MAIL}
    assert all("再提出しました" in m.body for m in resubmitted)
    assert not smtp_env.to("other@example.go.jp")
    assert {r.status for r in _rows(services)} == {"sent"}


def test_nobody_is_told_of_their_own_act(services, people, admin, smtp_env):
    """A dual-role owner submitting their own case is not sent the review request, and the
    reviewer who returns it is not told of the return."""
    services.create_user(admin, "org-a", "m-dual", "兼務 五郎", TEST_PASSWORD,
                         ["planner", "reviewer"], email="dual@example.go.jp")
    dual = services.actor_for("m-dual")
    case = _submitted(services, dual, LOW)
    assert "dual@example.go.jp" not in [r.recipient for r in _rows(services)]
    services.return_case(people["m-reviewer"], case.id, "要修正", case.version)
    returns = [r.recipient for r in _rows(services) if r.kind == "case_returned"]
    assert returns == ["dual@example.go.jp"]


def test_notifications_are_off_without_a_host(services, people, no_smtp):
    case = _submitted(services, people["m-planner"])
    services.return_case(people["m-reviewer"], case.id, "要修正", case.version)
    assert _rows(services) == []
    report = services.deliver_notifications()
    assert report.off and not report.problem and report.sent == 0


def test_a_bad_setting_never_blocks_the_workflow(services, people, no_smtp, monkeypatch, caplog):
    monkeypatch.setenv("PROCUREMENT_SMTP_HOST", "127.0.0.1")  # no PROCUREMENT_SMTP_FROM
    with caplog.at_level(logging.WARNING, logger="procurement.notify"):
        case = _submitted(services, people["m-planner"])
    assert services.get_case(people["m-planner"], case.id).status == "submitted"
    assert _rows(services) == []
    assert any("PROCUREMENT_SMTP_FROM" in r.getMessage() for r in caplog.records)
    report = services.deliver_notifications()
    assert report.problem and "PROCUREMENT_SMTP_FROM" in report.problem


# --------------------------------------------------------------------------- failures


class FrozenClock:
    """A clock that moves only when told (the outbox's back-off is measured against it)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_an_unreachable_server_is_retried_with_back_off_then_given_up(
        services, people, admin, smtp_server, smtp_env, monkeypatch):
    case = _submitted(services, people["m-planner"], LOW)  # two review requests queued
    assert services.get_case(people["m-planner"], case.id).status == "submitted"
    clock = services.clock = FrozenClock(datetime(2026, 7, 2, tzinfo=UTC))
    with SmtpServer() as stopped:
        dead_port = stopped.port
    monkeypatch.setenv("PROCUREMENT_SMTP_PORT", str(dead_port))
    report = services.deliver_notifications()
    assert (report.sent, report.retrying, report.failed) == (0, 2, 0)
    first = _rows(services)[0]
    assert first.status == "queued" and first.attempts == 1 and first.last_error
    assert first.next_attempt_at == clock.now + timedelta(minutes=outbox.BACKOFF_MINUTES[0])
    assert services.deliver_notifications().retrying == 0  # nothing due yet
    clock.now += timedelta(minutes=outbox.BACKOFF_MINUTES[0])
    assert services.deliver_notifications().retrying == 2
    assert _rows(services)[0].next_attempt_at == clock.now + timedelta(
        minutes=outbox.BACKOFF_MINUTES[1])

    for _attempt in range(3, outbox.MAX_ATTEMPTS + 1):
        clock.now += timedelta(hours=13)  # past the longest back-off
        report = services.deliver_notifications()
    assert report.failed == 2
    rows = _rows(services)
    assert {(r.status, r.attempts) for r in rows} == {("failed", outbox.MAX_ATTEMPTS)}
    gaps = [b - a for a, b in zip(outbox.BACKOFF_MINUTES, outbox.BACKOFF_MINUTES[1:])]
    assert all(g > 0 for g in gaps)  # each wait is longer than the one before

    overview = services.notification_overview(admin)
    assert overview.counts == {"queued": 0, "sending": 0, "sent": 0, "failed": 2}
    assert len(overview.troubled) == 2 and "ConnectionRefusedError" in overview.troubled[0].last_error
    with pytest.raises(PermissionDeniedError):
        services.notification_overview(people["m-reviewer"])
    # The administrator retries once the server is back: both go out.
    monkeypatch.setenv("PROCUREMENT_SMTP_PORT", str(smtp_server.port))
    assert services.retry_notifications(admin) == 2
    assert services.deliver_notifications().sent == 2
    assert len(smtp_env.wait_for(2)) == 2


def test_a_refused_recipient_is_given_up_at_once(services, people, smtp_server, smtp_env):
    smtp_server.inbox.refuse.add(REVIEWER2_MAIL)
    _submitted(services, people["m-planner"])
    report = services.deliver_notifications()
    assert (report.sent, report.failed) == (1, 1)
    refused = next(r for r in _rows(services) if r.recipient == REVIEWER2_MAIL)
    assert refused.status == "failed" and refused.attempts == 1
    assert "550" in refused.last_error


def test_two_senders_never_send_one_message_twice(services, people, smtp_env, engine,
                                                  records_registry):
    planner = people["m-planner"]
    for n in range(6):
        _submitted(services, planner, LOW, title=f"案件{n}")
    queued = len(_rows(services))
    assert queued == 12
    senders = [Services(engine, records_registry) for _ in range(3)]
    reports = []
    threads = [threading.Thread(target=lambda s=s: reports.append(s.deliver_notifications()))
               for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r.sent for r in reports) == queued
    arrived = smtp_env.wait_for(queued)
    assert len(arrived) == queued  # exactly once each
    assert len({(m.rcpt_tos[0], m.subject) for m in arrived}) == queued
    assert {r.status for r in _rows(services)} == {"sent"}


def test_a_claim_left_by_a_dead_process_is_taken_over_after_the_lease(services, people,
                                                                      smtp_env, service_clock):
    _submitted(services, people["m-planner"], LOW)
    with services._transaction() as s:
        claimed = outbox.claim(s, now=service_clock.now, token="dead", limit=10)
    assert len(claimed) == 2
    assert services.deliver_notifications().sent == 0  # still held by the dead claim
    service_clock.now += outbox.CLAIM_LEASE + timedelta(minutes=1)
    assert services.deliver_notifications().sent == 2
    # The dead process's late answer changes nothing.
    with services._transaction() as s:
        assert outbox.settle(s, claimed[0], token="dead", now=service_clock.now) is None
    assert {r.status for r in _rows(services)} == {"sent"}


# --------------------------------------------------------------------------- reminders


def test_a_review_falling_due_is_reminded_once_per_due_date(services, people, smtp_env,
                                                            service_clock):
    planner, reviewer = people["m-planner"], people["m-reviewer"]
    case = approve_recorded(services, reviewer, _submitted(services, planner, LOW))
    op = services.start_operation(planner, case.id, case.version, started_on=date(2026, 7, 1),
                                  vendor="株式会社サンプル", model_name="m", model_version="1",
                                  ismap_listing="ismap", review_interval_months=1)
    services.deliver_notifications()
    smtp_env.received.clear()
    assert services.queue_due_review_reminders() == 0  # due 2026-08-01: not yet within 7 days
    service_clock.now = datetime(2026, 7, 26, tzinfo=UTC)
    assert services.queue_due_review_reminders() == 3  # the planner and both reviewers
    assert services.queue_due_review_reminders() == 0  # once per due date
    assert services.deliver_notifications().sent == 3
    message = smtp_env.wait_for(3)[0]
    assert "2026年8月1日" in message.subject and "定期確認の期限" in message.subject
    assert f"{BASE_URL}/workspace?case={case.id}" in message.body
    # Recorded review: the next due date gets its own reminder in time.
    services.record_review(reviewer, case.id, op.case_version, reviewed_on=date(2026, 7, 26))
    service_clock.now = datetime(2026, 8, 22, tzinfo=UTC)
    assert services.queue_due_review_reminders() == 3


# --------------------------------------------------------------------------- secrets


def test_no_secret_reaches_a_row_or_a_log_line(services, people, no_smtp, monkeypatch, caplog):
    secret = "pw-never-shown-4711"
    with SmtpServer(login=("relay", "right-password")) as server:
        monkeypatch.setenv("PROCUREMENT_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("PROCUREMENT_SMTP_PORT", str(server.port))
        monkeypatch.setenv("PROCUREMENT_SMTP_FROM", FROM)
        monkeypatch.setenv("PROCUREMENT_SMTP_USER", "relay")
        monkeypatch.setenv("PROCUREMENT_SMTP_PASSWORD", secret)
        with caplog.at_level(logging.DEBUG):
            _submitted(services, people["m-planner"], LOW)
            report = services.deliver_notifications()
        assert report.retrying == 2 and server.inbox.logins  # it tried, and was refused
        assert ("relay", secret) in server.inbox.logins
        monkeypatch.setenv("PROCUREMENT_SMTP_PASSWORD", "right-password")
        rows = _rows(services)
        assert all("535" in r.last_error for r in rows)
        with services.engine.connect() as conn:
            dump = "\n".join(str(tuple(row)) for table in ("notifications", "audit_events")
                             for row in conn.exec_driver_sql(f"SELECT * FROM {table}"))
        assert secret not in dump and secret not in caplog.text
        for row in rows:
            with services._transaction() as s:
                s.get(Notification, row.id).next_attempt_at = services.now()
        assert services.deliver_notifications().sent == 2
        assert len(server.inbox.wait_for(2)) == 2
