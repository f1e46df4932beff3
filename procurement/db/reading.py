"""The one read path: every read (page, report, export, CLI) opens its transaction here.

    with read_session(engine) as s:                  # a plain read transaction
        s.scalars(select(Case)...)
    with read_session(engine, snapshot=True) as s:   # one consistent view for a whole report
        conn = s.connection()                        # Core rows for streaming exports

On SQLite the application engine begins write transactions with `BEGIN IMMEDIATE` (an audit
append reads the chain head, then inserts, and must not fail on the lock upgrade). A read must
never take that write lock: here it begins with a plain deferred `BEGIN`, which under WAL reads
a snapshot taken at its first statement and never waits for, nor blocks, a writer. On
PostgreSQL a read runs in `READ COMMITTED`; `snapshot=True` asks for `REPEATABLE READ, READ
ONLY`, so a report that issues many queries sees one state of the database while saves go on.
The transaction is always rolled back at the end: nothing read here can be written by mistake.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection, Engine, Result
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

#: Execution option read by the SQLite `begin` listener (procurement.db.engine): plain `BEGIN`.
READ_ONLY = {"procurement_read_only": True}


@contextmanager
def read_session(engine: Engine, *, snapshot: bool = False) -> Iterator[Session]:
    """A session in a read transaction that never takes SQLite's write lock.

    `snapshot=True`: one consistent view for every query of the transaction (PostgreSQL
    `REPEATABLE READ`; SQLite's deferred transaction under WAL already is one). Objects loaded
    here stay readable after the block (no expiry); the transaction is rolled back on exit.
    """
    options: dict[str, object] = dict(READ_ONLY)
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ" if snapshot else "READ COMMITTED"
        if snapshot:
            options["postgresql_readonly"] = True
    with engine.connect() as conn:
        conn = conn.execution_options(**options)
        with conn.begin() as transaction:
            session = Session(bind=conn, expire_on_commit=False, autoflush=False)
            try:
                yield session
            finally:
                session.close()
                transaction.rollback()


@contextmanager
def read_connection(engine: Engine, *, snapshot: bool = False) -> Iterator[Connection]:
    """The Core connection of a `read_session`: rows as tuples, without ORM bookkeeping (exports
    and re-assessment stream many rows)."""
    with read_session(engine, snapshot=snapshot) as session:
        yield session.connection()


#: Rows fetched per round trip when streaming a large result.
STREAM_BATCH = 2000


def stream(conn: Connection, statement: Executable) -> Result[*tuple[Any, ...]]:
    """Execute `statement` and iterate its rows in batches (server-side cursor on PostgreSQL),
    so memory stays flat however many rows an export reads."""
    return conn.execution_options(stream_results=True, yield_per=STREAM_BATCH).execute(statement)
