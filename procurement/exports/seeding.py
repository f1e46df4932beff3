"""Bulk seeding of an audit chain, for `bench/export.py` and the export tests.

Appending 100,000 events through the services would take longer than the export being measured,
so this writes a valid chain in bulk: the same canonical form and hash as `procurement.audit`
(`EventRecord.compute_hash`), many rows per transaction. It only ever starts a new chain (or
continues one it is given the head of); it is not a way to write the log in the application.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from procurement.audit import GENESIS_HASH, EventRecord, canonical_json, format_timestamp
from procurement.db.models import AuditEvent


def seed_chain(
    engine: Engine,
    chain: str,
    count: int,
    *,
    start: datetime = datetime(2026, 4, 1, 0, 0, tzinfo=timezone.utc),
    step: timedelta = timedelta(seconds=37),
    payload: Callable[[int], dict[str, Any]] | None = None,
    batch: int = 5000,
) -> tuple[int, str]:
    """Append `count` events to `chain` (after its current head) and return the new head."""
    payload = payload or (lambda i: {"i": i, "answers": {"HR-1": "staff_wide"},
                                     "note": "ベンチマーク用の事象"})
    with engine.begin() as conn:
        last = conn.execute(select(AuditEvent.seq, AuditEvent.hash)
                            .where(AuditEvent.chain == chain)
                            .order_by(AuditEvent.seq.desc()).limit(1)).first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    rows: list[dict[str, Any]] = []

    def flush() -> None:
        if rows:
            with engine.begin() as conn:
                conn.execute(insert(AuditEvent), rows)
            rows.clear()

    for i in range(count):
        seq += 1
        when = start + step * (seq - 1)
        record = EventRecord(
            chain=chain, seq=seq, occurred_at=format_timestamp(when), actor=f"user{seq % 17}",
            event_type=("case.answers_saved", "case.checklist_set", "case.submitted")[seq % 3],
            case_id=1 + seq % 500, payload=canonical_json(payload(i)), prev_hash=prev, hash="",
        )
        digest = record.compute_hash()
        rows.append({
            "chain": chain, "seq": seq, "occurred_at": when, "actor": record.actor,
            "event_type": record.event_type, "case_id": record.case_id,
            "payload": record.payload, "prev_hash": prev, "hash": digest,
        })
        prev = digest
        if len(rows) >= batch:
            flush()
    flush()
    return seq, prev
