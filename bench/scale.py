"""Benchmark: does one organisation's work stay as fast when the deployment serves many more?

    python bench/scale.py [--orgs 10 100 1000] [--cases 100] [--measured-cases 1000]
                          [--repeat 5] [--postgres URL]

A fresh PostgreSQL database (on the server of --postgres, default
$PROCUREMENT_TEST_POSTGRES_URL; dropped afterwards) gets the measured organisation with
--measured-cases cases and then grows to each --orgs count, every other organisation with
--cases cases, each organisation with its audit chain (three events per case). The first case
is made through the services; the others are copies of its rows (case, answers, checklist)
written in bulk, and the chains are written with `procurement.audit.append_bulk` (the real
hashes: `audit verify` checks them).

At each size, for the measured organisation, the median of --repeat runs of: the case list,
opening a case, a save (one answer changed: a write, a classification, an audit event), the
portfolio (rows and figures), the periodic report of this fiscal year (written to memory) and
`audit verify --chain`. Printed: seconds per operation at each size and the ratio of the largest
size to the smallest (the goal: within 1.5x, every query scoped and indexed by organisation).
Machines are noisy (±15 %): compare the columns of one run.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import ANSWERS, PASSWORD, create_database, drop_database

MEASURED = "org-0000"
#: Event types written for each copied case (registered types, as the services write them).
EVENTS = ("case.answers_saved", "case.checklist_set", "case.submitted")
OPERATIONS = ("list", "open", "save", "portfolio", "periodic", "verify")


def _rows(conn, table, **where) -> list[dict[str, Any]]:
    from sqlalchemy import select

    stmt = select(table)
    for column, value in where.items():
        stmt = stmt.where(table.c[column] == value)
    return [dict(row._mapping) for row in conn.execute(stmt)]


class Filler:
    """Copies of one real case, written in bulk into new or existing organisations."""

    def __init__(self, svc, measured_user: str) -> None:
        from procurement.db.models import (
            Answer,
            Case,
            ChecklistResult,
            Organisation,
            User,
        )

        self.svc, self.engine = svc, svc.engine
        self.tables = {m: m.__table__ for m in (Organisation, User, Case, Answer, ChecklistResult)}
        actor = svc.actor_for(measured_user)
        view = svc.create_case(actor, "規模試験の元案件", "総務課", answers=ANSWERS)
        item = view.classification.required_items[0]
        view = svc.set_checklist_item(actor, view.id, item, "met", "確認済み", view.version)
        self.case_id = view.id
        with self.engine.connect() as conn:
            self.org = _rows(conn, Organisation.__table__, code=MEASURED)[0]
            self.user = _rows(conn, User.__table__, username=measured_user)[0]
            self.case = _rows(conn, Case.__table__, id=view.id)[0]
            self.answers = _rows(conn, Answer.__table__, case_id=view.id)
            self.checklist = _rows(conn, ChecklistResult.__table__, case_id=view.id)
            self.next_case = self.case["id"] + 1
            self.next_user = max(r["id"] for r in _rows(conn, User.__table__)) + 1

    def add_cases(self, org: dict[str, Any], owner: dict[str, Any], count: int) -> list[int]:
        """`count` copies of the case in `org`, owned by `owner`: their ids."""
        from sqlalchemy import insert

        from procurement.db.models import Answer, Case, ChecklistResult

        ids = list(range(self.next_case, self.next_case + count))
        self.next_case += count
        cases, answers, checklist = [], [], []
        for cid in ids:
            cases.append({**self.case, "id": cid, "org_id": org["id"], "owner_id": owner["id"],
                          "title": f"案件 {cid}"})
            answers += [{**{k: v for k, v in a.items() if k != "id"}, "case_id": cid,
                         "org_id": org["id"]} for a in self.answers]
            checklist += [{**{k: v for k, v in c.items() if k != "id"}, "case_id": cid,
                           "org_id": org["id"], "updated_by": owner["id"]} for c in self.checklist]
        with self.engine.begin() as conn:
            for model, rows in ((Case, cases), (Answer, answers), (ChecklistResult, checklist)):
                for start in range(0, len(rows), 5000):
                    conn.execute(insert(model), rows[start:start + 5000])
        return ids

    def add_orgs(self, first: int, last: int, cases: int) -> None:
        """Organisations number `first`..`last - 1`, one planner and `cases` cases each."""
        from sqlalchemy import insert

        from procurement.db.models import Organisation, User

        orgs, users = [], []
        for n in range(first, last):
            orgs.append({**self.org, "id": self.org["id"] + n, "code": f"org-{n:04d}",
                         "name": f"規模試験 {n:04d}"})
            users.append({**self.user, "id": self.next_user, "org_id": orgs[-1]["id"],
                          "username": f"planner-{n:04d}", "email": None})
            self.next_user += 1
        with self.engine.begin() as conn:
            conn.execute(insert(Organisation), orgs)
            conn.execute(insert(User), users)
        for org, user in zip(orgs, users, strict=True):
            ids = self.add_cases(org, user, cases)
            self.add_chain(org["code"], user["username"], ids)
        self.fix_sequences()

    def add_chain(self, chain: str, actor: str, case_ids: list[int]) -> None:
        from procurement.audit import NewEvent, append_bulk

        now = datetime.now(UTC)

        def events() -> Iterator[NewEvent]:
            for cid in case_ids:
                for kind in EVENTS:
                    yield NewEvent(occurred_at=now, actor=actor, event_type=kind, case_id=cid,
                                   payload={"case": cid})

        append_bulk(self.engine, chain, events())

    def fix_sequences(self) -> None:
        """Explicit ids were written: move PostgreSQL's sequences past them."""
        from sqlalchemy import text

        with self.engine.begin() as conn:
            for table in ("organisations", "users", "cases"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))


