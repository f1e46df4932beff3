"""Sending one message over SMTP, with STARTTLS and login when the settings ask for them.

Errors come back as `SendError` whose text is safe to store and show: the exception's kind and
the server's answer, never the password. `permanent` marks an answer that retrying cannot change
(every recipient refused with a 5xx code), so the outbox gives up on it at once.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from procurement.notify.settings import SmtpSettings

#: Seconds to wait for the server on connect and each command: a stalled server must not hold a
#: claimed message (or the worker) for long.
TIMEOUT_S = 30.0


class SendError(Exception):
    """A message could not be sent; `str()` is safe to log and store."""

    def __init__(self, text: str, *, permanent: bool = False) -> None:
        super().__init__(text)
        self.permanent = permanent


def build_message(settings: SmtpSettings, to: str, subject: str, body: str) -> EmailMessage:
    """The MIME message: UTF-8 text, the From of the settings, marked as sent automatically."""
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    msg.set_content(body, charset="utf-8")
    return msg


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = "; ".join(f"{code} {_text(reply)}" for code, reply in exc.recipients.values())
        return f"recipient refused: {answers}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]


def send(settings: SmtpSettings, to: str, subject: str, body: str, *,
         timeout: float = TIMEOUT_S) -> None:
    """Send one message to one address; SendError when the server or the network refuses."""
    msg = build_message(settings, to, subject, body)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=timeout) as smtp:
            smtp.ehlo()
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        permanent = all(code >= 500 for code, _ in exc.recipients.values())
        raise SendError(_describe(exc), permanent=permanent) from None
    except (smtplib.SMTPException, OSError) as exc:
        # `from None`: the chained exception could carry the login arguments into a traceback.
        raise SendError(_describe(exc)) from None
