"""Tampering with `audit_events` through raw SQL, on SQLite and PostgreSQL: verification must
fail on the tampered chain only, and name the right seq and the kind of change."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from procurement.audit import (
    CONTENT_CHANGED,
    EVENT_MISSING,
    INSERTED,
    ORDER_BROKEN,
    EventRecord,
    verify_database,
)
from tests.audit.chains import T0, build_chains, run_sql


def shift_seqs_up(engine, from_seq: int) -> None:
    """seq += 1 from `from_seq` on, in two steps so that unique(chain, seq) holds throughout."""
    run_sql(
        engine,
        "UPDATE audit_events SET seq = -(seq + 1) WHERE chain = 'demo-city' AND seq >= :s",
        "UPDATE audit_events SET seq = -seq WHERE chain = 'demo-city' AND seq < 0",
        s=from_seq,
    )


def row(engine, seq: int) -> dict:
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT * FROM audit_events WHERE chain = 'demo-city' AND seq = :s"), {"s": seq}
        ).mappings().one()
    return dict(found)


def insert_row(engine, values: dict) -> None:
    values = {k: v for k, v in values.items() if k != "id"}
    columns = ", ".join(values)
    run_sql(engine, f"INSERT INTO audit_events ({columns}) VALUES "
            f"({', '.join(':' + c for c in values)})", **values)


def verdicts(engine, **kwargs) -> dict:
    return {r.chain: r for r in verify_database(engine, **kwargs)}


def failure(engine, **kwargs):
    reports = verdicts(engine, **kwargs)
    assert reports["demo-ministry"].ok, "the other organisation's chain must still verify"
    city = reports["demo-city"]
    assert not city.ok
    return city.problem, city.bad_seq


def test_untouched_chains_verify(engine):
    build_chains(engine)
    reports = verdicts(engine)
    assert [(r.chain, r.count, r.head_seq, r.ok) for r in reports.values()] == [
        ("demo-city", 8, 8, True), ("demo-ministry", 3, 3, True),
    ]


EDITS = [
    ("payload", '{"answers":{"SC-1":"no"},"i":2}'),
    ("actor", "someone-else"),
    ("event_type", "case.approved"),
    ("case_id", 99),
    ("case_id", None),
    ("hash", "f" * 64),
    ("prev_hash", "e" * 64),
]


def test_edited_column_is_content_changed_at_its_seq(engine):
    # One database for every column (a fresh PostgreSQL database per case would cost seconds).
    build_chains(engine)
    original = row(engine, 3)
    for column, value in EDITS:
        run_sql(engine, f"UPDATE audit_events SET {column} = :v "
                "WHERE chain = 'demo-city' AND seq = 3", v=value)
        assert failure(engine) == (CONTENT_CHANGED, 3), column
        run_sql(engine, f"UPDATE audit_events SET {column} = :v "
                "WHERE chain = 'demo-city' AND seq = 3", v=original[column])
        assert verdicts(engine)["demo-city"].ok, f"{column} restored"


def test_edited_timestamp_is_content_changed(engine):
    build_chains(engine)
    run_sql(engine, "UPDATE audit_events SET occurred_at = :t WHERE chain = 'demo-city' AND seq = 5",
            t=T0 - timedelta(days=30))
    assert failure(engine) == (CONTENT_CHANGED, 5)


def test_edited_and_rehashed_event_is_named_by_the_next_link(engine):
    # Someone who knows the recipe rewrites seq 3 and recomputes its hash: seq 4 still points
    # at the old hash, so the chain breaks right there.
    build_chains(engine)
    forged = {**row(engine, 3), "payload": '{"answers":{"SC-1":"no"},"i":2}'}
    new_hash = EventRecord.from_row(forged).compute_hash()
    run_sql(engine, "UPDATE audit_events SET payload = :p, hash = :h "
            "WHERE chain = 'demo-city' AND seq = 3", p=forged["payload"], h=new_hash)
    assert failure(engine) == (CONTENT_CHANGED, 3)


def test_deleted_event_is_missing(engine):
    build_chains(engine)
    run_sql(engine, "DELETE FROM audit_events WHERE chain = 'demo-city' AND seq = 4")
    assert failure(engine) == (EVENT_MISSING, 4)


def test_deleted_first_event_is_missing(engine):
    build_chains(engine)
    run_sql(engine, "DELETE FROM audit_events WHERE chain = 'demo-city' AND seq = 1")
    assert failure(engine) == (EVENT_MISSING, 1)


def test_deleted_and_renumbered_events_are_missing(engine):
    build_chains(engine)
    run_sql(
        engine,
        "DELETE FROM audit_events WHERE chain = 'demo-city' AND seq IN (4, 5)",
        "UPDATE audit_events SET seq = -(seq - 2) WHERE chain = 'demo-city' AND seq > 5",
        "UPDATE audit_events SET seq = -seq WHERE chain = 'demo-city' AND seq < 0",
    )
    problem, seq = failure(engine)
    assert (problem, seq) == (EVENT_MISSING, 4)
    assert "recorded as seq 6" in verdicts(engine)["demo-city"].detail


def test_swapped_events_break_the_order(engine):
    build_chains(engine)
    run_sql(
        engine,
        "UPDATE audit_events SET seq = -1 WHERE chain = 'demo-city' AND seq = 5",
        "UPDATE audit_events SET seq = 5 WHERE chain = 'demo-city' AND seq = 6",
        "UPDATE audit_events SET seq = 6 WHERE chain = 'demo-city' AND seq = -1",
    )
    assert failure(engine) == (ORDER_BROKEN, 5)


def test_ids_reordered_without_touching_seq_still_verify(engine):
    # Storage order is not the log's order: seq is. Reversing ids changes nothing.
    build_chains(engine)
    run_sql(engine, "UPDATE audit_events SET id = -id", "UPDATE audit_events SET id = 1000 + id")
    assert all(r.ok for r in verify_database(engine))


def test_forged_event_inserted_in_the_middle(engine):
    # A well-formed forgery linked to seq 2, with later events shifted up to make room.
    build_chains(engine)
    seq2 = row(engine, 2)
    shift_seqs_up(engine, 3)
    forged = {**seq2, "seq": 3, "actor": "intruder", "prev_hash": seq2["hash"],
              "payload": '{"answers":{"SC-1":"no"},"i":99}'}
    forged["hash"] = EventRecord.from_row(forged).compute_hash()
    insert_row(engine, forged)
    assert failure(engine) == (INSERTED, 3)


def test_garbage_event_inserted_in_the_middle(engine):
    build_chains(engine)
    shift_seqs_up(engine, 3)
    insert_row(engine, {**row(engine, 2), "seq": 3, "hash": "a" * 64, "actor": "intruder"})
    assert failure(engine) == (INSERTED, 3)


def test_event_appended_with_a_wrong_hash(engine):
    build_chains(engine)
    insert_row(engine, {**row(engine, 8), "seq": 9, "prev_hash": row(engine, 8)["hash"]})
    assert failure(engine) == (CONTENT_CHANGED, 9)


def test_deleted_tail_is_caught_only_against_a_recorded_head(engine):
    build_chains(engine)
    recorded = verdicts(engine)["demo-city"].head
    assert recorded.startswith("8:")
    run_sql(engine, "DELETE FROM audit_events WHERE chain = 'demo-city' AND seq >= 7")
    assert verdicts(engine)["demo-city"].ok  # a clean prefix looks fine on its own...
    [city] = verify_database(engine, chain="demo-city", head=recorded)
    assert (city.problem, city.bad_seq) == (EVENT_MISSING, 8)  # ...but not against the head


def test_rewritten_chain_is_caught_against_a_recorded_head(engine):
    build_chains(engine)
    recorded = verdicts(engine)["demo-city"].head
    earlier = f"5:{row(engine, 5)['hash']}"
    run_sql(engine, "UPDATE audit_events SET hash = :h WHERE chain = 'demo-city' AND seq = 8",
            h="b" * 64)
    [city] = verify_database(engine, chain="demo-city", head=earlier)
    assert (city.problem, city.bad_seq) == (CONTENT_CHANGED, 8)  # the chain itself fails first
    run_sql(engine, "UPDATE audit_events SET hash = :h WHERE chain = 'demo-city' AND seq = 8",
            h=recorded.split(":")[1])
    [city] = verify_database(engine, chain="demo-city", head=f"5:{'c' * 64}")
    assert (city.problem, city.bad_seq) == (CONTENT_CHANGED, 5)
