"""Verifying chains: from the database (streaming by seq) or from rows of any source.

`verify_rows` accepts rows from any source (ORM objects, dicts, rows read back from a workbook),
re-computes every chain and reports per chain either its count and head, or the first bad seq
and what is wrong: content changed, event missing, order broken, or event inserted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.engine import Engine

from procurement.audit.chain import (
    CONTENT_CHANGED,
    EVENT_MISSING,
    GENESIS_HASH,
    INSERTED,
    ORDER_BROKEN,
    EventRecord,
)
from procurement.db.reading import read_connection, stream
from procurement.errors import InputError

#: How far the diagnosis looks around the first bad event (bounds its cost on a huge chain).
_DIAGNOSIS_WINDOW = 1000


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
        return f"FAIL {self.chain} seq {self.bad_seq}: {cast(str, self.problem).replace('_', ' ')}: {self.detail}"


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

    with read_connection(engine) as conn:
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
    )
    with read_connection(engine, snapshot=True) as conn:
        for row in stream(conn, stmt):
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
