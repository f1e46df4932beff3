"""The database engine and session factory, SQLite or PostgreSQL, brought up to date on first use.

    create_db_engine(url=None, *, migrate=True) -> Engine
    make_session_factory(engine) -> sessionmaker[Session]

SQLite (the default, a file under `data/`) gets, on every connection, WAL, `synchronous=NORMAL`,
foreign keys and a busy timeout, and every transaction starts with `BEGIN IMMEDIATE`: a
read-then-write transaction (an audit append reads the chain head, then inserts) otherwise fails
on the lock upgrade whatever the timeout. Reads go through `procurement.db.reading.read_session`, which
sets the execution option `READ_ONLY` (plain deferred `BEGIN`, so readers never wait for a writer). A pool `checkin`
listener rolls back any transaction still open on a returned connection: a COMMIT that failed
with "database is locked" leaves one open, and the next user of the connection would otherwise
commit the rows that "failed". PostgreSQL goes through psycopg 3.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from procurement import config
from procurement.db.errors import masked_url
from procurement.errors import InputError

#: Seconds a SQLite connection waits for another writer before "database is locked" (default;
#: `PROCUREMENT_SQLITE_BUSY_TIMEOUT` changes it).
SQLITE_BUSY_TIMEOUT_S = config.DEFAULT_SQLITE_BUSY_TIMEOUT_S



def normalise_url(url: str | URL) -> URL:
    """The URL with the driver we ship (psycopg 3 for PostgreSQL); bad URLs named clearly."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError and friends
        shown = masked_url(str(url))
        reason = str(exc).replace(str(url), shown)
        raise InputError(f"database URL {shown!r} is not valid: {reason}", url=shown) from exc
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise InputError(
            f"database URL {parsed.render_as_string()!r}: only sqlite and postgresql are supported",
            url=parsed.render_as_string(),
        )
    try:
        parsed.get_dialect()
    except NoSuchModuleError as exc:
        shown = parsed.render_as_string()
        raise InputError(f"database URL {shown!r}: unknown driver {parsed.drivername!r} (use "
                         "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE or "
                         "sqlite:///FILE)", url=shown) from exc
    return parsed


def _ensure_sqlite_folder(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _install_sqlite_listeners(engine: Engine, busy_timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself instead of pysqlite's implicit one.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            # The busy timeout first: switching to WAL needs a lock another process may hold.
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        if conn.get_execution_options().get("procurement_read_only"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_conn, _record) -> None:
        if dbapi_conn is not None and getattr(dbapi_conn, "in_transaction", False):
            dbapi_conn.rollback()


def create_db_engine(url: str | URL | None = None, *, migrate: bool = True) -> Engine:
    """An engine on `url` (default: `config.database_url()`), migrated to the newest schema.

    The SQLite file and its folder are created on first use. With `migrate=False` the schema is
    left as it is (for tools that inspect or repair a database).
    """
    parsed = normalise_url(url if url is not None else config.database_url())
    if parsed.get_backend_name() == "sqlite":
        _ensure_sqlite_folder(parsed)
        busy = config.sqlite_busy_timeout()
        engine = create_engine(parsed, connect_args={"timeout": busy})
        _install_sqlite_listeners(engine, busy)
    else:
        engine = create_engine(parsed, pool_pre_ping=True)
    if migrate:
        from procurement.db.errors import database_errors
        from procurement.db.migrations import upgrade_to_head

        try:
            with database_errors(parsed):
                upgrade_to_head(engine)
        except Exception:
            engine.dispose()
            raise
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on `engine` whose objects stay readable after commit (no surprise reloads)."""
    return sessionmaker(engine, expire_on_commit=False)
