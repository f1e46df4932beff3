"""The audit log: a hash chain per organisation, appended inside the caller's transaction.

    append_event(session, *, chain, actor, event_type, case_id, payload, occurred_at=None)
    append_bulk(engine, chain, events) -> (seq, hash)        # many events of one chain
    verify_rows(rows, *, chain=None, head=None) -> list[ChainReport]
    verify_database(engine, chain=None, head=None) -> list[ChainReport]
    verify_chain(chain, records_sorted_by_seq, head=None) -> ChainReport   (streaming)

Parts: `chain` (the canonical form and the hash), `append` (the only writer of audit rows),
`verify` (re-computing chains from the database or from rows of any source).
`docs/audit-log.md` gives the recipe with a worked example an auditor can recompute with any tool.
"""

from procurement.audit.append import (
    NewEvent,
    append_bulk,
    append_event,
    append_events,
    chain_lock_key,
)
from procurement.audit.chain import (
    CANONICAL_FIELDS,
    CONTENT_CHANGED,
    EVENT_MISSING,
    GENESIS_HASH,
    INSERTED,
    ORDER_BROKEN,
    EventRecord,
    canonical_json,
    compute_hash,
    format_timestamp,
)
from procurement.audit.verify import (
    ChainReport,
    list_chains,
    parse_head,
    verify_chain,
    verify_database,
    verify_rows,
)

__all__ = [
    "CANONICAL_FIELDS", "CONTENT_CHANGED", "EVENT_MISSING", "GENESIS_HASH", "INSERTED",
    "ORDER_BROKEN", "ChainReport", "EventRecord", "NewEvent", "append_bulk", "append_event",
    "append_events",
    "canonical_json", "chain_lock_key", "compute_hash", "format_timestamp", "list_chains",
    "parse_head", "verify_chain", "verify_database", "verify_rows",
]
