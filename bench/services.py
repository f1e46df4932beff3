"""Service-layer latency: create_case, save_answers, get_case, list_cases (median, p95, calls/s)
on a fresh SQLite file and, when a URL is given, a fresh PostgreSQL database.

    python bench/services.py [--cases 300] [--postgres postgresql+psycopg://user:pw@host/db]

The PostgreSQL URL must point at a database this script may fill (use a throwaway one). Figures
vary by ±15 % between runs on the CI machines: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from procurement.db import create_db_engine
from procurement.demo import LOW
from procurement.packs import PackRegistry
from procurement.services import Services


def _figures(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (f"  {name:<14} median {statistics.median(ordered) * 1000:7.2f} ms   "
            f"p95 {p95 * 1000:7.2f} ms   {len(ordered) / sum(ordered):8.1f} calls/s")


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def run(url: str, n: int, registry: PackRegistry) -> None:
    engine = create_db_engine(url)
    svc = Services(engine, registry)
    admin = svc.create_first_admin("bench", "Bench", "ministry", "bench-admin", "B", "bench password")
    svc.create_user(admin, "bench", "bench-planner", "P", "bench password", ["planner"])
    planner = svc.actor_for("bench-planner")
    create, save, get = [], [], []
    for i in range(n):
        t, view = _timed(lambda: svc.create_case(planner, f"案件 {i}", "総務課", answers=LOW))
        create.append(t)
        t, view = _timed(lambda: svc.save_answers(planner, view.id, {"HR-1": "public"}, view.version))
        save.append(t)
        t, _ = _timed(lambda: svc.get_case(planner, view.id))
        get.append(t)
    listing = [_timed(lambda: svc.list_cases(planner, level="high"))[0] for _ in range(20)]
    print(f"{engine.dialect.name}: {n} cases")
    for name, samples in (("create_case", create), ("save_answers", save), ("get_case", get),
                          (f"list_cases({n})", listing)):
        print(_figures(name, samples))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--postgres", metavar="URL")
    args = parser.parse_args()
    registry = PackRegistry.discover()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.sqlite'}", args.cases, registry)
    if args.postgres:
        run(args.postgres, args.cases, registry)


if __name__ == "__main__":
    main()
