"""Every table that grows carries the organisation (migration 0006): the records keyed by case
get their case's `org_id` on every write and on migration, it is indexed, and a write without it
is refused (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from procurement.db.migrations import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade_to_head,
)
from procurement.db.models import CASE_RECORDS, Answer, Case
from procurement.demo.operations import seed_demo_operations
from procurement.records.core import utc_now

TABLES = [model.__tablename__ for model in CASE_RECORDS]


def _mismatches(engine) -> dict[str, tuple[int, int]]:
    """table -> (rows, rows whose org_id is not their case's)."""
    out = {}
    with engine.connect() as conn:
        for table in TABLES:
            rows, wrong = conn.execute(text(
                f"SELECT COUNT(*), SUM(CASE WHEN t.org_id = c.org_id THEN 0 ELSE 1 END) "
                f"FROM {table} t JOIN cases c ON c.id = t.case_id")).one()
            out[table] = (rows, wrong or 0)
    return out


def test_case_records_carry_their_case_s_organisation_written_migrated_and_required(
        demo_services, engine):
    seed_demo_operations(demo_services)
    counts = _mismatches(engine)
    assert all(rows > 0 for rows, _ in counts.values()), counts  # the demo writes every kind
    assert all(wrong == 0 for _, wrong in counts.values()), counts
    for table in TABLES:
        indexed = {tuple(ix["column_names"]) for ix in inspect(engine).get_indexes(table)}
        assert ("org_id",) in indexed, table

    # Rows written before the column existed are filled from their case on upgrade.
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0004")
    assert "org_id" not in {c["name"] for c in inspect(engine).get_columns("answers")}
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()
    assert _mismatches(engine) == counts

    # A bulk write (Core, no ORM) must name the organisation itself.
    with engine.connect() as conn:
        case_id, user_id = conn.execute(select(Case.id, Case.owner_id).limit(1)).one()
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(Answer), [{"case_id": case_id, "question_id": "X-1", "value": '"a"',
                                       "answered_by": user_id, "answered_at": utc_now()}])
