"""E-mail notifications: work comes to the people who must act on it.

A submission tells the organisation's reviewers, a return or an approval tells the case's
planner, and a periodic review falling due tells the planner and the reviewers; each message is
short Japanese text with the case's link (`<PROCUREMENT_BASE_URL>/workspace?case=N`).

    settings.py   the SMTP settings from the environment (off when no host is set)
    messages.py   the messages' text (pure functions)
    outbox.py     the outbox: queued in the transaction of the change, claimed, marked
    sender.py     one message over SMTP (STARTTLS and login when configured)
    service.py    `NotificationService`: queue, deliver, remind, the administrator's view
    worker.py     the background thread of an app process that sends what is queued

A failure to send never blocks the workflow: the change is committed with its message queued,
and sending happens later, retried with back-off; the administration page shows what failed.
"""

from procurement.notify.settings import SmtpSettings, smtp_settings

__all__ = ["SmtpSettings", "smtp_settings"]
