"""The migrations and the models agree, on SQLite and PostgreSQL, and upgrading is idempotent."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from procurement.db.migrations import current_revision, head_revision, upgrade_to_head
from procurement.db.models import Base


def test_migrated_database_matches_the_models(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_every_model_table_is_created_by_the_migrations(engine):
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_upgrade_is_idempotent_and_reports_head(engine):
    assert current_revision(engine) == head_revision()
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()


def test_audit_events_have_the_contract_columns(engine):
    cols = [c["name"] for c in inspect(engine).get_columns("audit_events")]
    assert cols == ["id", "chain", "seq", "occurred_at", "actor", "event_type", "case_id",
                    "payload", "prev_hash", "hash"]
    uniques = inspect(engine).get_unique_constraints("audit_events")
    assert [u["column_names"] for u in uniques] == [["chain", "seq"]]