def measure(svc, actor, case_id: int, repeat: int) -> dict[str, float]:
    """Median seconds of each operation for the measured organisation."""
    from procurement import fiscal
    from procurement.audit.verify import verify_database
    from procurement.caio.portfolio import compute_portfolio

    fy = fiscal.fiscal_year(datetime.now(UTC).date())
    toggle = iter(["staff_wide", "staff_limited"] * repeat)

    def save() -> None:
        svc.save_answers(actor, case_id, {"HR-1": next(toggle)}, svc.case_version(actor, case_id))

    def portfolio() -> None:
        compute_portfolio(svc.load_portfolio_rows(actor), datetime.now(UTC))

    def verify() -> None:
        reports = verify_database(svc.engine, chain=MEASURED)
        assert all(r.problem is None for r in reports), reports

    ops: dict[str, Callable[[], Any]] = {
        "list": lambda: svc.list_cases(actor),
        "open": lambda: svc.get_case(actor, case_id),
        "save": save,
        "portfolio": portfolio,
        "periodic": lambda: svc.write_periodic_report_for(actor, fy, io.BytesIO()),
        "verify": verify,
    }
    result = {}
    for name, op in ops.items():
        op()  # warm caches (packs, statements) so every size is measured alike
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            op()
            times.append(time.perf_counter() - start)
        result[name] = statistics.median(times)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, nargs="+", default=[10, 100, 1000],
                        help="organisation counts measured, ascending")
    parser.add_argument("--cases", type=int, default=100, help="cases of every other organisation")
    parser.add_argument("--measured-cases", type=int, default=1000,
                        help="cases of the measured organisation")
    parser.add_argument("--repeat", type=int, default=5, help="runs per operation (median)")
    parser.add_argument("--postgres", default=os.environ.get("PROCUREMENT_TEST_POSTGRES_URL"),
                        help="PostgreSQL server URL (a role that may create databases)")
    args = parser.parse_args()
    if not args.postgres:
        parser.error("give --postgres URL or set PROCUREMENT_TEST_POSTGRES_URL")
    sizes = sorted(args.orgs)
    from procurement.runtime import open_services

    url = create_database(args.postgres)
    svc = None
    try:
        svc = open_services(url)
        admin = svc.create_first_admin(MEASURED, "規模試験省", "ministry", "admin", "管理",
                                       PASSWORD)
        svc.create_user(admin, MEASURED, "measured", "測定者", PASSWORD,
                        ["planner", "reviewer", "auditor"])
        actor = svc.actor_for("measured")
        filler = Filler(svc, "measured")
        filler.add_chain(MEASURED, "measured",
                         filler.add_cases(filler.org, filler.user, args.measured_cases - 1))
        filler.fix_sequences()
        assert len(svc.list_cases(actor)) == args.measured_cases  # the copies are real cases
        results, orgs = {}, 1
        for size in sizes:
            started = time.perf_counter()
            filler.add_orgs(orgs, size, args.cases)
            orgs = size
            fill_seconds = time.perf_counter() - started
            with svc.engine.begin() as conn:
                from sqlalchemy import text

                conn.execute(text("ANALYZE"))
            results[size] = measure(svc, actor, filler.case_id, args.repeat)
            print(f"filled {size} organisations (+{fill_seconds:.0f} s)", file=sys.stderr)
    finally:
        if svc is not None:
            svc.engine.dispose()
        drop_database(args.postgres, url)
    print(f"measured organisation: {args.measured_cases} cases; others: {args.cases} cases each; "
          f"3 audit events per copied case; median of {args.repeat}; {os.cpu_count()} cores")
    print(f"{'organisations':>13} " + " ".join(f"{op + ' ms':>12}" for op in OPERATIONS))
    for size, r in results.items():
        print(f"{size:>13} " + " ".join(f"{r[op] * 1000:>12.1f}" for op in OPERATIONS))
    first, last = results[sizes[0]], results[sizes[-1]]
    print(f"{f'{sizes[-1]}/{sizes[0]}':>13} "
          + " ".join(f"{last[op] / first[op]:>11.2f}x" for op in OPERATIONS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
