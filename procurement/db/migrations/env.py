"""Alembic environment: runs migrations on the connection handed over by `upgrade_to_head`
(or on `PROCUREMENT_DATABASE_URL` when run by the `alembic` tool with this folder as script
location). Batch mode always, so SQLite can alter tables the same way PostgreSQL does."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from procurement import config as settings
from procurement.db.models import Base

target_metadata = Base.metadata


def _configure_and_run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    engine = create_engine(settings.database_url())
    with engine.begin() as conn:
        _configure_and_run(conn)
    engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=settings.database_url(),
        target_metadata=target_metadata,
        render_as_batch=True,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
