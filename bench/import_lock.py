"""How long a large `cases import` holds the write lock (and so makes every other save wait).

    python bench/import_lock.py [--cases 2000] [--url sqlite:///...]

Imports N cases with answers and checklist items (as `procurement cases import` does) into a
fresh database and prints the whole import time, the size of the JSON, and the time between the
write transaction's BEGIN and its COMMIT, measured with SQLAlchemy engine events. Validation runs
before the transaction (`procurement.records.importing`), so the lock is held only for writing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event  # noqa: E402

from procurement.db import create_db_engine  # noqa: E402
from procurement.demo import HIGH, LOW  # noqa: E402
from procurement.packs import PackRegistry  # noqa: E402
from procurement.records import security  # noqa: E402
from procurement.services import Services  # noqa: E402


def entries(n: int) -> list[dict]:
    items = {"PC-G1": {"status": "met", "evidence": "契約書案 第5条にて確認" * 3},
             "PC-P1": {"status": "pending", "evidence": ""}}
    return [{"title": f"議事録要約の試行 {i}", "department": "総務課",
             "purpose": "会議の議事録を要約し、職員の確認の上で共有する。" * 4,
             "pack": "jp-national@2.0.0", "answers": HIGH if i % 3 == 0 else LOW,
             "checklist": items} for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--url", default=None, help="database URL (default: a temporary SQLite)")
    args = parser.parse_args()
    security.SCRYPT_N = 2**8  # account set-up only
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/import.sqlite"
    engine = create_db_engine(url)
    svc = Services(engine, PackRegistry.discover())
    admin = svc.create_first_admin("bench", "ベンチ省", "ministry", "admin", "管理者",
                                   "bench-password-1")
    svc.create_user(admin, "bench", "planner", "企画 花子", "bench-password-2", ["planner"])
    planner = svc.actor_for("planner")
    data = entries(args.cases)
    size = len(json.dumps(data, ensure_ascii=False).encode("utf-8"))
    spans: list[float] = []
    begun: dict[int, float] = {}

    @event.listens_for(engine, "begin")
    def _begin(conn):  # type: ignore[no-untyped-def]
        if not conn.get_execution_options().get("procurement_read_only"):  # writes only
            begun[id(conn)] = time.perf_counter()

    @event.listens_for(engine, "commit")
    def _commit(conn):  # type: ignore[no-untyped-def]
        start = begun.pop(id(conn), None)
        if start is not None:
            spans.append(time.perf_counter() - start)

    @event.listens_for(engine, "rollback")
    def _rollback(conn):  # type: ignore[no-untyped-def]
        begun.pop(id(conn), None)

    started = time.perf_counter()
    svc.import_cases(planner, data)
    total = time.perf_counter() - started
    print(f"{args.cases} cases, {size / 1e6:.1f} MB of JSON, database {engine.dialect.name}")
    print(f"  whole import:                  {total:6.2f} s")
    print(f"  longest write transaction:     {max(spans):6.2f} s  (the write lock is held this long)")
    print(f"  validation before the lock:    {total - sum(spans):6.2f} s (approximately)")
    engine.dispose()


if __name__ == "__main__":
    main()
