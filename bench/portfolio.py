"""Benchmark: the CAIO's portfolio figures and periodic report on a large organisation.

    python bench/portfolio.py [--n 5000] [--repeat 3]

Seeds, in bulk, one organisation with N cases (a third in operation, one in ten with an incident,
three decisions and five audit events per case, dated over two fiscal years) in a fresh SQLite
file, then for N and 2N, in one run:

* load: `load_portfolio_rows` (every case, operation, incident, decision; FY2026's audit events)
* figures: `compute_portfolio` on those rows (pure Python)
* report: `write_periodic_report` of FY2026 from those rows (XlsxWriter, streaming)
* bare: XlsxWriter `constant_memory` writing the same number of rows and cells with `write_row`
  and no formatting, sanitising or lookups (the cheapest possible workbook of that size)

Printed: median seconds of --repeat runs, the report/bare ratio, and the 2N/N ratios (linear
growth is ~2.0). Machines are noisy: compare the ratios of one run, not seconds across runs.
The audit rows are bulk-inserted with placeholder hashes (the chain is not what is measured here;
bench/audit_append.py measures audited writes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from procurement.caio.periodic import write_periodic_report  # noqa: E402
from procurement.caio.portfolio import compute_portfolio, select_fiscal_year  # noqa: E402
from procurement.db import create_db_engine  # noqa: E402
from procurement.db.models import (  # noqa: E402
    AuditEvent,
    Case,
    Decision,
    Incident,
    Operation,
    Organisation,
    User,
)
from procurement.services import Actor  # noqa: E402

UTC = UTC
LEVELS = ("low", "review", "high", "out_of_scope")
STATUSES = ("draft", "submitted", "approved", "in_operation", "returned", "withdrawn")
START = datetime(2025, 4, 1, tzinfo=UTC)


def seed(url: str, n: int) -> None:
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(Organisation), [dict(id=1, code="bench", name="ベンチ省",
                                                 kind="ministry", created_at=START)])
        conn.execute(insert(User), [dict(id=1, org_id=1, username="u", display_name="u",
                                         password_hash="x", roles="planner", created_at=START)])
        cases, decisions, operations, incidents, events = [], [], [], [], []
        for i in range(1, n + 1):
            created = START + timedelta(days=700 * i / n)  # spread over two fiscal years
            status = "in_operation" if i % 3 == 0 else STATUSES[i % len(STATUSES)]
            cases.append(dict(
                id=i, org_id=1, title=f"案件 {i} 生成AIによる業務支援", department=f"第{i % 40}課",
                owner_id=1, status=status, pack_id="jp-national", pack_version="2.0.0",
                pack_fingerprint="f" * 64, level=LEVELS[i % 4], is_complete=True,
                has_blocking=False, answers_hash="a" * 64, version=3, created_at=created,
                updated_at=created, submitted_at=created + timedelta(days=1),
                approved_at=created + timedelta(days=3) if status == "in_operation" else None,
            ))
            for k, kind in enumerate(("classification", "submission", "approval")):
                decisions.append(dict(case_id=i, kind=kind, actor_id=1, comment="", level="low",
                                      pack_id="jp-national", pack_version="2.0.0",
                                      pack_fingerprint="f" * 64, answers_hash="a" * 64,
                                      created_at=created + timedelta(days=k)))
            if status == "in_operation":
                operations.append(dict(case_id=i, started_on=(created + timedelta(days=5)).date(),
                                       vendor="ベンダー", model_name="m", model_version="1",
                                       ismap_listing="ismap", review_interval_months=6,
                                       updated_by=1, updated_at=created))
            if i % 10 == 0:
                incidents.append(dict(case_id=i, occurred_on=(created + timedelta(days=9)).date(),
                                      severity="medium", description="誤回答", actions_taken="",
                                      status="open", created_by=1, created_at=created,
                                      updated_at=created, version=1))
            for k in range(5):
                events.append(dict(chain="bench", seq=(i - 1) * 5 + k + 1,
                                   occurred_at=created + timedelta(days=k), actor="u",
                                   event_type="case.answers_saved", case_id=i, payload="{}",
                                   prev_hash="0" * 64, hash="0" * 64))
        for model, rows in ((Case, cases), (Decision, decisions), (Operation, operations),
                            (Incident, incidents), (AuditEvent, events)):
            for start in range(0, len(rows), 5000):
                conn.execute(insert(model), rows[start:start + 5000])
    engine.dispose()


class _Svc:
    """What the loader reads from `Services`: the engine (no writes happen here)."""

    def __init__(self, engine) -> None:
        self.engine = engine


def bare_write(path: Path, rows: int, cols: int) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("s")
    values = ["テキスト"] * cols
    for r in range(rows):
        sheet.write_row(r, 0, values)
    book.close()


def measure(n: int, repeat: int, folder: Path) -> dict[str, float]:
    url = f"sqlite:///{folder / f'bench-{n}.sqlite'}"
    seed(url, n)
    engine = create_db_engine(url)
    svc = _Svc(engine)
    actor = Actor(None, "bench", "bench", 1, "bench", frozenset({"reviewer"}))
    now = datetime(2027, 3, 1, tzinfo=UTC)
    times: dict[str, list[float]] = {"load": [], "figures": [], "report": [], "bare": []}
    cells = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        rows = svc.load_portfolio_rows(actor, changes_period=(date(2026, 4, 1), date(2027, 3, 31)))
        t1 = time.perf_counter()
        compute_portfolio(rows, now)
        t2 = time.perf_counter()
        out = folder / f"report-{n}.xlsx"
        write_periodic_report(rows, 2026, out, generated_at=now, generated_by="bench")
        t3 = time.perf_counter()
        systems = select_fiscal_year(rows, 2026)
        n_rows = (len(systems) + sum(len(s.incidents) for s in systems)
                  + sum(len(s.changes) for s in systems))
        cells = len(systems) * 21 + sum(len(s.incidents) for s in systems) * 10 + \
            sum(len(s.changes) for s in systems) * 7
        t4 = time.perf_counter()
        bare_write(folder / f"bare-{n}.xlsx", n_rows, max(1, round(cells / max(n_rows, 1))))
        t5 = time.perf_counter()
        times["load"].append(t1 - t0)
        times["figures"].append(t2 - t1)
        times["report"].append(t3 - t2)
        times["bare"].append(t5 - t4)
    engine.dispose()
    result = {k: statistics.median(v) for k, v in times.items()}
    result["cells"] = cells
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="cases at N (default 5000)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-portfolio-") as tmp:
        folder = Path(tmp)
        results = {n: measure(n, args.repeat, folder) for n in (args.n, 2 * args.n)}
    print(f"{'cases':>8} {'load s':>8} {'figures s':>10} {'report s':>9} {'bare s':>8} "
          f"{'report/bare':>12} {'cells':>9}")
    for n, r in results.items():
        print(f"{n:>8} {r['load']:>8.3f} {r['figures']:>10.3f} {r['report']:>9.3f} "
              f"{r['bare']:>8.3f} {r['report'] / r['bare']:>12.2f} {int(r['cells']):>9}")
    a, b = results[args.n], results[2 * args.n]
    print("2N/N ratios: " + ", ".join(f"{k} {b[k] / a[k]:.2f}"
                                      for k in ("load", "figures", "report", "bare")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
