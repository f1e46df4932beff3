"""Benchmark: the real organisation export against bare XlsxWriter and openpyxl on the same rows.

    python bench/export.py [--n 100000] [--url DATABASE_URL] [--keep DIR]

For N and 2N audit events (seeded in bulk as one valid chain in a fresh SQLite file, or in the
PostgreSQL database given by --url, which must be empty), each writer runs in its own process:

* real: `build_organisation_workbook` (every sheet, formatting, cell safety, chain verification)
* xlsxwriter: bare `constant_memory` mode, `write_row` of the raw audit rows
* openpyxl: bare write-only mode (lxml is picked up by openpyxl when installed)

The bare writers stream the same `audit_events` rows from the same database with the same
batched cursor, so the ratio measures what the real export adds on top of the cheapest possible
streaming export. Each writer runs --repeat times (default 3), interleaved; printed: median seconds, ratios to the fastest bare writer, and peak RSS of each
process (total, and above the process's RSS after imports) at N and 2N. Goals (issue 5): real
within 1.5x of the fastest bare writer; real's peak memory at 2N below 1.2x that at N.
Machines are noisy (±15 %, much worse when other jobs share the cores): compare the ratios of one
run, not seconds across runs; the CPU-time ratio is the one least disturbed by other load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

WRITERS = ("real", "xlsxwriter", "openpyxl")
ROOT = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _audit_rows(engine):
    """The raw audit rows, streamed in batches, in chain order (what the bare writers write)."""
    from sqlalchemy import select

    from procurement.db.models import AuditEvent
    from procurement.db.reading import read_connection, stream

    cols = [AuditEvent.id, AuditEvent.chain, AuditEvent.seq, AuditEvent.occurred_at,
            AuditEvent.actor, AuditEvent.event_type, AuditEvent.case_id, AuditEvent.payload,
            AuditEvent.prev_hash, AuditEvent.hash]
    with read_connection(engine, snapshot=True) as conn:
        yield [c.key for c in cols]
        for row in stream(conn, select(*cols).order_by(AuditEvent.chain, AuditEvent.seq)):
            yield tuple(row)


def _bare_xlsxwriter(engine, out: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(out), {"constant_memory": True, "remove_timezone": True,
                                          "default_date_format": "yyyy-mm-dd hh:mm:ss"})
    sheet = book.add_worksheet("audit")
    for i, row in enumerate(_audit_rows(engine)):
        sheet.write_row(i, 0, row)
    book.close()


def _bare_openpyxl(engine, out: Path) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("audit")
    for row in _audit_rows(engine):
        # openpyxl refuses aware datetimes: give it the naive UTC value (as cheap as it gets).
        sheet.append([v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in row])
    book.save(out)


def _child(writer: str, url: str, out: Path) -> None:
    """Run one writer in this process and print its figures as JSON."""
    from procurement.db import create_db_engine
    from procurement.exports import build_organisation_workbook

    engine = create_db_engine(url, migrate=False)
    base = _rss_mb()
    cpu_start = time.process_time()
    start = time.perf_counter()
    if writer == "real":
        build_organisation_workbook(engine, out, generated_by="bench")
    elif writer == "xlsxwriter":
        _bare_xlsxwriter(engine, out)
    else:
        _bare_openpyxl(engine, out)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb(), "base_mb": base,
                      "size_mb": out.stat().st_size / 2**20}))


def _seed(url: str, n: int) -> None:
    from seeding import seed_chain  # bench/seeding.py (this folder is on sys.path)
    from sqlalchemy.orm import Session

    from procurement.db import create_db_engine
    from procurement.db.models import AuditEvent, Organisation

    engine = create_db_engine(url)
    with Session(engine) as session, session.begin():
        if session.query(AuditEvent).count():
            raise SystemExit(f"{url}: the database already holds audit events; give an empty one")
        session.add(Organisation(code="bench", name="ベンチマーク省", kind="ministry",
                                 created_at=datetime.now(UTC)))
    seed_chain(engine, "bench", n)
    engine.dispose()


def _reset_postgres(url: str) -> None:
    from sqlalchemy import text

    from procurement.db import create_db_engine

    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events"))
        conn.execute(text("DELETE FROM organisations WHERE code = 'bench'"))
    engine.dispose()


def _median(results: list[dict]) -> dict:
    ordered = sorted(results, key=lambda r: r["seconds"])
    middle = dict(ordered[len(ordered) // 2])
    middle["peak_mb"] = max(r["peak_mb"] for r in results)
    middle["base_mb"] = min(r["base_mb"] for r in results)
    middle["all"] = [round(r["seconds"], 2) for r in results]
    middle["cpu"] = sorted(r["cpu"] for r in results)[len(results) // 2]
    return middle


def _run(writer: str, url: str, out: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", writer, "--url", url, "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{writer} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="audit events (default 100000)")
    parser.add_argument("--url", help="an empty PostgreSQL database (default: SQLite files)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per writer; the median time and the highest peak are shown")
    parser.add_argument("--keep", help="keep the databases and workbooks in this folder")
    parser.add_argument("--child", choices=WRITERS, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.url, Path(args.out))
        return 0

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-export-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"bench/export.py: N={args.n:,} audit events, database "
          f"{'PostgreSQL' if args.url else 'SQLite'}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cores")
    figures: dict[int, dict[str, dict]] = {}
    for n in (args.n, 2 * args.n):
        url = args.url or f"sqlite:///{work / f'bench-{n}.sqlite'}"
        if args.url:
            _reset_postgres(url)
        started = time.perf_counter()
        _seed(url, n)
        print(f"\nN={n:,}: seeded in {time.perf_counter() - started:.1f} s")
        runs: dict[str, list[dict]] = {w: [] for w in WRITERS}
        # Interleaved repeats: a burst of load from elsewhere hits every writer alike.
        for _ in range(args.repeat):
            for writer in WRITERS:
                runs[writer].append(_run(writer, url, work / f"{writer}-{n}.xlsx"))
        figures[n] = {w: _median(r) for w, r in runs.items()}
        fastest = min(("xlsxwriter", "openpyxl"), key=lambda w: figures[n][w]["seconds"])
        for writer in WRITERS:
            r = figures[n][writer]
            print(f"  {writer:<10} {r['seconds']:7.2f} s (runs {r['all']})  x{r['seconds'] / figures[n][fastest]['seconds']:.2f}"
                  f" of {fastest}  cpu {r['cpu']:6.2f} s  peak {r['peak_mb']:6.1f} MB (+{r['peak_mb'] - r['base_mb']:.1f}"
                  f" over imports)  file {r['size_mb']:.1f} MB")
        if args.url:
            _reset_postgres(url)
    n1, n2 = args.n, 2 * args.n
    print("\nSummary")
    for writer in WRITERS:
        a, b = figures[n1][writer], figures[n2][writer]
        print(f"  {writer:<10} time 2N/N x{b['seconds'] / a['seconds']:.2f}   "
              f"peak 2N/N x{b['peak_mb'] / a['peak_mb']:.3f} "
              f"(growth over imports {a['peak_mb'] - a['base_mb']:.1f} -> "
              f"{b['peak_mb'] - b['base_mb']:.1f} MB)")
    for n in (n1, n2):
        fastest = min(figures[n]["xlsxwriter"]["seconds"], figures[n]["openpyxl"]["seconds"])
        ratio = figures[n]["real"]["seconds"] / fastest
        cpu_fastest = min(figures[n]["xlsxwriter"]["cpu"], figures[n]["openpyxl"]["cpu"])
        cpu_ratio = figures[n]["real"]["cpu"] / cpu_fastest
        print(f"  goal N={n:,}: real / fastest bare = x{ratio:.2f} wall, x{cpu_ratio:.2f} cpu "
              f"({'met' if ratio <= 1.5 else 'NOT met'} on wall time, goal <= 1.5)")
    mem = figures[n2]["real"]["peak_mb"] / figures[n1]["real"]["peak_mb"]
    print(f"  goal memory: real peak 2N / N = x{mem:.3f} "
          f"({'met' if mem < 1.2 else 'NOT met'}, goal < 1.2)")
    if not args.keep:
        for path in work.iterdir():
            path.unlink()
        work.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
