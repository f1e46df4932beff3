"""Helpers shared by the audit tests: two small chains, and raw SQL for tampering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from procurement.audit import append_event
from procurement.db import make_session_factory

T0 = datetime(2026, 6, 12, 0, 30, tzinfo=UTC)


def build_chains(engine, n: int = 8) -> None:
    """`demo-city` with n events and `demo-ministry` with 3, interleaved."""
    sessions = make_session_factory(engine)
    for i in range(n):
        with sessions.begin() as session:
            append_event(
                session, chain="demo-city", actor="tanaka", event_type="answers.saved",
                case_id=1, payload={"i": i, "answers": {"SC-1": "yes"}},
                occurred_at=T0 + timedelta(minutes=i),
            )
            if i < 3:
                append_event(
                    session, chain="demo-ministry", actor="suzuki", event_type="case.created",
                    case_id=100 + i, payload={"title": f"案件{i}"},
                    occurred_at=T0 + timedelta(minutes=i, seconds=30),
                )


def run_sql(engine, *statements: str, **params) -> None:
    """Run raw SQL statements in one transaction, as a tamperer with database access would."""
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)
