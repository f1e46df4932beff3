"""Benchmark: re-assessing stored cases from jp-national@1 to jp-national@2.

    python bench/reassess.py [--cases 10000] [--apply 300] [--repeat 3] [--url URL]

Fills a fresh SQLite file (or the empty database at --url) with one organisation and N cases
under edition 1 with varied answers (random options, some questions unanswered, fixed seed),
inserted in bulk (the set-up is not what is measured). Then it times, in one run:

1. the dry run: `plan_reassessment` (two queries, classification in memory), median of
   --repeat runs, in cases per second (goal: >= 2,000/s on SQLite);
2. classifying every case afresh under both packs, answers already in memory (no memo, no
   I/O), to show what the memo buys on these answers;
3. apply on the first --apply cases (one audited transaction per case), cases per second.

Machines are noisy (about 15 %): compare the figures inside one run, as ratios.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from procurement.db import create_db_engine  # noqa: E402
from procurement.db.models import Answer, Case  # noqa: E402
from procurement.packs import PackRegistry  # noqa: E402
from procurement.services import Services, answers_hash  # noqa: E402
from procurement.sharing import reassess


def seed(svc: Services, n_cases: int, rng: random.Random) -> None:
    """One organisation with a pack admin and a planner, and `n_cases` edition-1 cases."""
    from procurement.records import security

    security.SCRYPT_N = 2**8  # set-up only: the accounts are not what is measured
    admin = svc.create_first_admin("bench", "ベンチ省", "ministry", "bench-admin", "管理者",
                                   "bench password 1")
    svc.create_user(admin, "bench", "bench-planner", "企画", "bench password 1", ["planner"])
    svc.create_user(admin, "bench", "bench-packadmin", "規則", "bench password 1", ["pack_admin"])
    planner = svc.actor_for("bench-planner")
    v1 = svc.registry.resolve("jp-national@1")
    from procurement.packs import classify

    now = datetime(2026, 5, 1, tzinfo=UTC)
    cases, answers = [], []
    for case_id in range(1, n_cases + 1):
        given = {"SC-1": "yes", "SC-2": "no"} if rng.random() < 0.9 else {}
        for q in v1.questions:
            if q.id in given or rng.random() < 0.08:  # ~8 % unanswered
                continue
            given[q.id] = rng.choice(q.option_values)
        result = classify(v1, given)
        cases.append(dict(
            id=case_id, org_id=planner.org_id, title=f"案件 {case_id}", department="情報課",
            owner_id=planner.user_id, status=rng.choice(["draft", "submitted", "approved"]),
            pack_id=v1.id, pack_version=v1.version, pack_fingerprint=v1.fingerprint,
            level=result.level, is_complete=result.complete, has_blocking=bool(result.blocking),
            answers_hash=answers_hash(given), version=1, created_at=now, updated_at=now,
        ))
        answers.extend(dict(case_id=case_id, question_id=q, value=json.dumps(v, ensure_ascii=False),
                            answered_by=planner.user_id, answered_at=now) for q, v in given.items())
    with svc.engine.begin() as conn:
        for start in range(0, len(cases), 2000):
            conn.execute(insert(Case), cases[start:start + 2000])
        for start in range(0, len(answers), 10000):
            conn.execute(insert(Answer), answers[start:start + 10000])


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--apply", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", help="an EMPTY database URL (default: a fresh SQLite file)")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="bench-reassess-")
    url = args.url or f"sqlite:///{folder}/bench.sqlite"
    engine = create_db_engine(url)
    svc = Services(engine, PackRegistry.discover())
    rng = random.Random(20260612)
    start = time.perf_counter()
    seed(svc, args.cases, rng)
    print(f"database: {engine.dialect.name}; seeded {args.cases} edition-1 cases in "
          f"{time.perf_counter() - start:.1f} s")

    seconds, plan = timed(lambda: svc.plan_reassessment("jp-national@2"), args.repeat)
    changed = len(plan.changed_rows)
    print(f"dry run: {len(plan.rows)} cases in {seconds:.3f} s = {len(plan.rows) / seconds:,.0f} "
          f"cases/s (median of {args.repeat}); {changed} with differences; goal >= 2,000/s")

    # What the memo saves: classify both packs afresh for every case (answers already in memory).
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from procurement.packs import classify

    v1 = svc.registry.resolve("jp-national@1")
    v2 = svc.registry.resolve("jp-national@2")
    with Session(engine) as s:
        stored: dict[int, dict[str, str]] = {}
        for case_id, q, v in s.execute(select(Answer.case_id, Answer.question_id, Answer.value)):
            stored.setdefault(case_id, {})[q] = json.loads(v)
    distinct = len({tuple(sorted(a.items())) for a in stored.values()})
    start = time.perf_counter()
    for row in plan.rows:
        given = stored.get(row.case_id, {})
        reassess.diff_results(classify(v1, given), classify(v2, given))
    raw = time.perf_counter() - start
    print(f"distinct answer sets: {distinct} of {len(plan.rows)} cases; classifying every case "
          f"afresh (no memo, no I/O): {len(plan.rows) / raw:,.0f} cases/s")

    subset = reassess.ReassessmentPlan(pack=plan.pack, rows=plan.rows[: args.apply],
                                       versions=plan.versions)
    packadmin = svc.actor_for("bench-packadmin")
    start = time.perf_counter()
    result = svc.apply_reassessment(subset, lambda org: packadmin)
    seconds = time.perf_counter() - start
    print(f"apply: {len(result.moved)} cases in {seconds:.2f} s = {len(result.moved) / seconds:,.0f} "
          f"cases/s ({len(result.voided)} approvals voided, {len(result.refused)} refused)")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
