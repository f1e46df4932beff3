"""Settings from the environment: where the database and the rule packs are.

One place reads the environment so that the CLI, the app and the tests agree.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (the folder holding `app.py`, `rules/` and `data/`).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def rules_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The folder searched (recursively) for rule packs."""
    if override:
        return Path(override)
    env = os.environ.get("PROCUREMENT_RULES_DIR")
    return Path(env) if env else PROJECT_ROOT / "rules"


def database_url(override: str | None = None) -> str:
    """The SQLAlchemy URL: `PROCUREMENT_DATABASE_URL`, else a SQLite file under `data/`."""
    if override:
        return override
    env = os.environ.get("PROCUREMENT_DATABASE_URL")
    if env:
        return env
    return f"sqlite:///{PROJECT_ROOT / 'data' / 'procurement.sqlite'}"


#: Seconds a SQLite connection waits for another writer before "database is locked".
DEFAULT_SQLITE_BUSY_TIMEOUT_S = 30.0


def sqlite_busy_timeout() -> float:
    """`PROCUREMENT_SQLITE_BUSY_TIMEOUT` (seconds), else 30: how long a SQLite writer waits for
    another writer. A bad value is an error naming the variable."""
    from procurement.errors import InputError

    env = os.environ.get("PROCUREMENT_SQLITE_BUSY_TIMEOUT")
    if not env:
        return DEFAULT_SQLITE_BUSY_TIMEOUT_S
    try:
        value = float(env)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:
        raise InputError(f"PROCUREMENT_SQLITE_BUSY_TIMEOUT={env!r} must be a number of seconds "
                         "between 0 and 3600", field="PROCUREMENT_SQLITE_BUSY_TIMEOUT", value=env)
    return value


#: Idle minutes after which a signed-in session ends (default).
DEFAULT_SESSION_TIMEOUT_MINUTES = 30.0


def session_timeout_minutes() -> float:
    """`PROCUREMENT_SESSION_TIMEOUT_MINUTES`, else 30: idle minutes before a session ends."""
    from procurement.errors import InputError

    raw = os.environ.get("PROCUREMENT_SESSION_TIMEOUT_MINUTES")
    if not raw:
        return DEFAULT_SESSION_TIMEOUT_MINUTES
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 24 * 60:
        raise InputError(f"PROCUREMENT_SESSION_TIMEOUT_MINUTES={raw!r} must be a number of "
                         "minutes between 0 and 1440", field="PROCUREMENT_SESSION_TIMEOUT_MINUTES",
                         value=raw)
    return value
