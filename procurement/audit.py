"""The audit log: a hash chain per organisation, appended inside the caller's transaction.

    append_event(session, *, chain, actor, event_type, case_id, payload, occurred_at=None)
        -> AuditEvent
    verify_rows(rows, *, chain=None, head=None) -> list[ChainReport]
    verify_database(engine, chain=None, head=None) -> list[ChainReport]
    verify_chain(chain, records_sorted_by_seq, head=None) -> ChainReport   (streaming)

`append_event` adds one event to `chain` (the organisation code) in the session's current
transaction: the caller writes its change and calls this before committing, so the change and its
event are committed together or not at all. `payload` is a JSON-serialisable mapping; `occurred_at`
a timezone-aware datetime (default: now, UTC). Appends to one chain are serialised on both
databases: on SQLite the engine opens every transaction with `BEGIN IMMEDIATE` (see
`procurement.db`), on PostgreSQL the append takes a transaction-scoped advisory lock on the chain,
held until the caller commits or rolls back.

Every event stores `prev_hash` (the previous event's `hash`; 64 zeros for seq 1) and
`hash = sha256(prev_hash + "\\n" + canonical)`, where `canonical` is the RFC 8785 (JCS) JSON
object of the other columns except the surrogate `id`. `docs/audit-log.md` gives the recipe
with a worked example an auditor can recompute with any tool.

`verify_rows` accepts rows from any source (ORM objects, dicts, rows read back from a workbook),
re-computes every chain and reports per chain either its count and head, or the first bad seq
and what is wrong: content changed, event missing, order broken, or event inserted.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from procurement.errors import InputError

#: `prev_hash` of the first event of every chain.
GENESIS_HASH = "0" * 64

#: The columns covered by the canonical serialisation, in the order they appear in it (sorted).
CANONICAL_FIELDS = ("actor", "case_id", "chain", "event_type", "occurred_at", "payload", "seq")

#: Problem codes of a failed chain (stable: tests, the CLI and the UI rely on them).
CONTENT_CHANGED = "content_changed"
EVENT_MISSING = "event_missing"
ORDER_BROKEN = "order_broken"
INSERTED = "inserted"

#: How far the diagnosis looks around the first bad event (bounds its cost on a huge chain).
_DIAGNOSIS_WINDOW = 1000


# --- canonical form -----------------------------------------------------------------------


def format_timestamp(value: datetime | str) -> str:
    """`occurred_at` as hashed: UTC, always 6 fractional digits, `Z` suffix.

    A naive datetime is read as UTC (that is how SQLite returns the stored value); a string is
    parsed as ISO 8601 (workbooks keep the timestamp as text).
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise InputError(
                f"occurred_at {value!r} is not an ISO 8601 timestamp", value=value
            ) from exc
    if not isinstance(value, datetime):
        raise InputError(f"occurred_at {value!r} is not a timestamp", value=repr(value))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} {value!r} is not JSON-serialisable")


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys and UTF-8 text (RFC 8785 for our value types)."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )


def _field(row: Any, name: str) -> Any:
    if isinstance(row, Mapping):
        return row.get(name)
    return getattr(row, name, None)


