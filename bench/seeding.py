"""Bulk seeding of an audit chain for the benchmarks: 100,000 events written in seconds.

Appending that many events through the services would take longer than the export being
measured, so this generates plausible events and writes them with `procurement.audit.append_bulk`
(the audit module's own bulk writer: same canonical form and hashes as every other append).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from procurement.audit import NewEvent, append_bulk

EVENT_TYPES = ("case.answers_saved", "case.checklist_set", "case.submitted")


def seed_chain(
    engine: Engine,
    chain: str,
    count: int,
    *,
    start: datetime = datetime(2026, 4, 1, 0, 0, tzinfo=UTC),
    step: timedelta = timedelta(seconds=37),
    payload: Callable[[int], dict[str, Any]] | None = None,
    batch: int = 5000,
) -> tuple[int, str]:
    """Append `count` events to `chain` (after its current head) and return the new head."""
    make = payload or (lambda i: {"i": i, "answers": {"HR-1": "staff_wide"},
                                  "note": "ベンチマーク用の事象"})

    def events() -> Iterator[NewEvent]:
        for i in range(count):
            yield NewEvent(occurred_at=start + step * i, actor=f"user{i % 17}",
                           event_type=EVENT_TYPES[i % 3], case_id=1 + i % 500, payload=make(i))

    return append_bulk(engine, chain, events(), batch=batch)
