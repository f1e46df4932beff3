"""Appending to a chain, inside the caller's transaction: the only way an audit row is written.

`append_event` adds one event to `chain` (the organisation code) in the session's current
transaction: the caller writes its change and calls this before committing, so the change and its
event are committed together or not at all. Appends to one chain are serialised on both
databases: on SQLite the engine opens every write transaction with `BEGIN IMMEDIATE`
(`procurement.db.engine`), on PostgreSQL the append takes a transaction-scoped advisory lock on
the chain, held until the caller commits or rolls back. `append_bulk` writes many events of one
chain at once (benchmarks and large seedings), with the same canonical form and hashes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, text
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from procurement.audit.chain import GENESIS_HASH, EventRecord, canonical_json, format_timestamp
from procurement.errors import InputError

_LOCK_STMT = text("SELECT pg_advisory_xact_lock(:k)")
#: `session.info` key of the chain heads known to the session's current transaction.
_HEADS = "procurement.audit.heads"


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_heads(session: Session, transaction: Any) -> None:
    """A chain head is known only inside the transaction that holds the chain's lock."""
    if transaction.parent is None:
        session.info.pop(_HEADS, None)


@lru_cache(maxsize=1)
def _head_statement():
    """The newest event of a chain (uses the unique (chain, seq) index)."""
    from procurement.db.models import AuditEvent

    table = AuditEvent.__table__
    return (
        select(table.c.seq, table.c.hash)
        .where(table.c.chain == bindparam("chain"))
        .order_by(table.c.seq.desc())
        .limit(1)
    )


def chain_lock_key(chain: str) -> int:
    """The PostgreSQL advisory-lock key of a chain: the first 8 bytes of sha256, signed."""
    digest = hashlib.sha256(f"procurement.audit:{chain}".encode()).digest()
    return struct.unpack(">q", digest[:8])[0]


@dataclass(frozen=True)
class NewEvent:
    """One event for `append_bulk`: what `append_event` takes, without the chain."""

    occurred_at: datetime
    actor: str
    event_type: str
    case_id: int | None
    payload: Mapping[str, Any] | None


def append_event(
    session: Session,
    *,
    chain: str,
    actor: str,
    event_type: str,
    case_id: int | None,
    payload: Mapping[str, Any] | None,
    occurred_at: datetime | None = None,
) -> EventRecord:
    """Append one event to `chain` inside the session's transaction and return its record
    (`seq`, `hash`, ...), written at once.

    Must be called inside a write transaction the caller commits (`with session.begin():`); the
    chain stays locked for other writers until then, so keep the rest of the transaction short.
    """
    return append_events(session, chain, [NewEvent(
        occurred_at=occurred_at or datetime.now(UTC), actor=actor,
        event_type=event_type, case_id=case_id, payload=payload)])[-1]


def append_events(session: Session, chain: str, events: Iterable[NewEvent]) -> list[EventRecord]:
    """Append several events to `chain`, in order, inside the session's transaction, with one
    statement: what a large import does (the chain's head is read once)."""
    from procurement.db.models import AuditEvent

    if not chain:
        raise InputError("an audit event needs a chain (the organisation code)", chain=chain)
    # Core on the session's connection: same transaction, a fraction of the ORM's overhead.
    conn = session.connection()
    # The head of each chain this transaction appended to: once the first append holds the
    # chain's lock (SQLite's write lock, or PostgreSQL's advisory lock, both kept until the
    # transaction ends) nobody else can append, so later appends need not read it again.
    heads = session.info.setdefault(_HEADS, {})
    key = (id(session.get_transaction()), chain)
    known = heads.get(key)
    if known is None:
        if conn.dialect.name == "postgresql":
            # Serialises appends to this chain until the caller's transaction ends. Under READ
            # COMMITTED (the default) the SELECT below then sees the previous appender's commit.
            conn.execute(_LOCK_STMT, {"k": chain_lock_key(chain)})
        # SQLite: the transaction began with BEGIN IMMEDIATE: this process holds the write lock.
        last = conn.execute(_head_statement(), {"chain": chain}).first()
        known = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    seq, prev_hash = known
    records: list[EventRecord] = []
    rows: list[dict[str, Any]] = []
    for event in events:
        occurred_at, payload_text = _checked(chain, event)
        seq += 1
        record = EventRecord(chain=chain, seq=seq, occurred_at=format_timestamp(occurred_at),
                             actor=event.actor, event_type=event.event_type,
                             case_id=event.case_id, payload=payload_text, prev_hash=prev_hash,
                             hash="")
        record = dataclasses.replace(record, hash=record.compute_hash())
        records.append(record)
        rows.append({"chain": chain, "seq": seq, "occurred_at": occurred_at, "actor": event.actor,
                     "event_type": event.event_type, "case_id": event.case_id,
                     "payload": payload_text, "prev_hash": prev_hash, "hash": record.hash})
        prev_hash = record.hash
    if rows:
        conn.execute(insert(cast(Table, AuditEvent.__table__)), rows)
        heads[key] = (seq, prev_hash)
    return records


def _checked(chain: str, event: NewEvent) -> tuple[datetime, str]:
    """An event's time (aware, UTC, as hashed) and canonical payload, or InputError."""
    event_type = event.event_type
    if not event_type:
        raise InputError("an audit event needs an event type", chain=chain)
    payload = event.payload if event.payload is not None else {}
    if not isinstance(payload, Mapping):
        raise InputError(
            f"audit payload for {event_type!r} must be a mapping, not {type(payload).__name__}",
            chain=chain, event_type=event_type,
        )
    try:
        payload_text = canonical_json(dict(payload))
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"audit payload for {event_type!r} on chain {chain!r} is not JSON: {exc}",
            chain=chain, event_type=event_type, reason=str(exc),
        ) from exc
    if event.occurred_at.tzinfo is None:
        raise InputError(
            f"occurred_at {event.occurred_at!r} is naive: audit timestamps must be timezone-aware",
            chain=chain, value=repr(event.occurred_at),
        )
    # The stored value must be exactly the hashed one: both databases keep microseconds.
    return event.occurred_at.astimezone(UTC), payload_text


def append_bulk(engine: Engine, chain: str, events: Iterable[NewEvent], *,
                batch: int = 5000) -> tuple[int, str]:
    """Append many events to `chain` after its current head, `batch` rows per transaction, and
    return the new head (seq, hash). The same canonical form and hashes as `append_event`.

    For benchmarks and large seedings (one organisation's history written at once): nothing
    else may write to `chain` meanwhile. Each batch is one write transaction; a failure leaves
    the chain valid up to the last committed batch.
    """
    from procurement.db.models import AuditEvent

    with engine.begin() as conn:
        last = conn.execute(_head_statement(), {"chain": chain}).first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    rows: list[dict[str, Any]] = []

    def flush() -> None:
        if rows:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(_LOCK_STMT, {"k": chain_lock_key(chain)})
                conn.execute(insert(AuditEvent), rows)
            rows.clear()

    for event in events:
        if event.occurred_at.tzinfo is None:
            raise InputError(f"occurred_at {event.occurred_at!r} is naive", chain=chain)
        seq += 1
        when = event.occurred_at.astimezone(UTC)
        record = EventRecord(
            chain=chain, seq=seq, occurred_at=format_timestamp(when), actor=event.actor,
            event_type=event.event_type, case_id=event.case_id,
            payload=canonical_json(dict(cast("Mapping[str, Any]", event.payload))), prev_hash=prev, hash="",
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
