"""The chain's canonical form: how one event is serialised and hashed (docs/audit-log.md).

Every event stores `prev_hash` (the previous event's `hash`; 64 zeros for seq 1) and
`hash = sha256(prev_hash + "\\n" + canonical)`, where `canonical` is the RFC 8785 (JCS) JSON
object of the other columns except the surrogate `id`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

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
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()
