"""The engine factory: SQLite settings per connection, BEGIN IMMEDIATE, no transaction left open
on a pooled connection, URL handling, migration on first use; PostgreSQL through psycopg 3."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import inspect, text

from procurement.db import READ_ONLY, create_db_engine, make_session_factory, normalise_url
from procurement.errors import InputError


@pytest.fixture
def sqlite_engine(tmp_path):
    path = tmp_path / "nested" / "folder" / "procurement.sqlite"
    engine = create_db_engine(f"sqlite:///{path}")
    yield engine, path
    engine.dispose()


def test_sqlite_file_and_folder_are_created_on_first_use(sqlite_engine):
    engine, path = sqlite_engine
    assert path.is_file()
    assert "audit_events" in inspect(engine).get_table_names()


def test_sqlite_connections_get_wal_foreign_keys_and_a_busy_timeout(sqlite_engine):
    engine, _ = sqlite_engine
    with engine.connect() as conn:
        pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 1  # NORMAL
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") >= 5000


def other_writer(path) -> sqlite3.Connection:
    """A second connection that gives up at once instead of waiting for the lock."""
    return sqlite3.connect(path, timeout=0, isolation_level=None)


def test_sqlite_transactions_take_the_write_lock_at_begin(sqlite_engine):
    engine, path = sqlite_engine
    sessions = make_session_factory(engine)
    outsider = other_writer(path)
    try:
        with sessions.begin() as session:
            session.execute(text("SELECT count(*) FROM audit_events")).scalar()  # only a read
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                outsider.execute("BEGIN IMMEDIATE")
        outsider.execute("BEGIN IMMEDIATE")  # released at commit
        outsider.execute("ROLLBACK")
    finally:
        outsider.close()


def test_read_only_option_begins_deferred(sqlite_engine):
    engine, path = sqlite_engine
    outsider = other_writer(path)
    try:
        with engine.execution_options(**READ_ONLY).connect() as conn:
            conn.execute(text("SELECT count(*) FROM audit_events")).scalar()
            assert conn.in_transaction()
            outsider.execute("BEGIN IMMEDIATE")  # a reader does not block a writer
            outsider.execute("ROLLBACK")
    finally:
        outsider.close()


def test_a_returned_connection_never_keeps_a_transaction_open(sqlite_engine):
    engine, path = sqlite_engine
    raw = engine.raw_connection()
    raw.driver_connection.execute("BEGIN IMMEDIATE")
    raw.driver_connection.execute(
        "INSERT INTO audit_events (chain, seq, occurred_at, actor, event_type, payload, "
        "prev_hash, hash) VALUES ('x', 1, '2026-01-01 00:00:00', 'a', 't', '{}', 'p', 'h')"
    )
    raw.close()  # back to the pool uncommitted
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM audit_events").scalar() == 0
    outsider = other_writer(path)
    try:
        outsider.execute("BEGIN IMMEDIATE")  # the lock was released too
        outsider.execute("ROLLBACK")
    finally:
        outsider.close()


def test_default_url_comes_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "env" / "db.sqlite"
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", f"sqlite:///{path}")
    engine = create_db_engine()
    try:
        assert engine.url.database == str(path) and path.is_file()
    finally:
        engine.dispose()


def test_migrate_false_leaves_the_schema_alone(sqlite_url):
    engine = create_db_engine(sqlite_url, migrate=False)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_urls_get_the_psycopg_driver_and_bad_ones_are_named():
    assert normalise_url("postgresql://u:p@h:5432/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql+psycopg://u:p@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("sqlite:///x.sqlite").drivername == "sqlite"
    with pytest.raises(InputError, match="only sqlite and postgresql are supported"):
        normalise_url("mysql://u@h/db")
    with pytest.raises(InputError, match="'not a url' is not valid"):
        normalise_url("not a url")


def test_both_databases_are_migrated_with_the_driver_we_ship(engine):
    assert "audit_events" in inspect(engine).get_table_names()
    if engine.dialect.name == "postgresql":
        assert engine.dialect.driver == "psycopg"
    with make_session_factory(engine).begin() as session:
        assert session.execute(text("SELECT count(*) FROM audit_events")).scalar() == 0
