"""Benchmark: N simulated users clicking at once, against one app process and against two.

    python bench/load.py [--users 8] [--clicks 24] [--processes 1 2] [--postgres URL]

A fresh PostgreSQL database (on the server of --postgres, default
$PROCUREMENT_TEST_POSTGRES_URL; dropped afterwards) gets one organisation with --users planners,
each with a draft case of their own. For each process count, that many `procurement serve`
processes start on the database, and each simulated user connects to one of them (round robin,
as a load balancer with sticky sessions would) through Streamlit's websocket protocol, signed in
with a session cookie: no browser, so the machine's cores go to the server. Each user opens
their case from the case list, then clicks without pause: --clicks/2 answers (a question of the
classification step, back and forth between two options: a save, a classification and a
redraw), then --clicks/2 checklist saves (an item's status back and forth).

Printed per process count: the latency of a click (sent until the script run finished: what the
server adds to every click, before the browser draws) as median and 95th percentile, for
answers, checklist saves and all; clicks per second over the measured phase; and the servers'
CPU time per click. Machines are noisy (±15 %): compare the rows of one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "correct horse battery"
ANSWERS = {"SC-1": "yes", "SC-2": "no", "SC-3": "fy2026_or_later", "SC-4": "contracted_saas",
           "HR-1": "staff_limited", "HR-2": "internal_support", "HR-3": "public_only",
           "HR-4": "always_reviewed"}
#: The question clicked back and forth, and the two options (values) it alternates between.
QUESTION, OPTIONS = "HR-1", ("staff_limited", "staff_wide")
#: Checklist statuses an item alternates between.
STATUSES = ("met", "pending")


@dataclass
class UserResult:
    answer_seconds: list[float] = field(default_factory=list)
    item_seconds: list[float] = field(default_factory=list)
    error: str | None = None


def create_database(server_url: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"procurement_bench_{uuid.uuid4().hex[:12]}"
    admin = make_url(server_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(drivername="postgresql+psycopg", database=name) \
        .render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(server_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def seed(url: str, users: int):
    """One organisation, `users` planners with a draft case each; returns (services, planners,
    the labels the clicks need)."""
    from procurement import vocabulary
    from procurement.runtime import open_services

    svc = open_services(url)
    admin = svc.create_first_admin("bench-org", "負荷試験省", "ministry", "admin", "管理",
                                   PASSWORD)
    planners = []
    for i in range(users):
        name = f"planner{i:02d}"
        svc.create_user(admin, "bench-org", name, f"企画 {i:02d}", PASSWORD, ["planner"])
        actor = svc.actor_for(name)
        case = svc.create_case(actor, f"負荷試験 {i:02d}", "総務課", answers=ANSWERS)
        planners.append((actor, case))
    pack = svc.registry.resolve(f"{planners[0][1].pack_id}@{planners[0][1].pack_version}")
    question = next(q for q in pack.questions if q.id == QUESTION)
    item = planners[0][1].classification.required_items[0]
    checklist = next(c for c in pack.checklists if any(i.id == item for i in c.items))
    labels = {
        "question_step": _ja(next(s for s in pack.steps if s.id == question.step).title),
        "options": [_ja(next(o for o in question.options if o.value == v).label) for v in OPTIONS],
        "item": item,
        "item_step": _ja(next(s for s in pack.steps if s.id == checklist.step).title),
        "statuses": [vocabulary.word("checklist_status", s, "ja") for s in STATUSES],
    }
    return svc, planners, labels


def _ja(texts) -> str:
    return texts.get("ja") if isinstance(texts, dict) else getattr(texts, "ja", str(texts))


def simulate(base_url: str, token: str, clicks: int, labels: dict, start: threading.Barrier,
             result: UserResult) -> None:
    """One user: open their case, then answer and save checklist items as fast as the server
    answers."""
    from tests.operate.streamlit_client import StreamlitTab

    try:
        with StreamlitTab(base_url, cookies={"procurement_session": token}) as tab:
            run = tab.open("cases")
            run = tab.set(run.widget("open_case"), trigger_value=True)
            run = _go_to_step(tab, run, labels["question_step"])
            start.wait()
            for i in range(clicks // 2):
                run = tab.set(run.widget(f"answer_{QUESTION}"),
                              string_value=labels["options"][(i + 1) % 2])
                result.answer_seconds.append(run.seconds)
            run = _go_to_step(tab, run, labels["item_step"])
            for i in range(clicks - clicks // 2):
                run = tab.set(run.widget(f"item_status_{labels['item']}"),
                              string_value=labels["statuses"][i % 2])
                result.item_seconds.append(run.seconds)
    except Exception as exc:  # noqa: BLE001 - reported in the summary, never silently
        result.error = f"{type(exc).__name__}: {exc}"
        try:
            start.abort()
        except threading.BrokenBarrierError:
            pass


def _go_to_step(tab, run, title: str):
    radio = run.widget("workspace_step")
    option = next(o for o in radio.options if o.endswith(title))
    return tab.set(radio, string_value=option)


def _cpu_seconds(processes) -> float:
    import psutil

    total = 0.0
    for serve in processes:
        proc = psutil.Process(serve.process.pid)
        for p in [proc, *proc.children(recursive=True)]:
            times = p.cpu_times()
            total += times.user + times.system
    return total


def measure(url: str, svc, planners, labels, processes: int, clicks: int, logs: Path) -> dict:
    from tests.operate.serving import ServeProcess

    servers = [ServeProcess(url, logs / f"serve-{processes}-{i}.log") for i in range(processes)]
    try:
        for server in servers:
            server.wait()
        tokens = []
        for actor, _case in planners:
            _sid, ticket = svc.start_session(actor)
            tokens.append(svc.exchange_ticket(ticket))
        results = [UserResult() for _ in planners]
        start = threading.Barrier(len(planners) + 1)
        threads = [threading.Thread(target=simulate, args=(
            servers[i % processes].url, tokens[i], clicks, labels, start, results[i]))
            for i in range(len(planners))]
        for thread in threads:
            thread.start()
        start.wait()
        cpu_before, began = _cpu_seconds(servers), time.perf_counter()
        for thread in threads:
            thread.join()
        wall, cpu = time.perf_counter() - began, _cpu_seconds(servers) - cpu_before
    finally:
        for server in servers:
            server.stop()
    errors = [r.error for r in results if r.error]
    if errors:
        raise SystemExit(f"{len(errors)} simulated users failed, e.g. {errors[0]}")
    answers = [s for r in results for s in r.answer_seconds]
    items = [s for r in results for s in r.item_seconds]
    every = answers + items
    return {"processes": processes, "clicks": len(every), "answers": answers, "items": items,
            "all": every, "per_second": len(every) / wall, "cpu_ms": 1000 * cpu / len(every)}


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=8, help="simulated users at once")
    parser.add_argument("--clicks", type=int, default=24, help="clicks per user")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2],
                        help="app process counts to compare")
    parser.add_argument("--postgres", default=os.environ.get("PROCUREMENT_TEST_POSTGRES_URL"),
                        help="PostgreSQL server URL whose user may create databases")
    args = parser.parse_args()
    if not args.postgres:
        raise SystemExit("give --postgres URL or set PROCUREMENT_TEST_POSTGRES_URL")
    url = create_database(args.postgres)
    try:
        svc, planners, labels = seed(url, args.users)
        rows = []
        with tempfile.TemporaryDirectory(prefix="procurement-load-") as logs:
            for count in args.processes:
                rows.append(measure(url, svc, planners, labels, count, args.clicks, Path(logs)))
        svc.engine.dispose()
    finally:
        drop_database(args.postgres, url)
    print(f"{args.users} simulated users, {args.clicks} clicks each, on one PostgreSQL; "
          f"{os.cpu_count()} cores")
    print(f"{'processes':>9} {'clicks':>6} {'answer med/p95 ms':>18} {'item med/p95 ms':>16} "
          f"{'all med/p95 ms':>15} {'clicks/s':>8} {'CPU ms/click':>12}")
    for r in rows:
        def pair(values: list[float]) -> str:
            return f"{1000 * statistics.median(values):.0f}/{1000 * _p95(values):.0f}"

        print(f"{r['processes']:>9} {r['clicks']:>6} {pair(r['answers']):>18} "
              f"{pair(r['items']):>16} {pair(r['all']):>15} {r['per_second']:>8.1f} "
              f"{r['cpu_ms']:>12.1f}")


if __name__ == "__main__":
    main()