def _as_int(value: Any, name: str) -> int | None:
    """Integers survive a round trip through a workbook as floats or text: take them back."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InputError(f"{name} {value!r} is not an integer", field=name, value=repr(value))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise InputError(f"{name} {value!r} is not an integer", field=name, value=repr(value))


def _lenient(convert, value: Any) -> Any:
    """A value that does not parse is kept as text: it then fails its hash ("content changed")
    instead of aborting the whole verification (a tampered workbook cell, say)."""
    try:
        return convert(value)
    except InputError:
        return str(value)


def _as_text(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class EventRecord:
    """One audit event as plain values, whatever it was read from."""

    chain: str
    seq: int
    occurred_at: str
    actor: str | None
    event_type: str
    case_id: int | str | None  # str only when a source held something unreadable
    payload: str
    prev_hash: str
    hash: str

    @classmethod
    def from_row(cls, row: Any) -> EventRecord:
        """Read a row given as an ORM object, a SQLAlchemy row, a dict or any object."""
        if hasattr(row, "_mapping"):
            row = row._mapping
        seq = _as_int(_field(row, "seq"), "seq")
        chain = _as_text(_field(row, "chain"))
        if chain is None or seq is None:
            raise InputError(f"audit row without chain or seq: {row!r}", row=repr(row))
        return cls(
            chain=chain,
            seq=seq,
            occurred_at=_lenient(format_timestamp, _field(row, "occurred_at")),
            actor=_as_text(_field(row, "actor")),
            event_type=_as_text(_field(row, "event_type")) or "",
            case_id=_lenient(lambda v: _as_int(v, "case_id"), _field(row, "case_id")),
            payload=_as_text(_field(row, "payload")) or "",
            prev_hash=(_as_text(_field(row, "prev_hash")) or "").strip().lower(),
            hash=(_as_text(_field(row, "hash")) or "").strip().lower(),
        )

    def canonical(self, seq: int | None = None) -> str:
        """The canonical serialisation of every column but `id`, `prev_hash` and `hash`."""
        return canonical_json(
            {
                "actor": self.actor,
                "case_id": self.case_id,
                "chain": self.chain,
                "event_type": self.event_type,
                "occurred_at": self.occurred_at,
                "payload": self.payload,
                "seq": self.seq if seq is None else seq,
            }
        )

    def compute_hash(self, seq: int | None = None) -> str:
        """The hash this event should carry (optionally as if it had another seq)."""
        return compute_hash(self.prev_hash, self.canonical(seq))


def compute_hash(prev_hash: str, canonical: str) -> str:
    """sha256, lowercase hex, over `prev_hash`, a newline, and the canonical form (UTF-8)."""
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode("utf-8")).hexdigest()


# --- append -------------------------------------------------------------------------------


_LOCK_STMT = text("SELECT pg_advisory_xact_lock(:k)")


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
    digest = hashlib.sha256(f"procurement.audit:{chain}".encode("utf-8")).digest()
    return struct.unpack(">q", digest[:8])[0]


def append_event(
    session: Session,
    *,
    chain: str,
    actor: str,
    event_type: str,
    case_id: int | None,
    payload: Mapping[str, Any] | None,
    occurred_at: datetime | None = None,
):
    """Append one event to `chain` inside the session's transaction and return it (flushed).

    Must be called inside a write transaction the caller commits (`with session.begin():`); the
    chain stays locked for other writers until then, so keep the rest of the transaction short.
    """
    from procurement.db.models import AuditEvent

    if not chain:
        raise InputError("an audit event needs a chain (the organisation code)", chain=chain)
    if not event_type:
        raise InputError("an audit event needs an event type", chain=chain)
    if payload is None:
        payload = {}
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
    if occurred_at is None:
        occurred_at = datetime.now(timezone.utc)
    elif occurred_at.tzinfo is None:
        raise InputError(
            f"occurred_at {occurred_at!r} is naive: audit timestamps must be timezone-aware",
            chain=chain, value=repr(occurred_at),
        )
    # The stored value must be exactly the hashed one: both databases keep microseconds.
    occurred_at = occurred_at.astimezone(timezone.utc)

    # Core on the session's connection: same transaction, a fraction of the ORM's overhead.
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # Serialises appends to this chain until the caller's transaction ends. Under READ
        # COMMITTED (the default) the SELECT below then sees the previous appender's commit.
        conn.execute(_LOCK_STMT, {"k": chain_lock_key(chain)})
    # SQLite: the transaction began with BEGIN IMMEDIATE, so this process holds the write lock.
    last = conn.execute(_head_statement(), {"chain": chain}).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS_HASH)

    record = EventRecord(
        chain=chain,
        seq=seq,
        occurred_at=format_timestamp(occurred_at),
        actor=actor,
        event_type=event_type,
        case_id=case_id,
        payload=payload_text,
        prev_hash=prev_hash,
        hash="",
    )
    event = AuditEvent(
        chain=chain,
        seq=seq,
        occurred_at=occurred_at,
        actor=actor,
        event_type=event_type,
        case_id=case_id,
        payload=payload_text,
        prev_hash=prev_hash,
        hash=record.compute_hash(),
    )
    session.add(event)
    session.flush()
    return event


# --- verify -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    """The verdict on one chain: OK with its count and head, or the first bad seq and why."""

    chain: str
    count: int
    head_seq: int | None = None
    head_hash: str | None = None
    problem: str | None = None  # CONTENT_CHANGED, EVENT_MISSING, ORDER_BROKEN, INSERTED
    bad_seq: int | None = None
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def head(self) -> str | None:
        """`SEQ:HASH` of the last event, the value an auditor records for `--head`."""
        return None if self.head_seq is None else f"{self.head_seq}:{self.head_hash}"

    def describe(self) -> str:
        """One line: `OK <chain> <count> events, head <seq>:<hash>` or `FAIL <chain> seq ...`."""
        if self.ok:
            return f"OK {self.chain} {self.count} events, head {self.head}"
        return f"FAIL {self.chain} seq {self.bad_seq}: {self.problem.replace('_', ' ')}: {self.detail}"


def parse_head(value: str | tuple[int, str]) -> tuple[int, str]:
    """`SEQ:HASH` (or a tuple) -> (seq, lowercase hash), with a clear error when malformed."""
    if isinstance(value, tuple):
        seq, digest = value
    else:
        seq_text, sep, digest = str(value).strip().partition(":")
        if not sep or not seq_text.strip().isdigit():
            raise InputError(f"--head {value!r} is not SEQ:HASH (e.g. 42:3f1c...)", value=value)
        seq = int(seq_text)
    digest = digest.strip().lower()
    if seq < 1 or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InputError(
            f"--head {value!r}: SEQ must be >= 1 and HASH 64 hex digits", value=str(value)
        )
    return seq, digest


def _digest(h: str) -> str:
    return h[:12]


def verify_chain(
    chain: str, records: Iterable[EventRecord], head: tuple[int, str] | None = None
) -> ChainReport:
    """Verify one chain from its records sorted by seq (streamed: memory stays flat if OK)."""
    expected, prev, count = 1, GENESIS_HASH, 0
    recent: deque[EventRecord] = deque(maxlen=_DIAGNOSIS_WINDOW)
    head_seen: str | None = None
    it = iter(records)
    for rec in it:
        if rec.seq != expected or rec.prev_hash != prev or rec.compute_hash() != rec.hash:
            return _diagnose(chain, expected, prev, [rec, *it], recent, count)
        if head is not None and rec.seq == head[0]:
            head_seen = rec.hash
        prev, expected, count = rec.hash, expected + 1, count + 1
        recent.append(rec)
    if count == 0:
        return ChainReport(
            chain, 0, problem=EVENT_MISSING, bad_seq=1,
            detail="no events in this chain (is the organisation code right?)",
        )
    report = ChainReport(chain, count, count, prev)
    if head is not None:
        seq, digest = head
        if head_seen is None:
            return ChainReport(
                chain, count, problem=EVENT_MISSING, bad_seq=seq,
                detail=f"the recorded head {seq}:{_digest(digest)}... is gone: the chain ends at "
                f"seq {count} (events were removed from the end)",
            )
        if head_seen != digest:
            return ChainReport(
                chain, count, problem=CONTENT_CHANGED, bad_seq=seq,
                detail=f"event {seq} has hash {_digest(head_seen)}..., the recorded head says "
                f"{_digest(digest)}... (the chain was rewritten from seq {seq} or earlier)",
            )
    return report


def _diagnose(
    chain: str,
    expected: int,
    prev: str,
    rest: list[EventRecord],
    recent: deque[EventRecord],
    count: int,
) -> ChainReport:
    """Name the first bad seq and the likeliest kind of tampering around it."""

    def fail(problem: str, seq: int, detail: str) -> ChainReport:
        return ChainReport(chain, count, problem=problem, bad_seq=seq, detail=detail)

    rec = rest[0]
    if rec.seq < expected:
        return fail(INSERTED, rec.seq, f"two events carry seq {rec.seq}")
    if rec.seq > expected:
        gap = f"seq {expected}" if rec.seq == expected + 1 else f"seq {expected}..{rec.seq - 1}"
        return fail(EVENT_MISSING, expected, f"{gap} missing (the next event is seq {rec.seq})")

    is_intact = rec.compute_hash() == rec.hash
    recorded_seq = None if is_intact else _find_recorded_seq(rec, expected, rest, recent)
    window = rest[1:_DIAGNOSIS_WINDOW]
    if (recorded_seq is not None and recorded_seq > expected
            and any(r.hash == rec.prev_hash for r in window)):
        return fail(
            ORDER_BROKEN, expected,
            f"the event stored as seq {expected} was recorded as seq {recorded_seq} "
            f"(events were moved)",
        )
    # An inserted event shifts later ones: some later event, hashed with this seq, links to prev.
    for j, later in enumerate(window, start=1):
        if later.prev_hash == prev and later.compute_hash(expected) == later.hash:
            what = f"seq {expected}" if j == 1 else f"seq {expected}..{expected + j - 1}"
            return fail(
                INSERTED, expected,
                f"{what} inserted: the event recorded as seq {expected} is now stored as "
                f"seq {later.seq}",
            )
    if is_intact:
        # Self-consistent but chained to another hash: the event before it was rewritten and
        # re-hashed (or this one was forged on top of a different history).
        if expected == 1:
            return fail(CONTENT_CHANGED, 1, "seq 1 does not start from the genesis hash")
        return fail(
            CONTENT_CHANGED, expected - 1,
            f"its hash {_digest(prev)}... is not the one seq {expected} was chained to "
            f"({_digest(rec.prev_hash)}...): seq {expected - 1} was rewritten",
        )

    if recorded_seq is None:
        return fail(
            CONTENT_CHANGED, expected,
            f"the stored hash {_digest(rec.hash)}... does not match the event's content",
        )
    if recorded_seq < expected:
        linked = GENESIS_HASH if recorded_seq == 1 else next(
            (r.hash for r in recent if r.seq == recorded_seq - 1), None
        )
        if rec.prev_hash == linked:
            what = (f"seq {recorded_seq}" if recorded_seq == expected - 1
                    else f"seq {recorded_seq}..{expected - 1}")
            return fail(
                INSERTED, recorded_seq,
                f"{what} inserted: the event recorded as seq {recorded_seq} is now stored as "
                f"seq {expected}",
            )
        return fail(
            ORDER_BROKEN, expected,
            f"the event stored as seq {expected} was recorded as seq {recorded_seq}",
        )
    what = f"seq {expected}" if recorded_seq == expected + 1 else f"seq {expected}..{recorded_seq - 1}"
    return fail(
        EVENT_MISSING, expected,
        f"{what} missing: the event stored as seq {expected} was recorded as seq {recorded_seq} "
        f"(later events were renumbered)",
    )


def _find_recorded_seq(
    rec: EventRecord, expected: int, rest: list[EventRecord], recent: deque[EventRecord]
) -> int | None:
    """The seq this event was hashed with, when only its seq was changed (else None)."""
    upper = max([rec.seq, *(r.seq for r in rest[:_DIAGNOSIS_WINDOW])]) + len(rest) + 1
    lower = max(1, expected - len(recent) - 1)
    for seq in range(lower, upper + 1):
        if seq != rec.seq and rec.compute_hash(seq) == rec.hash:
            return seq
    return None


def _group_by_chain(rows: Iterable[Any]) -> dict[str, list[EventRecord]]:
    chains: dict[str, list[EventRecord]] = {}
    for row in rows:
        rec = EventRecord.from_row(row)
        chains.setdefault(rec.chain, []).append(rec)
    for records in chains.values():
        records.sort(key=lambda r: r.seq)  # stable: duplicates keep their source order
    return chains


def verify_rows(
    rows: Iterable[Any], *, chain: str | None = None, head: str | tuple[int, str] | None = None
) -> list[ChainReport]:
    """Verify every chain found in `rows` (any order, any source); one report per chain.

    Rows may be ORM objects, SQLAlchemy rows or dicts with the column names; workbook values
    (integers as floats, timestamps as text) are accepted. `chain` keeps only that chain;
    `head` (`SEQ:HASH`) applies to it, or to the only chain present.
    """
    head_tuple = parse_head(head) if head is not None else None
    chains = _group_by_chain(rows)
    if chain is not None:
        chains = {chain: chains.get(chain, [])}
    if head_tuple is not None and chain is None and len(chains) > 1:
        raise InputError(
            f"--head needs --chain: the log holds {len(chains)} chains "
            f"({', '.join(sorted(chains))})",
            chains=sorted(chains),
        )
    return [
        verify_chain(name, records, head_tuple)
        for name, records in sorted(chains.items())
    ]


def list_chains(engine: Engine) -> list[str]:
    """The chains present in the database, sorted."""
    from procurement.db.models import AuditEvent

    with engine.connect() as conn:
        return list(conn.scalars(select(AuditEvent.chain).distinct().order_by(AuditEvent.chain)))


def _stream_chain(engine: Engine, chain: str) -> Iterator[EventRecord]:
    from procurement.db.models import AuditEvent

    columns = [getattr(AuditEvent, name) for name in (
        "chain", "seq", "occurred_at", "actor", "event_type", "case_id", "payload",
        "prev_hash", "hash",
    )]
    stmt = (
        select(*columns)
        .where(AuditEvent.chain == chain)
        .order_by(AuditEvent.seq, AuditEvent.id)
        .execution_options(yield_per=2000)
    )
    with Session(engine) as session:
        for row in session.execute(stmt):
            yield EventRecord.from_row(row)


def verify_database(
    engine: Engine, chain: str | None = None, head: str | tuple[int, str] | None = None
) -> list[ChainReport]:
    """Verify every chain stored in the database (or only `chain`), streaming by seq."""
    head_tuple = parse_head(head) if head is not None else None
    chains = [chain] if chain is not None else list_chains(engine)
    if head_tuple is not None and chain is None and len(chains) > 1:
        raise InputError(
            f"--head needs --chain: the log holds {len(chains)} chains ({', '.join(chains)})",
            chains=chains,
        )
    return [verify_chain(name, _stream_chain(engine, name), head_tuple) for name in chains]
