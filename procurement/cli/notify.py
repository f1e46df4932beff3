"""CLI commands for e-mail notifications: `notify test`, `notify run`.

    procurement notify test --to ADDRESS   send one test message now, through the configured server
    procurement notify run                 queue reminders of periodic reviews falling due, then
                                           send everything due (new messages and retries); for cron

The settings come from the environment (`procurement.notify.settings`). Output lines are a
contract (see docs/operations.md): keep them stable. Neither command prints a password.
"""

from __future__ import annotations

import argparse
import sys

from procurement.cli.common import add_command, services_for
from procurement.errors import ProcurementError


def register(sub) -> None:
    """Add this group's commands to the `procurement` parser."""
    notify = add_command(
        sub, "notify", help="e-mail notifications",
        examples=["procurement notify test --to caio@example.go.jp", "procurement notify run"],
        description="Settings: PROCUREMENT_SMTP_HOST (notifications are off without it), "
                    "PROCUREMENT_SMTP_PORT, PROCUREMENT_SMTP_USER, PROCUREMENT_SMTP_PASSWORD, "
                    "PROCUREMENT_SMTP_FROM, PROCUREMENT_SMTP_STARTTLS and PROCUREMENT_BASE_URL "
                    "(the app's address, for the case links).")
    notify_sub = notify.add_subparsers(dest="notify_command", metavar="COMMAND")
    notify_sub.required = True
    test = add_command(
        notify_sub, "test", help="send one test message now",
        examples=["procurement notify test --to caio@example.go.jp"],
        description="Sends one short message to ADDRESS through the configured server and "
                    "says whether the server took it. Nothing is stored.")
    test.add_argument("--to", required=True, metavar="ADDRESS", help="where to send it")
    test.set_defaults(handler=_test)
    run = add_command(
        notify_sub, "run", help="queue due-review reminders and send what is due (for cron)",
        examples=["*/10 * * * * procurement notify run   # crontab: every ten minutes"],
        description="Queues one reminder per person (the case's planner and the organisation's "
                    "reviewers) for each system whose periodic review falls due within 7 days "
                    "or is overdue, once per due date; then sends every message that is due, "
                    "including retries of earlier failures. Safe to run while the app runs and "
                    "in several processes at once: a message is never sent twice. Exit status 1 "
                    "when the settings are wrong, 0 otherwise (also when notifications are off).")
    run.set_defaults(handler=_run)


def _test(args: argparse.Namespace) -> int:
    from procurement.notify.sender import SendError

    try:
        svc = services_for(args)
        settings = svc.send_test_notification(args.to)
    except SendError as exc:
        print(f"error: the test message was not sent: {exc}", file=sys.stderr)
        return 1
    except ProcurementError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"sent a test message to {args.to} via {settings.host}:{settings.port}")
    return 0


def _run(args: argparse.Namespace) -> int:
    try:
        svc = services_for(args)
        queued = svc.queue_due_review_reminders()
        report = svc.deliver_notifications()
    except ProcurementError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    if report.problem:
        print(f"error: notifications are misconfigured: {report.problem}", file=sys.stderr)
        return 1
    if report.off:
        print("notifications are off: PROCUREMENT_SMTP_HOST is not set")
        return 0
    print(f"queued {queued} review reminder{'' if queued == 1 else 's'}; sent {report.sent}, "
          f"retrying {report.retrying}, given up {report.failed}")
    return 0
