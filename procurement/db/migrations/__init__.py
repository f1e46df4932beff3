"""Alembic migrations shipped in the package, and the one call that applies them.

The schema is created and changed only here. `upgrade_to_head(engine)` is what
`procurement.db.create_db_engine` (and so the app and the CLI) call, so a database is brought up
to date on first use; it is safe to call from several processes at once (the upgrade runs under a
database lock: SQLite's write lock, a PostgreSQL advisory lock).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent

#: An arbitrary constant: the PostgreSQL advisory lock key that serialises schema upgrades.
_PG_UPGRADE_LOCK = 0x70726F63  # "proc"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the shipped scripts (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision id shipped in the package."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, f"no migrations found in {MIGRATIONS_DIR}"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    # A deferred BEGIN on SQLite (procurement.db's read-only option): a check takes no write lock.
    with engine.execution_options(procurement_read_only=True).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database schema up to the newest migration; a no-op when it already is."""
    head = head_revision()
    if current_revision(engine) == head:
        return
    with engine.begin() as conn:
        # Two processes starting on a fresh database must not both create the tables: take a
        # lock first, then let Alembic read the version inside it.
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_UPGRADE_LOCK})
        elif conn.dialect.name == "sqlite" and not conn.in_transaction():
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        command.upgrade(alembic_config(conn), "head")
