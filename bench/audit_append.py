"""Benchmark: what the hash-chained audit append costs, and whether it holds under concurrency.

    python bench/audit_append.py [--events 400] [--processes 4] [--per-process 250]
                                 [--verify-events 50000] [--postgres-url URL]

On a fresh SQLite file, and (with --postgres-url, or PROCUREMENT_TEST_POSTGRES_URL) on a fresh
database created on that PostgreSQL server and dropped afterwards, it measures in one run:

1. append: one transaction per event; `append_event` (chain lock, head read, hash, insert) versus
   a plain INSERT of the same row (same columns and sizes, no lock, no read, no hash);
2. service call: `Services.save_answers` (the real audited use-case, flipping one answer, which
   writes the answers, the case, a decision and its audit events) versus the same call with
   `append_event` replaced by that plain INSERT;
3. concurrency: N processes x M events appended to ONE chain at once: errors, lost events,
   verify result, events/s;
4. verification: `verify_database` over one chain of --verify-events events, events/s.

Printed per database: median and p95 latency (ms) and events (or calls) per second for each
variant, the audited/plain ratio of medians (goal: <= 2x), and the concurrency figures. The
variants alternate in rounds so machine noise hits both alike: compare ratios, not seconds
across runs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROUNDS = 8


# --- the two ways of writing one audit row ---------------------------------------------------


class PlainInserter:
    """Inserts the row `append_event` would write, without the chain lock, head read or hash."""

    def __init__(self) -> None:
        self.seqs: dict[str, int] = {}

    def __call__(self, session, *, chain, actor, event_type, case_id, payload, occurred_at=None):
        from procurement.audit import canonical_json
        from procurement.db.models import AuditEvent

        chain = f"{chain}~plain"  # its own chain: the real one stays verifiable
        seq = self.seqs[chain] = self.seqs.get(chain, 0) + 1
        event = AuditEvent(
            chain=chain, seq=seq, occurred_at=occurred_at or datetime.now(UTC),
            actor=actor, event_type=event_type, case_id=case_id,
            payload=canonical_json(dict(payload or {})), prev_hash="0" * 64, hash="f" * 64,
        )
        session.add(event)
        session.flush()
        return event


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(name: str, seconds: list[float], unit: str = "events") -> dict:
    return {
        "name": name,
        "median_ms": statistics.median(seconds) * 1000,
        "p95_ms": percentile(seconds, 0.95) * 1000,
        "per_s": len(seconds) / sum(seconds),
        "unit": unit,
    }


def print_pair(audited: dict, plain: dict) -> None:
    for row in (audited, plain):
        print(f"  {row['name']:<34} median {row['median_ms']:7.2f} ms   p95 {row['p95_ms']:7.2f} ms"
              f"   {row['per_s']:8.0f} {row['unit']}/s")
    ratio = audited["median_ms"] / plain["median_ms"]
    print(f"  ratio audited/plain (median)       {ratio:.2f}x  (goal <= 2x: "
          f"{'met' if ratio <= 2 else 'NOT met'})")


# --- 1. append alone --------------------------------------------------------------------------


def bench_append(url: str, events: int) -> None:
    from procurement.audit import append_event, verify_database
    from procurement.db import create_db_engine, make_session_factory

    engine = create_db_engine(url)
    sessions = make_session_factory(engine)
    plain_insert = PlainInserter()
    variants = {"audited append_event": append_event, "plain INSERT": plain_insert}
    timings: dict[str, list[float]] = {name: [] for name in variants}
    payload = {"changes": {"SC-1": {"old": "no", "new": "yes"}}, "answers_hash": "a" * 64,
               "level": "review", "complete": False, "blocking": []}
    per_round = max(1, events // ROUNDS)
    for _ in range(ROUNDS):
        for name, write in variants.items():
            for _ in range(per_round):
                start = time.perf_counter()
                with sessions.begin() as session:
                    write(session, chain="bench-org", actor="planner01",
                          event_type="case.answers_saved", case_id=1, payload=payload,
                          occurred_at=datetime.now(UTC))
                timings[name].append(time.perf_counter() - start)
    print(f"1. append, one transaction per event ({per_round * ROUNDS} events each)")
    print_pair(summary("audited append_event", timings["audited append_event"]),
               summary("plain INSERT of the same row", timings["plain INSERT"]))
    [report] = verify_database(engine, chain="bench-org")
    print(f"  verify: {report.describe()[:60]}...")
    engine.dispose()


# --- 2. the audited service call --------------------------------------------------------------


def bench_service(url: str, calls: int) -> None:
    import procurement.records.core as services_module  # its `audit` is the module written through
    from procurement.audit import append_event, verify_database
    from procurement.db import create_db_engine
    from procurement.packs import PackRegistry
    from procurement.services import Services

    engine = create_db_engine(url)
    registry = PackRegistry.discover()
    svc = Services(engine, registry)
    admin = svc.create_first_admin("bench-org", "ベンチ市", "municipality", "admin01",
                                   "管理者", "bench-password-1")
    svc.create_user(admin, "bench-org", "planner01", "企画 太郎", "bench-password-2", ["planner"])
    planner = svc.actor_for("planner01")
    pack = svc.resolve_pack("bench-org")
    question = next(q for q in pack.questions if len(q.options) >= 2)
    values = [question.options[0].value, question.options[1].value]
    case = svc.create_case(planner, "議事録要約の試行", "総務課")

    variants = {"audited": append_event, "plain": PlainInserter()}
    timings: dict[str, list[float]] = {name: [] for name in variants}
    version, flip = case.version, 0
    per_round = max(1, calls // ROUNDS)
    try:
        for _ in range(ROUNDS):
            for name, write in variants.items():
                services_module.audit.append_event = write
                for _ in range(per_round):
                    flip ^= 1
                    start = time.perf_counter()
                    view = svc.save_answers(planner, case.id, {question.id: values[flip]}, version)
                    timings[name].append(time.perf_counter() - start)
                    version = view.version
    finally:
        services_module.audit.append_event = append_event
    print(f"2. service call Services.save_answers ({per_round * ROUNDS} calls each; "
          f"question {question.id} flipped)")
    print_pair(summary("audited save_answers", timings["audited"], "calls"),
               summary("save_answers, plain INSERT audit", timings["plain"], "calls"))
    [report] = verify_database(engine, chain="bench-org")
    print(f"  verify: {report.describe()[:60]}...")
    engine.dispose()


# --- 3. concurrency ---------------------------------------------------------------------------


def _concurrent_worker(url: str, label: str, count: int, start_at: float, results) -> None:
    from procurement.audit import append_event
    from procurement.db import create_db_engine, make_session_factory

    engine = create_db_engine(url, migrate=False)
    sessions = make_session_factory(engine)
    committed, errors = 0, []
    time.sleep(max(0.0, start_at - time.time()))
    started = time.perf_counter()
    for i in range(count):
        try:
            with sessions.begin() as session:
                append_event(session, chain="shared", actor=label, event_type="bench.append",
                             case_id=i, payload={"worker": label, "i": i})
            committed += 1
        except Exception as exc:  # counted and reported: the figure we want is "0"
            errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
    results.put((label, committed, errors, time.perf_counter() - started))
    engine.dispose()


def bench_concurrency(url: str, processes: int, per_process: int) -> None:
    from sqlalchemy import func, select

    from procurement.audit import verify_database
    from procurement.db import create_db_engine
    from procurement.db.models import AuditEvent

    engine = create_db_engine(url)
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    start_at = time.time() + 3.0
    workers = [
        ctx.Process(target=_concurrent_worker, args=(url, f"w{n}", per_process, start_at, results))
        for n in range(processes)
    ]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=600) for _ in workers]
    for w in workers:
        w.join()
    committed = sum(o[1] for o in outcomes)
    errors = [e for o in outcomes for e in o[2]]
    wall = max(o[3] for o in outcomes)
    with engine.connect() as conn:
        stored = conn.scalar(select(func.count()).where(AuditEvent.chain == "shared"))
    [report] = verify_database(engine, chain="shared")
    total = processes * per_process
    print(f"3. concurrency: {processes} processes x {per_process} events on one chain")
    print(f"  committed {committed}/{total}, errors {len(errors)}, stored {stored}, "
          f"lost {committed - stored if stored <= committed else 0}, "
          f"{total / wall:.0f} events/s overall ({wall:.1f} s)")
    print(f"  verify: {report.describe()[:70]}")
    for error in errors[:3]:
        print(f"  error: {error}")
    engine.dispose()


# --- 4. verification throughput ----------------------------------------------------------------


def bench_verify(url: str, events: int) -> None:
    from sqlalchemy import insert

    from procurement.audit import GENESIS_HASH, EventRecord, format_timestamp, verify_database
    from procurement.db import create_db_engine
    from procurement.db.models import AuditEvent

    engine = create_db_engine(url)
    rows, prev = [], GENESIS_HASH
    now = datetime.now(UTC)
    for seq in range(1, events + 1):
        row = dict(chain="big", seq=seq, occurred_at=now, actor="planner01",
                   event_type="case.answers_saved", case_id=seq % 500,
                   payload='{"answers_hash":"%s","level":"review"}' % ("a" * 64), prev_hash=prev)
        record = EventRecord.from_row({**row, "occurred_at": format_timestamp(now), "hash": ""})
        row["hash"] = prev = record.compute_hash()
        rows.append(row)
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(AuditEvent), rows[start:start + 5000])
    start = time.perf_counter()
    [report] = verify_database(engine, chain="big")
    seconds = time.perf_counter() - start
    print(f"4. verify_database on one chain of {events} events: {seconds:.2f} s, "
          f"{events / seconds:.0f} events/s ({'OK' if report.ok else 'FAIL'})")
    engine.dispose()


# --- databases --------------------------------------------------------------------------------


def postgres_database(server_url: str):
    """Create a throwaway database on the server; returns (url, drop)."""
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(server_url)
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"procurement_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    url = server.set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False), drop


def run_all(label: str, make_url, args) -> None:
    print(f"== {label}")
    for step in (
        lambda url: bench_append(url, args.events),
        lambda url: bench_service(url, args.events // 2),
        lambda url: bench_concurrency(url, args.processes, args.per_process),
        lambda url: bench_verify(url, args.verify_events),
    ):
        url, cleanup = make_url()
        try:
            step(url)
        finally:
            cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=400, help="events per append variant")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--per-process", type=int, default=250)
    parser.add_argument("--verify-events", type=int, default=50_000)
    parser.add_argument("--postgres-url", default=os.environ.get("PROCUREMENT_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server URL (a throwaway database is created on it)")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {ROUNDS} alternating rounds")

    with tempfile.TemporaryDirectory() as folder:
        counter = iter(range(1000))

        def sqlite_url():
            return f"sqlite:///{Path(folder) / f'bench{next(counter)}.sqlite'}", lambda: None

        run_all("SQLite (WAL, synchronous=NORMAL)", sqlite_url, args)
    if args.postgres_url:
        run_all("PostgreSQL", lambda: postgres_database(args.postgres_url), args)
    else:
        print("== PostgreSQL skipped: give --postgres-url (or PROCUREMENT_TEST_POSTGRES_URL)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
