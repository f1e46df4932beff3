"""CLI command `procurement export`: audit workbooks and CSV files.

    procurement export --out FILE.xlsx [--org CODE]... [--from DATE] [--to DATE]
                       [--status STATUS]... [--pack ID]
    procurement export --out FILE.xlsx --case ID
    procurement export --out FILE.csv --csv audit|answers [same filters]

The first writes the organisation workbook (every organisation unless `--org`, which may be
repeated), the second the printable workbook of one case, the third a CSV file (UTF-8 with BOM)
of the audit log or of the answers. A file name whose ending disagrees with the format chosen
(`x.csv` without --csv, `x.xlsx` with it) is refused, exit 2. DATE is a JST calendar day `YYYY-MM-DD`, or a fiscal year
(`令和8年度`, `FY2026`) meaning its whole span; both ends are inclusive.

Output: for a workbook, `wrote FILE` then one line per sheet (`  <sheet>: <rows> rows`) and one
line per audit chain in the form of `procurement audit verify` (`OK <chain> <count> events, head
<seq>:<hash>` or `FAIL ...`); for a CSV, `wrote FILE: <rows> rows`. Exit 0 when written, 1 when
the workbook was written but an audit chain failed verification, 2 on bad options or input (the
message names what is wrong; no file is left behind).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import date
from pathlib import Path

from procurement.cli.common import add_command
from procurement.errors import ProcurementError
from procurement.fiscal import fiscal_year_dates, parse_fiscal_year

#: The file ending each kind of export writes.
SUFFIXES = {"workbook": ".xlsx", "csv": ".csv"}


def register(sub) -> None:
    """Add this group's commands to the `procurement` parser."""
    cmd = add_command(
        sub, "export",
        help="write the audit workbook (or a case workbook, or CSV) for auditors",
        description="Write Excel workbooks auditors can filter, print, keep and verify offline "
        "(`procurement audit verify --xlsx FILE`), or CSV files of the audit log or answers. "
        "The file name must end in .xlsx for a workbook and .csv with --csv. DATE is a JST day "
        "YYYY-MM-DD or a fiscal year (令和8年度, FY2026) meaning its whole span; both ends are "
        "inclusive.",
        examples=["procurement export --out audit.xlsx --org demo-ministry --from FY2026",
                  "procurement export --out answers.csv --csv answers --org demo-city"],
    )
    cmd.add_argument("--out", required=True, metavar="FILE",
                     help="the file to write: FILE.xlsx, or FILE.csv with --csv")
    cmd.add_argument("--org", action="append", default=[], metavar="CODE",
                     help="organisation code (repeat for several; default: all)")
    cmd.add_argument("--from", dest="date_from", metavar="DATE",
                     help="first JST day (YYYY-MM-DD) or fiscal year (令和8年度, FY2026)")
    cmd.add_argument("--to", dest="date_to", metavar="DATE",
                     help="last JST day (YYYY-MM-DD) or fiscal year, inclusive")
    cmd.add_argument("--status", action="append", default=[], metavar="STATUS",
                     help="case status (repeat for several; default: all)")
    cmd.add_argument("--pack", metavar="ID", help="only cases assessed with this pack id")
    mode = cmd.add_mutually_exclusive_group()
    mode.add_argument("--case", type=int, metavar="ID", help="write the printable workbook of one case")
    mode.add_argument("--csv", choices=("audit", "answers"),
                      help="write a CSV file (UTF-8 with BOM) of the audit log or the answers")
    cmd.set_defaults(handler=run_export)


def check_out_suffix(out: Path, csv: str | None) -> None:
    """Refuse a file name whose ending says another format than the one chosen: `--out x.csv`
    without --csv would otherwise silently be an Excel workbook."""
    kind = "csv" if csv else "workbook"
    expected = SUFFIXES[kind]
    if out.suffix.lower() == expected:
        return
    if kind == "workbook" and out.suffix.lower() == ".csv":
        hint = "add --csv audit or --csv answers for a CSV file, or name the workbook FILE.xlsx"
    elif kind == "workbook":
        hint = "a workbook is written as FILE.xlsx"
    else:
        hint = f"--csv {csv} writes a CSV file: name it FILE.csv"
    raise ProcurementError(f"--out {out}: the file name does not end in {expected}; {hint}",
                           option="out", value=str(out))


def parse_day(text: str, *, end: bool) -> date:
    """A CLI date: `YYYY-MM-DD`, or a fiscal year taken as its first (or, for `end`, last) day."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        pass
    try:
        first, last = fiscal_year_dates(parse_fiscal_year(text))
    except ValueError:
        raise ProcurementError(
            f"{'--to' if end else '--from'} {text!r} is not a date (YYYY-MM-DD) or a fiscal year "
            "(令和8年度, FY2026)", option="to" if end else "from", value=text,
        ) from None
    return last if end else first


def _operator() -> str:
    """Who ran the command, for the summary sheet: the operating-system account."""
    try:
        return f"CLI ({getpass.getuser()})"
    except (KeyError, OSError):  # no account name in a bare container
        return "CLI"


def run_export(args: argparse.Namespace) -> int:
    """Write the requested file and print what it holds (see the module docstring)."""
    try:
        return _run(args)
    except (ProcurementError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from procurement.cli.common import services_for
    from procurement.exports import (
        ExportFilters,
        build_case_workbook,
        build_organisation_workbook,
        write_answers_csv,
        write_audit_csv,
    )

    out = Path(args.out)
    check_out_suffix(out, args.csv)
    if not out.parent.is_dir():
        raise ProcurementError(f"--out {args.out}: folder {out.parent} does not exist",
                               option="out", value=args.out)
    filters = ExportFilters(
        org_codes=tuple(dict.fromkeys(args.org)),
        date_from=parse_day(args.date_from, end=False) if args.date_from else None,
        date_to=parse_day(args.date_to, end=True) if args.date_to else None,
        statuses=tuple(dict.fromkeys(args.status)),
        pack_id=args.pack,
    )
    # The packs of --rules-dir and those installed in the database: question texts and the
    # rule-pack sheet must know every pack a stored case may reference.
    services = services_for(args)
    engine, registry = services.engine, services.registry
    try:
        if args.csv == "audit":
            print(f"wrote {out}: {write_audit_csv(engine, out, filters=filters)} rows")
            return 0
        if args.csv == "answers":
            count = write_answers_csv(engine, out, filters=filters, registry=registry)
            print(f"wrote {out}: {count} rows")
            return 0
        if args.case is not None:
            build_case_workbook(engine, args.case, out, registry=registry,
                                org_codes=filters.org_codes or None, generated_by=_operator())
            print(f"wrote {out}")
            return 0
        result = build_organisation_workbook(engine, out, filters=filters, registry=registry,
                                             generated_by=_operator())
    finally:
        engine.dispose()
    print(f"wrote {out}")
    for sheet, rows in result.rows.items():
        print(f"  {sheet}: {rows} rows")
    for report in result.chains:
        print(report.describe())
    return 0 if result.chains_ok else 1
