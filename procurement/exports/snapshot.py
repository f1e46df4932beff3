"""A read-only, consistent snapshot of the database for the length of one export.

An export reads several tables over many seconds; all of them must come from the same moment, or
the summary's counts, the cases and the audit chain head could disagree. And it must not stop
anyone from working meanwhile.

* SQLite: the application engine begins transactions with `BEGIN IMMEDIATE` (the audit chain
  needs it), which would hold the write lock for the whole export; the `READ_ONLY` execution
  option of `procurement.db` makes it a deferred `BEGIN` instead. In WAL mode such a reader sees
  one snapshot from its first read and never blocks writers.
* PostgreSQL: a REPEATABLE READ, READ ONLY transaction gives the snapshot; large results come
  through a server-side cursor (`stream_results`) so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine

from procurement.db import READ_ONLY

#: Rows fetched per round trip when streaming a large result.
BATCH = 2000


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose queries all see the same committed state, inside one transaction."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ",
                                          postgresql_readonly=True)
        else:
            conn = conn.execution_options(**READ_ONLY)
        with conn.begin():
            yield conn


def stream(conn: Connection, statement):
    """Execute `statement` and iterate its rows in batches (server-side cursor where possible)."""
    return conn.execution_options(stream_results=True, yield_per=BATCH).execute(statement)
