"""The SMTP settings, read from the environment each time they are needed.

    PROCUREMENT_SMTP_HOST       the SMTP server; notifications are off while it is unset
    PROCUREMENT_SMTP_PORT       default 587 with STARTTLS, else 25
    PROCUREMENT_SMTP_USER       log in as this user (optional)
    PROCUREMENT_SMTP_PASSWORD   its password (never shown, logged or stored)
    PROCUREMENT_SMTP_FROM       the sender address (required when a host is set)
    PROCUREMENT_SMTP_STARTTLS   true/false; default true on port 587, else false
    PROCUREMENT_BASE_URL        the app's address, for the case links in messages

Read on every use rather than once, so that an administrator who fixes a setting and restarts
nothing but the cron job sees it take effect; the values are cheap to read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from procurement.errors import InputError
from procurement.records import checks

HOST = "PROCUREMENT_SMTP_HOST"
PORT = "PROCUREMENT_SMTP_PORT"
USER = "PROCUREMENT_SMTP_USER"
PASSWORD = "PROCUREMENT_SMTP_PASSWORD"
FROM = "PROCUREMENT_SMTP_FROM"
STARTTLS = "PROCUREMENT_SMTP_STARTTLS"
BASE_URL = "PROCUREMENT_BASE_URL"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how messages are sent. The password is kept out of `repr` and `describe`."""

    host: str
    port: int
    sender: str
    starttls: bool = False
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    base_url: str | None = None

    def describe(self) -> dict[str, str]:
        """The settings for the administrator's page and the CLI: never the password, only
        whether one is set."""
        return {
            "host": self.host, "port": str(self.port), "sender": self.sender,
            "starttls": "yes" if self.starttls else "no", "user": self.user or "",
            "password": "set" if self.password else "", "base_url": self.base_url or "",
        }


def _flag(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InputError(f"{name}={raw!r} must be true or false", field=name, value=raw)


def base_url(environ: Mapping[str, str] | None = None) -> str | None:
    """`PROCUREMENT_BASE_URL` without its trailing slash (None when unset); an address that is
    not http(s)://host... is an error naming the variable."""
    env = os.environ if environ is None else environ
    raw = (env.get(BASE_URL) or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(f"{BASE_URL}={raw!r} must be the app's address, e.g. "
                         "https://ai.example.go.jp", field=BASE_URL, value=raw)
    return raw.rstrip("/")


def case_link(case_id: int, base: str | None) -> str | None:
    """The link that opens a case in the app (after sign-in), or None without a base URL."""
    return f"{base}/workspace?case={int(case_id)}" if base else None


def smtp_settings(environ: Mapping[str, str] | None = None) -> SmtpSettings | None:
    """The settings, or None when `PROCUREMENT_SMTP_HOST` is unset (notifications are off).

    A bad value raises InputError naming the variable (never echoing the password)."""
    env = os.environ if environ is None else environ
    host = (env.get(HOST) or "").strip()
    if not host:
        return None
    raw_tls = (env.get(STARTTLS) or "").strip()
    raw_port = (env.get(PORT) or "").strip()
    starttls = _flag(raw_tls, STARTTLS) if raw_tls else raw_port == "587"
    if raw_port:
        try:
            port = int(raw_port)
        except ValueError:
            port = 0
        if not 0 < port < 65536:
            raise InputError(f"{PORT}={raw_port!r} must be a port number (1-65535)", field=PORT,
                             value=raw_port)
    else:
        port = 587 if starttls else 25
    sender = (env.get(FROM) or "").strip()
    if not sender:
        raise InputError(f"{FROM} must be set when {HOST} is (the sender address)", field=FROM)
    sender = checks.email(sender, FROM) or ""
    user = (env.get(USER) or "").strip() or None
    password = env.get(PASSWORD) or None
    return SmtpSettings(host=host, port=port, sender=sender, starttls=starttls, user=user,
                        password=password, base_url=base_url(env))
