"""Database failures as errors people can act on: busy (try again), unreachable (host and port
named, the password never), instead of a driver traceback.

    with database_errors(engine.url):
        ...   # OperationalError -> BusyError | DatabaseUnavailableError
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from procurement.errors import BusyError, DatabaseUnavailableError

#: Driver messages that mean "another writer holds the lock" (SQLite) or a lock wait that timed
#: out / a serialisation failure (PostgreSQL).
_BUSY = ("database is locked", "database table is locked", "lock timeout",
         "could not serialize access", "deadlock detected")


#: `scheme://user:password@` in a URL text, for masking a URL SQLAlchemy cannot parse.
_CREDENTIALS = re.compile(r"(?P<head>://[^/@:]*):[^/@]*@")


def masked_url(url: str) -> str:
    """`url` as text with its password replaced by `***`, even when it does not parse."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - any parse failure: mask by pattern instead
        return _CREDENTIALS.sub(r"\g<head>:***@", url)


def where(url: URL | str) -> str:
    """`host:port/database` (PostgreSQL) or the file (SQLite) of `url`, without credentials."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database or ':memory:'}"
    host = parsed.host or "localhost"
    port = parsed.port or 5432
    return f"PostgreSQL at {host}:{port}, database {parsed.database or '(default)'}"


def translate(exc: DBAPIError, url: URL | str) -> BusyError | DatabaseUnavailableError | None:
    """The error to raise for a driver failure, or None when it is not about availability (a
    bug, a constraint: let the caller handle it)."""
    text = str(getattr(exc, "orig", exc) or exc).strip()
    first_line = text.splitlines()[0] if text else type(exc).__name__
    if any(marker in text for marker in _BUSY):
        return BusyError("the database is busy with another save; nothing was saved, try again "
                         "in a moment", reason=first_line[:200])
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        place = where(url)
        return DatabaseUnavailableError(f"cannot use the database ({place}): {first_line[:300]}",
                                        where=place, reason=first_line[:300])
    return None


@contextmanager
def database_errors(url: URL | str) -> Iterator[None]:
    """Turn driver failures about availability into `BusyError` / `DatabaseUnavailableError`."""
    try:
        yield
    except DBAPIError as exc:
        translated = translate(exc, url)
        if translated is None:
            raise
        raise translated from exc
